"""Amortisation schedules against hand-worked examples, one per interest method, and the
Hypothesis property that every schedule sums exactly.

Sources for the methods (read, never copied):

* the level installment of the declining-balance ("annuity", "equal installment") method,
  ``P·r / (1 − (1 + r)^−n)``, with interest each period on the balance still owed — the
  method BSP Circular 730 requires (interest "based on the outstanding balance of the loan
  at the beginning of each installment period"), summarised at
  https://jur.ph/law/summary/updated-rules-implementing-the-truth-in-lending-act-to-enhance-loan-transaction-transparency-ra-3765
  and taught in MicroFinance Transparency's "Flat vs Declining Balance Interest Rate"
  (http://www.mftransparency.org/resources/flat-vs-declining-balance-interest-rate/) and
  UNCDF's microfinance distance-learning workbook, lesson 24
  (http://www.uncdf.org/mfdl/workbook/pages/lesson24.htm);
* a published declining-balance schedule: $2,000 at 1.5% a month over 12 months, $183.36
  a month (a consumer-finance textbook exercise reproduced at
  https://www.myassignmenthelp.net/question/finance-charge-and-apr-calculations-the-with-answer);
* the flat add-on example of $1,200 in 12 monthly repayments of $100 plus 1% ($12) a
  month, $112 each, from Wikipedia's text on flat-rate loans (as mirrored at
  https://pinocchiopedia.com/wiki/User:Brett_epic/sandbox).

Amounts are centavos (minor units); ``D`` strings are rates per period.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.kernel.refusals import RefusalError
from tindahan.lending.disclosure import disclose
from tindahan.lending.schedule import build, level_payment, spread
from tindahan.lending.terms import FeeMode, Frequency, Method, due_dates

EQUAL = Method.EQUAL_INSTALLMENT
PRINCIPAL = Method.EQUAL_PRINCIPAL
FLAT = Method.FLAT
START = date(2026, 1, 15)


def monthly(principal: int, rate: str, method: Method, n: int, *, fee: int = 0):
    dates = due_dates(START, Frequency.MONTHLY, n)
    return build(principal, D(rate), method, START, dates, fee_minor=fee)


def columns(schedule) -> tuple[list[int], list[int], list[int]]:
    return (
        [i.principal_minor for i in schedule],
        [i.interest_minor for i in schedule],
        [i.total_minor for i in schedule],
    )


# --- declining balance, equal installments --------------------------------------------------


def test_equal_installment_10000_pesos_at_2_percent_over_6_months():
    # payment = 10,000 × 0.02 / (1 − 1.02^−6)
    #   1.02^6 = 1.126162419…, 1.02^−6 = 0.887971382…, 1 − 0.887971382 = 0.112028618
    #   200 / 0.112028618 = 1,785.2581 → ₱1,785.26 (178,526 centavos, HALF_UP)
    assert level_payment(1_000_000, D("0.02"), 6) == 178_526
    # balance      interest (2%, HALF_UP)       principal = 178,526 − interest
    # 1,000,000    20,000.00 → 20,000           158,526
    #   841,474    16,829.48 → 16,829           161,697
    #   679,777    13,595.54 → 13,596           164,930
    #   514,847    10,296.94 → 10,297           168,229
    #   346,618     6,932.36 →  6,932           171,594
    #   175,024     3,500.48 →  3,500           175,024 (the rest) → 178,524 in all
    principals, interests, totals = columns(monthly(1_000_000, "0.02", EQUAL, 6))
    assert interests == [20_000, 16_829, 13_596, 10_297, 6_932, 3_500]
    assert principals == [158_526, 161_697, 164_930, 168_229, 171_594, 175_024]
    assert totals == [178_526] * 5 + [178_524]
    assert sum(principals) == 1_000_000
    assert sum(interests) == 71_154  # ₱711.54 of interest


def test_equal_installment_matches_a_published_declining_balance_schedule():
    # $2,000 at 1.5% a month, 12 months (myassignmenthelp.net, see the module text):
    # 2000 × 0.015 / (1 − 1.015^−12) = 30 / 0.163613… = 183.3600 → $183.36.
    assert level_payment(200_000, D("0.015"), 12) == 18_336
    principals, interests, totals = columns(monthly(200_000, "0.015", EQUAL, 12))
    # The published interest column, cent for cent.
    published_interest = [3000, 2770, 2536, 2299, 2059, 1815, 1567, 1315, 1060, 801, 538, 271]
    assert interests == published_interest
    # The published principal column for the first eleven months.
    published_principal = [
        *(15336, 15566, 15800, 16037, 16277, 16521),
        *(16769, 17021, 17276, 17535, 17798, 18065),
    ]
    assert principals[:11] == published_principal[:11]
    # The last differs by one centavo: the textbook carries unrounded balances (its month 4
    # shows 1,532.98 − 160.37 = 1,372.62 where the printed columns give 1,372.61), so its
    # printed principal column sums to 2,000.01; ours sums to exactly 2,000.00 and the last
    # installment, taking what is left, is $183.35.
    assert sum(published_principal) == 200_001
    assert principals[11] == 18_064
    assert sum(principals) == 200_000
    assert totals == [18_336] * 11 + [18_335]


def test_equal_installment_with_no_interest_is_the_principal_in_equal_parts():
    # ₱100 in 3 at 0%: ⌈10,000 / 3⌉ = 3,334, 3,334, and the rest 3,332.
    assert columns(monthly(10_000, "0", EQUAL, 3))[2] == [3_334, 3_334, 3_332]


def test_rounding_up_never_pays_a_tiny_loan_off_before_its_last_installment():
    # ₱0.05 in 4 at 0%: ⌈5/4⌉ = 2 would give 2, 2, 1, 0 — an installment of nothing and a
    # third unequal to the first two. A centavo lower: 1, 1, 1, 2.
    assert columns(monthly(5, "0", EQUAL, 4))[0] == [1, 1, 1, 2]
    # ₱0.06 in 4 at 0.01%: the payment 6 × 0.0001 / (1 − 1.0001^−4) = 1.50019 → 2 would leave
    # nothing for the last; 1, 1, 1, 3 instead.
    assert columns(monthly(6, "0.0001", EQUAL, 4))[0] == [1, 1, 1, 3]


# --- declining balance, equal principal -----------------------------------------------------


def test_equal_principal_10000_pesos_at_2_percent_over_6_months():
    # principal: ⌊1,000,000 / 6⌋ = 166,666 five times; the last 1,000,000 − 5 × 166,666 = 166,670
    # balance      interest (2%, HALF_UP)
    # 1,000,000    20,000.00 → 20,000
    #   833,334    16,666.68 → 16,667
    #   666,668    13,333.36 → 13,333
    #   500,002    10,000.04 → 10,000
    #   333,336     6,666.72 →  6,667
    #   166,670     3,333.40 →  3,333      Σ = 70,000 (₱700.00)
    principals, interests, totals = columns(monthly(1_000_000, "0.02", PRINCIPAL, 6))
    assert principals == [166_666] * 5 + [166_670]
    assert interests == [20_000, 16_667, 13_333, 10_000, 6_667, 3_333]
    assert totals == [186_666, 183_333, 179_999, 176_666, 173_333, 170_003]
    assert sum(interests) == 70_000
    # Installments fall as the balance does (BSP Circular 730's outstanding-balance rule).
    assert totals[:-1] == sorted(totals[:-1], reverse=True)


def test_equal_principal_costs_less_interest_than_equal_installments():
    # Same loan: equal principal repays faster, so it owes ₱700.00 against ₱711.54.
    assert sum(columns(monthly(1_000_000, "0.02", PRINCIPAL, 6))[1]) == 70_000
    assert sum(columns(monthly(1_000_000, "0.02", EQUAL, 6))[1]) == 71_154


# --- flat add-on ----------------------------------------------------------------------------


def test_flat_add_on_matches_the_published_1200_dollar_example():
    # $1,200, 12 monthly repayments, 1% flat a month: interest 1,200 × 0.01 = $12 a month
    # (1,200 × 0.01 × 12 = $144 in all), principal $100 a month, $112 each repayment.
    principals, interests, totals = columns(monthly(120_000, "0.01", FLAT, 12))
    assert principals == [10_000] * 12
    assert interests == [1_200] * 12
    assert totals == [11_200] * 12


def test_flat_add_on_10000_pesos_at_2_percent_over_6_months():
    # interest: 10,000 × 0.02 × 6 = ₱1,200 (120,000 centavos), ₱200 a month — ₱488.46 more
    # than the declining balance at the same 2% (₱711.54).
    # principal by cumulative floors ⌊1,000,000·i/6⌋: 166,666, 333,333, 500,000, 666,666,
    # 833,333, 1,000,000 → differences 166,666, 166,667, 166,667, 166,666, 166,667, 166,667.
    principals, interests, _ = columns(monthly(1_000_000, "0.02", FLAT, 6))
    assert interests == [20_000] * 6
    assert principals == [166_666, 166_667, 166_667, 166_666, 166_667, 166_667]
    assert sum(interests) - 71_154 == 48_846


def test_flat_total_interest_is_rounded_once_then_spread():
    # ₱333.33 at 1% over 3: 33,333 × 0.01 × 3 = 999.99 → 1,000; spread 333, 333, 334.
    assert columns(monthly(33_333, "0.01", FLAT, 3))[1] == [333, 333, 334]


# --- fees, factors, refusals ----------------------------------------------------------------


def test_an_added_fee_is_spread_over_the_installments():
    # ₱100.00 fee over 3: ⌊10,000·i/3⌋ = 3,333, 6,666, 10,000 → 3,333, 3,333, 3,334.
    schedule = monthly(1_000_000, "0.02", EQUAL, 3, fee=10_000)
    assert [i.fee_minor for i in schedule] == [3_333, 3_333, 3_334]
    assert all(
        i.total_minor == i.principal_minor + i.interest_minor + i.fee_minor for i in schedule
    )


def test_a_deducted_fee_is_not_in_the_installments():
    d = disclose(1_000_000, D("0.02"), Frequency.MONTHLY, EQUAL, START, term=6, fee_minor=30_000)
    assert all(i.fee_minor == 0 for i in d.schedule)
    assert d.net_proceeds_minor == 970_000
    assert d.finance_charge_minor == 71_154 + 30_000


def test_a_factor_scales_a_periods_interest():
    # Half a first period: 1,000,000 × 0.02 × 0.5 = 10,000.
    dates = due_dates(START, Frequency.MONTHLY, 2)
    schedule = build(1_000_000, D("0.02"), PRINCIPAL, START, dates, factors=[D("0.5"), D(1)])
    assert [i.interest_minor for i in schedule] == [10_000, 10_000]
    with pytest.raises(ValueError, match="one factor per installment"):
        build(1_000_000, D("0.02"), PRINCIPAL, START, dates, factors=[D(1)])


def test_installment_periods_chain_from_the_start():
    schedule = monthly(1_000_000, "0.02", EQUAL, 3)
    assert [i.seq for i in schedule] == [1, 2, 3]
    assert schedule[0].start_date == START
    assert [i.start_date for i in schedule[1:]] == [i.due_date for i in schedule[:-1]]
    assert schedule[0].as_dict() == {
        "seq": 1,
        "due_date": "2026-02-15",
        "principal_minor": schedule[0].principal_minor,
        "interest_minor": 20_000,
        "fee_minor": 0,
        "total_minor": schedule[0].total_minor,
    }


@pytest.mark.parametrize(
    ("principal", "rate", "n", "fee", "code"),
    [
        (0, "0.02", 3, 0, "amount_invalid"),
        (-5, "0.02", 3, 0, "amount_invalid"),
        (100, "0.02", 0, 0, "term_invalid"),
        (100, "-0.01", 3, 0, "rate_invalid"),
        (100, "NaN", 3, 0, "rate_invalid"),
        (100, "sNaN", 3, 0, "rate_invalid"),
        (100, "Infinity", 3, 0, "rate_invalid"),
        (100, "0.02", 3, -1, "fee_invalid"),
    ],
)
def test_bad_terms_are_refused_with_a_code(principal, rate, n, fee, code):
    dates = due_dates(START, Frequency.MONTHLY, n)
    with pytest.raises(RefusalError) as caught:
        build(principal, D(rate), EQUAL, START, dates, fee_minor=fee)
    assert caught.value.code == code


@pytest.mark.parametrize(
    "dates",
    [
        [date(2026, 2, 15), date(2026, 2, 15)],  # two on one day
        [date(2026, 3, 15), date(2026, 2, 15)],  # going back
        [START, date(2026, 2, 15)],  # due on the day it starts
    ],
)
def test_due_dates_must_increase_from_the_start(dates):
    with pytest.raises(ValueError, match="increase"):
        build(100_000, D("0.02"), EQUAL, START, dates)


def test_spread_sums_exactly_and_parts_differ_by_at_most_one():
    for total, count in [(10, 3), (1, 4), (0, 2), (999_999, 7)]:
        parts = spread(total, count)
        assert sum(parts) == total
        assert max(parts) - min(parts) <= 1


# --- the property ---------------------------------------------------------------------------

FREQUENCIES = st.sampled_from(list(Frequency))
METHODS = st.sampled_from(list(Method))
#: Rates per period as typed (percent with up to 4 places), 0% to 100%.
RATES = st.integers(0, 1_000_000).map(lambda k: D(k) / 10**6)
STARTS = st.dates(date(2000, 1, 1), date(2099, 12, 31))


@st.composite
def loans(draw, max_term: int = 120):
    principal = draw(st.one_of(st.integers(1, 10**4), st.integers(1, 10**12)))
    fee_mode = draw(st.sampled_from(list(FeeMode)))
    if fee_mode == FeeMode.DEDUCTED:
        fee = draw(st.integers(0, principal - 1))
    else:
        fee = draw(st.integers(0, 10**9))
    return {
        "principal_minor": principal,
        "rate": draw(RATES),
        "frequency": draw(FREQUENCIES),
        "method": draw(METHODS),
        "start": draw(STARTS),
        "term": draw(st.integers(1, max_term)),
        "fee_minor": fee,
        "fee_mode": fee_mode,
    }


@settings(max_examples=examples(200), deadline=None)
@given(loans())
def test_every_schedule_sums_exactly(loan):
    dates = due_dates(loan["start"], loan["frequency"], loan["term"])
    added = loan["fee_minor"] if loan["fee_mode"] == FeeMode.ADDED else 0
    principal = loan["principal_minor"]
    schedule = build(principal, loan["rate"], loan["method"], loan["start"], dates, fee_minor=added)
    principals, interests, totals = columns(schedule)
    assert len(schedule) == loan["term"]
    assert sum(principals) == principal
    assert sum(i.fee_minor for i in schedule) == added
    assert sum(totals) == principal + sum(interests) + added
    for i in schedule:
        assert min(i.principal_minor, i.interest_minor, i.fee_minor) >= 0
    due = [i.due_date for i in schedule]
    assert due == dates
    assert all(a < b for a, b in zip([loan["start"], *due], due, strict=False))
    if loan["method"] == EQUAL and 1 < loan["term"] <= principal:
        # Level installments: every one but the last is the rounded payment, the last takes
        # the rest (for a loan of at least a centavo of principal an installment).
        without_fee = [i.principal_minor + i.interest_minor for i in schedule]
        assert len(set(without_fee[:-1])) == 1, without_fee
        assert principals[-1] > 0
    if loan["method"] == PRINCIPAL:
        assert len(set(principals[:-1])) <= 1
        assert principals[-1] >= principals[0]
    if loan["method"] == FLAT:
        assert max(interests) - min(interests) <= 1
        expected = loan["rate"] * principal * loan["term"]
        assert abs(sum(interests) - expected) <= D("0.5")


@settings(max_examples=examples(200), deadline=None)
@given(loans(max_term=60))
def test_every_disclosure_adds_up(loan):
    try:
        d = disclose(
            loan["principal_minor"],
            loan["rate"],
            loan["frequency"],
            loan["method"],
            loan["start"],
            term=loan["term"],
            fee_minor=loan["fee_minor"],
            fee_mode=loan["fee_mode"],
        )
    except RefusalError as refused:
        # Only a loan dearer than 2^20 per period (₱0.01 lent, ₱5,000 owed) is refused.
        assert refused.code == "rate_invalid"
        dates = due_dates(loan["start"], loan["frequency"], loan["term"])
        added = loan["fee_minor"] if loan["fee_mode"] == FeeMode.ADDED else 0
        net = loan["principal_minor"] - (loan["fee_minor"] - added)
        owed = build(loan["principal_minor"], loan["rate"], loan["method"], loan["start"], dates)
        assert sum(i.total_minor for i in owed) + added > net * 2**20
        return
    assert d.net_proceeds_minor + d.finance_charge_minor == d.total_of_payments_minor
    shown = d.as_dict()
    assert shown["amount_financed_minor"] == d.net_proceeds_minor
    assert shown["total_of_payments_minor"] == sum(i.total_minor for i in d.schedule)
    assert d.first_due == d.schedule[0].due_date and d.last_due == d.schedule[-1].due_date


def test_due_dates_a_year_of_daily_installments_increase():
    dates = due_dates(START, Frequency.DAILY, 365)
    assert dates[0] == START + timedelta(days=1)
    assert dates[-1] == START + timedelta(days=365)
