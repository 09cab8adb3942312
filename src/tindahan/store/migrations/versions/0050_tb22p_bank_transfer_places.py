"""Outbound bank transfers on a TigerBeetle ledger (issue 22): a place in the two-store
order may belong to a bank transfer (``record`` ``bank_transfer``).

Revision ID: 0050_tb22p_bank_transfer_places
Revises: 0049_tb22p_two_store_records
Create Date: 2026-12-07
"""

from alembic import op

revision = "0050_tb22p_bank_transfer_places"
down_revision = "0049_tb22p_two_store_records"
branch_labels = None
depends_on = None

_BEFORE = "record IN ('payment', 'payout')"
_AFTER = "record IN ('payment', 'payout', 'bank_transfer')"


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)


def downgrade() -> None:
    # a bank transfer's place makes the old CHECK fail: drop those first
    _records(_BEFORE)
