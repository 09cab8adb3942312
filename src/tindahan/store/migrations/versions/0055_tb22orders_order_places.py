"""Orders' escrow on a TigerBeetle ledger (issue 22): a place in the two-store order may
belong to an order's escrow movement (``record`` ``order``), and ``order_places`` keeps who
asked for it (the payment into escrow, its release), under the place's id.

Revision ID: 0055_tb22orders_order_places
Revises: 0054_tb22loans_loan_holds
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0055_tb22orders_order_places"
down_revision = "0054_tb22loans_loan_holds"
branch_labels = None
depends_on = None

_BEFORE = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment')"
)
_AFTER = (
    "record IN ('payment', 'payout', 'bank_transfer', 'loan', 'inbound', 'refund', "
    "'loan_repayment', 'order')"
)


def _records(check: str) -> None:
    with op.batch_alter_table("two_store_payments") as batch:
        batch.drop_constraint(op.f("ck_two_store_payments_record"), type_="check")
        batch.create_check_constraint(op.f("ck_two_store_payments_record"), check)


def upgrade() -> None:
    _records(_AFTER)
    op.create_table(
        "order_places",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(40)),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_places_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_places")),
    )
    op.create_index("ix_order_places_order_id", "order_places", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_places_order_id", table_name="order_places")
    op.drop_table("order_places")
    # an order's place makes the old CHECK fail: drop those first
    _records(_BEFORE)
