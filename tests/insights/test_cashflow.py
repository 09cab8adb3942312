"""The 30-day cash-flow outlook's rules by hand (issue 26, item 3), no database."""

from __future__ import annotations

from datetime import date, timedelta

from tindahan.insights import cashflow
from tindahan.insights.cashflow import Outflow

TODAY = date(2025, 11, 20)


def _every(key: str, first: date, gap: int, n: int, amount: int) -> list[Outflow]:
    return [Outflow(first + timedelta(days=gap * i), key, amount) for i in range(n)]


def test_regular_outflows_are_found_and_irregular_ones_are_not():
    rent = _every("p2p:landlord", date(2025, 8, 20), 30, 4, 300_000)  # 8/20 … 11/17
    weekly = _every("merchant:supplier", date(2025, 10, 1), 7, 7, 150_000)
    # A weekly supplier once two days late (within a quarter of 7 days, rounded down: 1) fails.
    odd = [*_every("cash_out:agent", date(2025, 10, 1), 7, 3, 50_000),
           Outflow(date(2025, 10, 24), "cash_out:agent", 50_000)]  # fmt: skip
    stopped = _every("payout:bank", date(2025, 7, 1), 7, 5, 80_000)  # last 7/29
    twice = _every("p2p:cousin", date(2025, 11, 1), 7, 2, 10_000)
    found = cashflow.recurring([*rent, *weekly, *odd, *stopped, *twice], TODAY)
    assert [(r.key, r.every_days, r.amount_minor) for r in found] == [
        ("merchant:supplier", 7, 150_000),  # ₱1,500 a week is more a month than ₱3,000 rent
        ("p2p:landlord", 30, 300_000),
    ]
    supplier = found[0]
    assert supplier.last == date(2025, 11, 12) and supplier.occurrences == 7
    assert supplier.due(TODAY, TODAY + timedelta(days=29)) == [
        date(2025, 11, 26), date(2025, 12, 3), date(2025, 12, 10), date(2025, 12, 17),
    ]  # fmt: skip


def test_amounts_take_the_larger_middle_and_same_day_outflows_add_up():
    flows = [
        Outflow(date(2025, 10, 1), "p2p:x", 100),
        Outflow(date(2025, 10, 1), "p2p:x", 50),  # same day: 150
        Outflow(date(2025, 10, 8), "p2p:x", 200),
        Outflow(date(2025, 10, 15), "p2p:x", 120),
        Outflow(date(2025, 10, 22), "p2p:x", 300),
        Outflow(date(2025, 11, 20), "p2p:y", 999),  # today: not history yet
    ]
    (found,) = cashflow.recurring(flows, date(2025, 10, 30))
    assert found.amount_minor == 200  # of 120, 150, 200, 300 the larger middle


def test_expected_sales_round_down_each_day():
    assert cashflow.expected_sales([2.5, 0.0, 1 / 3, -0.0], 34_833) == [87_082, 0, 11_610, 0]


def test_the_outlook_by_hand():
    rent = cashflow.Recurring("p2p:landlord", 30, 300_000, date(2025, 11, 1), 4)
    owed = [(date(2025, 11, 18), 5_000), (date(2025, 11, 25), 40_000), (date(2026, 1, 5), 1)]
    found = cashflow.outlook(TODAY, [10_000] * 30, owed, [rent])
    assert found.days[0].installments_minor == 5_000  # overdue: counted today
    assert found.days[5].installments_minor == 40_000  # 25 November
    assert found.days[11].cash_outs_minor == 300_000  # 1 December
    assert (found.sales_minor, found.installments_minor, found.cash_outs_minor) == (
        300_000, 45_000, 300_000,
    )  # fmt: skip
    assert found.net_minor == 300_000 - 45_000 - 300_000
    # Running: +5,000 today, … the rent on day 12 takes it to 120,000 − 300,000 − 40,000 + …
    running = 0
    low = (TODAY, 0)
    for d in found.days:
        running += d.net_minor
        if running < low[1]:
            low = (d.day, running)
    assert found.lowest() == low and low[0] == date(2025, 12, 1)
    quiet = cashflow.outlook(TODAY, [10_000] * 30, [], [])
    assert quiet.lowest() is None and quiet.net_minor == 300_000
