"""The wallets that spent through each device or IP address: the different-wallets rules.

Revision ID: 0039_risk_origin_wallets
Revises: 0038_qr_transfers
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0039_risk_origin_wallets"
down_revision = "0038_qr_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_origin_wallets",
        sa.Column("origin", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("counted_ns", sa.BigInteger(), nullable=False),
        sa.Column("fresh", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "fresh IN (0, 1)", name=op.f("ck_risk_origin_wallets_origin_wallet_fresh")
        ),
        sa.PrimaryKeyConstraint("origin", "party_id", name=op.f("pk_risk_origin_wallets")),
    )


def downgrade() -> None:
    op.drop_table("risk_origin_wallets")
