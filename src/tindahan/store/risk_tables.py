"""Tables for risk and compliance: the rules' running aggregates, and their alerts.

The aggregates are buckets raised by one upsert each inside the movement's transaction
(``services.ledger.risk_gate``): the upsert locks the bucket's row, so two movements of one
party take turns and the second sees the first — two payments racing past a velocity limit
get one review, not none. Buckets are aligned: an hour is a clock hour (UTC), a day a
Manila day (UTC+8), 30 days the last thirty day buckets.

What the database holds a second time (DESIGN.md): counts and amounts not negative, an
alert's decision and status from fixed lists, one alert per movement and rule.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    text,
)

from tindahan import limits
from tindahan.store.tables import metadata

_PARTY = String(limits.OWNER_MAX_LENGTH)

risk_usage = Table(
    "risk_usage",
    metadata,
    Column("party_id", _PARTY, primary_key=True),
    Column("counterparty", _PARTY, primary_key=True),  # '' unless per counterparty
    #: hour, day, pair, cash, near, fanin, out, sale, refund (``services.ledger.risk_usage``)
    Column("metric", String(16), primary_key=True),
    Column("bucket", BigInteger, primary_key=True),  # clock hours or Manila days since the epoch
    Column("count", Integer, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    CheckConstraint("count >= 0 AND amount_minor >= 0", name="usage_not_negative"),
)

#: Where each movement the gate judged was asked from, when known: the client's device (the
#: web session's device cookie, or the API's ``Tindahan-Device-Id``) and IP address, each
#: only as a keyed hash (the vault's index key, first 32 hex digits) — never the values.
risk_origins = Table(
    "risk_origins",
    metadata,
    Column("transfer_id", String(limits.ID_MAX_LENGTH), primary_key=True),
    Column("device", String(32), nullable=False),  # '' when not known
    Column("ip", String(32), nullable=False),
)

#: The wallets that spent through each device or IP address (the origin's key, as in
#: ``risk_usage``): when each was last *counted* there, and whether its last spend counted it
#: (``fresh``: never counted, or counted before the window) — the different-wallets rules'
#: conditional bucket (``services.ledger.risk_usage``).
risk_origin_wallets = Table(
    "risk_origin_wallets",
    metadata,
    Column("origin", _PARTY, primary_key=True),
    Column("party_id", _PARTY, primary_key=True),
    Column("counted_ns", BigInteger, nullable=False),
    Column("fresh", Integer, nullable=False),
    CheckConstraint("fresh IN (0, 1)", name="origin_wallet_fresh"),
)

risk_parties = Table(
    "risk_parties",
    metadata,
    Column("party_id", _PARTY, primary_key=True),
    Column("last_seen_ns", BigInteger, nullable=False),
    #: The moment before ``last_seen_ns`` (null: first seen then): one upsert both moves the
    #: moment on and returns the one before, which dormancy reads.
    Column("prev_seen_ns", BigInteger, nullable=True),
)

risk_payees = Table(
    "risk_payees",
    metadata,
    Column("party_id", _PARTY, primary_key=True),
    Column("payee_id", _PARTY, primary_key=True),
    #: How many movements went from party to payee (1 on the first: the payee is new),
    #: and the last one's moment and amount — the legs a round trip is traced along.
    Column("count", Integer, nullable=False, server_default="1"),
    Column("last_at_ns", BigInteger, nullable=False, server_default="0"),
    Column("last_minor", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("count >= 1 AND last_minor >= 0", name="payee_counts"),
)

risk_alerts = Table(
    "risk_alerts",
    metadata,
    Column("id", String(limits.SYSTEM_ID_MAX_LENGTH + 24), primary_key=True),
    Column("transfer_id", String(limits.ID_MAX_LENGTH), nullable=False),
    Column("party_id", _PARTY, nullable=False),
    Column("counterparty", _PARTY, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("rule", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("decision", String(8), nullable=False),
    Column("shadow", Boolean, nullable=False),
    Column("evidence", String(2000), nullable=False),  # the values that tripped it, JSON
    Column("explanation", String(500), nullable=False),
    #: The pending transfer holding the money (review), or null.
    Column("hold_id", String(limits.SYSTEM_ID_MAX_LENGTH), nullable=True),
    Column("sender_account_id", String(limits.ID_MAX_LENGTH), nullable=False),
    Column("status", String(12), nullable=False),
    Column("approved_by", String(64), nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at_ns", BigInteger, nullable=True),
    Column("created_at_ns", BigInteger, nullable=False),
    #: The party's case this alert joined (open alerts only: reviews), or null.
    Column("case_id", String(limits.SYSTEM_ID_MAX_LENGTH), nullable=True),
    CheckConstraint("decision IN ('allow', 'review', 'block')", name="alert_decision"),
    CheckConstraint("status IN ('open', 'released', 'returned', 'closed')", name="alert_status"),
    CheckConstraint("amount_minor > 0", name="alert_amount_positive"),
    Index("ix_risk_alerts_status_created", "status", "created_at_ns"),
    Index("ix_risk_alerts_transfer", "transfer_id"),
    Index("ix_risk_alerts_case", "case_id"),
)

#: A party's open alerts, grouped for an analyst: open → in review (assigned or noted) →
#: closed with one decision. At most one case per party is not closed (the partial unique
#: index), so the gate's upsert finds it under concurrency.
risk_cases = Table(
    "risk_cases",
    metadata,
    Column("id", String(limits.SYSTEM_ID_MAX_LENGTH), primary_key=True),
    Column("party_id", _PARTY, nullable=False),
    Column("status", String(12), nullable=False),
    Column("assignee", String(64), nullable=True),
    Column("decision", String(12), nullable=True),
    #: Four eyes: who approved releasing, and the held amount they saw (a larger one later
    #: needs a new approval).
    Column("approved_by", String(64), nullable=True),
    Column("approved_minor", BigInteger, nullable=True),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at_ns", BigInteger, nullable=True),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("status IN ('open', 'in_review', 'closed')", name="case_status"),
    CheckConstraint(
        "decision IS NULL OR decision IN ('release', 'return', 'freeze', 'report')",
        name="case_decision",
    ),
    CheckConstraint("(status = 'closed') = (decision IS NOT NULL)", name="case_closed_decided"),
    Index(
        "ux_risk_cases_party_unclosed",
        "party_id",
        unique=True,
        sqlite_where=text("status <> 'closed'"),
        postgresql_where=text("status <> 'closed'"),
    ),
    Index("ix_risk_cases_status_updated", "status", "updated_at_ns"),
)

#: An analyst's notes on a case: only ever inserted (author and time kept).
risk_case_notes = Table(
    "risk_case_notes",
    metadata,
    Column("id", String(limits.SYSTEM_ID_MAX_LENGTH), primary_key=True),
    Column("case_id", String(limits.SYSTEM_ID_MAX_LENGTH), nullable=False),
    Column("author", String(64), nullable=False),
    Column("body", String(limits.AUDIT_NOTE_MAX_LENGTH), nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Index("ix_risk_case_notes_case", "case_id", "created_at_ns"),
)

#: The operator's switch of a rule's mode (on, shadow, off), over the rule set's file.
risk_rule_modes = Table(
    "risk_rule_modes",
    metadata,
    Column("rule", String(32), primary_key=True),
    Column("mode", String(8), nullable=False),
    Column("changed_by", String(64), nullable=False),
    Column("changed_at_ns", BigInteger, nullable=False),
    CheckConstraint("mode IN ('on', 'shadow', 'off')", name="rule_mode"),
)

#: A party's name found on a sanctions or watch list: a candidate until an operator confirms
#: it (the party's wallets are frozen) or clears it.
risk_screening_hits = Table(
    "risk_screening_hits",
    metadata,
    Column("id", String(limits.SYSTEM_ID_MAX_LENGTH), primary_key=True),
    Column("party_id", _PARTY, nullable=False),
    #: None: the party's own name; ``bac_…``: the holder of a bank account it registered
    Column("subject", String(64), nullable=True),
    Column("source", String(64), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("matched_name", String(limits.SCREEN_MAX_NAME_LENGTH), nullable=False),
    Column("score", Integer, nullable=False),
    Column("status", String(12), nullable=False),
    Column("decided_by", String(64), nullable=True),
    Column("decided_at_ns", BigInteger, nullable=True),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("score BETWEEN 0 AND 100", name="hit_score"),
    CheckConstraint("status IN ('open', 'confirmed', 'cleared')", name="hit_status"),
    Index("ix_risk_screening_hits_party", "party_id"),
)
