"""Risk: cases (a party's open alerts grouped for an analyst), their notes, and the
operator's switch of each rule's mode.

Written from ``store.risk_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0020_risk_cases
Revises: 0019_pay_pin
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_risk_cases"
down_revision = "0019_pay_pin"
branch_labels = None
depends_on = None

UNCLOSED = sa.text("status <> 'closed'")


def upgrade() -> None:
    op.create_table(
        "risk_cases",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=12), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_minor", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'in_review', 'closed')", name=op.f("ck_risk_cases_case_status")
        ),
        sa.CheckConstraint(
            "decision IS NULL OR decision IN ('release', 'return', 'freeze', 'report')",
            name=op.f("ck_risk_cases_case_decision"),
        ),
        sa.CheckConstraint(
            "(status = 'closed') = (decision IS NOT NULL)",
            name=op.f("ck_risk_cases_case_closed_decided"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_cases")),
    )
    op.create_index(
        "ux_risk_cases_party_unclosed",
        "risk_cases",
        ["party_id"],
        unique=True,
        sqlite_where=UNCLOSED,
        postgresql_where=UNCLOSED,
    )
    op.create_index(
        "ix_risk_cases_status_updated", "risk_cases", ["status", "updated_at_ns"], unique=False
    )
    op.create_table(
        "risk_case_notes",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("body", sa.String(length=500), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_case_notes")),
    )
    op.create_index(
        "ix_risk_case_notes_case", "risk_case_notes", ["case_id", "created_at_ns"], unique=False
    )
    op.create_table(
        "risk_rule_modes",
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("changed_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "mode IN ('on', 'shadow', 'off')", name=op.f("ck_risk_rule_modes_rule_mode")
        ),
        sa.PrimaryKeyConstraint("rule", name=op.f("pk_risk_rule_modes")),
    )
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.String(length=80), nullable=True))
        batch_op.create_index("ix_risk_alerts_case", ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_alerts_case")
        batch_op.drop_column("case_id")
    op.drop_table("risk_rule_modes")
    op.drop_index("ix_risk_case_notes_case", table_name="risk_case_notes")
    op.drop_table("risk_case_notes")
    op.drop_index("ix_risk_cases_status_updated", table_name="risk_cases")
    op.drop_index("ux_risk_cases_party_unclosed", table_name="risk_cases")
    op.drop_table("risk_cases")
