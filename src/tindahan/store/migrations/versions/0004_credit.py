"""Credit: assessments, each automated decision kept with its reasons.

Generated from ``store.credit_tables`` by Alembic's autogenerate, then reviewed.

Revision ID: 0004_credit
Revises: 0003_commerce
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_credit"
down_revision = "0003_commerce"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credit_assessments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("model_version", sa.String(length=120), nullable=True),
        sa.Column("probability", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("as_of_ns", sa.BigInteger(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "(decision = 'scored') = (probability IS NOT NULL AND score IS NOT NULL AND model_version IS NOT NULL)",
            name=op.f("ck_credit_assessments_scored_has_score"),
        ),
        sa.CheckConstraint(
            "decision IN ('scored', 'insufficient_history')",
            name=op.f("ck_credit_assessments_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_credit_assessments_merchant_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_assessments")),
    )
    with op.batch_alter_table("credit_assessments", schema=None) as batch_op:
        batch_op.create_index("ix_credit_assessments_merchant", ["merchant_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("credit_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_assessments_merchant")

    op.drop_table("credit_assessments")
