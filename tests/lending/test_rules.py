"""The small rules around a schedule: due dates and day counts (``terms``), holidays
(``calendar``), the small-loan ceilings (``caps``), which part of a loan a payment settles
(``allocation``), interest earned to a day (``accrual``), and days past due, buckets, PAR and
penalties (``delinquency``).

Sources: BSP Circular No. 1133 (2021) for the ceilings on loans of at most ₱10,000 within
four months, SEC Memorandum Circular No. 14 (2025) for the 12% EIR ceiling (in force here
from 1 April 2026, the date the project was given); RA 9492 for the regular holidays; the
CGAP/MIX definition of PAR (outstanding principal of loans more than k days late).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.lending import accrual, allocation, caps, delinquency
from tindahan.lending import calendar as cal
from tindahan.lending.allocation import Owed, Part
from tindahan.lending.disclosure import disclose
from tindahan.lending.terms import (
    DayCount,
    Frequency,
    Method,
    add_months,
    due_dates,
    months_between,
    parse_percent,
    periodic_rate,
)

# --- terms: due dates -----------------------------------------------------------------------


def test_monthly_due_dates_clamp_to_the_month_end_and_count_from_the_start():
    # 31 January → 28 February (2026 is no leap year) → 31 March, never 28 March.
    assert due_dates(date(2026, 1, 31), Frequency.MONTHLY, 4) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
    ]
    # a leap year's February, and across the new year
    assert due_dates(date(2027, 11, 30), Frequency.MONTHLY, 4) == [
        date(2027, 12, 30),
        date(2028, 1, 30),
        date(2028, 2, 29),
        date(2028, 3, 30),
    ]
    assert add_months(date(2026, 12, 31), 14) == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("frequency", "step"),
    [(Frequency.DAILY, 1), (Frequency.WEEKLY, 7), (Frequency.BIWEEKLY, 14)],
)
def test_fixed_step_due_dates(frequency, step):
    start = date(2026, 2, 27)
    dates = due_dates(start, frequency, 5)
    assert dates == [start + timedelta(days=step * k) for k in range(1, 6)]


@settings(max_examples=examples(200), deadline=None)
@given(st.dates(date(1990, 1, 1), date(2090, 12, 31)), st.integers(1, 60))
def test_monthly_due_dates_strictly_increase_and_keep_the_day(start, n):
    dates = due_dates(start, Frequency.MONTHLY, n)
    assert all(a < b for a, b in zip([start, *dates], dates, strict=False))
    for k, due in enumerate(dates, start=1):
        months = (due.year - start.year) * 12 + due.month - start.month
        assert months == k
        assert due.day == start.day or (due.day < start.day and (due + timedelta(1)).day == 1)


def test_periodic_rate_by_day_count():
    six = D("0.06")
    # 30/360: a day is 1/30 of the monthly rate (the BSP's "6% a month, about 0.2% a day")
    assert periodic_rate(six, Frequency.DAILY, DayCount.THIRTY_360) == D("0.002")
    assert periodic_rate(six, Frequency.WEEKLY, DayCount.THIRTY_360) == D("0.014")
    assert periodic_rate(six, Frequency.BIWEEKLY, DayCount.THIRTY_360) == D("0.028")
    assert periodic_rate(six, Frequency.MONTHLY, DayCount.THIRTY_360) == six
    # actual/365: a day is 12/365 of it, a week 84/365; a month stays the monthly rate
    assert periodic_rate(six, Frequency.DAILY, DayCount.ACTUAL_365) == pytest.approx(
        D("0.72") / 365, abs=D("1e-26")
    )
    assert periodic_rate(six, Frequency.WEEKLY, DayCount.ACTUAL_365) == pytest.approx(
        D("5.04") / 365, abs=D("1e-26")
    )
    assert periodic_rate(six, Frequency.MONTHLY, DayCount.ACTUAL_365) == six


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(0, 100_000).map(lambda k: D(k) / 10**6))
def test_actual_365_keeps_a_monthly_rate_monthly(monthly):
    assert periodic_rate(monthly, Frequency.MONTHLY, DayCount.ACTUAL_365) == monthly


def test_months_between():
    assert months_between(date(2026, 1, 15), date(2026, 5, 15)) == 4
    assert months_between(date(2026, 1, 31), date(2026, 5, 31)) == 4
    assert months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1  # clamped: one month
    assert months_between(date(2026, 1, 15), date(2026, 5, 16)) == 4 + D(1) / 30
    assert months_between(date(2026, 1, 31), date(2026, 3, 1)) == 1 + D(1) / 30
    assert months_between(date(2026, 1, 15), date(2026, 1, 15)) == 0


# --- terms: percentages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fraction"),
    [
        ("6", D("0.06")),
        ("3.5", D("0.035")),
        ("0", D(0)),
        ("100", D(1)),
        ("1.2345", D("0.012345")),
        (" 6 ", D("0.06")),
        ("006", D("0.06")),
    ],
)
def test_percentages_are_fractions(text, fraction):
    assert parse_percent(text, "--rate", D(100)) == fraction


@pytest.mark.parametrize(
    "text",
    [
        "5e1",  # exponent
        "-1",  # sign
        "+1",
        "６",  # full-width digit six
        "٦",  # Arabic-Indic six
        "1.23456",  # five places
        " ",
        "",
        "101",  # above the maximum
        "100.0001",
        "1000",
        "1,5",
        "1_0",
        "6%",
        ".5",
        "5.",
        "NaN",
        "Infinity",
        "0x10",
    ],
)
def test_bad_percentages_are_refused(text):
    with pytest.raises(RefusalError) as caught:
        parse_percent(text, "--rate", D(100))
    assert caught.value.code == "rate_invalid"
    assert caught.value.param == "--rate"
    assert "--rate" in caught.value.message


def test_the_maximum_is_named():
    with pytest.raises(RefusalError, match="at most 10%"):
        parse_percent("10.5", "rate", D(10))
    assert parse_percent("10", "rate", D(10)) == D("0.1")


# --- calendar -------------------------------------------------------------------------------

HOLIDAYS_2026 = cal.philippine_regular_holidays(2026)


def test_philippine_regular_holidays_2026():
    # Easter 2026 is 5 April: Maundy Thursday 2 April, Good Friday 3 April; the last Monday of
    # August 2026 is the 31st.
    assert HOLIDAYS_2026[date(2026, 4, 2)] == "Maundy Thursday"
    assert HOLIDAYS_2026[date(2026, 4, 3)] == "Good Friday"
    assert HOLIDAYS_2026[date(2026, 8, 31)] == "National Heroes Day"
    assert date(2026, 8, 31).weekday() == 0
    assert sorted(HOLIDAYS_2026) == [
        date(2026, 1, 1),
        date(2026, 4, 2),
        date(2026, 4, 3),
        date(2026, 4, 9),
        date(2026, 5, 1),
        date(2026, 6, 12),
        date(2026, 8, 31),
        date(2026, 11, 30),
        date(2026, 12, 25),
        date(2026, 12, 30),
    ]
    # Sundays are not holidays: a sari-sari store trades on Sundays
    assert date(2026, 4, 5) not in HOLIDAYS_2026


@pytest.mark.parametrize(
    ("year", "heroes", "good_friday"),
    [(2025, date(2025, 8, 25), date(2025, 4, 18)), (2027, date(2027, 8, 30), date(2027, 3, 26))],
)
def test_moving_holidays_in_other_years(year, heroes, good_friday):
    days = cal.philippine_regular_holidays(year)
    assert days[heroes] == "National Heroes Day"
    assert days[good_friday] == "Good Friday"


def test_shift_moves_a_holiday_due_date_to_the_next_working_day():
    # Maundy Thursday and Good Friday: a due date on 2 April moves to Saturday 4 April.
    assert cal.shift(date(2026, 4, 2), HOLIDAYS_2026) == date(2026, 4, 4)
    assert cal.shift(date(2026, 4, 3), HOLIDAYS_2026) == date(2026, 4, 4)
    assert cal.shift(date(2026, 4, 4), HOLIDAYS_2026) == date(2026, 4, 4)
    assert cal.shift(date(2026, 8, 31), HOLIDAYS_2026) == date(2026, 9, 1)
    assert cal.shift(date(2026, 12, 30), HOLIDAYS_2026) == date(2026, 12, 31)


def test_shifted_dates_still_increase():
    # A daily loan from 1 April: due 2, 3, 4, 5 April; the first two are holidays.
    dates = due_dates(date(2026, 4, 1), Frequency.DAILY, 4)
    assert cal.shifted(dates, HOLIDAYS_2026) == [
        date(2026, 4, 4),
        date(2026, 4, 5),
        date(2026, 4, 6),
        date(2026, 4, 7),
    ]
    assert cal.shifted([], HOLIDAYS_2026) == []


def test_a_month_of_holidays_in_a_row_is_a_data_error():
    start = date(2026, 7, 1)
    everything = {start + timedelta(days=k) for k in range(40)}
    with pytest.raises(ValueError, match="holidays in a row"):
        cal.shift(start, everything)
    thirty = {start + timedelta(days=k) for k in range(31)}
    assert cal.shift(start, thirty) == start + timedelta(days=31)


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(st.integers(1, 20), min_size=1, max_size=30),
    st.sets(st.integers(0, 400), max_size=60),
)
def test_shifted_is_strictly_increasing_and_never_on_a_holiday(gaps, offsets):
    start = date(2026, 1, 1)
    dates, day = [], start
    for gap in gaps:
        day += timedelta(days=gap)
        dates.append(day)
    holidays = {start + timedelta(days=k) for k in offsets}
    moved = cal.shifted(dates, holidays)
    assert all(a < b for a, b in pairwise(moved))
    assert all(m not in holidays and m >= d for m, d in zip(moved, dates, strict=True))


def test_a_holiday_moves_the_date_but_not_the_amounts():
    start = date(2026, 3, 2)
    dates = due_dates(start, Frequency.MONTHLY, 6)  # 2 April is Maundy Thursday
    moved = cal.shifted(dates, HOLIDAYS_2026)
    assert moved[0] == date(2026, 4, 4) and moved[1:] == dates[1:]
    plain = disclose(
        1_000_000, D("0.02"), Frequency.MONTHLY, Method.EQUAL_INSTALLMENT, start, term=6
    )
    shifted = disclose(
        1_000_000, D("0.02"), Frequency.MONTHLY, Method.EQUAL_INSTALLMENT, start, dates=moved
    )
    amounts = [(i.principal_minor, i.interest_minor) for i in plain.schedule]
    assert [(i.principal_minor, i.interest_minor) for i in shifted.schedule] == amounts
    assert shifted.eir_per_period == plain.eir_per_period


def test_the_business_day_is_the_philippine_one():
    # Midnight in Manila is 16:00 UTC the day before.
    manila_midnight = datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    ns = int(manila_midnight.timestamp()) * 10**9
    assert cal.business_date(ns) == date(2026, 1, 1)
    assert cal.business_date(ns - 1) == date(2025, 12, 31)
    assert cal.day_start_ns(date(2026, 1, 1)) == ns


# --- caps -----------------------------------------------------------------------------------

JAN = date(2026, 1, 15)


def test_covered_loans_are_at_most_10000_pesos_and_4_months():
    assert caps.covered(1_000_000, JAN, date(2026, 5, 15))
    assert not caps.covered(1_000_001, JAN, date(2026, 5, 15))  # ₱10,000.01
    assert not caps.covered(1_000_000, JAN, date(2026, 5, 16))  # four months and a day
    assert caps.covered(1, JAN, date(2026, 1, 16))
    # 17 weekly installments (119 days) run 3 months 29 days; 18 run past four months
    assert caps.covered(500_000, JAN, due_dates(JAN, Frequency.WEEKLY, 17)[-1])
    assert not caps.covered(500_000, JAN, due_dates(JAN, Frequency.WEEKLY, 18)[-1])
    # 4 months from 31 January end on 31 May
    assert caps.covered(
        500_000, date(2026, 1, 31), due_dates(date(2026, 1, 31), Frequency.MONTHLY, 4)[-1]
    )


def test_the_eir_ceiling_is_15_percent_then_12_percent_from_1_april_2026():
    assert caps.eir_ceiling(date(2022, 1, 3)) == (D("0.15"), "BSP Circular No. 1133 (2021)")
    assert caps.eir_ceiling(date(2026, 3, 31))[0] == D("0.15")
    ceiling, source = caps.eir_ceiling(date(2026, 4, 1))
    assert ceiling == D("0.12")
    assert "SEC Memorandum Circular No. 14" in source
    assert caps.eir_ceiling(date(2030, 1, 1))[0] == D("0.12")


def price(**changes):
    terms = {
        "principal_minor": 1_000_000,
        "monthly_rate": D("0.06"),
        "eir_monthly": D("0.0734"),
        "finance_charge_minor": 184_366,
        "penalty_monthly": D("0.05"),
        "on": date(2026, 4, 1),
    }
    terms.update(changes)
    return [b.cap for b in caps.check_price(**terms)]


def test_a_price_at_every_ceiling_breaks_none():
    assert price() == []
    assert price(eir_monthly=D("0.12"), finance_charge_minor=1_000_000) == []
    assert price(eir_monthly=D("0.15"), on=date(2026, 3, 31)) == []


@pytest.mark.parametrize(
    ("changes", "cap"),
    [
        ({"monthly_rate": D("0.060001")}, "nominal_rate"),
        ({"eir_monthly": D("0.120001")}, "eir"),
        ({"eir_monthly": D("0.150001"), "on": date(2026, 3, 31)}, "eir"),
        ({"penalty_monthly": D("0.050001")}, "penalty_rate"),
        ({"finance_charge_minor": 1_000_001}, "total_cost"),
    ],
)
def test_each_breach(changes, cap):
    assert price(**changes) == [cap]


def test_a_13_percent_eir_is_allowed_in_march_2026_and_not_in_april():
    assert price(eir_monthly=D("0.13"), on=date(2026, 3, 31)) == []
    assert price(eir_monthly=D("0.13"), on=date(2026, 4, 1)) == ["eir"]


def test_breaches_say_what_and_why():
    found = caps.check_price(1_000_000, D("0.07"), D("0.2"), 2_000_000, D("0.06"), date(2026, 5, 1))
    assert [b.cap for b in found] == ["nominal_rate", "eir", "penalty_rate", "total_cost"]
    assert found[0].message == "a nominal rate of 7.00% a month is above 6.00%"
    assert found[0].source == limits.SMALL_LOAN_SOURCE
    assert found[1].message == "an EIR of 20.00% a month is above 12.00%"
    assert "SEC Memorandum Circular No. 14" in found[1].source
    assert "1000000" in found[3].message  # the cap: 100% of the principal
    assert caps.total_cost_cap(1_000_000) == 1_000_000


def test_the_bsp_example_loan_is_within_the_ceilings():
    d = disclose(
        1_000_000, D("0.06"), Frequency.MONTHLY, Method.EQUAL_INSTALLMENT, JAN, term=4,
        fee_minor=30_000,
    )  # fmt: skip
    assert caps.covered(d.principal_minor, JAN, d.last_due)
    assert (
        caps.check_price(
            d.principal_minor, D("0.06"), d.eir_monthly, d.finance_charge_minor, D(0), JAN
        )
        == []
    )


def test_an_absurd_eir_is_still_a_breach_not_a_crash():
    assert price(eir_monthly=D(10) ** 30) == ["eir"]


# --- allocation -----------------------------------------------------------------------------


def test_a_payment_settles_penalty_fee_interest_principal_oldest_first():
    owed = [
        Owed(1, penalty=10, fee=20, interest=100, principal=300),
        Owed(2, penalty=0, fee=20, interest=50, principal=300),
    ]
    parts, left = allocation.allocate(500, owed)
    assert parts == [
        Part(1, "penalty", 10),
        Part(1, "fee", 20),
        Part(1, "interest", 100),
        Part(1, "principal", 300),
        Part(2, "fee", 20),
        Part(2, "interest", 50),
    ]
    assert left == 0
    assert allocation.totals(parts) == {"penalty": 10, "fee": 40, "interest": 150, "principal": 300}


def test_a_partial_payment_stops_inside_a_component():
    parts, left = allocation.allocate(
        125, [Owed(1, penalty=10, fee=20, interest=100, principal=300)]
    )
    assert parts == [Part(1, "penalty", 10), Part(1, "fee", 20), Part(1, "interest", 95)]
    assert left == 0


def test_an_overpayment_leaves_the_rest():
    owed = [Owed(1, interest=100, principal=300), Owed(2, interest=50, principal=300)]
    parts, left = allocation.allocate(1_000, owed)
    assert sum(p.amount_minor for p in parts) == 750
    assert left == 250
    assert allocation.allocate(0, owed) == ([], 0)
    assert allocation.allocate(100, []) == ([], 100)


def test_a_custom_order():
    order = allocation.parse_order(" principal, interest ,fee,penalty")
    assert order == ("principal", "interest", "fee", "penalty")
    parts, left = allocation.allocate(
        350, [Owed(1, penalty=10, fee=20, interest=100, principal=300)], order
    )
    assert parts == [Part(1, "principal", 300), Part(1, "interest", 50)]
    assert left == 0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "penalty,fee,interest",
        "penalty,fee,interest,principal,penalty",
        "penalty,fee,interest,capital",
        "penalty,penalty,interest,principal",
    ],
)
def test_a_bad_order_is_refused(text):
    with pytest.raises(RefusalError) as caught:
        allocation.parse_order(text)
    assert caught.value.code == "allocation_order_invalid"


@settings(max_examples=examples(200), deadline=None)
@given(
    st.integers(0, 5_000),
    st.lists(st.tuples(*[st.integers(0, 500)] * 4), min_size=0, max_size=6),
    st.permutations(allocation.COMPONENTS),
)
def test_allocation_conserves_money_and_is_horizontal(amount, rows, order):
    owed = [Owed(k + 1, *row) for k, row in enumerate(rows)]
    parts, left = allocation.allocate(amount, owed, order)
    assert sum(p.amount_minor for p in parts) + left == amount
    assert left == max(0, amount - sum(o.total for o in owed))
    assert all(p.amount_minor > 0 for p in parts)
    by_seq = {o.seq: o for o in owed}
    for p in parts:
        assert p.amount_minor <= getattr(by_seq[p.seq], p.component)
    # every installment before the last one touched is settled in full
    touched = sorted({p.seq for p in parts})
    for seq in touched[:-1]:
        assert sum(p.amount_minor for p in parts if p.seq == seq) == by_seq[seq].total
    # and within one installment, the order is the product's
    for seq in touched:
        names = [p.component for p in parts if p.seq == seq]
        assert names == sorted(names, key=order.index)


# --- accrual --------------------------------------------------------------------------------

# A 31-day period, 15 January → 15 February, ₱31.00 of interest: ₱1.00 a day.
PERIOD = accrual.Period(date(2026, 1, 15), date(2026, 2, 15), 3_100)


@pytest.mark.parametrize(
    ("day", "daily", "installment"),
    [
        (date(2026, 1, 14), 0, 0),  # before the period
        (date(2026, 1, 15), 100, 0),  # end of the first day: 1/31
        (date(2026, 1, 31), 1_700, 0),  # 17 days
        (date(2026, 2, 14), 3_100, 0),  # the day before the due date: all of it
        (date(2026, 2, 15), 3_100, 3_100),  # the due date
        (date(2026, 3, 1), 3_100, 3_100),
    ],
)
def test_interest_is_earned_daily_or_on_the_due_date(day, daily, installment):
    assert accrual.earned_through(day, [PERIOD], daily=True) == daily
    assert accrual.earned_through(day, [PERIOD], daily=False) == installment


def test_daily_accrual_rounds_down_in_the_borrowers_favour():
    # ₱10.00 over 3 days: ⌊1000 × 1/3⌋ = 333, ⌊1000 × 2/3⌋ = 666, then 1,000.
    p = accrual.Period(date(2026, 1, 1), date(2026, 1, 4), 1_000)
    earned = [accrual.earned_through(date(2026, 1, d), [p], daily=True) for d in (1, 2, 3)]
    assert earned == [333, 666, 1_000]


def test_preaccrued_interest_is_never_booked_twice():
    p = accrual.Period(date(2026, 1, 15), date(2026, 2, 15), 3_100, preaccrued_minor=1_000)
    assert accrual.earned_through(date(2026, 2, 15), [p], daily=False) == 2_100
    assert accrual.earned_through(date(2026, 1, 15), [p], daily=True) == 2_100 // 31


def test_accrual_over_a_schedule():
    d = disclose(1_000_000, D("0.02"), Frequency.MONTHLY, Method.EQUAL_INSTALLMENT, JAN, term=6)
    periods = [accrual.Period(i.start_date, i.due_date, i.interest_minor) for i in d.schedule]
    assert accrual.earned_through(d.last_due, periods, daily=True) == d.interest_minor
    assert accrual.earned_through(d.first_due, periods, daily=False) == 20_000
    # the day after the first due date: the first installment plus a day of the second
    # (15 Feb → 15 Mar is 28 days; ⌊16,829 × 1/28⌋ = 601)
    assert accrual.earned_through(date(2026, 2, 15), periods, daily=True) == 20_000 + 601


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(0, 10**9), st.integers(1, 400), st.integers(-5, 410))
def test_daily_accrual_never_falls_and_never_passes_the_interest(interest, length, offset):
    start = date(2026, 1, 1)
    p = accrual.Period(start, start + timedelta(days=length), interest)
    day = start + timedelta(days=offset)
    today = accrual.earned_through(day, [p], daily=True)
    tomorrow = accrual.earned_through(day + timedelta(days=1), [p], daily=True)
    assert 0 <= today <= tomorrow <= interest
    assert accrual.earned_through(day, [p], daily=False) <= today


# --- delinquency ----------------------------------------------------------------------------


def test_days_past_due():
    due = date(2026, 2, 15)
    assert delinquency.days_past_due(None, due) == 0
    assert delinquency.days_past_due(due, date(2026, 2, 14)) == 0
    # unpaid at the close of its due date: one day late the next morning
    assert delinquency.days_past_due(due, due) == 1
    assert delinquency.days_past_due(due, date(2026, 2, 16)) == 2
    assert delinquency.days_past_due(due, date(2026, 3, 16)) == 30


@pytest.mark.parametrize(
    ("dpd", "bucket"),
    [
        (-1, "current"),
        (0, "current"),
        (1, "1-30"),
        (30, "1-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "90+"),
        (10_000, "90+"),
    ],
)
def test_bucket_edges(dpd, bucket):
    assert delinquency.bucket(dpd) == bucket
    assert bucket in delinquency.BUCKETS


@pytest.mark.parametrize(
    ("dpd", "par1", "par30", "par90"),
    [
        (0, False, False, False),
        (1, True, False, False),
        (30, True, False, False),
        (31, True, True, False),
        (90, True, True, False),
        (91, True, True, True),
    ],
)
def test_par_thresholds(dpd, par1, par30, par90):
    assert delinquency.at_risk(dpd, 1) is par1
    assert delinquency.at_risk(dpd, 30) is par30
    assert delinquency.at_risk(dpd, 90) is par90


def test_par_is_outstanding_principal_at_risk_over_all_outstanding():
    loans = [(100_000, 0), (200_000, 1), (300_000, 31), (400_000, 91)]
    assert delinquency.par(loans) == {
        "par1": D("0.900000"),  # 900,000 / 1,000,000
        "par30": D("0.700000"),
        "par90": D("0.400000"),
    }
    # 1/3 to six places, HALF_EVEN; an empty portfolio is 0
    assert delinquency.par([(1, 0), (1, 0), (1, 45)])["par30"] == D("0.333333")
    assert delinquency.par([(2, 0), (1, 45)])["par1"] == D("0.333333")
    assert delinquency.par([(1, 45), (1, 45), (1, 0)])["par1"] == D("0.666667")
    assert delinquency.par([]) == dict.fromkeys(("par1", "par30", "par90"), D(0))


def test_daily_penalty_rounds_down():
    # ₱1,000 overdue at 5% a month: 100,000 × 0.05 / 30 = 166.67 → 166 centavos a day
    assert delinquency.daily_penalty(100_000, D("0.05")) == 166
    # ₱288.59 at 5%: 28,859 × 0.05 / 30 = 48.098 → 48
    assert delinquency.daily_penalty(28_859, D("0.05")) == 48
    assert delinquency.daily_penalty(600, D("0.05")) == 1  # exactly 1.0
    assert delinquency.daily_penalty(599, D("0.05")) == 0  # 0.998…
    assert delinquency.daily_penalty(0, D("0.05")) == 0
    # thirty days of the daily penalty never pass the 5% monthly ceiling
    for overdue in (1, 599, 28_859, 100_000, 10**12):
        month = 30 * delinquency.daily_penalty(overdue, D(limits.SMALL_LOAN_PENALTY_MONTHLY_MAX))
        assert month <= overdue * D("0.05")


# --- the allocation order, oldest first, whatever the caller's list order ------------------


def test_a_payment_goes_to_the_oldest_installment_whatever_the_list_order():
    owed = [Owed(2, interest=50, principal=300), Owed(1, interest=100, principal=300)]
    parts, _ = allocation.allocate(100, owed)
    assert parts == [Part(1, "interest", 100)]
