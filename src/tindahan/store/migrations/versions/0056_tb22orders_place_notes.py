"""Refunds out of an order's escrow on a TigerBeetle ledger (issue 22): an order's place
keeps the reason its refund or cancel was given with, for the order's step at C.

Revision ID: 0056_tb22orders_place_notes
Revises: 0055_tb22orders_order_places
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0056_tb22orders_place_notes"
down_revision = "0055_tb22orders_order_places"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_places") as batch:
        batch.add_column(sa.Column("note", sa.String(500)))


def downgrade() -> None:
    with op.batch_alter_table("order_places") as batch:
        batch.drop_column("note")
