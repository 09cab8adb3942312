"""Loan repayments on a TigerBeetle ledger (issue 22): a loan's hold between the two stores
(``loans.ledger_hold``), a repayment's decision kept from its A to its C (``loan_moves``),
and the two-store order's place for it (``record`` ``loan_repayment``).

Revision ID: 0054_tb22loans_loan_holds
Revises: 0053_tb22r_refund_places
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0054_tb22loans_loan_holds"
down_revision = "0053_tb22r_refund_places"
branch_labels = None
depends_on = None

_BEFORE = "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund')"
_AFTER = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment')"
)


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)
    with op.batch_alter_table("loans") as batch:
        batch.add_column(sa.Column("ledger_hold", sa.String(length=40), nullable=True))
    op.create_table(
        "loan_moves",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.String(length=10), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_loan_moves_amount")),
        sa.CheckConstraint("kind IN ('repayment')", name=op.f("ck_loan_moves_kind")),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["loans.id"], name=op.f("fk_loan_moves_loan_id_loans")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loan_moves")),
    )


def downgrade() -> None:
    # a repayment's place makes the old CHECK fail: finish the repayments and drop their
    # places first
    op.drop_table("loan_moves")
    with op.batch_alter_table("loans") as batch:
        batch.drop_column("ledger_hold")
    _records(_BEFORE)
