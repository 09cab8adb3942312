"""A recall's send-back on a TigerBeetle ledger (issue 22): a place in the two-store order
may belong to a recall (``record`` ``recall``; the place's id is the recall's).

Revision ID: 0058_tb22bank_recall_record
Revises: 0057_tb22bank_bank_payout_record
Create Date: 2026-12-07
"""

from alembic import op

revision = "0058_tb22bank_recall_record"
down_revision = "0057_tb22bank_bank_payout_record"
branch_labels = None
depends_on = None

_BEFORE = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order', 'bank_payout')"
)
_AFTER = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order', 'bank_payout', 'recall')"
)


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)


def downgrade() -> None:
    # a recall's place makes the old CHECK fail: drop those first
    _records(_BEFORE)
