"""The calendar and the traffic a parcel leaves into: what slows a courier in the Philippines.

All times are Philippine time (UTC+8, ``lending.calendar.PH_TIME``). The rules, decided here
from the MMDA's published schemes and what couriers say of their peaks:

* **Rush hours** in Metro Manila: weekdays 06:00-10:00 and 16:00-21:00 (the MMDA's own
  count of EDSA's peaks, the evening one longer).
* **Number coding** (the MMDA's Unified Vehicular Volume Reduction Program): on weekdays
  that are not holidays, 07:00-10:00 and 17:00-20:00, a vehicle whose plate ends in 1-2
  (Monday), 3-4 (Tuesday), 5-6 (Wednesday), 7-8 (Thursday) or 9-0 (Friday) stays off the
  roads: a courier's fleet is a fifth short in those hours.
* **Paydays**: the 15th and the 30th (the last day in February), and the day after each,
  when orders and traffic rise.
* **The Christmas season**: 1 December to 6 January (Three Kings), the year's peak.
* **Holidays**: the operator's calendar (the lending one, ``/v1/loan_holidays``); a courier
  does not deliver on one, nor on Sunday outside Metro Manila.
* **Typhoon advisories**: days the operator marks a province (or an independent city, or
  NCR) under a storm signal; parcels to or from it wait.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tindahan.lending.calendar import PH_TIME

#: (start hour, end hour) pairs, end excluded.
RUSH_HOURS = ((6, 10), (16, 21))
CODING_HOURS = ((7, 10), (17, 20))
CHRISTMAS_START = (12, 1)
CHRISTMAS_END = (1, 6)
#: How many days ahead of a pickup a holiday or a typhoon advisory still slows a parcel.
LOOKAHEAD_DAYS = 3


def local(moment: datetime) -> datetime:
    """``moment`` in Philippine time (an aware datetime)."""
    return moment.astimezone(PH_TIME)


def _in(hour: int, spans: tuple[tuple[int, int], ...]) -> bool:
    return any(start <= hour < end for start, end in spans)


def is_rush_hour(moment: datetime) -> bool:
    at = local(moment)
    return at.weekday() < 5 and _in(at.hour, RUSH_HOURS)


def is_coding(moment: datetime, holidays: Collection[date] = ()) -> bool:
    at = local(moment)
    return at.weekday() < 5 and at.date() not in holidays and _in(at.hour, CODING_HOURS)


def _last_day(day: date) -> int:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - timedelta(days=1)).day


def is_payday(day: date) -> bool:
    """The 15th, the 30th (the last day of a shorter month), or the day after either."""
    end = min(30, _last_day(day))
    before = day - timedelta(days=1)
    before_end = min(30, _last_day(before))
    return day.day in (15, end) or before.day in (15, before_end)


def is_christmas_season(day: date) -> bool:
    return (day.month, day.day) >= CHRISTMAS_START or (day.month, day.day) <= CHRISTMAS_END


def holidays_ahead(day: date, holidays: Collection[date], days: int = LOOKAHEAD_DAYS) -> int:
    """How many of the ``days`` days from ``day`` on are holidays."""
    return sum(1 for i in range(days) if day + timedelta(days=i) in holidays)


@dataclass(frozen=True, slots=True)
class Advisories:
    """Typhoon advisories the operator set: province (or independent city, or NCR's region)
    code → the days under a storm signal."""

    days: Mapping[str, frozenset[date]]

    def ahead(self, area: str, day: date, days: int = LOOKAHEAD_DAYS) -> int:
        marked = self.days.get(area)
        if not marked:
            return 0
        return sum(1 for i in range(days) if day + timedelta(days=i) in marked)


NO_ADVISORIES = Advisories({})


def ordinary_week(after: date, holidays: Collection[date] = ()) -> date:
    """The Monday of the first week from ``after`` on with no payday, no Christmas season
    and no holiday in it (nor in the days its last pickups look ahead to): the week the
    traffic picture is drawn for, so that what it shows is the hours and weekdays alone."""
    monday = after + timedelta(days=(7 - after.weekday()) % 7)
    while True:
        days = [monday + timedelta(days=i) for i in range(7 + LOOKAHEAD_DAYS)]
        if not any(is_payday(d) or is_christmas_season(d) or d in holidays for d in days):
            return monday
        monday += timedelta(days=7)
