"""The Tindahan names behind a TigerBeetle cluster's 128-bit ids (issue 22): written before
the transfer or account they name reaches the cluster, so any process can show them.

Revision ID: 0047_tb22c_tigerbeetle_names
Revises: 0046_insights26_lead_times
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0047_tb22c_tigerbeetle_names"
down_revision = "0046_insights26_lead_times"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tigerbeetle_names",
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_tigerbeetle_names")),
        sa.CheckConstraint(
            "kind IN ('account', 'transfer', 'data')", name=op.f("ck_tigerbeetle_names_kind")
        ),
    )


def downgrade() -> None:
    op.drop_table("tigerbeetle_names")
