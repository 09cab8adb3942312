"""A merchant's best sellers and slow movers from its own paid order lines.

Units are quantity less cancelled; revenue is those units at the line's unit price (integer
centavos, exact); the day is the Manila day the order was paid, as in ``reorder``. Every
active product is listed, those that sold nothing too (the slow movers a merchant should
see), best sellers first by units, then by revenue.

**Margins**: where the merchant has recorded what a piece costs it (``record_cost``), the
margin is revenue less units × cost (exact centavos; negative when sold below cost) and its
share of revenue a ``Decimal`` rounded half-even to 4 places; unknown (``None``) without a
cost. The cost is the merchant's own figure: it is not in the product's public view.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import func, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.services.commerce.catalog import product_row
from tindahan.services.payments.sales import day_start_ns, today
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import order_lines, orders, products, storefronts

MAX_DAYS = 366


def best_sellers(
    unit: Unit, caller: Caller, merchant_id: str, days: int = 28
) -> list[dict[str, Any]]:
    """``{product_id, title, units, revenue_minor}`` for the ``days`` days to yesterday."""
    caller.require("orders:read")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise not_found("merchant", "id")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise invalid("parameter_invalid", f"days must be from 1 to {MAX_DAYS}", "days")
    end = day_start_ns(today(unit))
    start = day_start_ns(today(unit) - timedelta(days=days))
    units = order_lines.c.quantity - order_lines.c.cancelled_quantity
    sold = (
        select(
            order_lines.c.product_id,
            func.sum(units).label("units"),
            func.sum(units * order_lines.c.unit_price_minor).label("revenue"),
        )
        .select_from(order_lines.join(orders, orders.c.id == order_lines.c.order_id))
        .where(
            orders.c.merchant_id == merchant_id,
            orders.c.paid_at_ns.is_not(None),
            orders.c.paid_at_ns >= start,
            orders.c.paid_at_ns < end,
        )
        .group_by(order_lines.c.product_id)
    )
    found = {row[0]: (int(row[1]), int(row[2])) for row in unit.conn.execute(sold)}
    catalog = unit.conn.execute(
        select(products.c.id, products.c.title, products.c.cost_minor)
        .select_from(products.join(storefronts, storefronts.c.id == products.c.storefront_id))
        .where(storefronts.c.merchant_id == merchant_id, products.c.active == 1)
    )
    listed = [
        _with_margin(pid, title, cost, *found.get(pid, (0, 0))) for pid, title, cost in catalog
    ]
    listed.sort(key=lambda p: (-p["units"], -p["revenue_minor"], p["title"]))
    return listed


def _with_margin(
    pid: str, title: str, cost: int | None, units: int, revenue: int
) -> dict[str, Any]:
    margin = None if cost is None else revenue - units * int(cost)
    share = None
    if margin is not None and revenue:
        share = (
            f"{(Decimal(margin) / Decimal(revenue)).quantize(Decimal('0.0001'), ROUND_HALF_EVEN):f}"
        )
    return {
        "product_id": pid,
        "title": title,
        "units": units,
        "revenue_minor": revenue,
        "cost_minor": None if cost is None else int(cost),
        "margin_minor": margin,
        "margin_share": share,
    }


def record_cost(
    unit: Unit, caller: Caller, product_id: str, cost_minor: int | None
) -> dict[str, Any]:
    """Record (or, with ``None``, forget) what one piece of the caller's product costs it."""
    caller.require("catalog:write")
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    if cost_minor is not None and (
        isinstance(cost_minor, bool)
        or not isinstance(cost_minor, int)
        or not 0 <= cost_minor <= limits.MAX_AMOUNT_MINOR
    ):
        raise invalid(
            "parameter_invalid", "cost_minor is a whole number of centavos, 0 or more", "cost_minor"
        )
    unit.conn.execute(
        update(products)
        .where(products.c.id == product_id)
        .values(cost_minor=cost_minor, updated_at_ns=unit.now())
    )
    return {"object": "product_cost", "product_id": product_id, "cost_minor": cost_minor}


def cost_of(unit: Unit, caller: Caller, product_id: str) -> int | None:
    """What the caller recorded one piece of its product costs it (``None``: not recorded)."""
    caller.require("catalog:write")  # the merchant's own figure, read where it edits it
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    return None if row["cost_minor"] is None else int(row["cost_minor"])


def record_lead_time(
    unit: Unit, caller: Caller, product_id: str, lead_time_days: int | None
) -> dict[str, Any]:
    """Keep (or, with ``None``, forget) how many days the caller's supplier takes to deliver
    this product: the reorder advice uses it instead of the list's default lead time."""
    caller.require("catalog:write")
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    high = limits.INSIGHTS_MAX_LEAD_TIME_DAYS
    if lead_time_days is not None and (
        isinstance(lead_time_days, bool)
        or not isinstance(lead_time_days, int)
        or not 0 <= lead_time_days <= high
    ):
        raise invalid(
            "parameter_invalid", f"lead_time_days is a whole number of days, 0 to {high}",
            "lead_time_days",
        )  # fmt: skip
    unit.conn.execute(
        update(products)
        .where(products.c.id == product_id)
        .values(lead_time_days=lead_time_days, updated_at_ns=unit.now())
    )
    return {
        "object": "product_lead_time",
        "product_id": product_id,
        "lead_time_days": lead_time_days,
    }


def lead_time_of(unit: Unit, caller: Caller, product_id: str) -> int | None:
    """The lead time kept for the caller's product (``None``: the default is used)."""
    caller.require("catalog:write")
    row = product_row(unit, product_id, caller=caller)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("product", "id")
    return None if row["lead_time_days"] is None else int(row["lead_time_days"])
