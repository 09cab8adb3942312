"""Cash-outs on a TigerBeetle ledger (issue 22): two more places in the two-store order,
``held`` (the customer's money held in the cluster, waiting for the agent) and ``voiding``
(canceled or expired: the hold being voided).

Revision ID: 0048_tb22a_cash_out_states
Revises: 0047_tb22c_tigerbeetle_names
Create Date: 2026-12-07
"""

from alembic import op

revision = "0048_tb22a_cash_out_states"
down_revision = "0047_tb22c_tigerbeetle_names"
branch_labels = None
depends_on = None

_BEFORE = "state IN ('reserving', 'reserved', 'settled', 'refused')"
_AFTER = "state IN ('reserving', 'reserved', 'held', 'voiding', 'settled', 'refused')"


def _states(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_state"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_state"), check)


def upgrade() -> None:
    _states(_AFTER)


def downgrade() -> None:
    # a cash-out still held or voiding makes the old CHECK fail: finish them first
    _states(_BEFORE)
