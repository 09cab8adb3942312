"""Bank transfers carry their fee (issue 19: fees per rail, ``rails.fees``).

``kind`` (``payout`` or ``send``: which of the operator's fees applied), ``fee_minor`` (held
with the transfer, posted or voided with it) and ``fee_refunded_minor`` (what came back after
a return). Existing transfers were made when no fee was charged: ``send``, 0, 0.

Revision ID: 0032_rail_fees
Revises: 0031_worker_beats
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0032_rail_fees"
down_revision = "0031_worker_beats"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_transfers") as batch:
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="send"))
        batch.add_column(
            sa.Column("fee_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("fee_refunded_minor", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch.create_check_constraint(op.f("ck_bank_transfers_kind"), "kind IN ('payout', 'send')")
        batch.create_check_constraint(
            op.f("ck_bank_transfers_fee"),
            "fee_minor >= 0 AND fee_refunded_minor >= 0 AND fee_refunded_minor <= fee_minor",
        )


def downgrade() -> None:
    with op.batch_alter_table("bank_transfers") as batch:
        batch.drop_constraint(op.f("ck_bank_transfers_fee"), type_="check")
        batch.drop_constraint(op.f("ck_bank_transfers_kind"), type_="check")
        batch.drop_column("fee_refunded_minor")
        batch.drop_column("fee_minor")
        batch.drop_column("kind")
