"""Lessons for merchants (issue 26, item 5): the operator's own lessons (``lessons``, one row
per lesson and language; shipped lessons live in the package until edited) and each
merchant's progress (``lesson_progress``: furthest screen, last score, first pass).

Revision ID: 0040_lessons
Revises: 0039_risk_origin_wallets
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0040_lessons"
down_revision = "0039_risk_origin_wallets"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("lang", sa.String(3), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("summary", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("quiz", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slug", "lang", name=op.f("pk_lessons")),
        sa.CheckConstraint("lang IN ('en', 'fil', 'ceb')", name=op.f("ck_lessons_lang")),
    )
    op.create_table(
        "lesson_progress",
        sa.Column("merchant_id", sa.String(64), nullable=False),
        sa.Column("slug", sa.String(40), nullable=False),
        sa.Column("screen", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("questions", sa.Integer(), nullable=True),
        sa.Column("lang", sa.String(3), nullable=False),
        sa.Column("started_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("completed_at_ns", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("merchant_id", "slug", name=op.f("pk_lesson_progress")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_lesson_progress_merchant_id_parties")
        ),
        sa.CheckConstraint("screen >= 0", name=op.f("ck_lesson_progress_screen")),
        sa.CheckConstraint(
            "(score IS NULL AND questions IS NULL) OR (0 <= score AND score <= questions)",
            name=op.f("ck_lesson_progress_score"),
        ),
    )
    op.create_index(
        "ix_lesson_progress_slug", "lesson_progress", ["slug", "completed_at_ns"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_lesson_progress_slug", table_name="lesson_progress")
    op.drop_table("lesson_progress")
    op.drop_table("lessons")
