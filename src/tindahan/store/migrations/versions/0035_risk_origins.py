"""Where each movement the risk gate judged was asked from (device, IP), as keyed hashes.

Revision ID: 0035_risk_origins
Revises: 0034_delivery
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0035_risk_origins"
down_revision = "0034_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_origins",
        sa.Column("transfer_id", sa.String(64), nullable=False),
        sa.Column("device", sa.String(32), nullable=False),
        sa.Column("ip", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_risk_origins")),
    )


def downgrade() -> None:
    op.drop_table("risk_origins")
