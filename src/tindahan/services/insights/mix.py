"""A merchant's sales mix over the last days (``insights.mix``), from its own sales.

The sales are the dashboard's (``services.payments.sales``): a merchant payment to it that
succeeded (refunded later or not) at its creation, and an online order at its payment, in PHP.
The window is the ``days`` complete Manila days to yesterday; the hour is the Manila hour the
sale happened. A payment that settles a payment request is the ``request`` channel; any
other payment to the merchant ``qr``; an order ``online``. Buyers are counted by their party
id and never named here.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import literal, select, union_all

from tindahan.insights import mix as mix_rules
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.services.payments.sales import OFFSET_NS, SALE_STATUSES, day_start_ns, today
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import orders
from tindahan.store.payment_tables import payments

HOUR_NS = 3600 * 10**9
MAX_DAYS = 366


def sales_mix(unit: Unit, caller: Caller, merchant_id: str, days: int = 28) -> dict[str, Any]:
    """The mix of ``days`` days to yesterday, as the API shows it."""
    caller.require("payments:read")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise not_found("merchant", "id")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise invalid("parameter_invalid", f"days must be from 1 to {MAX_DAYS}", "days")
    last = today(unit) - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    start, end = day_start_ns(first), day_start_ns(last + timedelta(days=1))
    direct = select(
        payments.c.created_at_ns.label("at"),
        payments.c.amount_minor.label("amount"),
        payments.c.request_id.is_not(None).label("requested"),
        literal(False).label("online"),
        payments.c.payer_id.label("buyer"),
    ).where(
        payments.c.payee_id == merchant_id,
        payments.c.kind == "merchant",
        payments.c.currency == "PHP",
        payments.c.status.in_(SALE_STATUSES),
        payments.c.created_at_ns >= start,
        payments.c.created_at_ns < end,
    )
    online = select(
        orders.c.paid_at_ns.label("at"),
        orders.c.total_minor.label("amount"),
        literal(False).label("requested"),
        literal(True).label("online"),
        orders.c.buyer_id.label("buyer"),
    ).where(
        orders.c.merchant_id == merchant_id,
        orders.c.currency == "PHP",
        orders.c.paid_at_ns.is_not(None),
        orders.c.paid_at_ns >= start,
        orders.c.paid_at_ns < end,
    )
    records = [
        mix_rules.Sale(
            hour=(int(at) + OFFSET_NS) // HOUR_NS % 24,
            amount_minor=int(amount),
            channel="online" if online else "request" if requested else "qr",
            buyer=buyer,
        )
        for at, amount, requested, online, buyer in unit.conn.execute(union_all(direct, online))
    ]
    found = mix_rules.mix(records)
    return {
        "object": "sales_mix",
        "merchant_id": merchant_id,
        "currency": "PHP",
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "days": days,
        "sales": found.sales,
        "amount_minor": found.amount_minor,
        "average_basket_minor": found.average_basket_minor,
        "by_hour": [
            {"hour": hour, "sales": count, "amount_minor": amount}
            for hour, (count, amount) in enumerate(found.by_hour)
        ],
        "busiest_hour": found.busiest_hour,
        "buyers": found.buyers,
        "repeat_buyers": found.repeat_buyers,
        "repeat_buyer_share": _text(found.repeat_buyer_share),
        "repeat_sales_share": _text(found.repeat_sales_share),
        "channels": {
            name: {
                "sales": c.sales,
                "amount_minor": c.amount_minor,
                "share": _text(c.share),
            }
            for name, c in found.channels.items()
        },
    }


def _text(value: Decimal) -> str:
    return f"{value:f}"
