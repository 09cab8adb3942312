"""Delivery promises (issue 25, item 2): the shipment history a delivery-time model learns
from, the operator's typhoon advisories, and whether an order's window was learned.

Revision ID: 0042_delivery_history
Revises: 0041_inbound_debtor_name
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0042_delivery_history"
down_revision = "0041_inbound_debtor_name"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shipment_history",
        sa.Column("shipment_id", sa.String(64), primary_key=True),
        sa.Column("courier_code", sa.String(24), nullable=False),
        sa.Column("origin_psgc", sa.String(10), nullable=False),
        sa.Column("destination_psgc", sa.String(10), nullable=False),
        sa.Column("zone", sa.String(24), nullable=False),
        sa.Column("picked_up_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("delivered_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("weight_g", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "delivered_at_ns > picked_up_at_ns",
            name=op.f("ck_shipment_history_delivered_after_pickup"),
        ),
        sa.CheckConstraint("weight_g BETWEEN 1 AND 50000", name=op.f("ck_shipment_history_weight")),
        sa.CheckConstraint(
            "source IN ('simulated', 'imported', 'platform')",
            name=op.f("ck_shipment_history_source"),
        ),
    )
    op.create_index(
        op.f("ix_shipment_history_picked_up_at_ns"), "shipment_history", ["picked_up_at_ns"]
    )
    op.create_table(
        "typhoon_advisories",
        sa.Column("area_psgc", sa.String(10), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "ALTER TABLE orders ADD COLUMN window_estimate INTEGER CHECK (window_estimate IN (0, 1))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE orders DROP COLUMN window_estimate")
    op.drop_table("typhoon_advisories")
    op.drop_index(op.f("ix_shipment_history_picked_up_at_ns"), "shipment_history")
    op.drop_table("shipment_history")
