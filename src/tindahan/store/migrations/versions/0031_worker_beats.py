"""Worker heartbeats, for ``/ready`` (issue 23, item 7).

Revision ID: 0031_worker_beats
Revises: 0030_address_psgc
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0031_worker_beats"
down_revision = "0030_address_psgc"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_beats",
        sa.Column("worker", sa.String(200), primary_key=True),
        sa.Column("started_ns", sa.BigInteger(), nullable=False),
        sa.Column("beat_ns", sa.BigInteger(), nullable=False),
        sa.Column("rounds", sa.BigInteger(), nullable=False),
        sa.Column("last_ok", sa.Boolean(), nullable=False),
        sa.CheckConstraint("rounds >= 0", name="ck_worker_beats_rounds"),
    )


def downgrade() -> None:
    op.drop_table("worker_beats")
