"""The vocabulary of a loan's terms: repayment frequency, interest method, fee mode, day
count, and the due dates a frequency gives.

A *period* is the time between two installments. Rates in a loan's terms are per period
(``Decimal`` fractions: 0.06 is 6%); a product states a nominal rate per month and
``periodic_rate`` turns it into the rate per period by the product's day-count convention:

* ``30/360``: a month is 30 days, so a day is 1/30 of the monthly rate, a week 7/30, two
  weeks 14/30 and a month exactly the monthly rate (the convention behind the BSP's "6% a
  month, about 0.2% a day");
* ``actual/365``: a year is 365 days and twelve months, so a day is 12/365 of the monthly
  rate and a period of *d* days is ``d × 12/365`` of it.

Due dates step from the start date: daily +1 day, weekly +7, bi-weekly +14, monthly the
same day of the following month(s), clamped to the month's end (a loan started on 31
January falls due on 28 February, then 31 March: each date is counted from the start, never
from the previous, clamped, one).
"""

from __future__ import annotations

import calendar
import enum
import re
from datetime import date, timedelta
from decimal import Decimal

from tindahan import limits
from tindahan.kernel.refusals import invalid


class Frequency(enum.StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"


class Method(enum.StrEnum):
    #: Declining balance, equal installments (annuity): interest on what is still owed.
    EQUAL_INSTALLMENT = "declining-equal-installment"
    #: Declining balance, equal principal: installments fall as the balance does.
    EQUAL_PRINCIPAL = "declining-equal-principal"
    #: Flat add-on: interest on the original principal every period. Only for quoting and
    #: comparing legacy offers; BSP Circular 730 has lenders charge interest on the
    #: outstanding balance, so a product can never use it.
    FLAT = "flat"


class FeeMode(enum.StrEnum):
    #: Taken from the proceeds: the merchant receives principal − fee.
    DEDUCTED = "deducted"
    #: Added to the installments: the merchant receives the whole principal.
    ADDED = "added"


class DayCount(enum.StrEnum):
    THIRTY_360 = "30/360"
    ACTUAL_365 = "actual/365"


#: Installments in a year, for annualising a rate per period: (1 + r)^n − 1.
PERIODS_PER_YEAR: dict[Frequency, int] = {
    Frequency.DAILY: 365,
    Frequency.WEEKLY: 52,
    Frequency.BIWEEKLY: 26,
    Frequency.MONTHLY: 12,
}
#: A period's length in days under 30/360 (and the nominal length for everything else).
NOMINAL_DAYS: dict[Frequency, int] = {
    Frequency.DAILY: 1,
    Frequency.WEEKLY: 7,
    Frequency.BIWEEKLY: 14,
    Frequency.MONTHLY: 30,
}
_STEP_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7, Frequency.BIWEEKLY: 14}


def add_months(start: date, months: int) -> date:
    """The same day ``months`` later, clamped to that month's last day."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def due_dates(start: date, frequency: Frequency, count: int) -> list[date]:
    """The ``count`` contractual due dates after ``start`` (before any holiday shift)."""
    if frequency == Frequency.MONTHLY:
        return [add_months(start, k) for k in range(1, count + 1)]
    step = _STEP_DAYS[frequency]
    return [start + timedelta(days=step * k) for k in range(1, count + 1)]


def periodic_rate(monthly: Decimal, frequency: Frequency, day_count: DayCount) -> Decimal:
    """The nominal rate per period from a nominal rate per month (see the module text)."""
    if day_count == DayCount.THIRTY_360:
        return monthly * NOMINAL_DAYS[frequency] / 30 if frequency != Frequency.MONTHLY else monthly
    days = Decimal(365) / 12 if frequency == Frequency.MONTHLY else NOMINAL_DAYS[frequency]
    return monthly * 12 * Decimal(days) / 365


def months_between(start: date, end: date) -> Decimal:
    """Calendar months from ``start`` to ``end`` (whole months, then days of a 30-day month):
    how long a loan runs when the caps ask "up to four months"."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if add_months(start, months) > end:
        months -= 1
    rest = (end - add_months(start, months)).days
    return Decimal(months) + Decimal(rest) / 30


_PLACES = limits.RATE_MAX_PLACES
_PERCENT = re.compile(rf"[0-9]{{1,3}}(\.[0-9]{{1,{_PLACES}}})?")


def parse_percent(text: str, param: str, maximum: Decimal) -> Decimal:
    """A percentage typed by a person (``"6"``, ``"3.5"``) as a fraction (``0.035``): plain
    ASCII digits with at most ``limits.RATE_MAX_PLACES`` decimals, from 0 to ``maximum``
    percent — no exponents, signs, separators or other scripts' digits."""
    if not isinstance(text, str) or not _PERCENT.fullmatch(text.strip()):
        raise invalid(
            "rate_invalid",
            f"{param} is a percentage like 6 or 3.5 (at most {limits.RATE_MAX_PLACES} "
            "decimal places)",
            param,
        )
    value = Decimal(text.strip())
    if value > maximum:
        raise invalid("rate_invalid", f"{param} is at most {maximum}%", param)
    return value / 100
