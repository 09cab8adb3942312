"""Notifications on the pages (issue 21, item 4): what a party is told, and whether read.

Revision ID: 0033_notifications
Revises: 0032_rail_fees
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_notifications"
down_revision = "0032_rail_fees"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("party_id", sa.String(40), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("subject_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("read_at_ns", sa.BigInteger()),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint(
            "event_id", "party_id", "kind", name="uq_notifications_event_id_party_id_kind"
        ),
    )
    op.create_index("ix_notifications_party", "notifications", ["party_id", "created_at_ns", "id"])
    op.create_index("ix_notifications_unread", "notifications", ["party_id", "read_at_ns"])


def downgrade() -> None:
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_notifications_party", table_name="notifications")
    op.drop_table("notifications")
