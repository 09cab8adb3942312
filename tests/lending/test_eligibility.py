"""``lending.eligibility``: who may be offered a loan and how much, without a database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.lending.eligibility import (
    MAX_AGE_DAYS,
    Assessment,
    Product,
    choose,
    decide,
    loan_limit,
    sales_limit,
)

NOW = 1_800_000_000 * 10**9
DAY = 86_400 * 10**9
PRODUCT = Product(100_000, 1_000_000, 4, 16, D("0.2"))


def scored(probability: str = "0.05", sales: str = "2000000", age_days: int = 1) -> Assessment:
    return Assessment(True, D(probability), NOW - age_days * DAY, D(sales))


def codes(assessment: Assessment, tier_max: int | None = None) -> list[str]:
    return [r.code for r in decide(assessment, PRODUCT, tier_max, NOW).reasons]


def test_a_scored_recent_assessment_within_the_product_is_eligible_at_its_limit():
    decision = decide(scored(sales="300000"), PRODUCT, None, NOW)
    assert decision.eligible and decision.reasons == ()
    assert decision.limit_minor == int(300_000 * D(limits.LOAN_LIMIT_SALES_MONTHS))


def test_each_reason_in_the_order_a_merchant_fixes_them():
    too_little = Assessment(False, None, NOW - 40 * DAY, D(0))
    assert codes(too_little) == ["credit_not_approved", "assessment_stale", "limit_below_minimum"]
    assert codes(scored(age_days=MAX_AGE_DAYS)) == []
    assert codes(scored(age_days=MAX_AGE_DAYS + 1)) == ["assessment_stale"]
    assert codes(scored(probability="0.2")) == []  # at the product's maximum: lent
    assert codes(scored(probability="0.2001")) == ["credit_not_approved"]
    assert codes(scored(sales="99999")) == ["limit_below_minimum"]
    stale = decide(scored(age_days=31), PRODUCT, None, NOW).reasons[0]
    assert stale.message == f"the assessment is over {MAX_AGE_DAYS} days old: assess again"
    assert MAX_AGE_DAYS == 30
    risky = decide(scored(probability="0.25"), PRODUCT, None, NOW).reasons[0]
    assert "(0.25)" in risky.message and "(0.2)" in risky.message
    assert risky.param == "assessment_id"


def test_the_limit_is_the_least_of_product_tier_and_sales_down_to_the_peso():
    months = D(limits.LOAN_LIMIT_SALES_MONTHS)
    assert sales_limit(D("123456.78") / months) == 123_400  # ₱1,234.56 and 78 centavos: ₱1,234
    assert sales_limit(D("199.99") / months) == 100  # one peso, the 99.99 centavos not lent on
    assert sales_limit(D(0)) == 0
    assert loan_limit(D(10**9), 1_000_000, None) == 1_000_000
    assert loan_limit(D(10**9), 1_000_000, 500_000) == 500_000
    assert loan_limit(D(300_000), 1_000_000, 500_000) == sales_limit(D(300_000))


@given(st.decimals(min_value=0, max_value=10**10, places=2))
def test_the_sales_limit_is_whole_pesos_never_above_the_sales(sales: D):
    found = sales_limit(sales)
    exact = sales * D(limits.LOAN_LIMIT_SALES_MONTHS)
    assert found % 100 == 0
    assert exact - 100 < found <= exact


def test_choose_defaults_to_the_limit_and_the_longest_term_and_refuses_outside():
    assert choose(500_000, PRODUCT, None, None) == (500_000, 16)
    assert choose(500_000, PRODUCT, 100_000, 4) == (100_000, 4)
    for principal in (99_999, 500_001, True, "100000", 1.5):
        with pytest.raises(RefusalError) as caught:
            choose(500_000, PRODUCT, principal, None)
        assert caught.value.code == "amount_out_of_range"
    for term in (3, 17, False, "8"):
        with pytest.raises(RefusalError) as caught:
            choose(500_000, PRODUCT, None, term)
        assert caught.value.code == "term_out_of_range"
