"""Loan transactions name the order a set-aside came from: an online sale released from
escrow repays a loan like a merchant payment does (``services.payments.settlement``).

Revision ID: 0013_sale_set_aside
Revises: 0012_risk
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_sale_set_aside"
down_revision = "0012_risk"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.drop_column("order_id")
