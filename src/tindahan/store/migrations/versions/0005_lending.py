"""Lending: products, offers, loans, installments, history, holidays, daily closes.

Generated from ``store.lending_tables`` by Alembic's autogenerate, then reviewed.

Revision ID: 0005_lending
Revises: 0004_credit
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_lending"
down_revision = "0004_credit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "loan_closes",
        sa.Column("business_date", sa.String(length=10), nullable=False),
        sa.Column("loans", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("started_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("finished_at_ns", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("business_date", name=op.f("pk_loan_closes")),
    )
    op.create_table(
        "loan_holidays",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_loan_holidays")),
    )
    op.create_table(
        "loan_products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("min_principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("max_principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("min_term", sa.Integer(), nullable=False),
        sa.Column("max_term", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("day_count", sa.String(length=12), nullable=False),
        sa.Column("rate_min", sa.String(length=24), nullable=False),
        sa.Column("rate_max", sa.String(length=24), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("fee_mode", sa.String(length=10), nullable=False),
        sa.Column("penalty_rate", sa.String(length=24), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("auto_deduct_bps", sa.Integer(), nullable=False),
        sa.Column("accrual", sa.String(length=12), nullable=False),
        sa.Column("allocation_order", sa.String(length=64), nullable=False),
        sa.Column("max_probability", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "accrual IN ('daily', 'installment')", name=op.f("ck_loan_products_accrual")
        ),
        sa.CheckConstraint(
            "day_count IN ('30/360', 'actual/365')", name=op.f("ck_loan_products_day_count")
        ),
        sa.CheckConstraint(
            "fee_mode IN ('deducted', 'added')", name=op.f("ck_loan_products_fee_mode")
        ),
        sa.CheckConstraint(
            "frequency IN ('daily', 'weekly', 'biweekly', 'monthly')",
            name=op.f("ck_loan_products_frequency"),
        ),
        sa.CheckConstraint(
            "method IN ('declining-equal-installment', 'declining-equal-principal')",
            name=op.f("ck_loan_products_method"),
        ),
        sa.CheckConstraint("status IN ('active', 'retired')", name=op.f("ck_loan_products_status")),
        sa.CheckConstraint(
            "auto_deduct_bps >= 0 AND auto_deduct_bps <= 5000",
            name=op.f("ck_loan_products_auto_deduct"),
        ),
        sa.CheckConstraint("fee_bps >= 0 AND fee_bps <= 10000", name=op.f("ck_loan_products_fee")),
        sa.CheckConstraint(
            "grace_days >= 0 AND grace_days <= 30", name=op.f("ck_loan_products_grace")
        ),
        sa.CheckConstraint(
            "min_principal_minor > 0 AND min_principal_minor <= max_principal_minor",
            name=op.f("ck_loan_products_amounts"),
        ),
        sa.CheckConstraint(
            "min_term > 0 AND min_term <= max_term", name=op.f("ck_loan_products_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_products")),
    )
    op.create_table(
        "loan_offers",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("assessment_id", sa.String(length=40), nullable=False),
        sa.Column("limit_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("rate", sa.String(length=24), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("net_proceeds_minor", sa.BigInteger(), nullable=False),
        sa.Column("finance_charge_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_of_payments_minor", sa.BigInteger(), nullable=False),
        sa.Column("eir_monthly", sa.String(length=24), nullable=False),
        sa.Column("monthly_rate_ppm", sa.Integer(), nullable=False),
        sa.Column("eir_monthly_ppm", sa.Integer(), nullable=False),
        sa.Column("penalty_rate_ppm", sa.Integer(), nullable=False),
        sa.Column("covered", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("disclosure", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=True),
        sa.Column("expires_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("accepted_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "(status = 'accepted') = (loan_id IS NOT NULL)",
            name=op.f("ck_loan_offers_accepted_loan"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'accepted', 'expired', 'withdrawn')",
            name=op.f("ck_loan_offers_status"),
        ),
        sa.CheckConstraint(
            "covered = 0 OR (monthly_rate_ppm <= 60000 AND eir_monthly_ppm <= 120000 AND penalty_rate_ppm <= 50000 AND finance_charge_minor <= principal_minor)",
            name=op.f("ck_loan_offers_small_loan_ceilings"),
        ),
        sa.CheckConstraint(
            "net_proceeds_minor + finance_charge_minor = total_of_payments_minor",
            name=op.f("ck_loan_offers_disclosure"),
        ),
        sa.CheckConstraint(
            "principal_minor > 0 AND limit_minor >= principal_minor AND term > 0 AND fee_minor >= 0",
            name=op.f("ck_loan_offers_amounts"),
        ),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["credit_assessments.id"],
            name=op.f("fk_loan_offers_assessment_id_credit_assessments"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_loan_offers_merchant_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["loan_products.id"],
            name=op.f("fk_loan_offers_product_id_loan_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_offers")),
    )
    with op.batch_alter_table("loan_offers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_offers_merchant", ["merchant_id", "created_at_ns"], unique=False
        )

    op.create_table(
        "loans",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("merchant_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("offer_id", sa.String(length=40), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("term", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("day_count", sa.String(length=12), nullable=False),
        sa.Column("rate", sa.String(length=24), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_mode", sa.String(length=10), nullable=False),
        sa.Column("penalty_rate", sa.String(length=24), nullable=False),
        sa.Column("grace_days", sa.Integer(), nullable=False),
        sa.Column("auto_deduct_bps", sa.Integer(), nullable=False),
        sa.Column("accrual", sa.String(length=12), nullable=False),
        sa.Column("allocation_order", sa.String(length=64), nullable=False),
        sa.Column("covered", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accrual_base_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_accrued_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_booked_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("waived_minor", sa.BigInteger(), nullable=False),
        sa.Column("reserve_minor", sa.BigInteger(), nullable=False),
        sa.Column("written_off_minor", sa.BigInteger(), nullable=False),
        sa.Column("recovered_minor", sa.BigInteger(), nullable=False),
        sa.Column("dpd", sa.Integer(), nullable=False),
        sa.Column("max_dpd", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=8), nullable=False),
        sa.Column("closed_through", sa.String(length=10), nullable=False),
        sa.Column("disbursed_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("closed_at_ns", sa.BigInteger(), nullable=True),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "bucket IN ('current', '1-30', '31-60', '61-90', '90+')", name=op.f("ck_loans_bucket")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'closed', 'written_off')", name=op.f("ck_loans_status")
        ),
        sa.CheckConstraint("dpd >= 0 AND max_dpd >= dpd", name=op.f("ck_loans_dpd")),
        sa.CheckConstraint(
            "fee_paid_minor >= 0 AND fee_paid_minor <= fee_booked_minor", name=op.f("ck_loans_fee")
        ),
        sa.CheckConstraint(
            "interest_paid_minor >= 0 AND interest_paid_minor <= interest_accrued_minor",
            name=op.f("ck_loans_interest"),
        ),
        sa.CheckConstraint(
            "penalty_paid_minor >= 0 AND waived_minor >= 0 AND penalty_paid_minor <= penalty_minor",
            name=op.f("ck_loans_penalty"),
        ),
        sa.CheckConstraint(
            "principal_paid_minor >= 0 AND principal_paid_minor <= principal_minor",
            name=op.f("ck_loans_principal"),
        ),
        sa.CheckConstraint(
            "reserve_minor >= 0 AND written_off_minor >= 0 AND recovered_minor >= 0 AND recovered_minor <= written_off_minor",
            name=op.f("ck_loans_reserve_and_losses"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["parties.id"], name=op.f("fk_loans_merchant_id_parties")
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["loan_offers.id"], name=op.f("fk_loans_offer_id_loan_offers")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["loan_products.id"], name=op.f("fk_loans_product_id_loan_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_loans_offer_id")),
    )
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.create_index("ix_loans_status", ["status", "id"], unique=False)
        batch_op.create_index(
            "ux_loans_one_active",
            ["merchant_id"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )

    op.create_table(
        "loan_installments",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.String(length=10), nullable=False),
        sa.Column("due_date", sa.String(length=10), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("preaccrued_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("paid_date", sa.String(length=10), nullable=True),
        sa.CheckConstraint(
            "status IN ('open', 'paid', 'restructured')", name=op.f("ck_loan_installments_status")
        ),
        sa.CheckConstraint(
            "preaccrued_minor >= 0 AND preaccrued_minor <= interest_minor",
            name=op.f("ck_loan_installments_preaccrued"),
        ),
        sa.CheckConstraint(
            "principal_paid_minor >= 0 AND principal_paid_minor <= principal_minor AND interest_paid_minor >= 0 AND interest_paid_minor <= interest_minor AND fee_paid_minor >= 0 AND fee_paid_minor <= fee_minor AND penalty_paid_minor >= 0 AND penalty_paid_minor <= penalty_minor",
            name=op.f("ck_loan_installments_paid_within_due"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_installments_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("loan_id", "version", "seq", name=op.f("pk_loan_installments")),
    )
    with op.batch_alter_table("loan_installments", schema=None) as batch_op:
        batch_op.create_index("ix_loan_installments_open", ["status", "loan_id"], unique=False)

    op.create_table(
        "loan_transactions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("principal_minor", sa.BigInteger(), nullable=False),
        sa.Column("interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("fee_minor", sa.BigInteger(), nullable=False),
        sa.Column("penalty_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("business_date", sa.String(length=10), nullable=False),
        sa.Column("transfer_ids", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor >= 0", name=op.f("ck_loan_transactions_amount")),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_transactions_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_transactions")),
    )
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_loan_transactions_loan", ["loan_id", "created_at_ns"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("loan_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_transactions_loan")

    op.drop_table("loan_transactions")
    with op.batch_alter_table("loan_installments", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_installments_open")

    op.drop_table("loan_installments")
    with op.batch_alter_table("loans", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_loans_one_active",
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
        batch_op.drop_index("ix_loans_status")

    op.drop_table("loans")
    with op.batch_alter_table("loan_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_loan_offers_merchant")

    op.drop_table("loan_offers")
    op.drop_table("loan_products")
    op.drop_table("loan_holidays")
    op.drop_table("loan_closes")
