"""Loan fit by hand (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tindahan.insights.errors import InsightsError
from tindahan.insights.loan_fit import fit


def test_weekly_installments_against_the_usual_week() -> None:
    # 90 days: the last 84 make 12 weeks; the first 6 days are left out.
    days = [999_999] * 6 + [10_000] * 84  # ₱100 a day: ₱700 a week
    found = fit(days, 23_300, "weekly")
    assert found.periods == 12 and found.usual_sales_minor == 70_000
    # 70,000 / 23,300 = 3.004… → 3.0, rounded down: comfortable.
    assert found.cover == Decimal("3.0") and found.level == "comfortable"
    assert fit(days, 23_400, "weekly").level == "fits"  # 2.99… → 2.9
    assert fit(days, 46_700, "weekly").cover == Decimal("1.4")  # 1.4989…: tight
    assert fit(days, 46_700, "weekly").level == "tight"


def test_the_median_week_not_a_record_one() -> None:
    weeks = [50_000] * 5 + [500_000] * 2  # two record weeks do not move the median
    days = [w // 7 for w in weeks for _ in range(7)]
    found = fit(days, 10_000, "weekly")
    assert found.usual_sales_minor == 7 * (50_000 // 7)
    assert found.cover == Decimal("4.9")


def test_monthly_and_nothing_to_compare() -> None:
    assert fit([1_000] * 90, 10_000, "monthly").cover == Decimal("3.0")
    assert fit([1_000] * 20, 10_000, "monthly").level == "unknown"
    assert fit([0] * 90, 10_000, "weekly").level == "unknown"
    one_sale = [0] * 89 + [50_000]  # one week of twelve sold: the usual week sold nothing
    assert fit(one_sale, 10_000, "weekly").level == "rarely"
    with pytest.raises(InsightsError):
        fit([1_000] * 90, 0, "weekly")
    with pytest.raises(InsightsError):
        fit([1_000] * 90, 1_000, "yearly")
