"""Interest earned to a day: what the daily close books, and what a payoff collects.

Interest is earned evenly over each period: by the end of day *d* an installment whose
period runs from ``start`` to ``due`` has earned ``⌊I × (d + 1 − start) / (due − start)⌋``
of its interest ``I`` (``DOWN``, in the borrower's favour), and all of it once *d* reaches
the day before its due date. A product accrues ``daily`` (that figure every day) or by
``installment`` (the whole interest on the due date); a prepayment always collects what was
earned to the day before, whichever it is.

``preaccrued`` is the part of an installment's interest that was already booked before the
installment existed (the unpaid interest a restructured loan carries into its new first
installment): it is never booked twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Period:
    start_date: date
    due_date: date
    interest_minor: int
    preaccrued_minor: int = 0


class Accruing(Protocol):
    """What ``earned_through`` reads: a ``Period``, or a loan's line as it stands (the daily
    close passes its lines as they are rather than a ``Period`` made from each)."""

    @property
    def start_date(self) -> date: ...
    @property
    def due_date(self) -> date: ...
    @property
    def interest_minor(self) -> int: ...
    @property
    def preaccrued_minor(self) -> int: ...


def earned_through(day: date, periods: Iterable[Accruing], *, daily: bool) -> int:
    """Interest of ``periods`` earned by the end of ``day`` (not counting ``preaccrued``)."""
    total = 0
    for p in periods:
        new = p.interest_minor - p.preaccrued_minor
        if p.due_date <= day:
            total += new
        elif daily and p.start_date <= day:
            length = (p.due_date - p.start_date).days
            total += new * ((day - p.start_date).days + 1) // length
    return total
