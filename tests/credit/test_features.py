"""Merchant features: hand-worked values, no leakage from after the as-of date, batch equals
one-by-one, and the reasons in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.credit import events as ev
from tindahan.credit import features as F

D = F.DAY_NS
T0 = 1_700_000_000 * 10**9
AS_OF = T0 + 200 * D


def _events(rows: dict[str, list[tuple]]) -> ev.Events:
    return ev.build(**{name: ev.frame(name, data) for name, data in rows.items()})


def _shop() -> dict[str, list[tuple]]:
    """m1: 200 days old; sells ₱10 to b0 and ₱20 to b1/b2 every day (b1 and b2 alternate);
    a refund, a dispute, a cash-out, a loan installment paid late."""
    sales, postings = [], []
    for day in range(200):
        at = T0 + day * D + 3600 * 10**9
        other = "b1" if day % 2 else "b2"
        for buyer, amount in (("b0", 1_000), (other, 2_000)):
            sales.append(("m1", buyer, at, amount, "qr"))
            postings.append(("m1", at, amount))
    refunds = [("m1", AS_OF - 10 * D, 3_000)]
    postings.append(("m1", AS_OF - 10 * D, -3_000))
    cash = [("m1", AS_OF - 5 * D, 50_000)]
    postings.append(("m1", AS_OF - 5 * D, -50_000))
    return {
        "merchants": [("m1", T0, "Cebu", "5411")],
        "sales": sales,
        "refunds": refunds,
        "disputes": [],
        "cash_outs": cash,
        "postings": postings,
        "installments": [("m1", AS_OF - 40 * D, AS_OF - 28 * D, 10_000)],
    }


def test_hand_worked_values():
    row = F.compute(_events(_shop()), AS_OF).iloc[0]
    assert row["tenure_days"] == 200
    # The sale at 01:00 on day 110 is 89 days 23 hours before as-of: inside the window.
    assert row["sales_count_90d"] == 180
    assert row["sales_month_avg"] == pytest.approx(90 * 3_000 / 3)
    assert row["sales_trend"] == pytest.approx(0.0)  # (sales 90-180 days ago are the same)
    assert row["active_day_share"] == pytest.approx(1.0)
    assert row["distinct_buyers_90d"] == 3
    assert row["repeat_buyer_share"] == pytest.approx(1.0)
    assert row["avg_ticket"] == pytest.approx(1_500)
    assert row["refund_rate"] == pytest.approx(3_000 / (180 * 3_000))
    assert row["cash_out_share"] == pytest.approx(50_000 / (90 * 3_000))
    assert row["sales_volatility"] == pytest.approx(0.0)
    assert row["sales_momentum"] == pytest.approx(1.0)  # the last 30 days sold as the 90
    assert row["balance_cover_days"] == pytest.approx(row["balance_avg"] / 3_000)
    assert row["balance_min_cover_days"] == pytest.approx(row["balance_min"] / 3_000)
    assert row["loan_on_time_share"] == 0.0
    assert row["loan_worst_dpd"] == 12
    # Balance: 110 days of ₱30 before the window, then +₱30 a day, -₱30 and -₱500.
    assert row["balance_min"] == pytest.approx(110 * 3_000 + 3_000)
    assert row["balance_avg"] > row["balance_min"]


def test_young_merchant_has_missing_comparisons_not_zeros():
    rows = _shop()
    rows["merchants"] = [("m1", AS_OF - 40 * D, "Cebu", "5411")]
    row = F.compute(_events(rows), AS_OF).iloc[0]
    assert row["tenure_days"] == 40
    assert np.isnan(row["sales_trend"])
    assert np.isnan(row["sales_volatility"])  # one whole month only
    assert F.insufficient(row)[0].startswith("on Tindahan for 40 days")


def test_merchant_opened_after_as_of_is_not_a_row():
    rows = _shop()
    rows["merchants"].append(("m2", AS_OF + D, "Leyte", "5812"))
    frame = F.compute(_events(rows), AS_OF)
    assert list(frame["merchant_id"]) == ["m1"]


def test_no_history_is_insufficient_with_reasons():
    rows = {"merchants": [("m0", AS_OF - 100 * D, "Iloilo", "5411")]}
    row = F.compute(_events(rows), AS_OF).iloc[0]
    assert row["sales_count_90d"] == 0
    reasons = F.insufficient(row)
    assert reasons == ["0 sales in the last 90 days; a score needs at least 10"]
    assert row["balance_min"] == 0 and row["balance_avg"] == 0


later_events = st.lists(
    st.tuples(
        st.sampled_from(["sales", "refunds", "disputes", "cash_outs", "postings", "installments"]),
        st.integers(0, 400 * D),
        st.integers(1, 10**7),
        st.sampled_from(["m1", "m2"]),
    ),
    max_size=30,
)


def _add(rows: dict[str, list[tuple]], extra: list[tuple]) -> dict[str, list[tuple]]:
    grown = {name: list(data) for name, data in rows.items()}
    for name, offset, amount, merchant in extra:
        at = AS_OF + offset  # at or after as-of: information from the future
        row = {
            "sales": (merchant, f"x{amount % 7}", at, amount, "order"),
            "refunds": (merchant, at, amount),
            "disputes": (merchant, at),
            "cash_outs": (merchant, at, amount),
            "postings": (merchant, at, -amount),
            "installments": (merchant, at, -1, amount),
        }[name]
        grown[name].append(row)
    return grown


@settings(max_examples=examples(40), deadline=None)
@given(later_events)
def test_no_leakage_events_at_or_after_as_of_change_nothing(extra):
    rows = _shop()
    rows["merchants"].append(("m2", T0 + 20 * D, "Leyte", "5812"))
    before = F.compute(_events(rows), AS_OF)
    after = F.compute(_events(_add(rows, extra)), AS_OF)
    pd.testing.assert_frame_equal(before, after)


def test_no_leakage_detects_a_change_before_as_of():
    """The leakage test's contrast: one sale a nanosecond before as-of does change things."""
    rows = _shop()
    base = F.compute(_events(rows), AS_OF)
    rows["sales"].append(("m1", "b9", AS_OF - 1, 5_000, "qr"))
    changed = F.compute(_events(rows), AS_OF)
    assert changed["sales_count_90d"].iloc[0] == base["sales_count_90d"].iloc[0] + 1
    assert changed["distinct_buyers_90d"].iloc[0] == 4


def test_batch_equals_one_by_one():
    rng = np.random.default_rng(7)
    merchants, sales, postings = [], [], []
    for m in range(30):
        mid = f"m{m}"
        opened = T0 + int(rng.integers(0, 150)) * D
        merchants.append((mid, opened, "Cebu", "5411"))
        for _ in range(int(rng.integers(0, 300))):
            at = opened + int(rng.integers(0, AS_OF + 30 * D - opened))
            amount = int(rng.integers(100, 50_000))
            sales.append((mid, f"b{rng.integers(40)}", at, amount, "qr"))
            postings.append((mid, at, amount))
    rows = {"merchants": merchants, "sales": sales, "postings": postings}
    batch = F.compute(_events(rows), AS_OF).set_index("merchant_id")
    for mid, *_ in merchants[:8]:
        alone = {
            "merchants": [r for r in merchants if r[0] == mid],
            "sales": [r for r in sales if r[0] == mid],
            "postings": [r for r in postings if r[0] == mid],
        }
        one = F.compute(_events(alone), AS_OF).set_index("merchant_id")
        pd.testing.assert_frame_equal(batch.loc[[mid]], one, check_dtype=False)


@pytest.mark.parametrize(
    ("feature", "value", "text"),
    [
        ("sales_trend", -0.4, "sales in the last 3 months fell by 40% from the 3 months before"),
        ("sales_month_avg", 1_234_550.0, "sales average ₱12,345.50 a month over the last 3 months"),
        ("refund_rate", 0.08, "refunds were 8% of sales in the last 6 months"),
        ("distinct_buyers_90d", 12.0, "only 12 different buyers in the last 3 months"),
        ("sales_trend", float("nan"), "no sales history from 3 to 6 months ago to compare with"),
        ("loan_worst_dpd", 12.0, "a loan installment was paid 12 days late"),
        ("sales_momentum", 0.6, "sales in the last 30 days were 40% below the 3-month average"),
        (
            "balance_cover_days",
            1.2,
            "the wallet held on average only 1 day of sales in the last 3 months",
        ),
    ],
)
def test_reasons_in_words(feature, value, text):
    assert F.describe(feature, value) == text


def test_every_feature_has_words_and_a_direction():
    for name in F.FEATURES:
        assert name in F.DIRECTIONS
        assert name.replace("_", " ") not in F.describe(name, 1.0)
