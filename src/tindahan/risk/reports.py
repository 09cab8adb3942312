"""Covered and suspicious transaction reports: the rows, and the deadline to file them.

The AMLC takes covered transaction reports (CTR) and suspicious transaction reports (STR)
through its reporting portal; Tindahan exports one CSV row per transaction, in the layout
``COLUMNS``, for the compliance officer to file. Which fields follow the AMLC's published
reporting guidelines and which are Tindahan's assumptions is said in the README.

Deadlines: AMLA §9(c) as amended — reports within five *working* days
(``limits.RISK_REPORT_WORKING_DAYS``) from the transaction (CTR) or from when the
transaction was found suspicious (STR: the alert's day). A working day is Monday to Friday
and not a holiday: the regular holidays of RA 9492 (``lending.calendar``) and the ones the
operator keeps. Verify the count against the AMLC's current guidelines before relying on it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from tindahan import limits

COLUMNS = (
    "report_type",
    "transaction_ref",
    "transaction_date",
    "transaction_time_utc",
    "transaction_kind",
    "amount",
    "currency",
    "subject_ref",
    "counterparty_ref",
    "rule",
    "rule_version",
    "reason",
    "deadline",
)
CTR, STR = "CTR", "STR"


def is_working_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def deadline(
    day: date, holidays: Collection[date], working_days: int = limits.RISK_REPORT_WORKING_DAYS
) -> date:
    """The last day to file: ``working_days`` working days after ``day`` (the day itself
    not counted, whatever it is)."""
    moved, left = day, working_days
    while left:
        moved += timedelta(days=1)
        if is_working_day(moved, holidays):
            left -= 1
    return moved


def pesos(amount_minor: int) -> str:
    """Centavos as a decimal string with two places (integer arithmetic, no rounding)."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole}.{cents:02d}"
