"""The operator's aggregates across merchants (issue 26, item 6), from the database.

One read: every merchant that is not closed with its province and category (MCC), its digital
sales in the period and in the period of the same length before it, and its active loans'
outstanding principal and what of it is past due (PAR1: one day or more; PAR30: over 30 days,
as ``lending.delinquency``). The grouping and the suppression are the domain's
(``insights.aggregates``); this module only loads and shapes.

**A sale** is what the merchant's dashboard and the credit model count
(``services.payments.sales``): a QR or direct merchant payment that succeeded (refunded later
or not) at its creation, and an online order at its payment, in PHP. **The period** is the
``days`` complete Manila days to yesterday (today is not over); "before" is the ``days`` days
just before that. **Active** means at least one sale in the period. **Learners** are the
merchants who passed a lesson's quiz for the first time in the period (``lesson_progress``).
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, case, func, literal, select, union_all

from tindahan import limits
from tindahan.insights import aggregates
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.services.payments.sales import SALE_STATUSES, day_start_ns, today
from tindahan.services.unit import Unit, iso
from tindahan.store.commerce_tables import orders
from tindahan.store.lending_tables import loans
from tindahan.store.lesson_tables import lesson_progress
from tindahan.store.payment_tables import parties, payments

BLOCK_FIGURES = {
    "merchants": ("merchants", "active_merchants"),
    "sales": ("sales_minor", "previous_sales_minor", "growth"),
    "loans": ("borrowers", "outstanding_minor", "par1", "par30"),
    "lessons": ("learners", "lessons_completed"),
}
FIGURES = tuple(name for block in aggregates.BLOCKS for name in BLOCK_FIGURES[block])
#: What stands in the CSV for a withheld figure (a blank is a figure that does not apply:
#: growth without sales before).
WITHHELD = "x"
TOTAL = "all"


def _sales(start: int, middle: int, end: int) -> Any:
    direct = select(
        payments.c.payee_id.label("merchant"),
        payments.c.created_at_ns.label("at"),
        payments.c.amount_minor.label("amount"),
    ).where(
        payments.c.kind == "merchant",
        payments.c.currency == "PHP",
        payments.c.status.in_(SALE_STATUSES),
        payments.c.created_at_ns >= start,
        payments.c.created_at_ns < end,
    )
    online = select(
        orders.c.merchant_id.label("merchant"),
        orders.c.paid_at_ns.label("at"),
        orders.c.total_minor.label("amount"),
    ).where(
        orders.c.currency == "PHP",
        orders.c.paid_at_ns.is_not(None),
        orders.c.paid_at_ns >= start,
        orders.c.paid_at_ns < end,
    )
    sales = union_all(direct, online).subquery()
    now = sales.c.at >= literal(middle, BigInteger)
    zero = literal(0, BigInteger)
    return select(
        sales.c.merchant,
        func.sum(case((now, sales.c.amount), else_=zero)),
        func.sum(case((now, 1), else_=0)),
        func.sum(case((now, zero), else_=sales.c.amount)),
        func.sum(case((now, 0), else_=1)),
    ).group_by(sales.c.merchant)


def _loans() -> Any:
    outstanding = loans.c.principal_minor - loans.c.principal_paid_minor
    zero = literal(0, BigInteger)
    return (
        select(
            loans.c.merchant_id,
            func.sum(outstanding),
            func.sum(case((loans.c.dpd >= 1, outstanding), else_=zero)),
            func.sum(case((loans.c.dpd > 30, outstanding), else_=zero)),
        )
        .where(loans.c.status == "active", loans.c.currency == "PHP")
        .group_by(loans.c.merchant_id)
    )


def _days(days: int) -> int:
    most = limits.INSIGHTS_MAX_AGGREGATE_DAYS
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= most:
        raise invalid("parameter_invalid", f"days must be from 1 to {most}", "days")
    return days


def merchant_aggregates(
    unit: Unit, caller: Caller, days: int = limits.INSIGHTS_DEFAULT_AGGREGATE_DAYS
) -> dict[str, Any]:
    """The table: cells by province and category, then the totals, each figure withheld
    where the domain says so (``None``, its block named in ``withheld``)."""
    caller.require_operator()
    days = _days(days)
    last = today(unit) - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    before = first - timedelta(days=days)
    start, middle = day_start_ns(before), day_start_ns(first)
    end = day_start_ns(last + timedelta(days=1))
    sold = {
        row[0]: (int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        for row in unit.conn.execute(_sales(start, middle, end))
    }
    lent = {row[0]: (int(row[1]), int(row[2]), int(row[3])) for row in unit.conn.execute(_loans())}
    learned = {
        merchant: int(count)
        for merchant, count in unit.conn.execute(
            select(lesson_progress.c.merchant_id, func.count())
            .where(
                lesson_progress.c.completed_at_ns >= middle,
                lesson_progress.c.completed_at_ns < end,
            )
            .group_by(lesson_progress.c.merchant_id)
        )
    }
    found = unit.conn.execute(
        select(parties.c.id, parties.c.province, parties.c.mcc).where(
            parties.c.kind == "merchant", parties.c.status != "closed"
        )
    )
    merchants = []
    for pid, province, mcc in found:
        now, count, previous, count_before = sold.get(pid, (0, 0, 0, 0))
        outstanding, risk1, risk30 = lent.get(pid, (0, 0, 0))
        merchants.append(
            aggregates.Merchant(
                province=(province or "").strip(),
                category=mcc or aggregates.UNKNOWN,
                sales_minor=now,
                previous_minor=previous,
                outstanding_minor=outstanding,
                at_risk1_minor=risk1,
                at_risk30_minor=risk30,
                sold=count > 0,
                sold_before=count_before > 0,
                borrower=pid in lent,
                lessons_completed=learned.get(pid, 0),
            )
        )
    built = aggregates.table(merchants, limits.INSIGHTS_MIN_CELL_MERCHANTS)
    rows = [_row(key, blocks) for key, blocks in built.rows.items()]
    return {
        "object": "merchant_aggregates",
        "as_of": iso(unit.now()),
        "currency": "PHP",
        "k": built.k,
        "period": {"first_day": first.isoformat(), "last_day": last.isoformat(), "days": days},
        "previous_period": {
            "first_day": before.isoformat(),
            "last_day": (first - timedelta(days=1)).isoformat(),
            "days": days,
        },
        "cells": [r for r in rows if r["province"] is not None and r["category"] is not None],
        "by_province": [r for r in rows if r["province"] is not None and r["category"] is None],
        "by_category": [r for r in rows if r["province"] is None and r["category"] is not None],
        "total": next(r for r in rows if r["province"] is None and r["category"] is None),
    }


def _row(key: aggregates.Key, blocks: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    row: dict[str, Any] = {"province": key[0], "category": key[1]}
    withheld = []
    for block in aggregates.BLOCKS:
        figures = blocks[block]
        if figures is None:
            withheld.append(block)
            row.update(dict.fromkeys(BLOCK_FIGURES[block]))
        else:
            row.update({k: f"{v:f}" if isinstance(v, Decimal) else v for k, v in figures.items()})
    row["withheld"] = withheld
    return row


CSV_COLUMNS = ("province", "category", *FIGURES)


def to_csv(report: dict[str, Any]) -> str:
    """One line per cell, then the province, category and grand totals (``all`` in the
    place summed over); a withheld figure is ``x``, a figure that does not apply is blank."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    every = [*report["cells"], *report["by_province"], *report["by_category"], report["total"]]
    for row in every:
        hidden = {name for block in row["withheld"] for name in BLOCK_FIGURES[block]}
        writer.writerow(
            [
                row["province"] or TOTAL,
                row["category"] or TOTAL,
                *(
                    WITHHELD if name in hidden else ("" if row[name] is None else row[name])
                    for name in FIGURES
                ),
            ]
        )
    return out.getvalue()
