"""Delivery (issue 25, item 1): couriers' rate cards (by courier code), the couriers a storefront ships with,
free shipping over an amount, products' weights, and each order's courier, zone and window.

New columns on existing tables are added with ``ALTER TABLE … ADD COLUMN`` (both engines),
not by recreating the table: products carry SQLite's full-text triggers, and orders are
big. Their checks are column checks, written out here.

Revision ID: 0034_delivery
Revises: 0033_notifications
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0034_delivery"
down_revision = "0033_notifications"
branch_labels = None
depends_on = None

_ADDED = (
    ("storefronts", "free_shipping_over_minor", "BIGINT CHECK (free_shipping_over_minor >= 0)"),
    ("products", "weight_g", "INTEGER CHECK (weight_g BETWEEN 1 AND 50000)"),
    ("orders", "courier_code", "VARCHAR(24)"),
    ("orders", "delivery_zone", "VARCHAR(24)"),
    ("orders", "window_min_days", "INTEGER CHECK (window_min_days >= 0)"),
    ("orders", "window_max_days", "INTEGER CHECK (window_max_days >= 0)"),
)


def upgrade() -> None:
    op.create_table(
        "rate_cards",
        sa.Column("code", sa.String(24), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("card", sa.Text(), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("active IN (0, 1)", name=op.f("ck_rate_cards_active")),
    )
    op.create_table(
        "storefront_couriers",
        sa.Column(
            "storefront_id", sa.String(40), sa.ForeignKey("storefronts.id"), primary_key=True
        ),
        sa.Column(
            "courier_code", sa.String(24), sa.ForeignKey("rate_cards.code"), primary_key=True
        ),
        sa.Column("flat_fee_minor", sa.BigInteger()),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "flat_fee_minor IS NULL OR flat_fee_minor >= 0",
            name=op.f("ck_storefront_couriers_flat_fee"),
        ),
    )
    for table, column, ddl in _ADDED:
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")


def downgrade() -> None:
    for table, column, _ddl in reversed(_ADDED):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.drop_table("storefront_couriers")
    op.drop_table("rate_cards")
