"""Risk and compliance: the rules' running aggregates (usage buckets, parties' last
activity, payees already paid) and their alerts, with the hold each review put on money.

Written from ``store.risk_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0012_risk
Revises: 0011_rails
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_risk"
down_revision = "0011_rails"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_usage",
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("counterparty", sa.String(length=64), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "count >= 0 AND amount_minor >= 0", name=op.f("ck_risk_usage_usage_not_negative")
        ),
        sa.PrimaryKeyConstraint(
            "party_id", "counterparty", "metric", "bucket", name=op.f("pk_risk_usage")
        ),
    )
    op.create_table(
        "risk_parties",
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("last_seen_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_risk_parties")),
    )
    op.create_table(
        "risk_payees",
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("payee_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("party_id", "payee_id", name=op.f("pk_risk_payees")),
    )
    op.create_table(
        "risk_alerts",
        sa.Column("id", sa.String(length=104), nullable=False),
        sa.Column("transfer_id", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.String(length=64), nullable=False),
        sa.Column("counterparty", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("shadow", sa.Boolean(), nullable=False),
        sa.Column("evidence", sa.String(length=2000), nullable=False),
        sa.Column("explanation", sa.String(length=500), nullable=False),
        sa.Column("hold_id", sa.String(length=80), nullable=True),
        sa.Column("sender_account_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "decision IN ('allow', 'review', 'block')", name=op.f("ck_risk_alerts_alert_decision")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'released', 'returned', 'closed')",
            name=op.f("ck_risk_alerts_alert_status"),
        ),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_risk_alerts_alert_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alerts")),
    )
    op.create_index(
        "ix_risk_alerts_status_created", "risk_alerts", ["status", "created_at_ns"], unique=False
    )
    op.create_index("ix_risk_alerts_transfer", "risk_alerts", ["transfer_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_risk_alerts_transfer", table_name="risk_alerts")
    op.drop_index("ix_risk_alerts_status_created", table_name="risk_alerts")
    op.drop_table("risk_alerts")
    op.drop_table("risk_payees")
    op.drop_table("risk_parties")
    op.drop_table("risk_usage")
