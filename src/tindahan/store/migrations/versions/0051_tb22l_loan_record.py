"""Loan disbursements on a TigerBeetle ledger (issue 22): the two-store order's place may
belong to a loan (``record`` ``loan``, keyed by the loan's id: its disbursement).

Revision ID: 0051_tb22l_loan_record
Revises: 0050_tb22p_bank_transfer_places
Create Date: 2026-12-07
"""

from alembic import op

revision = "0051_tb22l_loan_record"
down_revision = "0050_tb22p_bank_transfer_places"
branch_labels = None
depends_on = None

_BEFORE = "record IN ('payment', 'payout', 'bank_transfer')"
_AFTER = "record IN ('payment', 'payout', 'bank_transfer', 'loan')"


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)


def downgrade() -> None:
    # a loan's place makes the old CHECK fail: finish the disbursements and drop their
    # places first
    _records(_BEFORE)
