"""Dormancy in one statement: a party's previous moment seen beside its last (issue 20).

The risk gate read when a party was last seen and then wrote now — two round trips per
movement. With the previous moment kept, one upsert moves the moment on and returns the one
before (``services.ledger.risk_usage``). Existing rows need nothing: the upsert's update
sets it from ``last_seen_ns``.

Revision ID: 0026_risk_seen
Revises: 0025_short_refs
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0026_risk_seen"
down_revision = "0025_short_refs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("risk_parties") as batch:
        batch.add_column(sa.Column("prev_seen_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_parties") as batch:
        batch.drop_column("prev_seen_ns")
