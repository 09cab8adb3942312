"""The live risk rules' legs: each payer-payee pair's count and last movement (issue 20).

``risk_payees`` kept only that a party had paid a payee; the round-trip rule needs when and
how much it last paid, and a count tells a first payment (1) in the same upsert. Existing
rows get count 1 and a last movement at 0 (the epoch: outside every window).

Revision ID: 0022_risk_legs
Revises: 0021_inbound
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_risk_legs"
down_revision = "0021_inbound"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_payees") as batch:
        batch.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(
            sa.Column("last_at_ns", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("last_minor", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.create_check_constraint(
            op.f("ck_risk_payees_payee_counts"), "count >= 1 AND last_minor >= 0"
        )


def downgrade() -> None:
    with op.batch_alter_table("risk_payees") as batch:
        batch.drop_constraint(op.f("ck_risk_payees_payee_counts"), type_="check")
        batch.drop_column("last_minor")
        batch.drop_column("last_at_ns")
        batch.drop_column("count")
