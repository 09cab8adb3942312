"""Report deadlines on working days, and the CTR/STR rows from stored alerts."""

from __future__ import annotations

from datetime import date

import pytest

from tindahan.risk import reports


@pytest.mark.parametrize(
    ("day", "holidays", "expected"),
    [
        (date(2026, 12, 1), set(), date(2026, 12, 8)),  # Tuesday → next Tuesday
        (date(2026, 12, 5), set(), date(2026, 12, 11)),  # Saturday → Friday
        (date(2026, 12, 21), {date(2026, 12, 24), date(2026, 12, 25)}, date(2026, 12, 30)),
        (date(2026, 12, 25), {date(2026, 12, 30), date(2026, 12, 31)}, date(2027, 1, 5)),
    ],
)
def test_the_deadline_counts_working_days(day: date, holidays: set[date], expected: date) -> None:
    assert reports.deadline(day, holidays) == expected


@pytest.mark.parametrize(
    ("minor", "text"), [(0, "0.00"), (5, "0.05"), (50_000_001, "500000.01"), (-250, "-2.50")]
)
def test_pesos_without_rounding(minor: int, text: str) -> None:
    assert reports.pesos(minor) == text
