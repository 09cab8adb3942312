"""A merchant's 30-day cash-flow outlook (``insights.cashflow``), from its own records.

Read: the dashboard's daily sales (``services.payments.sales``) of the last ``HISTORY_DAYS``
days to yesterday — counts for the forecast, money for the average sale; the open
installments of its active PHP loans (the loan's current schedule version); and its
outflows of the last ``OUTFLOW_DAYS`` days: payments it made (to a person, a store, an agent
for cash) that succeeded, and payouts to its bank or e-wallet that succeeded. The outlook
runs from today (not over yet, so forecast) for ``days`` days. A store whose first sale is
fewer than ``limits.INSIGHTS_MIN_HISTORY_DAYS`` days old gets no sales forecast (said in
``sales_forecast``): the model's short-history fallback, a flat mean, would promise a
month of one lucky day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from tindahan import limits
from tindahan.insights import cashflow, forecast
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.model import PartyKind
from tindahan.services.payments import sales
from tindahan.services.payments.sales import OFFSET_NS, SALE_STATUSES, day_start_ns, today
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit
from tindahan.store.lending_tables import loan_installments, loans
from tindahan.store.payment_tables import payments
from tindahan.store.payout_tables import payouts

HISTORY_DAYS = 182
OUTFLOW_DAYS = 120
MAX_DAYS = 92
DAY_NS = 86_400 * 10**9


def _day(at_ns: int) -> date:
    return date(1970, 1, 1) + timedelta(days=(int(at_ns) + OFFSET_NS) // DAY_NS)


def outflows(unit: Unit, merchant_id: str, start_ns: int) -> list[cashflow.Outflow]:
    made = unit.conn.execute(
        select(payments.c.kind, payments.c.payee_id, payments.c.amount_minor,
               payments.c.created_at_ns).where(
            payments.c.payer_id == merchant_id,
            payments.c.currency == "PHP",
            payments.c.status.in_(SALE_STATUSES),
            payments.c.created_at_ns >= start_ns,
        )
    )  # fmt: skip
    paid_out = unit.conn.execute(
        select(payouts.c.destination, payouts.c.amount_minor, payouts.c.created_at_ns).where(
            payouts.c.merchant_id == merchant_id,
            payouts.c.currency == "PHP",
            payouts.c.status == "succeeded",
            payouts.c.created_at_ns >= start_ns,
        )
    )
    found = [
        cashflow.Outflow(_day(at), f"{kind}:{payee}", int(amount))
        for kind, payee, amount, at in made
    ]
    found += [
        cashflow.Outflow(_day(at), f"payout:{dest}", int(amount)) for dest, amount, at in paid_out
    ]
    return found


def installments(unit: Unit, merchant_id: str) -> list[tuple[date, int]]:
    owed = (
        loan_installments.c.principal_minor
        + loan_installments.c.interest_minor
        + loan_installments.c.fee_minor
        + loan_installments.c.penalty_minor
        - loan_installments.c.principal_paid_minor
        - loan_installments.c.interest_paid_minor
        - loan_installments.c.fee_paid_minor
        - loan_installments.c.penalty_paid_minor
    )
    rows = unit.conn.execute(
        select(loan_installments.c.due_date, owed)
        .join(
            loans,
            (loans.c.id == loan_installments.c.loan_id)
            & (loans.c.version == loan_installments.c.version),
        )
        .where(
            loans.c.merchant_id == merchant_id,
            loans.c.status == "active",
            loans.c.currency == "PHP",
            loan_installments.c.status == "open",
        )
    )
    return [(date.fromisoformat(due), int(amount)) for due, amount in rows if int(amount) > 0]


def cash_flow(unit: Unit, caller: Caller, merchant_id: str, days: int = 30) -> dict[str, Any]:
    """The outlook as the API shows it."""
    caller.require("payments:read")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise not_found("merchant", "id")
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise invalid("parameter_invalid", f"days must be from 1 to {MAX_DAYS}", "days")
    now = today(unit)
    history = sales.daily_sales(unit, caller, merchant_id, HISTORY_DAYS, now - timedelta(days=1))
    # counts of sales (not money) as the forecast's real-valued series
    counts = np.array([[count for _day, _amount, count in history]], dtype=np.float64)
    sold = int(sum(count for _d, _a, count in history))
    money = int(sum(amount for _d, amount, _c in history))
    average = money // sold if sold else 0
    started = next((i for i, (_d, _a, c) in enumerate(history) if c > 0), len(history))
    young = len(history) - started < limits.INSIGHTS_MIN_HISTORY_DAYS
    if young:  # a mean over a few days would promise too much (or nothing): none is made
        expected = [0] * days
    else:
        fitted = forecast.fit(counts, np.array([started], dtype=np.int64), history[0][0])
        expected = cashflow.expected_sales(list(fitted.predict(days)[0]), average)
    start_ns = day_start_ns(now - timedelta(days=OUTFLOW_DAYS))
    regular = cashflow.recurring(outflows(unit, merchant_id, start_ns), now)
    found = cashflow.outlook(now, expected, installments(unit, merchant_id), regular)
    lowest = found.lowest()
    return {
        "object": "cash_flow",
        "merchant_id": merchant_id,
        "currency": "PHP",
        "first_day": now.isoformat(),
        "last_day": (now + timedelta(days=days - 1)).isoformat(),
        "days": days,
        "average_sale_minor": average,
        #: ``forecast``; ``too_little_history`` (the first sale fewer than 14 days ago) and
        #: ``no_sales`` expect no sales at all.
        "sales_forecast": "no_sales" if not sold else "too_little_history" if young else "forecast",
        "history_sales": sold,
        "sales_minor": found.sales_minor,
        "installments_minor": found.installments_minor,
        "cash_outs_minor": found.cash_outs_minor,
        "net_minor": found.net_minor,
        "lowest": None
        if lowest is None
        else {"day": lowest[0].isoformat(), "net_minor": lowest[1]},
        "recurring": [
            {
                "kind": r.key.split(":", 1)[0],
                "every_days": r.every_days,
                "amount_minor": r.amount_minor,
                "last_day": r.last.isoformat(),
                "occurrences": r.occurrences,
            }
            for r in regular
        ],
        "by_day": [
            {
                "day": d.day.isoformat(),
                "sales_minor": d.sales_minor,
                "installments_minor": d.installments_minor,
                "cash_outs_minor": d.cash_outs_minor,
                "net_minor": d.net_minor,
            }
            for d in found.days
        ],
    }
