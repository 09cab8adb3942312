"""The effective interest rate: the rate that discounts the installments to the net proceeds.

BSP Circular 730 (Truth in Lending, RA 3765) defines the EIR as "the rate that exactly
discounts estimated future cash flows through the life of the loan to the net amount of
loan proceeds" (summary at
https://jur.ph/law/facts/updated-rules-implementing-the-truth-in-lending-act-to-enhance-loan-transaction-transparency-ra-3765);
BSP Memorandum M-2011-040 gives its calculation models for common loan features (a fee
deducted up front among them): https://microfinancecouncil.org/bsp-memo-effective-interest-rate-calculation-models-for-all-types-of-loans/
— the kind of example worked by hand below. MicroFinance Transparency's "Flat vs Declining
Balance Interest Rate" (http://www.mftransparency.org/resources/flat-vs-declining-balance-interest-rate/)
is the source for a flat rate sounding far cheaper than it is.

Every EIR here is checked against an independent bisection in binary floating point, written
for this test (no Newton step, no ``Decimal``), so the solver is not its own witness.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.kernel.refusals import RefusalError
from tindahan.lending import eir
from tindahan.lending.disclosure import disclose
from tindahan.lending.terms import PERIODS_PER_YEAR, FeeMode, Frequency, Method

START = date(2026, 1, 15)
EQUAL = Method.EQUAL_INSTALLMENT
PRINCIPAL = Method.EQUAL_PRINCIPAL
FLAT = Method.FLAT


def irr(net: int, payments: list[int]) -> float:
    """The rate r with Σ payment_t / (1 + r)^t = net, by plain bisection."""

    def pv(r: float) -> float:
        return sum(p / (1 + r) ** t for t, p in enumerate(payments, start=1)) - net

    low, high = -0.99, 1.0
    while pv(high) > 0:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if pv(mid) > 0 else (low, mid)
    return (low + high) / 2


def quote(principal, rate, n, method=EQUAL, *, fee=0, mode=FeeMode.DEDUCTED, freq=None):
    return disclose(
        principal,
        D(rate),
        freq or Frequency.MONTHLY,
        method,
        START,
        term=n,
        fee_minor=fee,
        fee_mode=mode,
    )


# --- BSP Circular 730's kind of worked example ----------------------------------------------


def test_a_3_percent_fee_deducted_makes_6_percent_a_month_an_eir_of_about_7_34_percent():
    # ₱10,000, a 3% (₱300) fee deducted, 4 monthly installments at 6% on the declining balance.
    # payment = 10,000 × 0.06 / (1 − 1.06^−4) = 600 / 0.207906… = 2,885.9149 → ₱2,885.91
    # balance      interest (6%)                principal
    # 1,000,000    60,000                       228,591
    #   771,409    46,284.54 → 46,285           242,306
    #   529,103    31,746.18 → 31,746           256,845
    #   272,258    16,335.48 → 16,335           272,258 (the rest) → 288,593
    # net proceeds = 1,000,000 − 30,000 = 970,000; the EIR r solves
    #   288,591/(1+r) + 288,591/(1+r)² + 288,591/(1+r)³ + 288,593/(1+r)⁴ = 970,000
    # At r = 7.34%: 288,591 × 3.3602… ≈ 969,750 + the last … ≈ 970,000 → r ≈ 0.0734 a month.
    d = quote(1_000_000, "0.06", 4, fee=30_000)
    totals = [i.total_minor for i in d.schedule]
    assert totals == [288_591, 288_591, 288_591, 288_593]
    assert d.net_proceeds_minor == 970_000
    assert d.finance_charge_minor == 154_366 + 30_000
    assert d.total_of_payments_minor == 1_154_366
    assert d.eir_per_period == pytest.approx(D(irr(970_000, totals)), abs=D("1e-12"))
    assert d.as_dict()["eir_per_period"] == "0.07342928"  # about 7.34% a month
    assert d.eir_monthly == d.eir_per_period  # monthly installments
    # (1.07342928)^12 − 1 = 1.3403… : 134% a year
    assert d.as_dict()["eir_annual"] == "1.34035241"
    # without the fee the EIR is the nominal 6% (to centavo rounding)
    assert abs(quote(1_000_000, "0.06", 4).eir_per_period - D("0.06")) < D("1e-6")


def test_one_installment_eir_is_owed_over_received():
    # 1,060,000 owed a month after receiving 970,000: 1,060,000 / 970,000 − 1 = 0.0927835…
    d = quote(1_000_000, "0.06", 1, fee=30_000)
    assert d.eir_per_period == pytest.approx(D(1_060_000) / 970_000 - 1, abs=D("1e-18"))


def test_a_flat_add_on_rate_is_far_below_its_eir():
    # ₱10,000 at 2% flat a month over 6 months: ₱200 interest every month on the whole
    # ₱10,000, 186,666–186,667 centavos a month. The EIR solves
    # 186,666.67 × (1 − (1+r)^−6)/r = 1,000,000 → annuity factor 5.357;
    # at 3.3%: (1 − 1.033^−6)/0.033 = 5.366, at 3.4%: 5.347 → r ≈ 3.34% a month,
    # two thirds more than the 2% the lender names.
    d = quote(1_000_000, "0.02", 6, FLAT)
    totals = [i.total_minor for i in d.schedule]
    assert d.eir_per_period == pytest.approx(D(irr(1_000_000, totals)), abs=D("1e-12"))
    assert D("0.033") < d.eir_per_period < D("0.034")
    assert D("0.02") / d.eir_per_period < D("0.6")
    # The same 2% on the declining balance: the EIR is the 2% itself.
    assert abs(quote(1_000_000, "0.02", 6).eir_per_period - D("0.02")) < D("1e-6")


def test_a_weekly_flat_rate_of_half_a_percent_is_about_4_percent_a_month():
    # ₱10,000, 0.5% flat a week for 12 weeks: 10,000 × 0.005 × 12 = ₱600 in all.
    d = quote(1_000_000, "0.005", 12, FLAT, freq=Frequency.WEEKLY)
    totals = [i.total_minor for i in d.schedule]
    assert sum(totals) == 1_060_000
    per_week = d.eir_per_period
    assert per_week == pytest.approx(D(irr(1_000_000, totals)), abs=D("1e-12"))
    assert D("0.009") < per_week < D("0.0091")  # 0.91% a week, not 0.5%
    # a month is 52/12 weeks; a year 52: (1 + r)^(52/12) − 1 and (1 + r)^52 − 1
    assert d.eir_monthly == pytest.approx((1 + per_week) ** (D(52) / 12) - 1, rel=D("1e-20"))
    assert d.eir_annual == pytest.approx((1 + per_week) ** 52 - 1, rel=D("1e-20"))


# --- the solver's edges ---------------------------------------------------------------------


def test_a_loan_with_no_interest_and_no_fee_has_an_eir_of_exactly_zero_text():
    d = quote(10, "0", 3)
    assert abs(d.eir_per_period) < D("1e-20")
    shown = d.as_dict()
    assert shown["eir_per_period"] == "0.00000000"  # never "-0.00000000"
    assert shown["eir_annual"] == "0.00000000"


def test_nothing_received_is_refused():
    with pytest.raises(RefusalError) as caught:
        eir.per_period(0, [100])
    assert caught.value.code == "fee_invalid"


@pytest.mark.parametrize("payments", [[], [-1, 200], [0, 0]])
def test_payments_must_be_positive(payments):
    with pytest.raises(ValueError, match="positive installments"):
        eir.per_period(100, payments)


def test_a_rate_a_million_times_the_loan_is_refused_not_looped():
    with pytest.raises(RefusalError) as caught:
        eir.per_period(1, [10**9])
    assert caught.value.code == "rate_invalid"
    # just under 2^20 per period is still solved
    assert eir.per_period(1, [1_000_001]) == pytest.approx(D(1_000_000), rel=D("1e-20"))


def test_a_fee_leaving_a_centavo_of_a_large_loan_is_refused_not_disclosed():
    # ₱100 million, a fee of all but a centavo deducted: the installments are worth the
    # centavo only at about 10^10 per period, past the ceiling (the module's decision).
    with pytest.raises(RefusalError) as caught:
        quote(10**10, "0.02", 1, fee=10**10 - 1)
    assert caught.value.code == "rate_invalid"
    # the same centavo of net proceeds from a ₱1.00 loan: ₱1.00 owed after a centavo
    # received is 99 per period, solved like any other EIR
    d = quote(100, "0", 1, fee=99)
    assert d.net_proceeds_minor == 1
    assert d.eir_per_period == pytest.approx(D(99), abs=D("1e-18"))


def test_the_ceiling_is_where_the_refusal_begins():
    # one installment: the EIR is owed / received − 1, solved up to the ceiling and no further
    ceiling = int(eir.CEILING)
    assert eir.per_period(1, [ceiling + 1]) == pytest.approx(eir.CEILING, rel=D("1e-20"))
    with pytest.raises(RefusalError):
        eir.per_period(1, [ceiling + 2])


def test_a_rate_near_minus_one_is_found():
    # paying back a tenth of what was received: r = −0.9
    assert eir.per_period(1000, [100]) == pytest.approx(D("-0.9"), abs=D("1e-18"))


def test_compound_and_text():
    assert eir.compound(D("0.02"), 12) == pytest.approx(D("1.02") ** 12 - 1, abs=D("1e-30"))
    assert eir.compound(D("0.1"), D("0.5")) == pytest.approx(D("1.1").sqrt() - 1)
    assert eir.text(D("0.073429285")) == "0.07342928"  # HALF_EVEN
    assert eir.text(D("0.073429275")) == "0.07342928"
    assert eir.text(D("0.0523"), places=4) == "0.0523"
    assert eir.text(D("-3.6E-29")) == "0.00000000"
    assert eir.text(D(5)) == "5.00000000"


def test_text_keeps_every_digit_of_an_enormous_annual_rate():
    # 30% a day compounds to 1.3^365 − 1 ≈ 10^41 a year: more digits than the solver's context.
    huge = eir.compound(D("0.3"), 365)
    shown = eir.text(huge)
    assert shown.endswith(".00000000") or len(shown.split(".")[1]) == 8
    assert D(shown) == pytest.approx(huge, rel=D("1e-30"))


# --- properties -----------------------------------------------------------------------------

RATES = st.integers(0, 200_000).map(lambda k: D(k) / 10**6)  # 0% to 20% per period


@st.composite
def loans(draw):
    """Loans that can be disclosed: any principal, rate, term and fee, except that a fee
    deducted leaves net proceeds of at least a thousandth of the principal (and a centavo).

    Every installment schedule here totals at most about 8.2 × the principal (20% flat over
    36 periods), so the EIR is below 1 + 8.2 × 2,000 per period, far inside ``eir.CEILING``;
    a fee leaving less can put it past the ceiling, which is refused (tested on its own
    below). Small principals still draw net proceeds of one centavo."""
    principal = draw(st.integers(100, 10**10))
    mode = draw(st.sampled_from(list(FeeMode)))
    high = principal - max(1, principal // 1000) if mode == FeeMode.DEDUCTED else principal
    return {
        "principal": principal,
        "rate": draw(RATES),
        "frequency": draw(st.sampled_from(list(Frequency))),
        "method": draw(st.sampled_from(list(Method))),
        "term": draw(st.integers(1, 36)),
        "fee": draw(st.one_of(st.just(0), st.integers(0, high))),
        "mode": mode,
    }


def rounding_slack(principal: int, n: int, rate: D, found: D, *, per_period: D) -> D:
    """How far centavo rounding can move the EIR off the nominal rate.

    For any principal schedule, Σ (principal_t + balance_{t−1}·r)·v^t = P exactly at v =
    1/(1 + r); each rounded interest is within ``per_period`` centavos of balance·r, so the
    flows are worth P within ``per_period·n`` at the nominal rate, and the present value falls
    at least (P − slack)/(1 + rate) per unit of rate — the EIR is within
    slack·(1 + max rate)/(P − slack) of the nominal."""
    slack = per_period * n
    return slack * (1 + max(rate, found)) / (principal - slack) + D("1e-18")


@settings(max_examples=examples(200), deadline=None)
@given(loans())
def test_the_eir_discounts_the_installments_to_the_net_proceeds(loan):
    d = disclose(
        loan["principal"],
        loan["rate"],
        loan["frequency"],
        loan["method"],
        START,
        term=loan["term"],
        fee_minor=loan["fee"],
        fee_mode=loan["mode"],
    )
    found, rate = d.eir_per_period, loan["rate"]
    totals = [i.total_minor for i in d.schedule]
    value = sum((D(p) / (1 + found) ** t for t, p in enumerate(totals, start=1)), D(0))
    assert abs(value - d.net_proceeds_minor) < D("1e-9") * d.total_of_payments_minor
    assert float(found) == pytest.approx(irr(d.net_proceeds_minor, totals), abs=1e-9)
    ppy = PERIODS_PER_YEAR[loan["frequency"]]
    assert d.eir_annual == eir.compound(found, ppy)
    if loan["frequency"] == Frequency.MONTHLY:
        assert d.eir_monthly == found

    declining = loan["method"] != FLAT
    # flat interest: rounded once and spread, each part within 1.5 centavos of P·r
    slack = rounding_slack(
        loan["principal"], loan["term"], rate, found, per_period=D("0.5" if declining else "1.5")
    )
    if declining and loan["fee"] == 0:
        # No fee, interest on the balance: the EIR is the nominal rate, but for centavos.
        assert abs(found - rate) <= slack, (found, rate, slack)
    else:
        # A fee (deducted or added) or flat interest can only make the loan dearer.
        assert found >= rate - slack, (found, rate, slack)
    if loan["mode"] == FeeMode.DEDUCTED and loan["fee"] >= loan["term"] and declining:
        # a centavo of fee per installment outweighs every rounding in the borrower's favour
        assert found > rate


@settings(max_examples=examples(100), deadline=None)
@given(loans())
def test_a_larger_fee_never_lowers_the_eir(loan):
    def rate_with(fee):
        return disclose(
            loan["principal"],
            loan["rate"],
            loan["frequency"],
            loan["method"],
            START,
            term=loan["term"],
            fee_minor=fee,
            fee_mode=loan["mode"],
        ).eir_per_period

    fee = min(loan["fee"], loan["principal"] // 2)  # net proceeds at least half the principal
    assert rate_with(fee + 1) > rate_with(fee)


def test_the_eir_equals_the_periodic_rate_to_8_places_on_a_large_declining_loan():
    # ₱10 billion: a centavo of rounding is 10^−12 of it, so the EIR shows as the rate itself.
    for method in (EQUAL, PRINCIPAL):
        for freq in Frequency:
            d = quote(10**12, "0.02", 6, method, freq=freq)
            assert d.as_dict()["eir_per_period"] == "0.02000000"
            assert abs(d.eir_per_period - D("0.02")) < D("1e-8")
