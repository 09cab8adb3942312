"""PESONet's batches: when a transfer made at some moment leaves, given the cut-offs.

PESONet is a batch ACH: banks send what they collected at fixed cut-offs, on banking days.
A transfer made at ``made_ns`` leaves at the first cut-off (``limits.PESONET_CUTOFF_MINUTES``,
Manila time) at or after it on a banking day — Monday to Friday and not a holiday of the
operator's calendar (the same holidays the loans' due dates follow). A transfer made after
Friday's last cut-off, or on the eve of a holiday, waits for the next banking day's first.

The clearing house's side (``settles_at``, the simulated switch): a batch that arrives
within ``limits.PESONET_SESSION_WINDOW_SECONDS`` after a cut-off belongs to that cut-off's
session and settles on arrival; any other arrival (before a cut-off, at night, on a weekend
or holiday) waits for the next cut-off on a banking day and settles then.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, timedelta, timezone

from tindahan import limits

PH_TIME = timezone(timedelta(hours=limits.BUSINESS_UTC_OFFSET_HOURS))
#: A month of days with no banking day in it does not exist; the search stops there.
_MAX_DAYS = 31


def banking_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def cutoff_after(made_ns: int, holidays: Collection[date]) -> int:
    """The first cut-off (ns since the epoch) at or after ``made_ns`` on a banking day."""
    made = datetime.fromtimestamp(made_ns / 10**9, UTC).astimezone(PH_TIME)
    day = made.date()
    for _ in range(_MAX_DAYS):
        if banking_day(day, holidays):
            for minute in limits.PESONET_CUTOFF_MINUTES:
                moment = datetime(day.year, day.month, day.day, tzinfo=PH_TIME) + timedelta(
                    minutes=minute
                )
                at_ns = int(moment.timestamp()) * 10**9
                if at_ns >= made_ns:
                    return at_ns
        day += timedelta(days=1)
    raise ValueError("no banking day within a month: check the holiday calendar")


def settles_at(arrived_ns: int, holidays: Collection[date]) -> int:
    """When the clearing house settles a PESONet transaction that arrived at ``arrived_ns``:
    at once within a session's window after a cut-off, else at the next cut-off."""
    window_ns = limits.PESONET_SESSION_WINDOW_SECONDS * 10**9
    session = cutoff_after(arrived_ns - window_ns, holidays)
    return arrived_ns if session <= arrived_ns else session
