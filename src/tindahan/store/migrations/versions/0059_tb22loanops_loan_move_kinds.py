"""Restructurings, write-offs and recoveries on a TigerBeetle ledger (issue 22): a loan's
move (``loan_moves``) of those kinds, with the inputs a restructuring or write-off is
finished from (``params``, JSON), and the two-store order's place for a recovery (``record``
``loan_recovery``).

Revision ID: 0059_tb22loanops_loan_move_kinds
Revises: 0058_tb22bank_recall_record
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0059_tb22loanops_loan_move_kinds"
down_revision = "0058_tb22bank_recall_record"
branch_labels = None
depends_on = None

_RECORDS_BEFORE = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order', 'bank_payout', 'recall')"
)
_RECORDS_AFTER = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order', 'bank_payout', 'recall', 'loan_recovery')"
)
_KINDS_BEFORE = "kind IN ('repayment')"
_KINDS_AFTER = "kind IN ('repayment', 'recovery', 'restructure', 'write_off')"


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def _moves(kinds: str, amount: str) -> None:
    with op.batch_alter_table("loan_moves") as batch:
        batch.drop_constraint(op.f("ck_loan_moves_kind"), type_="check")
        batch.drop_constraint(op.f("ck_loan_moves_amount"), type_="check")
        batch.create_check_constraint(op.f("ck_loan_moves_kind"), kinds)
        batch.create_check_constraint(op.f("ck_loan_moves_amount"), amount)


def upgrade() -> None:
    _records(_RECORDS_AFTER)
    with op.batch_alter_table("loan_moves") as batch:
        batch.add_column(sa.Column("params", sa.Text(), nullable=True))
    _moves(_KINDS_AFTER, "amount_minor >= 0")


def downgrade() -> None:
    # the new kinds' moves make the old CHECKs fail: finish them and drop their rows first
    _moves(_KINDS_BEFORE, "amount_minor > 0")
    with op.batch_alter_table("loan_moves") as batch:
        batch.drop_column("params")
    _records(_RECORDS_BEFORE)
