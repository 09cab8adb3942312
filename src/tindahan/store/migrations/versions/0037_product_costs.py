"""What a product costs the merchant (issue 26, item 2's "merchants can record their cost per
product to get margins"): a nullable ``products.cost_minor`` (unknown until recorded), never
negative. Added with ``ALTER TABLE … ADD COLUMN`` and a column check, on both engines, as
0034 did (products carry SQLite's full-text triggers).

Revision ID: 0037_product_costs
Revises: 0036_events_published
Create Date: 2026-12-07
"""

from alembic import op

revision = "0037_product_costs"
down_revision = "0036_events_published"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE products ADD COLUMN cost_minor BIGINT CHECK (cost_minor >= 0)")


def downgrade() -> None:
    op.execute("ALTER TABLE products DROP COLUMN cost_minor")
