"""Days past due, aging buckets, penalties and portfolio at risk.

* **Days past due** at the close of day *d*: ``d + 1 − due`` for the oldest installment due
  on or before *d* and still unpaid (an installment unpaid at the end of its due date is one
  day late the next morning); 0 when nothing is late.
* **Buckets**: current, 1–30, 31–60, 61–90, 90+ days.
* **PAR*k*** (portfolio at risk): the outstanding principal of loans more than *k* days past
  due (PAR1: at least one day) over the outstanding principal of all active loans — the
  CGAP/MIX definition; written-off loans have left the portfolio and count in neither.
* **Penalty**: after the product's grace days, each day a late installment's unpaid
  scheduled amount (principal + interest + fee) costs ``amount × monthly rate / 30``,
  ``DOWN`` to the centavo — BSP Circular 1133 words its ceiling "per month, on the
  outstanding scheduled amount due"; a covered loan's penalties stop where its total cost
  would pass 100% of the principal.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from tindahan.lending.schedule import round_down

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
PAR_THRESHOLDS = (1, 30, 90)


def days_past_due(oldest_unpaid_due: date | None, day: date) -> int:
    if oldest_unpaid_due is None or oldest_unpaid_due > day:
        return 0
    return (day - oldest_unpaid_due).days + 1


def bucket(dpd: int) -> str:
    if dpd <= 0:
        return "current"
    if dpd <= 30:
        return "1-30"
    if dpd <= 60:
        return "31-60"
    if dpd <= 90:
        return "61-90"
    return "90+"


def at_risk(dpd: int, threshold: int) -> bool:
    """Whether a loan counts in PAR``threshold`` (PAR1: one day late or more)."""
    return dpd >= 1 if threshold == 1 else dpd > threshold


def par(loans: Iterable[tuple[int, int]]) -> dict[str, Decimal]:
    """PAR1, PAR30, PAR90 of ``(outstanding principal, dpd)`` pairs, as fractions (0 for an
    empty portfolio), exact ``Decimal`` quotients rounded ``HALF_EVEN`` to 6 places."""
    rows = list(loans)
    total = sum(p for p, _ in rows)
    result = {}
    for k in PAR_THRESHOLDS:
        risky = sum(p for p, d in rows if at_risk(d, k))
        value = Decimal(risky) / Decimal(total) if total else Decimal(0)
        result[f"par{k}"] = value.quantize(Decimal("0.000001"))
    return result


def daily_penalty(overdue_minor: int, monthly_rate: Decimal) -> int:
    return round_down(Decimal(overdue_minor) * monthly_rate / 30)
