"""The ledger: accounts, append-only transfers, seal queue, hash-chained blocks, clock.

Revision ID: 0001_ledger
Revises:
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_ledger"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("ledger_transfers", "ledger_blocks")


def upgrade() -> None:
    op.create_table(
        "ledger_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("ledger", sa.String(3), nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("debits_pending", sa.BigInteger, nullable=False),
        sa.Column("debits_posted", sa.BigInteger, nullable=False),
        sa.Column("credits_pending", sa.BigInteger, nullable=False),
        sa.Column("credits_posted", sa.BigInteger, nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_accounts"),
        sa.UniqueConstraint("id", "ledger", name="uq_ledger_accounts_id_ledger"),
        sa.UniqueConstraint("timestamp", name="uq_ledger_accounts_timestamp"),
        sa.CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0",
            name="ck_ledger_accounts_balances_not_negative",
        ),
        sa.CheckConstraint(
            "(flags & 1) = 0 OR debits_pending + debits_posted <= credits_posted",
            name="ck_ledger_accounts_debits_within_credits",
        ),
        sa.CheckConstraint(
            "(flags & 2) = 0 OR credits_pending + credits_posted <= debits_posted",
            name="ck_ledger_accounts_credits_within_debits",
        ),
        sa.CheckConstraint("(flags & 3) != 3", name="ck_ledger_accounts_flags_exclusive"),
        sa.CheckConstraint("code > 0 AND code <= 65535", name="ck_ledger_accounts_code_range"),
    )
    op.create_index("ix_ledger_accounts_owner", "ledger_accounts", ["owner"])
    op.create_table(
        "ledger_transfers",
        sa.Column("timestamp", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("id", sa.String(80), nullable=False),
        sa.Column("debit_account_id", sa.String(64), nullable=False),
        sa.Column("credit_account_id", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("ledger", sa.String(3), nullable=False),
        sa.Column("code", sa.Integer, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("pending_id", sa.String(80), nullable=True),
        sa.Column("timeout_seconds", sa.Integer, nullable=False),
        sa.Column("expires_at_ns", sa.BigInteger, nullable=True),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("created_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("timestamp", name="pk_ledger_transfers"),
        sa.UniqueConstraint("id", name="uq_ledger_transfers_id"),
        sa.ForeignKeyConstraint(
            ["debit_account_id", "ledger"],
            ["ledger_accounts.id", "ledger_accounts.ledger"],
            name="fk_ledger_transfers_debit_account_id_ledger_ledger_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id", "ledger"],
            ["ledger_accounts.id", "ledger_accounts.ledger"],
            name="fk_ledger_transfers_credit_account_id_ledger_ledger_accounts",
        ),
        sa.ForeignKeyConstraint(
            ["pending_id"],
            ["ledger_transfers.id"],
            name="fk_ledger_transfers_pending_id_ledger_transfers",
        ),
        sa.CheckConstraint("amount > 0", name="ck_ledger_transfers_amount_positive"),
        sa.CheckConstraint(
            "debit_account_id != credit_account_id", name="ck_ledger_transfers_accounts_different"
        ),
        sa.CheckConstraint(
            "(pending_id IS NULL) = ((flags & 12) = 0)",
            name="ck_ledger_transfers_pending_id_iff_post_or_void",
        ),
    )
    op.create_index(
        "ix_ledger_transfers_debit", "ledger_transfers", ["debit_account_id", "timestamp"]
    )
    op.create_index(
        "ix_ledger_transfers_credit", "ledger_transfers", ["credit_account_id", "timestamp"]
    )
    op.create_index(
        "ix_ledger_transfers_pending_id",
        "ledger_transfers",
        ["pending_id"],
        unique=True,
        postgresql_where=sa.text("pending_id IS NOT NULL"),
        sqlite_where=sa.text("pending_id IS NOT NULL"),
    )
    op.create_index(
        "ix_ledger_transfers_expiry",
        "ledger_transfers",
        ["expires_at_ns"],
        postgresql_where=sa.text("expires_at_ns IS NOT NULL"),
        sqlite_where=sa.text("expires_at_ns IS NOT NULL"),
    )
    op.create_table(
        "ledger_blocks",
        sa.Column("block_no", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("transfer_count", sa.Integer, nullable=False),
        sa.Column("first_timestamp", sa.BigInteger, nullable=False),
        sa.Column("last_timestamp", sa.BigInteger, nullable=False),
        sa.Column("sealed_at_ns", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("block_no", name="pk_ledger_blocks"),
        sa.CheckConstraint("transfer_count > 0", name="ck_ledger_blocks_not_empty"),
    )
    op.create_table(
        "ledger_seals",
        sa.Column("transfer_timestamp", sa.BigInteger, autoincrement=False, nullable=False),
        sa.Column("block_no", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("transfer_timestamp", name="pk_ledger_seals"),
        sa.ForeignKeyConstraint(
            ["transfer_timestamp"],
            ["ledger_transfers.timestamp"],
            name="fk_ledger_seals_transfer_timestamp_ledger_transfers",
        ),
        sa.ForeignKeyConstraint(
            ["block_no"], ["ledger_blocks.block_no"], name="fk_ledger_seals_block_no_ledger_blocks"
        ),
    )
    op.create_index("ix_ledger_seals_block", "ledger_seals", ["block_no", "transfer_timestamp"])
    op.create_table(
        "ledger_clock",
        sa.Column("id", sa.Integer, autoincrement=False, nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_clock"),
        sa.CheckConstraint("id = 1", name="ck_ledger_clock_single_row"),
    )
    op.execute("INSERT INTO ledger_clock (id, value) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE ledger_clock_seq START WITH 1")
        _postgres_guards()
    else:
        _sqlite_guards()


def _sqlite_guards() -> None:
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    op.execute(
        "CREATE TRIGGER ledger_seals_seal_once BEFORE UPDATE ON ledger_seals "
        "WHEN OLD.block_no IS NOT NULL OR NEW.transfer_timestamp != OLD.transfer_timestamp "
        "BEGIN SELECT RAISE(ABORT, 'a sealed transfer stays in its block'); END"
    )
    op.execute(
        "CREATE TRIGGER ledger_seals_no_delete BEFORE DELETE ON ledger_seals "
        "BEGIN SELECT RAISE(ABORT, 'ledger_seals is append-only'); END"
    )
    op.execute(
        "CREATE TRIGGER ledger_accounts_fixed BEFORE UPDATE ON ledger_accounts "
        "WHEN NEW.id != OLD.id OR NEW.ledger != OLD.ledger OR NEW.code != OLD.code "
        "OR NEW.flags != OLD.flags OR NEW.timestamp != OLD.timestamp "
        "OR NEW.owner IS NOT OLD.owner "
        "BEGIN SELECT RAISE(ABORT, 'only an account''s balances change'); END"
    )
    op.execute(
        "CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts "
        "BEGIN SELECT RAISE(ABORT, 'ledger accounts are never deleted'); END"
    )


def _postgres_guards() -> None:
    op.execute(
        """
        CREATE FUNCTION ledger_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
        END $$
        """
    )
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledger_refuse()"
        )
    op.execute(
        "CREATE TRIGGER ledger_seals_seal_once BEFORE UPDATE ON ledger_seals FOR EACH ROW "
        "WHEN (OLD.block_no IS NOT NULL OR NEW.transfer_timestamp != OLD.transfer_timestamp) "
        "EXECUTE FUNCTION ledger_refuse()"
    )
    op.execute(
        "CREATE TRIGGER ledger_seals_no_delete BEFORE DELETE ON ledger_seals FOR EACH ROW "
        "EXECUTE FUNCTION ledger_refuse()"
    )
    op.execute(
        "CREATE TRIGGER ledger_accounts_fixed BEFORE UPDATE ON ledger_accounts FOR EACH ROW "
        "WHEN (NEW.id != OLD.id OR NEW.ledger != OLD.ledger OR NEW.code != OLD.code "
        "OR NEW.flags != OLD.flags OR NEW.timestamp != OLD.timestamp "
        "OR NEW.owner IS DISTINCT FROM OLD.owner) EXECUTE FUNCTION ledger_refuse()"
    )
    op.execute(
        "CREATE TRIGGER ledger_accounts_no_delete BEFORE DELETE ON ledger_accounts "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse()"
    )


def downgrade() -> None:
    raise NotImplementedError("the ledger is never dropped by a migration")
