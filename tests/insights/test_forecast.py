"""The demand model on simulated series with known patterns (weekly, payday, holidays,
Christmas): it recovers them and beats seasonal-naive; intermittent items and short
histories; the WAPE and seasonal-naive arithmetic checked by hand. No database."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tindahan.insights import evaluate, forecast, simulate
from tindahan.insights.days import Flags, is_christmas_season, is_payday
from tindahan.insights.sales import Panel

#: Two Christmases: the first is learnt from, the second's last fortnight is held out.
FIRST = date(2024, 1, 1)
DAYS = (date(2025, 12, 24) - FIRST).days + 1


@pytest.fixture(scope="module")
def two_years() -> Panel:
    return simulate.panel(400, DAYS, FIRST, seed=3)


@pytest.fixture(scope="module")
def held_out(two_years: Panel) -> evaluate.Evaluation:
    return evaluate.holdout(two_years, 14)


def test_the_calendar_flags() -> None:
    assert is_payday(date(2025, 3, 15)) and is_payday(date(2025, 3, 16))
    assert is_payday(date(2025, 3, 30)) and is_payday(date(2025, 3, 31))
    assert is_payday(date(2025, 4, 1)) and is_payday(date(2025, 2, 28))
    assert is_payday(date(2024, 2, 29)) and not is_payday(date(2024, 2, 28))
    assert not is_payday(date(2025, 3, 14)) and not is_payday(date(2025, 3, 17))
    assert is_christmas_season(date(2025, 12, 1)) and is_christmas_season(date(2025, 12, 24))
    assert not is_christmas_season(date(2025, 12, 25))
    assert not is_christmas_season(date(2025, 11, 30))
    flags = Flags(date(2025, 12, 24), 3)
    assert flags.holiday.tolist() == [False, True, False]  # Christmas Day
    assert flags.weekday.tolist() == [2, 3, 4]  # Wednesday, Thursday, Friday


def test_it_recovers_the_weekly_payday_holiday_and_christmas_patterns(
    held_out: evaluate.Evaluation,
) -> None:
    truth = np.array(simulate.WEEKDAY) / np.mean(simulate.WEEKDAY)
    assert np.abs(np.array(held_out.pooled_weekday) - truth).max() < 0.04
    assert held_out.pooled["payday"] == pytest.approx(1.4, abs=0.06)
    assert held_out.pooled["christmas"] == pytest.approx(1.6, abs=0.1)
    assert held_out.pooled["holiday"] == pytest.approx(0.7, abs=0.1)


def test_it_beats_seasonal_naive_over_christmas(held_out: evaluate.Evaluation) -> None:
    assert held_out.first_held_out == date(2025, 12, 11)
    assert held_out.wape is not None and held_out.wape_seasonal_naive is not None
    # Seasonal-naive carries one week's noise into the next; the model averages it away.
    assert held_out.wape < 0.8 * held_out.wape_seasonal_naive
    # Its total is near what was sold (Christmas and paydays forecast, not missed).
    total = float(held_out.predictions.sum())
    assert total == pytest.approx(held_out.held_out_units, rel=0.08)


def test_without_the_christmas_factor_it_does_worse(two_years: Panel) -> None:
    """The Christmas effect is used, not merely estimated: forecasting the same fortnight
    with the factor set to 1 under-forecasts by about its size."""
    history = two_years.days - 14
    fitted = forecast.fit(two_years.units[:, :history], two_years.start, two_years.first)
    with_it = fitted.predict(14).sum()
    fitted.effects["christmas"][:] = 1.0
    without = fitted.predict(14).sum()
    actual = two_years.units[:, history:].sum()
    assert abs(with_it - actual) < abs(without - actual) / 3


def test_a_store_with_no_december_yet_keeps_christmas_at_one() -> None:
    data = simulate.panel(50, 200, date(2025, 1, 1), seed=1)
    fitted = forecast.fit(data.units, data.start, data.first)
    assert fitted.pooled["christmas"] == 1.0
    assert np.all(fitted.effects["christmas"] == 1.0)


def test_slow_items_are_intermittent_and_their_rate_is_right() -> None:
    data = simulate.panel(300, 400, date(2024, 1, 1), seed=5, slow_share=1.0)
    history = 386
    fitted = forecast.fit(data.units[:, :history], data.start, data.first)
    assert fitted.intermittent.mean() > 0.9
    # Summed over many slow items the forecast matches what they sold (±10 %).
    predicted = fitted.predict(14).sum()
    assert predicted == pytest.approx(data.units[:, history:].sum(), rel=0.1)


def test_an_item_that_stopped_selling_fades_unlike_croston() -> None:
    """TSB: after 60 dry days the probability of a sale has decayed; Croston would still
    forecast the old rate."""
    units = np.zeros((1, 200))
    units[0, :140:3] = 2.0  # every third day, then nothing for 60 days
    fitted = forecast.fit(units, np.zeros(1, np.int64), date(2025, 1, 1))
    old_rate = 2.0 / 3
    assert fitted.rate[0] < 0.1 * old_rate
    assert fitted.intermittent[0]


def test_one_day_of_history_falls_back_to_its_mean_and_says_so() -> None:
    data = simulate.panel(20, 120, date(2025, 1, 1), seed=2)
    units = data.units.copy()
    start = data.start.copy()
    units[0, :105] = 0.0
    units[0, 105] = 6.0  # one day before the 14 held out
    start[0] = 105
    panel = Panel(data.keys, data.first, units, start)
    result = evaluate.holdout(panel, 14)
    assert result.fallback_series == 1
    assert np.allclose(result.predictions[0], 6.0)
    assert any("fewer than 14 days" in note for note in result.notes)


def test_a_series_born_in_the_holdout_is_forecast_zero_from_its_first_day() -> None:
    units = np.zeros((2, 30))
    units[0] = 3.0
    units[1, 25:] = 1.0
    panel = Panel([("m", "a"), ("m", "b")], date(2025, 5, 5), units, np.array([0, 25]))
    result = evaluate.holdout(panel, 7)
    assert result.held_out.sum() == 7 + 5
    assert result.held_out[1].tolist() == [False, False, True, True, True, True, True]
    assert np.all(result.predictions[1] == 0.0)


def test_seasonal_naive_repeats_the_last_week_by_hand() -> None:
    units = np.array([[float(d) for d in range(1, 11)]])  # days 0..9 sold 1..10
    naive = evaluate.seasonal_naive(units, np.array([0]), 9)
    # Day 10 takes day 3 (a week before), … day 16 takes day 9, day 17 takes day 3 again.
    assert naive[0].tolist() == [4, 5, 6, 7, 8, 9, 10, 4, 5]
    # A series younger than a week: its mean where the week before is missing.
    late = evaluate.seasonal_naive(units, np.array([6]), 3)
    assert late[0].tolist() == [8.5, 8.5, 8.5]


def test_wape_by_hand() -> None:
    actual = np.array([[10.0, 0.0], [5.0, 5.0]])
    predicted = np.array([[8.0, 1.0], [5.0, 8.0]])
    assert evaluate.wape(actual, predicted) == pytest.approx((2 + 1 + 0 + 3) / 20)
    assert evaluate.wape(np.zeros((1, 2)), predicted[:1]) is None


def test_the_forecast_benchmark_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    from tindahan.bench import forecast as bench

    assert bench.main(["--products", "40", "--days", "120", "--runs", "1", "--json"]) == 0
    import json

    found = json.loads(capsys.readouterr().out)
    assert found["products"] == 40 and found["products_per_second"] > 0
    assert found["wape"] < found["wape_seasonal_naive"]
