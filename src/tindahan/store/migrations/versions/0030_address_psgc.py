"""Delivery addresses keep their PSGC codes beside the sealed address (issue 21, item 1).

Barangay, city or municipality, province and region codes (``commerce.psgc``), on the
address book and on each order's copy. Existing rows get null here: their addresses are
sealed by the vault, which a migration does not hold; ``tindahan db upgrade`` then fills
the codes of those that match the list (``services.commerce.addresses.backfill_codes``) and
leaves the others null.

Revision ID: 0030_address_psgc
Revises: 0029_screening_subject
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0030_address_psgc"
down_revision = "0029_screening_subject"
branch_labels = None
depends_on = None

_COLUMNS = ("barangay_code", "city_code", "province_code", "region_code")


def upgrade() -> None:
    for table in ("addresses", "order_addresses"):
        with op.batch_alter_table(table) as batch:
            for name in _COLUMNS:
                batch.add_column(sa.Column(name, sa.String(10), nullable=True))


def downgrade() -> None:
    for table in ("addresses", "order_addresses"):
        with op.batch_alter_table(table) as batch:
            for name in reversed(_COLUMNS):
                batch.drop_column(name)
