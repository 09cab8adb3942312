"""Risk: a party's name found on a sanctions or watch list, until confirmed or cleared.

Written from ``store.risk_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0015_risk_screening
Revises: 0014_bank_transfers
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_risk_screening"
down_revision = "0014_bank_transfers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_screening_hits",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("matched_name", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 0 AND 100", name=op.f("ck_risk_screening_hits_hit_score")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'confirmed', 'cleared')",
            name=op.f("ck_risk_screening_hits_hit_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_screening_hits")),
    )
    op.create_index(
        "ix_risk_screening_hits_party", "risk_screening_hits", ["party_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_risk_screening_hits_party", table_name="risk_screening_hits")
    op.drop_table("risk_screening_hits")
