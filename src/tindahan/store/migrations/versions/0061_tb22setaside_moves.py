"""Loans repaid from sales on a TigerBeetle ledger (issue 22): a sale's set-aside between
its A and its C is kept in ``loan_moves`` (``kind`` ``set_aside``) beside a repayment's
(``services.lending.set_aside_cluster``).

Revision ID: 0061_tb22setaside_moves
Revises: 0060_tb22lines_place_lines
Create Date: 2026-12-07
"""

from alembic import op

revision = "0061_tb22setaside_moves"
down_revision = "0060_tb22lines_place_lines"
branch_labels = None
depends_on = None

_BEFORE = "kind IN ('repayment', 'recovery', 'restructure', 'write_off')"
_AFTER = "kind IN ('repayment', 'recovery', 'restructure', 'write_off', 'set_aside')"


def _kinds(check: str) -> None:
    with op.batch_alter_table("loan_moves") as batch:
        batch.drop_constraint(op.f("ck_loan_moves_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_loan_moves_kind"), check)


def upgrade() -> None:
    _kinds(_AFTER)


def downgrade() -> None:
    # a set-aside under way makes the old CHECK fail: finish the sales first
    _kinds(_BEFORE)
