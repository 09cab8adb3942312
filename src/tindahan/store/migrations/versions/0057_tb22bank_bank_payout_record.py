"""Payouts to a bank account on a TigerBeetle ledger (issue 22): a place in the two-store
order may belong to a payout to a bank account (``record`` ``bank_payout``; the place's id
is its bank transfer's, the payout named by the upfront leg).

Revision ID: 0057_tb22bank_bank_payout_record
Revises: 0056_tb22orders_place_notes
Create Date: 2026-12-07
"""

from alembic import op

revision = "0057_tb22bank_bank_payout_record"
down_revision = "0056_tb22orders_place_notes"
branch_labels = None
depends_on = None

_BEFORE = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order')"
)
_AFTER = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order', 'bank_payout')"
)


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)


def downgrade() -> None:
    # a payout to a bank account's place makes the old CHECK fail: drop those first
    _records(_BEFORE)
