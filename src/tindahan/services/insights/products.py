"""A merchant's best sellers and slow movers from its own paid order lines.

Units are quantity less cancelled; revenue is those units at the line's unit price (integer
centavos, exact); the day is the Manila day the order was paid, as in ``reorder``. Every
active product is listed, those that sold nothing too (the slow movers a merchant should
see), best sellers first by units, then by revenue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.model import PartyKind
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
        select(products.c.id, products.c.title)
        .select_from(products.join(storefronts, storefronts.c.id == products.c.storefront_id))
        .where(storefronts.c.merchant_id == merchant_id, products.c.active == 1)
    )
    listed = [
        {
            "product_id": pid,
            "title": title,
            "units": found.get(pid, (0, 0))[0],
            "revenue_minor": found.get(pid, (0, 0))[1],
        }
        for pid, title in catalog
    ]
    listed.sort(key=lambda p: (-p["units"], -p["revenue_minor"], p["title"]))
    return listed
