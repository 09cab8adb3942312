"""Refunds on a TigerBeetle ledger (issue 22): a place in the two-store order may belong to
a refund (``record`` ``refund``; the place's id is the refund's).

Revision ID: 0053_tb22r_refund_places
Revises: 0052_tb22p_inbound_places
Create Date: 2026-12-07
"""

from alembic import op

revision = "0053_tb22r_refund_places"
down_revision = "0052_tb22p_inbound_places"
branch_labels = None
depends_on = None

_BEFORE = "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound')"
_AFTER = "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund')"


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)


def downgrade() -> None:
    # a refund's place makes the old CHECK fail: drop those first
    _records(_BEFORE)
