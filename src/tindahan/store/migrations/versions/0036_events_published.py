"""Events on NATS JetStream (issue 23, item 2): when the relay's stream acknowledged each event.

Revision ID: 0036_events_published
Revises: 0035_risk_origins
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0036_events_published"
down_revision = "0035_risk_origins"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events") as batch:
        batch.add_column(sa.Column("published_at_ns", sa.BigInteger()))
    op.create_index("ix_events_unpublished", "events", ["published_at_ns", "created_at_ns"])


def downgrade() -> None:
    op.drop_index("ix_events_unpublished", table_name="events")
    with op.batch_alter_table("events") as batch:
        batch.drop_column("published_at_ns")
