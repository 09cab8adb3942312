"""A merchant's "reorder soon" list: each product's forecast from its own order lines, its
stock and the supplier's lead time, through ``insights.forecast`` and ``insights.reorder``.

**What a product sold** — the units of its order lines (quantity less cancelled) in the
merchant's paid orders, on the Manila day the order was paid (as ``payments.sales`` counts an
online sale). QR and direct payments name no product, so they are not in it.

**Which products** — the merchant's active products, with the stock of all their variants
summed; a product with no sale in the window is forecast zero and never listed as "reorder
soon" (nothing says it will sell), but it is in the full list with its stock.

**History** — the last ``limits.INSIGHTS_REORDER_HISTORY_DAYS`` days to yesterday (today is
not over). One read, no write.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, func, literal, select

from tindahan import limits
from tindahan.insights import forecast, reorder
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.services.payments.sales import DAY_NS, EPOCH, OFFSET_NS, day_start_ns, today
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import order_lines, orders, products, storefronts, variants


def _whole(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise invalid(
            "parameter_invalid", f"{name} must be a whole number from {low} to {high}", name
        )
    return value


def reorder_list(
    unit: Unit,
    caller: Caller,
    merchant_id: str,
    lead_time_days: int = limits.INSIGHTS_DEFAULT_LEAD_TIME_DAYS,
    review_days: int = reorder.REVIEW_DAYS,
) -> dict[str, Any]:
    """Every active product of the merchant with its advice, "reorder soon" first."""
    caller.require("orders:read")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise not_found("merchant", "id")
    lead = _whole(lead_time_days, "lead_time_days", 0, limits.INSIGHTS_MAX_LEAD_TIME_DAYS)
    review = _whole(review_days, "review_days", 1, limits.INSIGHTS_MAX_LEAD_TIME_DAYS)
    last = today(unit) - timedelta(days=1)
    days = limits.INSIGHTS_REORDER_HISTORY_DAYS
    first = last - timedelta(days=days - 1)
    catalog = _products(unit, merchant_id)
    index = {row["id"]: i for i, row in enumerate(catalog)}
    units = np.zeros((len(catalog), days))
    for product_id, day, sold in unit.conn.execute(
        _sold(merchant_id, day_start_ns(first), day_start_ns(last + timedelta(days=1)))
    ):
        if product_id in index:
            units[index[product_id], int(day) - (first - EPOCH).days] = float(sold)
    # A product's own lead time when the merchant keeps one, else the list's.
    leads = [
        lead if row["lead_time_days"] is None else int(row["lead_time_days"]) for row in catalog
    ]
    horizon = max([lead, *leads]) + review
    predicted = np.zeros((len(catalog), horizon))
    if catalog:
        fitted = forecast.fit(units, np.zeros(len(catalog), np.int64), first)
        predicted = fitted.predict(horizon)
    items = []
    for i, row in enumerate(catalog):
        mine = leads[i]
        advice = reorder.advise(predicted[i][: mine + review], int(row["stock"]), mine, review)
        items.append(
            {
                "product_id": row["id"],
                "title": row["title"],
                "stock": int(row["stock"]),
                "sold_last_28_days": int(units[i, -28:].sum()),
                "forecast_daily": round(float(predicted[i].mean()), 2),
                "reorder_soon": advice.reorder_soon,
                "reorder_point": advice.reorder_point,
                "order_quantity": advice.quantity,
                "days_of_cover": advice.days_of_cover,
                "lead_time_days": mine,
                "lead_time_kept": row["lead_time_days"] is not None,
            }
        )
    items.sort(key=lambda item: (not item["reorder_soon"], item["days_of_cover"], item["title"]))
    return {
        "merchant_id": merchant_id,
        "as_of": last.isoformat(),
        "lead_time_days": lead,
        "review_days": review,
        "products": items,
    }


def _products(unit: Unit, merchant_id: str) -> list[Any]:
    stock = func.coalesce(func.sum(variants.c.stock), 0).label("stock")
    query = (
        select(products.c.id, products.c.title, products.c.lead_time_days, stock)
        .select_from(
            products.join(storefronts, storefronts.c.id == products.c.storefront_id).outerjoin(
                variants, variants.c.product_id == products.c.id
            )
        )
        .where(storefronts.c.merchant_id == merchant_id, products.c.active == 1)
        .group_by(products.c.id, products.c.title, products.c.lead_time_days)
        .order_by(products.c.id)
    )
    return list(unit.conn.execute(query).mappings())


def _sold(merchant_id: str, start: int, end: int) -> Any:
    day = (orders.c.paid_at_ns + literal(OFFSET_NS, BigInteger)) // literal(DAY_NS, BigInteger)
    sold = func.sum(order_lines.c.quantity - order_lines.c.cancelled_quantity)
    return (
        select(order_lines.c.product_id, day.label("day"), sold)
        .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
        .where(
            orders.c.merchant_id == merchant_id,
            orders.c.paid_at_ns.is_not(None),
            orders.c.paid_at_ns >= start,
            orders.c.paid_at_ns < end,
        )
        .group_by(order_lines.c.product_id, day)
    )
