"""The ledger's tables (SQLAlchemy Core), with the invariants the database itself holds.

Each invariant of DESIGN.md is held twice: by the planner in Python, with a clear result
code, and here, so that neither a bug nor a hand edit breaks it silently:

* balances are never negative, and a flagged account never passes its limit (CHECK);
* a transfer's two accounts are different and in the transfer's own currency ledger
  (composite foreign keys onto ``(id, ledger)``);
* amounts are positive; ids and ledger timestamps are unique;
* a pending transfer is posted or voided at most once (UNIQUE ``pending_id``);
* posted transfers and sealed blocks are append-only (triggers, in the migration).

The statements are portable SQL (bitwise ``&`` in CHECKs, partial indexes, a sequence
with a table fallback): PostgreSQL, SQLite and the PostgreSQL-compatible distributed
databases all accept them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from tindahan import limits

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: PostgreSQL hands out ledger timestamps from this sequence (never blocks, never rolls
#: back); SQLite, whose writers are serialized anyway, counts in ``ledger_clock``.
clock_sequence = Sequence("ledger_clock_seq", metadata=metadata, start=1)

accounts = Table(
    "ledger_accounts",
    metadata,
    Column("id", String(limits.ID_MAX_LENGTH), primary_key=True),
    Column("ledger", String(3), nullable=False),
    Column("code", Integer, nullable=False),
    Column("owner", String(limits.OWNER_MAX_LENGTH), nullable=True),
    Column("flags", Integer, nullable=False),
    Column("debits_pending", BigInteger, nullable=False),
    Column("debits_posted", BigInteger, nullable=False),
    Column("credits_pending", BigInteger, nullable=False),
    Column("credits_posted", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    UniqueConstraint("id", "ledger"),
    UniqueConstraint("timestamp"),
    CheckConstraint(
        "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
        "AND credits_posted >= 0",
        name="balances_not_negative",
    ),
    CheckConstraint(
        "(flags & 1) = 0 OR debits_pending + debits_posted <= credits_posted",
        name="debits_within_credits",
    ),
    CheckConstraint(
        "(flags & 2) = 0 OR credits_pending + credits_posted <= debits_posted",
        name="credits_within_debits",
    ),
    CheckConstraint("(flags & 3) != 3", name="flags_exclusive"),
    CheckConstraint(f"code > 0 AND code <= {limits.MAX_CODE}", name="code_range"),
)
Index("ix_ledger_accounts_owner", accounts.c.owner)

transfers = Table(
    "ledger_transfers",
    metadata,
    Column("timestamp", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(limits.SYSTEM_ID_MAX_LENGTH), nullable=False),
    Column("debit_account_id", String(limits.ID_MAX_LENGTH), nullable=False),
    Column("credit_account_id", String(limits.ID_MAX_LENGTH), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("ledger", String(3), nullable=False),
    Column("code", Integer, nullable=False),
    Column("flags", Integer, nullable=False),
    Column("pending_id", String(limits.SYSTEM_ID_MAX_LENGTH), nullable=True),
    Column("timeout_seconds", Integer, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=True),
    Column("metadata", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    UniqueConstraint("id"),
    ForeignKeyConstraint(
        ["debit_account_id", "ledger"], ["ledger_accounts.id", "ledger_accounts.ledger"]
    ),
    ForeignKeyConstraint(
        ["credit_account_id", "ledger"], ["ledger_accounts.id", "ledger_accounts.ledger"]
    ),
    ForeignKeyConstraint(["pending_id"], ["ledger_transfers.id"]),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("debit_account_id != credit_account_id", name="accounts_different"),
    CheckConstraint(
        "(pending_id IS NULL) = ((flags & 12) = 0)", name="pending_id_iff_post_or_void"
    ),
)
Index("ix_ledger_transfers_debit", transfers.c.debit_account_id, transfers.c.timestamp)
Index("ix_ledger_transfers_credit", transfers.c.credit_account_id, transfers.c.timestamp)
#: A pending transfer is posted or voided at most once. Partial, so the single-phase
#: transfers (nearly all of them) cost no entry in it.
Index(
    "ix_ledger_transfers_pending_id",
    transfers.c.pending_id,
    unique=True,
    postgresql_where=text("pending_id IS NOT NULL"),
    sqlite_where=text("pending_id IS NOT NULL"),
)
Index(
    "ix_ledger_transfers_expiry",
    transfers.c.expires_at_ns,
    postgresql_where=text("expires_at_ns IS NOT NULL"),
    sqlite_where=text("expires_at_ns IS NOT NULL"),
)

#: One row per transfer, written in the transfer's own transaction with ``block_no`` NULL;
#: the sealer fills ``block_no`` in. A transfer with no row here was never written by the
#: ledger (``verify`` reports it).
seals = Table(
    "ledger_seals",
    metadata,
    Column(
        "transfer_timestamp",
        BigInteger,
        ForeignKey("ledger_transfers.timestamp"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("block_no", BigInteger, ForeignKey("ledger_blocks.block_no"), nullable=True),
)
Index("ix_ledger_seals_block", seals.c.block_no, seals.c.transfer_timestamp)

blocks = Table(
    "ledger_blocks",
    metadata,
    Column("block_no", BigInteger, primary_key=True, autoincrement=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("transfer_count", Integer, nullable=False),
    Column("first_timestamp", BigInteger, nullable=False),
    Column("last_timestamp", BigInteger, nullable=False),
    Column("sealed_at_ns", BigInteger, nullable=False),
    CheckConstraint("transfer_count > 0", name="not_empty"),
)

clock = Table(
    "ledger_clock",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("value", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

#: The Tindahan names behind a TigerBeetle cluster's 128-bit numbers (issue 22; written
#: and read by ``store.ledger_names``). ``number`` is the 32-digit hex of the id (or of the
#: string's digest, for ``data``): one number names one text, so a retry writes nothing.
tigerbeetle_names = Table(
    "tigerbeetle_names",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("kind", String(8), nullable=False),
    Column("name", Text, nullable=False),
    CheckConstraint("kind IN ('account', 'transfer', 'data')", name="kind"),
)
