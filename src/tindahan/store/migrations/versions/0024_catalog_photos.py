"""Product photos, categories and search (issue 21).

Tables and columns written from ``store.commerce_tables`` as Alembic's autogenerate would,
then reviewed; the full-text objects by hand, one per engine (SQLite: an FTS5 table kept in
step with ``products.search_text`` by triggers; PostgreSQL: a GIN index over
``to_tsvector('simple', search_text)``). Existing products get their ``search_text`` here.

Revision ID: 0024_catalog_photos
Revises: 0023_payout_to_bank
Create Date: 2026-12-06
"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0024_catalog_photos"
down_revision = "0023_payout_to_bank"
branch_labels = None
depends_on = None

_WORD = re.compile(r"[^\W_]+")

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE product_search USING fts5("
    "product_id UNINDEXED, search_text, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE TRIGGER product_search_insert AFTER INSERT ON products BEGIN "
    "INSERT INTO product_search (product_id, search_text) VALUES (new.id, new.search_text); "
    "END",
    "CREATE TRIGGER product_search_update AFTER UPDATE OF search_text ON products BEGIN "
    "DELETE FROM product_search WHERE product_id = old.id; "
    "INSERT INTO product_search (product_id, search_text) VALUES (new.id, new.search_text); "
    "END",
    "CREATE TRIGGER product_search_delete AFTER DELETE ON products BEGIN "
    "DELETE FROM product_search WHERE product_id = old.id; "
    "END",
)


def _search_text(title: str, description: str | None) -> str:
    """``commerce.search.search_text`` as of this revision (a migration does not import
    code that may change after it)."""
    text = unicodedata.normalize("NFKD", f"{title} {description or ''}")
    bare = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", bare).casefold()))


def _add_product_columns() -> None:
    """``products.category_id`` (with its foreign key) and ``search_text``. SQLite adds a
    column with its constraint in place (``ADD COLUMN … CONSTRAINT … REFERENCES``), where a
    batch "recreate" would drop and copy the products table that variants and order lines
    point at."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE products ADD COLUMN category_id VARCHAR(40) "
            "CONSTRAINT fk_products_category_id_categories REFERENCES categories (id)"
        )
    else:
        op.add_column("products", sa.Column("category_id", sa.String(length=40), nullable=True))
        op.create_foreign_key(
            op.f("fk_products_category_id_categories"),
            "products",
            "categories",
            ["category_id"],
            ["id"],
        )
    op.add_column(
        "products", sa.Column("search_text", sa.Text(), server_default="", nullable=False)
    )
    op.create_index("ix_products_category", "products", ["category_id", "id"], unique=False)


def upgrade() -> None:
    op.create_table(
        "categories",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("storefront_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_key", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["storefront_id"],
            ["storefronts.id"],
            name=op.f("fk_categories_storefront_id_storefronts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_categories")),
        sa.UniqueConstraint(
            "storefront_id", "name_key", name=op.f("uq_categories_storefront_id_name_key")
        ),
    )
    op.create_table(
        "product_photos",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("alt", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("renditions", sa.Text(), nullable=False),
        sa.Column("created_at_ns", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_product_photos_size")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_photos_product_id_products")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_photos")),
        sa.UniqueConstraint(
            "product_id", "position", name=op.f("uq_product_photos_product_id_position")
        ),
    )
    _add_product_columns()
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, title, description FROM products")).all()
    for product_id, title, description in rows:
        conn.execute(
            sa.text("UPDATE products SET search_text = :t WHERE id = :id"),
            {"t": _search_text(title, description), "id": product_id},
        )
    if conn.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH:
            op.execute(statement)
        op.execute(
            "INSERT INTO product_search (product_id, search_text) "
            "SELECT id, search_text FROM products"
        )
    else:
        op.execute(
            "CREATE INDEX ix_products_search ON products "
            "USING gin (to_tsvector('simple', search_text))"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER product_search_{trigger}")
        op.execute("DROP TABLE product_search")
    else:
        op.execute("DROP INDEX ix_products_search")
    op.drop_index("ix_products_category", table_name="products")
    with op.batch_alter_table("products", schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(
                batch_op.f("fk_products_category_id_categories"), type_="foreignkey"
            )
        batch_op.drop_column("search_text")
        batch_op.drop_column("category_id")
    op.drop_table("product_photos")
    op.drop_table("categories")
