"""Which day and month a payment counts towards, for the daily and monthly limits.

Limits reset at midnight in the Philippines, not UTC: a buyer paying at 7 a.m. Manila time
is in "today" as they know it. Philippine Standard Time is UTC+8 all year (no daylight
saving since 1978), so a fixed offset is exact and needs no tz database.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

PHILIPPINE_TIME = timezone(timedelta(hours=8), "PST")


def local_time(now_ns: int) -> datetime:
    return datetime.fromtimestamp(now_ns // 10**9, UTC).astimezone(PHILIPPINE_TIME)


def day_key(now_ns: int) -> str:
    """``D2026-11-29``: the Manila calendar day."""
    return "D" + local_time(now_ns).strftime("%Y-%m-%d")


def month_key(now_ns: int) -> str:
    """``M2026-11``: the Manila calendar month."""
    return "M" + local_time(now_ns).strftime("%Y-%m")
