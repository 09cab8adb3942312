"""Inbound credits returned after a review, each with the pacs.004 to the sender's bank.

Revision ID: 0043_risk20_review_returns
Revises: 0042_delivery_history
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0043_risk20_review_returns"
down_revision = "0042_delivery_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_review_returns",
        sa.Column("inbound_transfer_id", sa.String(40), nullable=False),
        sa.Column("hold_id", sa.String(80), nullable=False),
        sa.Column("return_id", sa.String(35), nullable=False),
        sa.Column("reason_code", sa.String(8), nullable=False),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("sent_at_ns", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["inbound_transfer_id"], ["inbound_transfers.id"]),
        sa.PrimaryKeyConstraint("inbound_transfer_id"),
    )
    op.create_index("ix_inbound_transfers_transfer", "inbound_transfers", ["transfer_id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_transfers_transfer", table_name="inbound_transfers")
    op.drop_table("inbound_review_returns")
