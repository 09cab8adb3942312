"""A supplier's lead time kept per product (issue 26, item 2's reorder advice): a nullable
``products.lead_time_days`` (null: the reorder list's default), 0 to 60 days. Added with
``ALTER TABLE … ADD COLUMN`` and a column check, on both engines, as 0037 did.

Revision ID: 0046_insights26_lead_times
Revises: 0045_insights26_lesson_images
Create Date: 2026-12-07
"""

from alembic import op

revision = "0046_insights26_lead_times"
down_revision = "0045_insights26_lesson_images"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE products ADD COLUMN lead_time_days INTEGER "
        "CHECK (lead_time_days BETWEEN 0 AND 60)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE products DROP COLUMN lead_time_days")
