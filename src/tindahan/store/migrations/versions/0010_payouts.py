"""Payouts: each payout, each merchant's automatic payout settings, each day's run; an index
of payments by payee and time (the refund hold sums a merchant's recent sales).

Written from ``store.payout_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0010_payouts
Revises: 0006_web
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_payouts"
down_revision = "0006_web"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payouts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("source_wallet_id", sa.String(length=40), nullable=False),
        sa.Column("destination_wallet_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("transfer_id", sa.String(length=64), nullable=True),
        sa.Column("failure_code", sa.String(length=64), nullable=True),
        sa.Column("failure_message", sa.String(length=500), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_payouts_amount_positive")),
        sa.CheckConstraint("status IN ('succeeded', 'failed')", name=op.f("ck_payouts_status")),
        sa.CheckConstraint("destination IN ('wallet')", name=op.f("ck_payouts_destination")),
        sa.CheckConstraint(
            "(status = 'succeeded') = (transfer_id IS NOT NULL AND failure_code IS NULL)",
            name=op.f("ck_payouts_outcome_recorded"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_payouts_merchant_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["source_wallet_id"], ["wallets.id"], name=op.f("fk_payouts_source_wallet_id_wallets")
        ),
        sa.ForeignKeyConstraint(
            ["destination_wallet_id"],
            ["wallets.id"],
            name=op.f("fk_payouts_destination_wallet_id_wallets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payouts")),
    )
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.create_index("ix_payouts_merchant", ["merchant_id", "id"], unique=False)

    op.create_table(
        "payout_settings",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("minute_of_day", sa.Integer(), nullable=False),
        sa.Column("keep_minor", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(length=16), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "minute_of_day >= 0 AND minute_of_day < 1440",
            name=op.f("ck_payout_settings_minute_of_day"),
        ),
        sa.CheckConstraint("keep_minor >= 0", name=op.f("ck_payout_settings_keep_not_negative")),
        sa.CheckConstraint(
            "destination IN ('wallet')", name=op.f("ck_payout_settings_destination")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_payout_settings_merchant_id_parties")
        ),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_payout_settings")),
    )
    op.create_table(
        "payout_runs",
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("payout_id", sa.String(length=40), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('paid', 'nothing', 'failed')", name=op.f("ck_payout_runs_outcome")
        ),
        sa.CheckConstraint(
            "(outcome = 'nothing') = (payout_id IS NULL)", name=op.f("ck_payout_runs_payout_named")
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_payout_runs_merchant_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.id"], name=op.f("fk_payout_runs_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("merchant_id", "day", name=op.f("pk_payout_runs")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payments_payee_created", ["payee_id", "created_at_ns"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_payee_created")
    op.drop_table("payout_runs")
    op.drop_table("payout_settings")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index("ix_payouts_merchant")
    op.drop_table("payouts")
