"""Sales by weekday: which day a store sells most, and by how much.

Each weekday's figure is the *average* day (its total over the number of such days in the
window, rounded down to the centavo: money stays integer minor units), so a window with one
more Saturday than Monday compares fairly. The best day's lift over the average day of the
week is a ``Decimal`` fraction rounded half-even to a whole percent for the sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal


@dataclass(frozen=True)
class Week:
    #: Average sales (minor units) of each weekday, Monday first.
    average_minor: tuple[int, ...]
    #: The best weekday (0 = Monday), or None without sales.
    best: int | None
    #: The best day's average over the mean of the seven, less one (0.25: 25 % above).
    lift: Decimal


def by_weekday(daily: Sequence[tuple[date, int]]) -> Week:
    totals, days = [0] * 7, [0] * 7
    for day, amount_minor in daily:
        totals[day.weekday()] += amount_minor
        days[day.weekday()] += 1
    average = tuple(t // d if d else 0 for t, d in zip(totals, days, strict=True))
    if not any(average):
        return Week(average, None, Decimal(0))
    best = max(range(7), key=lambda k: (average[k], -k))
    mean = Decimal(sum(average)) / 7
    lift = (Decimal(average[best]) / mean - 1).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return Week(average, best, lift)
