"""Bank rails: outbound credit transfers, one row per pacs.008 transaction (issue 19).

Written from ``store.rails_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0014_bank_transfers
Revises: 0013_sale_set_aside
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_bank_transfers"
down_revision = "0013_sale_set_aside"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bank_transfers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.Column("wallet_id", sa.String(length=40), nullable=False),
        sa.Column("bank_account_id", sa.String(length=40), nullable=False),
        sa.Column("rail", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("uetr", sa.String(length=36), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("hold_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason_code", sa.String(length=35), nullable=True),
        sa.Column("returned_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("sent_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("asked_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("finished_at_ns", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(status = 'pending') = (finished_at_ns IS NULL)",
            name=op.f("ck_bank_transfers_finished_when"),
        ),
        sa.CheckConstraint("rail IN ('instapay', 'pesonet')", name=op.f("ck_bank_transfers_rail")),
        sa.CheckConstraint(
            "status IN ('pending', 'settled', 'rejected', 'returned')",
            name=op.f("ck_bank_transfers_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_bank_transfers_amount_positive")),
        sa.CheckConstraint(
            "returned_minor >= 0 AND returned_minor <= amount_minor",
            name=op.f("ck_bank_transfers_returned"),
        ),
        sa.ForeignKeyConstraint(
            ["bank_account_id"],
            ["bank_accounts.id"],
            name=op.f("fk_bank_transfers_bank_account_id_bank_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_bank_transfers_party_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["wallet_id"], ["wallets.id"], name=op.f("fk_bank_transfers_wallet_id_wallets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_transfers")),
        sa.UniqueConstraint("end_to_end_id", name=op.f("uq_bank_transfers_end_to_end_id")),
        sa.UniqueConstraint("uetr", name=op.f("uq_bank_transfers_uetr")),
    )
    with op.batch_alter_table("bank_transfers", schema=None) as batch_op:
        batch_op.create_index("ix_bank_transfers_party", ["party_id", "id"], unique=False)
        batch_op.create_index("ix_bank_transfers_status", ["status", "sent_at_ns"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bank_transfers", schema=None) as batch_op:
        batch_op.drop_index("ix_bank_transfers_status")
        batch_op.drop_index("ix_bank_transfers_party")
    op.drop_table("bank_transfers")
