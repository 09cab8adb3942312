"""Pictures the operator uploads for lessons (issue 26, item 5): ``lesson_images``, one row
per picture (its widest WebP rendition's content-hashed name; the bytes in the media store).

Revision ID: 0045_insights26_lesson_images
Revises: 0044_tb22_two_store_payments
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0045_insights26_lesson_images"
down_revision = "0044_tb22_two_store_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesson_images",
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("renditions", sa.Text(), nullable=False),
        sa.Column("uploaded_by", sa.String(64), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lesson_images")),
    )


def downgrade() -> None:
    op.drop_table("lesson_images")
