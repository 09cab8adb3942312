"""Short references (issue 21, item 8): every payment, order and payment request gets an
eight-character reference a cashier can read aloud (``services.platform.shortrefs``),
unique per table; existing rows are given one here.

Revision ID: 0025_short_refs
Revises: 0024_catalog_photos
Create Date: 2026-12-06
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0025_short_refs"
down_revision = "0024_catalog_photos"
branch_labels = None
depends_on = None

TABLES = ("payments", "orders", "payment_requests")
#: Crockford's base32 (no I, L, O, U), as ``services.platform.shortrefs.ALPHABET``; a copy,
#: since a migration must not change when the code does.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BATCH = 1000


def _backfill(table: str) -> None:
    conn = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.String), sa.column("short_ref", sa.String))
    taken: set[str] = set()
    while True:
        ids = (
            conn.execute(sa.select(rows.c.id).where(rows.c.short_ref == "").limit(BATCH))
            .scalars()
            .all()
        )
        if not ids:
            return
        for row_id in ids:
            ref = "".join(secrets.choice(ALPHABET) for _ in range(8))
            while ref in taken:
                ref = "".join(secrets.choice(ALPHABET) for _ in range(8))
            taken.add(ref)
            conn.execute(sa.update(rows).where(rows.c.id == row_id).values(short_ref=ref))


def upgrade() -> None:
    # Added NOT NULL with an empty default, filled, then indexed: no table is rebuilt, which
    # on SQLite would drop and copy ``payment_requests`` and ``orders`` under the foreign
    # keys that point at them. PostgreSQL then drops the default; SQLite cannot without a
    # rebuild and keeps it (the services always give a reference: ``shortrefs.insert``).
    for table in TABLES:
        column = sa.Column("short_ref", sa.String(length=8), nullable=False, server_default="")
        op.add_column(table, column)
        _backfill(table)
        op.create_index(f"ix_{table}_short_ref", table, ["short_ref"], unique=True)
        if op.get_bind().dialect.name == "postgresql":
            op.alter_column(table, "short_ref", server_default=None)


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_short_ref", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN short_ref")
