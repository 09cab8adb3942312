"""When a worker last found the TigerBeetle cluster answering (issue 22): a worker's beat
carries ``ledger_down_since_ns``, the start of the rounds in which the cluster did not answer
it (NULL: it answered, or no cluster is configured), for ``/ready`` and ``/metrics``.

Revision ID: 0063_tb22ops2_ledger_down_since
Revises: 0062_close18c_loan_fillfactor
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0063_tb22ops2_ledger_down_since"
down_revision = "0062_close18c_loan_fillfactor"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("worker_beats") as batch:
        batch.add_column(sa.Column("ledger_down_since_ns", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("worker_beats") as batch:
        batch.drop_column("ledger_down_since_ns")
