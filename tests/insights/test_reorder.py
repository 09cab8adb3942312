"""Reorder arithmetic checked by hand against Poisson quantiles (no database)."""

from __future__ import annotations

import pytest
from scipy.stats import poisson

from tindahan.insights.errors import InsightsError
from tindahan.insights.reorder import advise


def test_a_steady_seller_with_little_stock_is_told_to_reorder() -> None:
    # 4 a day, 3 days' lead time: 12 expected; P(Poisson(12) ≤ 17) = 0.937, ≤ 18 = 0.963.
    assert poisson.cdf(17, 12) < 0.95 <= poisson.cdf(18, 12)
    # Over lead time + a week (10 days): 40 expected; the 95 % quantile is 51.
    assert poisson.cdf(50, 40) < 0.95 <= poisson.cdf(51, 40)
    advice = advise([4.0] * 14, stock=15, lead_time_days=3)
    assert advice.lead_time_demand == 12.0
    assert advice.reorder_point == 18 and advice.safety_stock == 6.0
    assert advice.order_up_to == 51
    assert advice.reorder_soon and advice.quantity == 51 - 15
    assert advice.days_of_cover == 3  # 4, 8, 12 ≤ 15 < 16


def test_enough_stock_means_no_reorder_yet() -> None:
    advice = advise([4.0] * 14, stock=30, lead_time_days=3)
    assert not advice.reorder_soon and advice.quantity == 0
    assert advice.days_of_cover == 7  # 28 ≤ 30 < 32


def test_at_the_reorder_point_exactly_it_reorders() -> None:
    assert advise([4.0] * 14, stock=18, lead_time_days=3).reorder_soon
    assert not advise([4.0] * 14, stock=19, lead_time_days=3).reorder_soon


def test_a_slow_item_and_no_demand() -> None:
    # 0.2 a day over 5 days: mean 1; P(≤ 2) = 0.920, P(≤ 3) = 0.981.
    slow = advise([0.2] * 12, stock=1, lead_time_days=5)
    assert slow.reorder_point == 3 and slow.reorder_soon
    none = advise([0.0] * 10, stock=0, lead_time_days=3)
    assert none.reorder_point == 0 and not none.reorder_soon and none.quantity == 0
    assert none.days_of_cover == 10


def test_a_payday_ahead_raises_the_point() -> None:
    flat = advise([4.0] * 14, stock=20, lead_time_days=3)
    payday = advise([4.0, 5.6, 5.6] + [4.0] * 11, stock=20, lead_time_days=3)
    assert payday.reorder_point > flat.reorder_point


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"stock": -1, "lead_time_days": 3}, "stock"),
        ({"stock": 1, "lead_time_days": -1}, "lead time"),
        ({"stock": 1, "lead_time_days": 3, "service_level": 1.0}, "service level"),
        ({"stock": 1, "lead_time_days": 10}, "covers 14 days"),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, float], words: str) -> None:
    with pytest.raises(InsightsError, match=words):
        advise([1.0] * 14, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InsightsError, match="finite"):
        advise([1.0, -1.0] * 7, stock=1, lead_time_days=3)
