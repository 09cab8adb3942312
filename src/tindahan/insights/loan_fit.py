"""Whether a loan's installment fits a merchant's sales: advice before accepting, not a gate.

"Your sales usually cover this installment 3 times": the merchant's sales over one
installment period (a day, a week, two weeks or a 30-day month), as they *usually* are — the
median of the last complete periods in the sales history (90 days: 90 days, 12 weeks, 6
fortnights or 3 months), a figure one bad or one record period does not move — divided by the
largest installment of the schedule (the conservative one). The median is of integer
centavos (``median_low``: a real period's sales, no averaging into fractions); the ratio is a
``Decimal`` rounded *down* to one decimal, so the advice never overstates the cover.

* **comfortable**: covered 3 times or more (the issue's example; at an auto-deduction share
  of a third of each sale the installment is paid from sales alone);
* **fits**: 1.5 to 3 times;
* **tight**: under 1.5 times — a slow week may not cover it;
* **rarely**: most periods had no sale at all;
* **unknown**: no sale, or no complete period of sales, to compare with.

The decision stays the merchant's; the lending rules (``lending.eligibility``) decide the
offer, and this never refuses one.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from tindahan.insights.errors import InsightsError

PERIOD_DAYS = {"daily": 1, "weekly": 7, "biweekly": 14, "monthly": 30}
COMFORTABLE = Decimal(3)
FITS = Decimal("1.5")


@dataclass(frozen=True)
class Fit:
    level: str  # comfortable, fits, tight, rarely, unknown
    cover: Decimal | None
    usual_sales_minor: int
    installment_minor: int
    periods: int


def fit(daily_sales_minor: Sequence[int], installment_minor: int, frequency: str) -> Fit:
    """``daily_sales_minor`` oldest first, ending with the last complete day."""
    if frequency not in PERIOD_DAYS:
        raise InsightsError(f"unknown installment frequency {frequency!r}")
    if installment_minor <= 0:
        raise InsightsError("the installment must be more than zero")
    days = PERIOD_DAYS[frequency]
    count = len(daily_sales_minor) // days
    if count == 0:
        return Fit("unknown", None, 0, installment_minor, 0)
    recent = list(daily_sales_minor)[len(daily_sales_minor) - count * days :]
    totals = [sum(recent[i * days : (i + 1) * days]) for i in range(count)]
    usual = int(statistics.median_low(totals))
    if usual <= 0:
        level = "unknown" if not any(totals) else "rarely"
        return Fit(level, Decimal(0), usual, installment_minor, count)
    cover = (Decimal(usual) / Decimal(installment_minor)).quantize(Decimal("0.1"), ROUND_DOWN)
    level = "comfortable" if cover >= COMFORTABLE else "fits" if cover >= FITS else "tight"
    return Fit(level, cover, usual, installment_minor, count)
