"""Holidays and the due dates they move.

A due date on a holiday moves to the next day that is not one ("following business day"):
a merchant cannot be late on a day the banks and agents are closed. The operator keeps the
calendar (``/v1/loan_holidays``); Sundays are *not* holidays by default, because a
sari-sari store trades on Sundays and its wallet works every day. Moving a date never
changes the interest of a period: interest is per period (30/360), and the EIR counts equal
periods, as BSP Circular 730's examples do.

``philippine_regular_holidays`` gives the regular holidays fixed by RA 9492 (as amended) for
a year — New Year, Maundy Thursday and Good Friday, Araw ng Kagitingan (9 April), Labor Day,
Independence Day (12 June), National Heroes Day (last Monday of August), Bonifacio Day (30
November), Christmas and Rizal Day (30 December) — which seed a new platform; holidays
proclaimed each year (Eid'l Fitr, Eid'l Adha, special days) are the operator's to add.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta, timezone

from dateutil.easter import easter

from tindahan import limits

#: The Philippines keeps one time zone all year (UTC+8): business days are its days.
PH_TIME = timezone(timedelta(hours=limits.BUSINESS_UTC_OFFSET_HOURS))


def business_date(ns: int) -> date:
    """The Philippine calendar day a moment falls on."""
    return datetime.fromtimestamp(ns // 10**9, PH_TIME).date()


def day_start_ns(day: date) -> int:
    """The first nanosecond of a Philippine day."""
    return int(datetime(day.year, day.month, day.day, tzinfo=PH_TIME).timestamp()) * 10**9


#: A run of holidays longer than this is a data error, not a calendar.
_MAX_SHIFT_DAYS = 31


def shift(day: date, holidays: Collection[date]) -> date:
    """``day``, or the first later day that is not a holiday."""
    moved = day
    while moved in holidays:
        moved += timedelta(days=1)
        if (moved - day).days > _MAX_SHIFT_DAYS:
            raise ValueError(f"more than {_MAX_SHIFT_DAYS} holidays in a row from {day}")
    return moved


def shifted(dates: Sequence[date], holidays: Collection[date]) -> list[date]:
    """Each date shifted; a date that lands on or before the previous one moves past it, so
    the dates still increase (two due dates can never fall on one day)."""
    result: list[date] = []
    for day in dates:
        moved = shift(day, holidays)
        while result and moved <= result[-1]:
            moved = shift(result[-1] + timedelta(days=1), holidays)
        result.append(moved)
    return result


def _last_monday_of_august(year: int) -> date:
    day = date(year, 8, 31)
    return day - timedelta(days=day.weekday())


def philippine_regular_holidays(year: int) -> dict[date, str]:
    sunday = easter(year)
    return {
        date(year, 1, 1): "New Year's Day",
        sunday - timedelta(days=3): "Maundy Thursday",
        sunday - timedelta(days=2): "Good Friday",
        date(year, 4, 9): "Araw ng Kagitingan",
        date(year, 5, 1): "Labor Day",
        date(year, 6, 12): "Independence Day",
        _last_monday_of_august(year): "National Heroes Day",
        date(year, 11, 30): "Bonifacio Day",
        date(year, 12, 25): "Christmas Day",
        date(year, 12, 30): "Rizal Day",
    }
