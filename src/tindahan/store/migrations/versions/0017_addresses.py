"""Delivery addresses: the buyer's address book and each order's sealed copy (issue 21).

Written from ``store.commerce_tables`` as Alembic's autogenerate would, then reviewed.

Revision ID: 0017_addresses
Revises: 0016_security
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_addresses"
down_revision = "0016_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "addresses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("party_id", sa.String(length=40), nullable=False),
        sa.Column("address_cipher", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.Column("updated_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("status IN ('active', 'removed')", name=op.f("ck_addresses_status")),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_addresses_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.create_index("ix_addresses_party", ["party_id", "id"], unique=False)
    op.create_table(
        "order_addresses",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("address_id", sa.String(length=40), nullable=True),
        sa.Column("address_cipher", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["address_id"],
            ["addresses.id"],
            name=op.f("fk_order_addresses_address_id_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_addresses_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_order_addresses")),
    )


def downgrade() -> None:
    op.drop_table("order_addresses")
    with op.batch_alter_table("addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_addresses_party")
    op.drop_table("addresses")
