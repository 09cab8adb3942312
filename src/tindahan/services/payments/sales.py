"""A merchant's sales by Philippine day, and who was on the other side of its payments.

**What a sale is** — the same as the credit model's history
(``services.credit.assessments``), so the dashboard shows the figures a loan offer is
computed from: a merchant payment to the merchant (QR or direct) whose status is
succeeded, partially refunded or refunded, at its creation, for its gross amount; and an online
order, at its payment (``paid_at_ns``), for its total. Refunds are not subtracted: a sale happened
on its day, and the refund is its own event on the day it is made (the wallet statement shows it).

**Which day** — the Manila calendar day (UTC+8 all year, ``payments.periods``): the day
index is ``(ns + 8 h) // 1 day`` in SQL, so one ``GROUP BY`` over both kinds of sale
answers for a whole range in one statement on SQLite and PostgreSQL alike.

**Who paid** — a merchant sees the payer of its own payments by first name and the initial
of the last ("Juan C."): enough to recognise a regular, no more than the counter would see
(data minimisation, RA 10173); nobody sees the other side of a payment they are not in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, func, literal, select, union_all

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.payments.periods import PHILIPPINE_TIME, local_time
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import orders
from tindahan.store.payment_tables import parties, payments

_MONTH = re.compile(r"^[0-9]{4}-[0-9]{2}$")
SALE_STATUSES = ("succeeded", "refunded", "partially_refunded")
DAY_NS = 86_400 * 10**9
OFFSET_NS = int(PHILIPPINE_TIME.utcoffset(None).total_seconds()) * 10**9
EPOCH = date(1970, 1, 1)
#: The longest range one call may ask for (a year and a day: a year's chart and more).
MAX_DAYS = 367


def day_start_ns(day: date) -> int:
    """The first nanosecond of a Manila day."""
    return (day - EPOCH).days * DAY_NS - OFFSET_NS


def today(unit: Unit) -> date:
    return local_time(unit.now()).date()


def daily_sales(
    unit: Unit, caller: Caller, merchant_id: str, days: int, today_: date | None = None
) -> list[tuple[date, int, int]]:
    """``(day, amount_minor, count)`` for each of the ``days`` Manila days ending with
    ``today_`` (default: today), oldest first, days without sales included as zeros."""
    caller.require("payments:read")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise not_found("merchant", "id")
    if isinstance(days, bool) or not 1 <= days <= MAX_DAYS:
        raise invalid("parameter_invalid", f"days is 1 to {MAX_DAYS}", "days")
    last = today_ or today(unit)
    first = last - timedelta(days=days - 1)
    start, end = day_start_ns(first), day_start_ns(last + timedelta(days=1))
    found = {
        row[0]: (int(row[1]), int(row[2]))
        for row in unit.conn.execute(_query(merchant_id, start, end))
    }
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        amount, count = found.get((day - EPOCH).days, (0, 0))
        out.append((day, amount, count))
    return out


def _query(merchant_id: str, start: int, end: int) -> Any:
    direct = select(
        payments.c.created_at_ns.label("at"), payments.c.amount_minor.label("amount")
    ).where(
        payments.c.payee_id == merchant_id,
        payments.c.kind == "merchant",
        payments.c.currency == "PHP",
        payments.c.status.in_(SALE_STATUSES),
        payments.c.created_at_ns >= start,
        payments.c.created_at_ns < end,
    )
    online = select(orders.c.paid_at_ns.label("at"), orders.c.total_minor.label("amount")).where(
        orders.c.merchant_id == merchant_id,
        orders.c.paid_at_ns.is_not(None),
        orders.c.paid_at_ns >= start,
        orders.c.paid_at_ns < end,
    )
    sales = union_all(direct, online).subquery()
    day = ((sales.c.at + literal(OFFSET_NS, BigInteger)) // literal(DAY_NS, BigInteger)).label(
        "day"
    )
    return select(day, func.sum(sales.c.amount), func.count()).group_by(day)


def totals(daily: Iterable[tuple[date, int, int]], on: date) -> dict[str, int]:
    """Today's and this month's sales (to ``on``) out of ``daily_sales``' rows; the rows
    must reach back to the first of the month (a 90-day chart always does)."""
    month = on.replace(day=1)
    result = {"today_minor": 0, "today_count": 0, "month_minor": 0, "month_count": 0}
    for day, amount, count in daily:
        if month <= day <= on:
            result["month_minor"] += amount
            result["month_count"] += count
        if day == on:
            result["today_minor"] += amount
            result["today_count"] += count
    return result


def short_name(name: str | None) -> str | None:
    """``Juan dela Cruz`` → ``Juan C.``; one word stays as it is."""
    words = (name or "").split()
    if not words:
        return None
    if len(words) == 1:
        return words[0]
    return f"{words[0]} {words[-1][0].upper()}."


def counterparties(
    unit: Unit, caller: Caller, payment_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """For each of the caller's payments among ``payment_ids``: the other party's short
    name, and the payment's kind, reference and description. Payments the caller is not in
    are left out (as if they did not exist)."""
    caller.require("payments:read")
    ids = sorted(set(payment_ids))
    if not ids:
        return {}
    rows = unit.conn.execute(
        select(
            payments.c.id,
            payments.c.kind,
            payments.c.payer_id,
            payments.c.payee_id,
            payments.c.reference,
            payments.c.description,
        ).where(payments.c.id.in_(ids))
    ).mappings()
    mine = [r for r in rows if caller.reaches(r["payer_id"], r["payee_id"])]
    others = {_other(caller, r) for r in mine} - {None}
    query = select(parties.c.id, parties.c.name).where(parties.c.id.in_(others))
    names = {row[0]: row[1] for row in unit.conn.execute(query)}
    return {
        r["id"]: {
            "kind": r["kind"],
            "name": short_name(names.get(_other(caller, r) or "")),
            "reference": r["reference"],
            "description": r["description"],
        }
        for r in mine
    }


def _other(caller: Caller, row: Any) -> str | None:
    if caller.party_id == row["payee_id"]:
        return row["payer_id"]  # type: ignore[no-any-return]
    return row["payee_id"]  # type: ignore[no-any-return]


def month_bounds(month: str) -> tuple[int, int]:
    """``2026-11`` → the first nanosecond of that Manila month and of the next."""
    try:
        if not _MONTH.match(month):
            raise ValueError(month)
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise invalid("month_invalid", "month is YYYY-MM, like 2026-11", "month") from None
    following = (first + timedelta(days=32)).replace(day=1)
    return day_start_ns(first), day_start_ns(following)
