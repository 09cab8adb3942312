"""A refund by an order's lines on a TigerBeetle ledger (issue 22): the order's place keeps
the lines to cancel, checked in A, for the order's step at C (their stock is returned there,
so a refusal by the cluster has nothing to undo).

Revision ID: 0060_tb22lines_place_lines
Revises: 0059_tb22loanops_loan_move_kinds
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0060_tb22lines_place_lines"
down_revision = "0059_tb22loanops_loan_move_kinds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_places") as batch:
        batch.add_column(sa.Column("lines", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("order_places") as batch:
        batch.drop_column("lines")
