"""Storefronts and their products: what a merchant sells online (rules: ``commerce.catalog``).

A merchant has one storefront (a public slug, a name, where it ships from, a flat shipping
fee per order) and products in it, each sold as variants with their own stock. The catalog
is public: any key may read it, but only inactive products' owners (and the operator) see
those. Only the merchant (or the operator) changes it.

Stock changes come two ways: checkout takes it with a conditional decrement (``take_stock``,
never below zero, see ``services.commerce.orders``), and the merchant either adds or removes a count
(``stock_change``, applied atomically beside concurrent checkouts) or sets what they counted
on the shelf (``stock``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    column,
    func,
    insert,
    literal,
    select,
    table,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import REGCONFIG

from tindahan import limits
from tindahan.commerce import catalog as rules
from tindahan.commerce import search
from tindahan.delivery import rates as delivery_rates
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.payments import parties as text_rules
from tindahan.payments.model import PartyKind
from tindahan.services.platform.listing import page
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import (
    categories,
    product_photos,
    products,
    storefronts,
    variants,
)
from tindahan.store.payment_tables import parties

CURRENCY = "PHP"
#: Where a photo's renditions are served (the web app's ``/media/{name}``).
MEDIA_PATH = "/media/"


@dataclass(frozen=True)
class NewVariant:
    name: str | None = None
    stock: int = 0
    price_minor: int | None = None


@dataclass(frozen=True)
class NewProduct:
    title: str
    price_minor: int
    description: str | None = None
    currency: str = CURRENCY
    active: bool = True
    stock: int | None = None  # a product without options: its one variant's stock
    variants: Sequence[NewVariant] = ()
    category_id: str | None = None
    weight_g: int | None = None  # packed, in grams: what couriers price by


@dataclass(frozen=True)
class Filter:
    """Which of a storefront's products a list shows: one category's, and those whose
    title or description has every word of ``q`` (each as the start of a word)."""

    category_id: str | None = None
    q: str | None = None


# --- storefronts ---------------------------------------------------------------------------
def create_storefront(
    unit: Unit,
    caller: Caller,
    *,
    slug: str,
    name: str,
    description: str | None = None,
    shipping_fee_minor: int = 0,
    merchant_id: str | None = None,
) -> dict[str, Any]:
    caller.require("catalog:write")
    owner = _merchant(unit, caller, merchant_id)
    row = {
        "id": new_id("sto"),
        "merchant_id": owner["id"],
        "slug": rules.slug(slug),
        "name": text_rules.name(name),
        "description": rules.description(description),
        "city": owner["city"],
        "province": owner["province"],
        "shipping_fee_minor": rules.shipping_fee(shipping_fee_minor),
    }
    if _one(unit, storefronts.c.merchant_id == owner["id"]):
        raise conflict("storefront_exists", "this merchant already has a storefront")
    if _one(unit, storefronts.c.slug == row["slug"]):
        raise conflict("slug_taken", "another storefront has this slug", "slug")
    now = unit.now()
    unit.conn.execute(insert(storefronts).values(created_at_ns=now, updated_at_ns=now, **row))
    return storefront_view({**row, "created_at_ns": now, "updated_at_ns": now})


def _merchant(unit: Unit, caller: Caller, merchant_id: str | None) -> Any:
    if caller.operator and not merchant_id:
        raise invalid("parameter_missing", "an operator key must give merchant_id", "merchant_id")
    wanted = merchant_id or caller.party_id or ""
    owner = party_row(unit, caller, wanted)
    if owner["kind"] != PartyKind.MERCHANT:
        message = "only a merchant has a storefront"
        raise invalid("not_a_merchant", message, "merchant_id")
    return owner


def _one(unit: Unit, condition: Any) -> bool:
    return unit.conn.execute(select(storefronts.c.id).where(condition)).first() is not None


def update_storefront(
    unit: Unit, caller: Caller, storefront_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    caller.require("catalog:write")
    row = _owned_storefront(unit, caller, storefront_id)
    values = _checked(
        changes,
        {
            "name": text_rules.name,
            "description": rules.description,
            "shipping_fee_minor": rules.shipping_fee,
        },
    )
    if values:
        values["updated_at_ns"] = unit.now()
        unit.conn.execute(update(storefronts).where(storefronts.c.id == row["id"]).values(**values))
    return storefront_view({**row, **values})


def _checked(changes: dict[str, Any], checks: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """The fields a change names, each through its rule. ``None`` leaves a field as it is,
    except a description, which ``None`` clears."""
    return {
        field: check(changes[field])
        for field, check in checks.items()
        if field in changes and (changes[field] is not None or field == "description")
    }


def storefront_row(unit: Unit, id_or_slug: str) -> Any:
    """By id (``sto_…``) or by slug; the catalog is public."""
    column = storefronts.c.id if id_or_slug.startswith("sto_") else storefronts.c.slug
    row = unit.conn.execute(select(storefronts).where(column == id_or_slug)).mappings().first()
    if row is None:
        raise not_found("storefront", "id")
    return row


def _owned_storefront(unit: Unit, caller: Caller, storefront_id: str) -> Any:
    row = storefront_row(unit, storefront_id)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("storefront", "id")
    return row


def get_storefront(unit: Unit, caller: Caller, id_or_slug: str) -> dict[str, Any]:
    return storefront_view(storefront_row(unit, id_or_slug))


def own_storefront(unit: Unit, caller: Caller) -> dict[str, Any] | None:
    """The calling merchant's own storefront, or None before it opened one (the merchant's
    pages: "open your storefront" or "edit it"). Only a merchant has one."""
    if caller.party_id is None:
        return None
    row = (
        unit.conn.execute(select(storefronts).where(storefronts.c.merchant_id == caller.party_id))
        .mappings()
        .first()
    )
    return None if row is None else storefront_view(row)


def list_storefronts(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None
) -> dict[str, Any]:
    query = select(storefronts).order_by(storefronts.c.id).limit(limit + 1)
    if starting_after:
        query = query.where(storefronts.c.id > starting_after)
    found = list(unit.conn.execute(query).mappings())
    return page([storefront_view(r) for r in found[:limit]], len(found) > limit)


def storefront_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "storefront",
        "merchant_id": row["merchant_id"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "city": row["city"],
        "province": row["province"],
        "shipping_fee_minor": row["shipping_fee_minor"],
        "currency": CURRENCY,
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }


# --- products ------------------------------------------------------------------------------
def create_product(
    unit: Unit, caller: Caller, storefront_id: str, new: NewProduct
) -> dict[str, Any]:
    caller.require("catalog:write")
    store = _owned_storefront(unit, caller, storefront_id)
    if new.currency != CURRENCY:
        raise invalid("currency_unsupported", "products are priced in PHP", "currency")
    plain = NewVariant(None, 0 if new.stock is None else new.stock)
    wanted = list(new.variants) or [plain]
    if new.variants and new.stock is not None:
        message = "give stock on each variant, or stock alone for a product without options"
        raise invalid("parameter_invalid", message, "stock")
    names = rules.variant_names([v.name for v in wanted])
    now = unit.now()
    title, description = rules.title(new.title), rules.description(new.description)
    product = {
        "id": new_id("prd"),
        "storefront_id": store["id"],
        "title": title,
        "description": description,
        "price_minor": rules.price(new.price_minor),
        "currency": CURRENCY,
        "active": int(bool(new.active)),
        "category_id": category_in(unit, store["id"], new.category_id),
        "weight_g": _weight(new.weight_g),
        "search_text": search.search_text(title, description),
        "created_at_ns": now,
        "updated_at_ns": now,
    }
    rows = [
        {
            "id": new_id("var"),
            "product_id": product["id"],
            "name": name,
            "price_minor": None
            if v.price_minor is None
            else rules.price(v.price_minor, f"variants.{i}.price_minor"),
            "stock": rules.stock(v.stock, f"variants.{i}.stock"),
            "position": i,
        }
        for i, (name, v) in enumerate(zip(names, wanted, strict=True))
    ]
    unit.conn.execute(insert(products).values(**product))
    unit.conn.execute(insert(variants), rows)
    return product_view(product, rows)


def category_in(unit: Unit, storefront_id: str, category_id: object) -> str | None:
    """``category_id`` if it is one of this storefront's categories (None: no category)."""
    if category_id is None or category_id == "":
        return None
    if not isinstance(category_id, str):
        raise invalid("parameter_invalid", "category_id is a category's id", "category_id")
    where = (categories.c.id == category_id) & (categories.c.storefront_id == storefront_id)
    if unit.conn.execute(select(categories.c.id).where(where)).first() is None:
        raise not_found("category", "category_id")
    return category_id


def product_row(unit: Unit, product_id: str, *, caller: Caller | None = None) -> Any:
    """A product; an inactive one only for its owner (others: 404, as if absent)."""
    query = (
        select(products, storefronts.c.merchant_id)
        .join(storefronts, storefronts.c.id == products.c.storefront_id)
        .where(products.c.id == product_id)
    )
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        raise not_found("product", "id")
    if not row["active"] and (caller is None or not caller.reaches(row["merchant_id"])):
        raise not_found("product", "id")
    return row


def _variants(unit: Unit, product_ids: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {pid: [] for pid in product_ids}
    query = (
        select(variants)
        .where(variants.c.product_id.in_(list(product_ids)))
        .order_by(variants.c.product_id, variants.c.position)
    )
    for row in unit.conn.execute(query).mappings():
        found[row["product_id"]].append(row)
    return found


def _photos(unit: Unit, product_ids: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {pid: [] for pid in product_ids}
    query = (
        select(product_photos)
        .where(product_photos.c.product_id.in_(list(product_ids)))
        .order_by(product_photos.c.product_id, product_photos.c.position)
    )
    for row in unit.conn.execute(query).mappings():
        found[row["product_id"]].append(row)
    return found


def _views(unit: Unit, rows: Sequence[Any]) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    by_variant, by_photo = _variants(unit, ids), _photos(unit, ids)
    return [product_view(r, by_variant[r["id"]], by_photo[r["id"]]) for r in rows]


def get_product(unit: Unit, caller: Caller, product_id: str) -> dict[str, Any]:
    row = product_row(unit, product_id, caller=caller)
    return _views(unit, [row])[0]


def get_own_product(unit: Unit, caller: Caller, product_id: str) -> dict[str, Any]:
    """A product for its owner to edit: anyone else's is "no such product", even one on
    sale (whose public view ``get_product`` gives to any key)."""
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    return _views(unit, [row])[0]


def list_products(
    unit: Unit,
    caller: Caller,
    storefront_id: str,
    limit: int,
    starting_after: str | None,
    wanted: Filter = Filter(),
) -> dict[str, Any]:
    """A storefront's products, by id (a cursor pages through any number of them); its
    owner (and the operator) see inactive ones too. ``wanted`` narrows them to a category
    and to a search, answered by SQLite's FTS5 or PostgreSQL's full-text index."""
    store = storefront_row(unit, storefront_id)
    terms = search.terms(wanted.q)
    query = (
        select(products)
        .where(products.c.storefront_id == store["id"])
        .order_by(products.c.id)
        .limit(limit + 1)
    )
    if not caller.reaches(store["merchant_id"]):
        query = query.where(products.c.active == 1)
    if wanted.category_id:
        shelf = category_in(unit, store["id"], wanted.category_id)
        query = query.where(products.c.category_id == shelf)
    if terms:
        query = query.where(_matching(unit, terms))
    if starting_after:
        query = query.where(products.c.id > starting_after)
    found = list(unit.conn.execute(query).mappings())[: limit + 1]
    return page(_views(unit, found[:limit]), len(found) > limit)


def _matching(unit: Unit, terms: Sequence[str]) -> ColumnElement[bool]:
    """Every term begins a word of ``search_text``: FTS5 prefix queries on SQLite, a
    ``to_tsquery`` of prefixes on PostgreSQL. The terms are words of letters and digits only
    (``commerce.search``), so quoting them is all either query language needs."""
    if unit.conn.dialect.name == "sqlite":
        match = " AND ".join(f'"{t}"*' for t in terms)
        found: Select[Any] = (
            select(column("product_id"))
            .select_from(table("product_search"))
            .where(text("product_search MATCH :match").bindparams(match=match))
        )
        return products.c.id.in_(found)
    prefixes = " & ".join(f"'{t}':*" for t in terms)
    vector = func.to_tsvector(literal("simple", REGCONFIG), products.c.search_text)
    return vector.bool_op("@@")(func.to_tsquery(literal("simple", REGCONFIG), prefixes))


def update_product(
    unit: Unit, caller: Caller, product_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    caller.require("catalog:write")
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    values = _checked(
        changes,
        {
            "title": rules.title,
            "description": rules.description,
            "price_minor": rules.price,
            "active": lambda v: int(bool(v)),
            "weight_g": _weight,
        },
    )
    if "category_id" in changes:  # None or "": out of any category
        values["category_id"] = category_in(unit, row["storefront_id"], changes["category_id"])
    if "title" in values or "description" in values:
        title = values.get("title", row["title"])
        described = values["description"] if "description" in values else row["description"]
        values["search_text"] = search.search_text(title, described)
    if values:
        values["updated_at_ns"] = unit.now()
        unit.conn.execute(update(products).where(products.c.id == product_id).values(**values))
    return get_product(unit, caller, product_id)


def update_variant(
    unit: Unit,
    caller: Caller,
    product_id: str,
    variant_id: str,
    *,
    stock: int | None = None,
    stock_change: int | None = None,
    price_minor: int | None = None,
) -> dict[str, Any]:
    """Set the counted stock, or add/remove some (never below zero), or the variant's price."""
    caller.require("catalog:write")
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    if stock is not None and stock_change is not None:
        message = "give stock (what you counted) or stock_change (what arrived or left), not both"
        raise invalid("parameter_invalid", message, "stock_change")
    where = (variants.c.id == variant_id) & (variants.c.product_id == product_id)
    if unit.conn.execute(select(variants.c.id).where(where)).first() is None:
        raise not_found("variant", "variant_id")
    values: dict[str, Any] = {}
    if stock is not None:
        values["stock"] = rules.stock(stock)
    if price_minor is not None:
        values["price_minor"] = rules.price(price_minor)
    if stock_change is not None:
        _change_stock(unit, variant_id, stock_change)
    if values:
        unit.conn.execute(update(variants).where(where).values(**values))
    return get_product(unit, caller, product_id)


def _change_stock(unit: Unit, variant_id: str, change: int) -> None:
    if isinstance(change, bool) or not isinstance(change, int) or change == 0:
        message = "stock_change is a whole number, not 0"
        raise invalid("stock_invalid", message, "stock_change")
    if abs(change) > limits.MAX_STOCK:
        raise invalid("stock_invalid", "stock_change is too large", "stock_change")
    done = unit.conn.execute(
        update(variants)
        .where(variants.c.id == variant_id)
        .where(variants.c.stock + change >= 0)
        .where(variants.c.stock + change <= limits.MAX_STOCK)
        .values(stock=variants.c.stock + change)
    ).rowcount
    if not done:
        message = f"stock would fall below 0 or rise above {limits.MAX_STOCK:,}"
        raise conflict("stock_invalid", message, "stock_change")


def take_stock(unit: Unit, variant_id: str, quantity: int) -> bool:
    """Reserve ``quantity`` if that many are left: one conditional UPDATE, so two buyers
    racing for the last item cannot both get it (the row lock orders them)."""
    done = unit.conn.execute(
        update(variants)
        .where(variants.c.id == variant_id)
        .where(variants.c.stock >= quantity)
        .values(stock=variants.c.stock - quantity)
    ).rowcount
    return bool(done)


def return_stock(unit: Unit, variant_id: str, quantity: int) -> None:
    unit.conn.execute(
        update(variants)
        .where(variants.c.id == variant_id)
        .values(stock=variants.c.stock + quantity)
    )


def _weight(value: object) -> int | None:
    """A product's packed weight in grams (None: not given; couriers cannot price it)."""
    return None if value is None else delivery_rates.weight_of(value, "weight_g")


def product_view(row: Any, found: Sequence[Any], photos: Sequence[Any] = ()) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "product",
        "storefront_id": row["storefront_id"],
        "title": row["title"],
        "description": row["description"],
        "price_minor": row["price_minor"],
        "currency": row["currency"],
        "active": bool(row["active"]),
        "category_id": row["category_id"],
        "weight_g": row["weight_g"],
        "photos": [photo_view(p) for p in photos],
        "variants": [
            {
                "id": v["id"],
                "name": v["name"],
                "price_minor": v["price_minor"] or row["price_minor"],
                "stock": v["stock"],
                "in_stock": v["stock"] > 0,
            }
            for v in found
        ],
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }


def photo_view(row: Any) -> dict[str, Any]:
    """A photo as the API and the pages show it: its renditions' addresses (``/media/…``,
    content-hashed: cacheable for a year), narrowest first, with their sizes."""
    sizes = [
        {"width": r["w"], "height": r["h"], "url": MEDIA_PATH + r["name"]}
        for r in json.loads(row["renditions"])
    ]
    return {
        "id": row["id"],
        "object": "product_photo",
        "alt": row["alt"],
        "width": row["width"],
        "height": row["height"],
        "sizes": sizes,
    }


def merchant_name(unit: Unit, merchant_id: str) -> str:
    return str(
        unit.conn.execute(select(parties.c.name).where(parties.c.id == merchant_id)).scalar_one()
    )
