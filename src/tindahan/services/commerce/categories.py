"""A storefront's categories: the shelves a merchant sorts products onto.

A product is on at most one shelf (``products.category_id``); removing a category takes its
products off it (they stay on sale, unshelved), never deletes them. Names are unique in a
storefront ignoring case (``name_key``, UNIQUE), and the storefront lists them in the
order they were made. Anyone may read a storefront's categories; only its merchant (or the
operator) changes them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select, update

from tindahan import limits
from tindahan.commerce import search
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.services.commerce.catalog import storefront_row
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import categories, products


def create(unit: Unit, caller: Caller, storefront_id: str, name: object) -> dict[str, Any]:
    caller.require("catalog:write")
    store = _owned(unit, caller, storefront_id)
    checked = search.category_name(name)
    count = unit.conn.execute(
        select(func.count()).where(categories.c.storefront_id == store["id"])
    ).scalar_one()
    if count >= limits.MAX_CATEGORIES:
        message = f"a storefront has at most {limits.MAX_CATEGORIES} categories"
        raise invalid("categories_full", message, "name")
    _unique(unit, store["id"], checked)
    last = unit.conn.execute(
        select(func.max(categories.c.position)).where(categories.c.storefront_id == store["id"])
    ).scalar_one()
    row = {
        "id": new_id("cat"),
        "storefront_id": store["id"],
        "name": checked,
        "name_key": checked.casefold(),
        "position": 0 if last is None else last + 1,
        "created_at_ns": unit.now(),
    }
    unit.conn.execute(insert(categories).values(**row))
    return view(row)


def _owned(unit: Unit, caller: Caller, storefront_id: str) -> Any:
    store = storefront_row(unit, storefront_id)
    if not caller.reaches(store["merchant_id"]):
        raise not_found("storefront", "id")
    return store


def _unique(unit: Unit, storefront_id: str, name: str, but: str | None = None) -> None:
    where = (categories.c.storefront_id == storefront_id) & (
        categories.c.name_key == name.casefold()
    )
    if but is not None:
        where = where & (categories.c.id != but)
    if unit.conn.execute(select(categories.c.id).where(where)).first() is not None:
        raise conflict("category_exists", "this storefront has a category of that name", "name")


def listed(unit: Unit, caller: Caller, storefront_id: str) -> dict[str, Any]:
    """All of a storefront's categories (at most ``MAX_CATEGORIES``: one page), each with
    how many products are on it (on sale only, unless the caller owns the storefront)."""
    store = storefront_row(unit, storefront_id)
    counted = select(products.c.category_id, func.count().label("n")).where(
        products.c.storefront_id == store["id"]
    )
    if not caller.reaches(store["merchant_id"]):
        counted = counted.where(products.c.active == 1)
    grouped = unit.conn.execute(counted.group_by(products.c.category_id))
    counts: dict[str | None, int] = {row[0]: row[1] for row in grouped}
    rows = unit.conn.execute(
        select(categories)
        .where(categories.c.storefront_id == store["id"])
        .order_by(categories.c.position)
    ).mappings()
    data = [{**view(r), "product_count": counts.get(r["id"], 0)} for r in rows]
    return {"object": "list", "data": data, "has_more": False}


def _row(unit: Unit, caller: Caller, category_id: str) -> Any:
    row = (
        unit.conn.execute(select(categories).where(categories.c.id == category_id))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("category", "id")
    _owned(unit, caller, row["storefront_id"])
    return row


def get(unit: Unit, caller: Caller, category_id: str) -> dict[str, Any]:
    row = unit.conn.execute(select(categories).where(categories.c.id == category_id))
    found = row.mappings().first()
    if found is None:
        raise not_found("category", "id")
    return view(found)


def rename(unit: Unit, caller: Caller, category_id: str, name: object) -> dict[str, Any]:
    caller.require("catalog:write")
    row = _row(unit, caller, category_id)
    checked = search.category_name(name)
    _unique(unit, row["storefront_id"], checked, but=row["id"])
    values = {"name": checked, "name_key": checked.casefold()}
    unit.conn.execute(update(categories).where(categories.c.id == row["id"]).values(**values))
    return view({**row, **values})


def remove(unit: Unit, caller: Caller, category_id: str) -> dict[str, Any]:
    """The category gone; its products stay, on no shelf."""
    caller.require("catalog:write")
    row = _row(unit, caller, category_id)
    unit.conn.execute(
        update(products).where(products.c.category_id == row["id"]).values(category_id=None)
    )
    unit.conn.execute(delete(categories).where(categories.c.id == row["id"]))
    return {**view(row), "deleted": True}


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "category",
        "storefront_id": row["storefront_id"],
        "name": row["name"],
        "created": iso(row["created_at_ns"]),
    }
