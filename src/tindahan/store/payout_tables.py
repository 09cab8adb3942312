"""Tables for payouts: each payout, each merchant's automatic payout settings, each day's run.

What the database holds a second time, after the services' checks (DESIGN.md):
* a payout's amount is positive, its status and destination from fixed lists, and a payout
  that succeeded names its ledger transfer while a failed one names its reason (CHECK);
* the automatic payout runs once per merchant and Manila day: ``payout_runs`` has the primary
  key ``(merchant_id, day)``, so a second runner — another worker, the CLI at the same time —
  loses the race on the insert and finds the day done;
* a setting's time of day is a minute of the day and the balance to leave is not negative.

Times are ``*_at_ns``: integer nanoseconds since the epoch, UTC, like the ledger's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
)

from tindahan import limits
from tindahan.store.payment_tables import _ID, _in, payments
from tindahan.store.rails_tables import bank_accounts
from tindahan.store.tables import metadata

#: Where a payout goes: the merchant's main wallet (a bank account comes with the rails).
DESTINATIONS = ("wallet",)
#: Where the automatic daily payout goes: the main wallet, or on to a bank account (a payout
#: to the main wallet and a transfer from there: ``services.payouts.banks``).
SETTING_DESTINATIONS = ("wallet", "bank_account")
#: ``pending``: on a TigerBeetle ledger, between its transaction A and its hold's post (the
#: two-store order, ``services.payouts.cluster``); never on the SQL ledger.
STATUSES = ("succeeded", "failed", "pending")
OUTCOMES = ("paid", "nothing", "failed")

payouts = Table(
    "payouts",
    metadata,
    Column("id", String(_ID), primary_key=True),
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("destination", String(16), nullable=False),
    Column("source_wallet_id", String(_ID), ForeignKey("wallets.id"), nullable=False),
    Column("destination_wallet_id", String(_ID), ForeignKey("wallets.id"), nullable=False),
    Column("status", String(16), nullable=False),
    #: Made by the daily run (True) or asked for by the merchant or the operator (False).
    Column("automatic", Boolean, nullable=False),
    Column("transfer_id", String(limits.ID_MAX_LENGTH)),
    Column("failure_code", String(64)),
    Column("failure_message", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("description", String(limits.DESCRIPTION_MAX_LENGTH)),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint("amount_minor > 0", name="amount_positive"),
    CheckConstraint(_in("status", STATUSES), name="status"),
    CheckConstraint(_in("destination", DESTINATIONS), name="destination"),
    CheckConstraint(
        "(status IN ('succeeded', 'pending')) = (transfer_id IS NOT NULL AND failure_code IS NULL)",
        name="outcome_recorded",
    ),
)
Index("ix_payouts_merchant", payouts.c.merchant_id, payouts.c.id)

payout_settings = Table(
    "payout_settings",
    metadata,
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), primary_key=True),
    Column("enabled", Boolean, nullable=False),
    #: Minutes after midnight, Manila time.
    Column("minute_of_day", Integer, nullable=False),
    Column("keep_minor", BigInteger, nullable=False),
    Column("destination", String(16), nullable=False),
    #: The bank account, when the destination is ``bank_account`` (and only then).
    Column("bank_account_id", String(_ID), ForeignKey(bank_accounts.c.id)),
    Column("updated_at_ns", BigInteger, nullable=False),
    CheckConstraint("minute_of_day >= 0 AND minute_of_day < 1440", name="minute_of_day"),
    CheckConstraint("keep_minor >= 0", name="keep_not_negative"),
    CheckConstraint(_in("destination", SETTING_DESTINATIONS), name="destination"),
    CheckConstraint(
        "(destination = 'bank_account') = (bank_account_id IS NOT NULL)",
        name="bank_account_named",
    ),
)

payout_runs = Table(
    "payout_runs",
    metadata,
    Column("merchant_id", String(_ID), ForeignKey("parties.id"), primary_key=True),
    Column("day", String(10), primary_key=True),  # the Manila day, YYYY-MM-DD
    Column("outcome", String(16), nullable=False),
    Column("payout_id", String(_ID), ForeignKey("payouts.id")),
    Column("created_at_ns", BigInteger, nullable=False),
    CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
    CheckConstraint("(outcome = 'nothing') = (payout_id IS NULL)", name="payout_named"),
)

#: The refund hold sums a merchant's sales of the last days: by payee and time, not by id.
Index("ix_payments_payee_created", payments.c.payee_id, payments.c.created_at_ns)
