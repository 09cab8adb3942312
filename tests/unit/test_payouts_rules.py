"""The payout rules with no database: what is available, the daily amount, the time of day."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan.kernel.refusals import RefusalError
from tindahan.payments.payouts import (
    Availability,
    automatic_amount,
    check_amount,
    moment,
    parse_time_of_day,
    refund_exposure,
    time_of_day,
)

MANILA_MIDNIGHT_2026_12_06 = 1_796_486_400 * 10**9  # 2026-12-05T16:00:00Z


def test_available_is_the_balance_less_pending_and_both_holds():
    figures = Availability(100_000, 5_000, 30_000, 20_000)
    assert figures.free_minor == 95_000
    assert figures.available_minor == 45_000


def test_holds_larger_than_the_balance_leave_nothing_never_less():
    assert Availability(10_000, 0, 8_000, 8_000).available_minor == 0


def test_refund_exposure_is_what_the_merchant_pays_back():
    # ₱1,000 sale, ₱10 fee: a full refund takes ₱990 from settlement (the operator returns ₱10)
    assert refund_exposure(100_000, 0, 1_000, 0) == 99_000
    # after a ₱400 refund that returned ₱4 of the fee: ₱600 left, ₱6 of fee still to return
    assert refund_exposure(100_000, 40_000, 1_000, 400) == 59_400
    assert refund_exposure(100_000, 100_000, 1_000, 1_000) == 0


def test_a_payout_above_the_available_is_refused_with_the_figures():
    figures = Availability(100_000, 0, 30_000, 20_000)
    check_amount(50_000, figures)
    with pytest.raises(RefusalError) as caught:
        check_amount(50_001, figures)
    assert caught.value.code == "payout_exceeds_available"
    assert caught.value.param == "amount_minor"
    assert "at most 50000 centavos" in caught.value.message


def test_the_daily_amount_leaves_the_balance_asked_for():
    figures = Availability(100_000, 0, 10_000, 0)
    assert automatic_amount(figures, 0) == 90_000
    assert automatic_amount(figures, 25_000) == 75_000  # the holds count towards it
    assert automatic_amount(figures, 5_000) == 90_000
    assert automatic_amount(figures, 100_000) == 0
    assert automatic_amount(figures, 200_000) == 0


amounts = st.integers(min_value=0, max_value=10**12)


@given(amounts, amounts, amounts, amounts, amounts)
def test_the_daily_amount_never_takes_a_hold_nor_the_balance_to_leave(
    balance, pending, refunds, loan, keep
):
    pending = min(pending, balance)  # pending debits are part of the balance
    figures = Availability(balance, pending, refunds, loan)
    paid = automatic_amount(figures, keep)
    assert 0 <= paid <= figures.available_minor
    if paid:
        left = balance - pending - paid
        assert left >= keep
        assert left >= refunds + loan


@pytest.mark.parametrize(("text", "minute"), [("00:00", 0), ("09:05", 545), ("23:59", 1439)])
def test_time_of_day_round_trips(text, minute):
    assert parse_time_of_day(text) == minute
    assert time_of_day(minute) == text


@pytest.mark.parametrize("text", ["24:00", "9:00", "09:60", "0900", "", " 09:00", 900, None])
def test_a_time_of_day_not_hh_mm_is_refused(text):
    with pytest.raises(RefusalError) as caught:
        parse_time_of_day(text)
    assert caught.value.code == "time_invalid"


def test_the_moment_is_manila_s_day_and_minute():
    assert moment(MANILA_MIDNIGHT_2026_12_06) == (date(2026, 12, 6), 0)
    assert moment(MANILA_MIDNIGHT_2026_12_06 - 60 * 10**9) == (date(2026, 12, 5), 1439)
