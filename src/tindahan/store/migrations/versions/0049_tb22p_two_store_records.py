"""Payouts on a TigerBeetle ledger (issue 22): the two-store order's place may belong to a
payout, not only to a payment, and a payout may be ``pending`` while its hold is booked.

``two_store_payments`` gets ``record`` (``payment``, the rows there, or ``payout``) and loses
its foreign key to ``payments`` (a payout's id is in ``payouts``); the services check the
record exists when they write the place, in the same transaction as the record.

Revision ID: 0049_tb22p_two_store_records
Revises: 0048_tb22a_cash_out_states
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0049_tb22p_two_store_records"
down_revision = "0048_tb22a_cash_out_states"
branch_labels = None
depends_on = None

_STATUS_BEFORE = "status IN ('succeeded', 'failed')"
_STATUS_AFTER = "status IN ('succeeded', 'failed', 'pending')"
_OUTCOME_BEFORE = "(status = 'succeeded') = (transfer_id IS NOT NULL AND failure_code IS NULL)"
_OUTCOME_AFTER = (
    "(status IN ('succeeded', 'pending')) = (transfer_id IS NOT NULL AND failure_code IS NULL)"
)


def _payouts(status: str, outcome: str) -> None:
    with op.batch_alter_table("payouts") as batch:
        batch.drop_constraint(op.f("ck_payouts_status"), type_="check")
        batch.drop_constraint(op.f("ck_payouts_outcome_recorded"), type_="check")
        batch.create_check_constraint(op.f("ck_payouts_status"), status)
        batch.create_check_constraint(op.f("ck_payouts_outcome_recorded"), outcome)


def upgrade() -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("fk_two_store_payments_payment_id_payments"), type_="foreignkey")
        batch.add_column(
            sa.Column("record", sa.String(16), nullable=False, server_default="payment")
        )
        batch.create_check_constraint(
            op.f("ck_two_store_payments_record"), "record IN ('payment', 'payout')"
        )
    _payouts(_STATUS_AFTER, _OUTCOME_AFTER)


def downgrade() -> None:
    # a payout still pending, or a payout's place, makes the old schema fail: finish them,
    # and drop the payouts' places, first
    _payouts(_STATUS_BEFORE, _OUTCOME_BEFORE)
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.drop_column("record")
        batch.create_foreign_key(
            op.f("fk_two_store_payments_payment_id_payments"),
            "payments",
            ["payment_id"],
            ["id"],
        )
