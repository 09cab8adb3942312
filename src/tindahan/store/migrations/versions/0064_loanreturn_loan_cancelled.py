"""A loan whose disbursement an analyst returned after a risk review is ``cancelled``: the
merchant never had the money, so they owe nothing (``services.lending.loans.cancel``).

On SQLite the CHECK is changed by rebuilding ``loans`` (batch mode); its partial UNIQUE
index (one active loan per merchant) is dropped before and made again after, so that its
``WHERE`` is not lost in the rebuild's reflection.

Revision ID: 0064_loanreturn_loan_cancelled
Revises: 0063_tb22ops2_ledger_down_since
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0064_loanreturn_loan_cancelled"
down_revision = "0063_tb22ops2_ledger_down_since"
branch_labels = None
depends_on = None

_BEFORE = "status IN ('active', 'closed', 'written_off')"
_AFTER = "status IN ('active', 'closed', 'written_off', 'cancelled')"


def _statuses(check: str) -> None:
    op.drop_index("ux_loans_one_active", table_name="loans")
    with op.batch_alter_table("loans") as batch:
        batch.drop_constraint(op.f("ck_loans_status"), type_="check")
        batch.create_check_constraint(op.f("ck_loans_status"), check)
    op.create_index(
        "ux_loans_one_active",
        "loans",
        ["merchant_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def upgrade() -> None:
    _statuses(_AFTER)


def downgrade() -> None:
    # a cancelled loan makes the old CHECK fail: there is no status to put it back in
    _statuses(_BEFORE)
