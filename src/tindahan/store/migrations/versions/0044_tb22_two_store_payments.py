"""Payments on a TigerBeetle ledger (issue 22, item 2): each one's place in the two-store
write order, for the recovery job.

Revision ID: 0044_tb22_two_store_payments
Revises: 0043_risk20_review_returns
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0044_tb22_two_store_payments"
down_revision = "0043_risk20_review_returns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "two_store_payments",
        sa.Column("payment_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("legs", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(40)),
        sa.Column("idem_key", sa.String(255)),
        sa.Column("refusal_code", sa.String(64)),
        sa.Column("refusal_message", sa.String(200)),
        sa.Column("deadline_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("payment_id", name=op.f("pk_two_store_payments")),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_two_store_payments_payment_id_payments"),
        ),
        sa.CheckConstraint(
            "state IN ('reserving', 'reserved', 'settled', 'refused')",
            name=op.f("ck_two_store_payments_state"),
        ),
    )
    op.create_index(
        "ix_two_store_payments_unfinished",
        "two_store_payments",
        ["state", "created_at_ns"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_two_store_payments_unfinished", table_name="two_store_payments")
    op.drop_table("two_store_payments")
