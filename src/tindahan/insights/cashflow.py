"""The next 30 days of a merchant's cash (issue 26, item 3): expected sales, loan
installments and recurring cash-outs, day by day, in integer centavos.

**Expected sales** are the forecast number of sales a day (``insights.forecast`` fitted on the
store's daily count of sales: counts are what the model's priors are sized for) times the
store's average sale over its history, rounded *down* to the centavo each day
(``ROUND_FLOOR``: an outlook should not promise money). **Installments** are what is still
due on each open installment of the merchant's active loan, on its due date; one already past
due is counted on the first day. **Recurring cash-outs** are found in the merchant's own
outflows (payments it made, cash-outs at agents, payouts to its bank) by ``recurring``: the
same counterparty at least ``MIN_OCCURRENCES`` times on distinct days whose gaps are all
within a quarter (at least a day) of their median — weekly rent, a fortnightly supplier, a
monthly bill — and still going (the last one no more than two gaps ago). Each is expected
again every median gap after its last, for its median amount (of an even count the larger
middle one: cash going out is not understated).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from itertools import pairwise

MIN_OCCURRENCES = 3
#: A gap may differ from the median gap by this share of it (and by a day at least).
GAP_TOLERANCE = Decimal("0.25")


@dataclass(frozen=True)
class Outflow:
    day: date
    #: Who or what the money went to ("payout:bank", "cash_out:<agent>", "p2p:<party>").
    key: str
    amount_minor: int


@dataclass(frozen=True)
class Recurring:
    key: str
    every_days: int
    amount_minor: int
    last: date
    occurrences: int

    def due(self, first: date, last: date) -> list[date]:
        """The days from ``first`` to ``last`` it is expected again."""
        found = []
        day = self.last + timedelta(days=self.every_days)
        while day <= last:
            if day >= first:
                found.append(day)
            day += timedelta(days=self.every_days)
        return found


def _median_high(values: Sequence[int]) -> int:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def recurring(outflows: Iterable[Outflow], today: date) -> list[Recurring]:
    """The regular outflows among ``outflows`` (their days before ``today``), largest first."""
    by_key: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for out in outflows:
        if out.day < today and out.amount_minor > 0:
            by_key[out.key][out.day] += out.amount_minor
    found = []
    for key, days in by_key.items():
        if len(days) < MIN_OCCURRENCES:
            continue
        ordered = sorted(days)
        gaps = [(b - a).days for a, b in pairwise(ordered)]
        every = sorted(gaps)[(len(gaps) - 1) // 2]  # the lower median: a whole number of days
        slack = max(1, int((GAP_TOLERANCE * every).to_integral_value(rounding=ROUND_FLOOR)))
        if any(abs(gap - every) > slack for gap in gaps):
            continue
        if (today - ordered[-1]).days > 2 * every:
            continue  # stopped
        amount = _median_high([days[d] for d in ordered])
        found.append(Recurring(key, every, amount, ordered[-1], len(ordered)))
    return sorted(found, key=lambda r: (-r.amount_minor * 30 // r.every_days, r.key))


def expected_sales(counts: Sequence[float], average_sale_minor: int) -> list[int]:
    """Each day's expected sales in centavos: forecast count × average sale, rounded down."""
    average = Decimal(average_sale_minor)
    return [
        int((Decimal(repr(float(c))) * average).to_integral_value(rounding=ROUND_FLOOR))
        if c > 0
        else 0
        for c in counts
    ]


@dataclass(frozen=True)
class Day:
    day: date
    sales_minor: int
    installments_minor: int
    cash_outs_minor: int

    @property
    def net_minor(self) -> int:
        return self.sales_minor - self.installments_minor - self.cash_outs_minor


@dataclass(frozen=True)
class Outlook:
    days: tuple[Day, ...]

    @property
    def sales_minor(self) -> int:
        return sum(d.sales_minor for d in self.days)

    @property
    def installments_minor(self) -> int:
        return sum(d.installments_minor for d in self.days)

    @property
    def cash_outs_minor(self) -> int:
        return sum(d.cash_outs_minor for d in self.days)

    @property
    def net_minor(self) -> int:
        return sum(d.net_minor for d in self.days)

    def lowest(self) -> tuple[date, int] | None:
        """The day the running total (from zero) is lowest, if it ever goes below zero."""
        running, low, when = 0, 0, None
        for d in self.days:
            running += d.net_minor
            if running < low:
                low, when = running, d.day
        return None if when is None else (when, low)


def outlook(
    first: date,
    sales_minor: Sequence[int],
    installments: Iterable[tuple[date, int]],
    regular: Iterable[Recurring],
) -> Outlook:
    """The days from ``first`` (one per expected sales figure); an installment due before
    ``first`` and still owed counts on ``first``."""
    horizon = len(sales_minor)
    last = first + timedelta(days=horizon - 1)
    due: dict[date, int] = defaultdict(int)
    for day, amount in installments:
        if day <= last:
            due[max(day, first)] += amount
    out: dict[date, int] = defaultdict(int)
    for item in regular:
        for day in item.due(first, last):
            out[day] += item.amount_minor
    made = []
    for i in range(horizon):
        day = first + timedelta(days=i)
        made.append(Day(day, sales_minor[i], due[day], out[day]))
    return Outlook(tuple(made))
