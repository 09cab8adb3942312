"""The payout fee (``rails.fees``, kind ``payout``) on withdrawals to a bank account, on SQLite
and PostgreSQL: a withdrawal sends its amount and takes the fee from the sales too (quoted
first, refused when the sales do not cover both); the automatic payout sends what it pays
out less the fee, and fails when it is not more than the fee; ``ledger verify`` after each."""

from __future__ import annotations

import pytest

from tests.lending.conftest import DAY0, OPERATOR, BusinessClock, Shop
from tests.payouts.helpers import balances, sell
from tests.rails.fake_rail import FakeRail
from tindahan.kernel.refusals import RefusalError
from tindahan.services.payouts import daily, payouts
from tindahan.services.platform import fees
from tindahan.services.rails import quotes, transfers

from .test_bank_payouts import account, sold, verified, withdraw
from .test_payouts_service import WINDOW_LATER, turn_on

PAYOUT_FEE = 10_00


@pytest.fixture
def priced(platform) -> None:
    values = {"instapay_payout_fee_minor": PAYOUT_FEE, "instapay_send_fee_minor": 99_00}
    platform.run(lambda u: fees.put_fee_settings(u, OPERATOR, values))


def test_a_withdrawal_pays_the_fee_from_the_sales(
    platform, shop: Shop, clock: BusinessClock, priced
):
    sold(platform, shop, clock)  # ₱1,485 in settlement
    bdo = account(platform, shop.merchant)
    quoted = platform.run(lambda u: quotes.quote(u, shop.merchant, bdo, 100_000, "payout"))
    assert (quoted["fee_minor"], quoted["total_minor"]) == (PAYOUT_FEE, 100_000 + PAYOUT_FEE)
    with pytest.raises(RefusalError) as caught:  # the amount fits, the amount and fee do not
        withdraw(platform, shop.merchant, bdo, 148_500 - PAYOUT_FEE + 1)
    assert caught.value.code == "payout_exceeds_available"
    assert balances(platform, shop.merchant_id) == (148_500, 0)

    made = withdraw(platform, shop.merchant, bdo, 100_000)
    payout, sent = made["payout"], made["bank_transfer"]
    assert payout["amount_minor"] == 100_000 + PAYOUT_FEE
    assert (sent["amount_minor"], sent["fee_minor"], sent["kind"]) == (
        100_000,
        PAYOUT_FEE,
        "payout",
    )
    rail = FakeRail()
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(sent["uetr"], "ACSC"))
    assert balances(platform, shop.merchant_id) == (48_500 - PAYOUT_FEE, 0)
    verified(platform)


def test_the_daily_payout_sends_its_amount_less_the_fee(
    platform, shop: Shop, clock: BusinessClock, priced
):
    bdo = account(platform, shop.merchant)
    turn_on(platform, shop.merchant, destination="bank_account", bank_account_id=bdo)
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + WINDOW_LATER, 22)
    report = daily.run_due(platform)
    assert (report.paid, report.paid_minor) == (1, 148_500)
    (sent,) = platform.run(lambda u: transfers.list_transfers(u, shop.merchant, 10))["data"]
    assert (sent["amount_minor"], sent["fee_minor"], sent["total_minor"]) == (
        148_500 - PAYOUT_FEE,
        PAYOUT_FEE,
        148_500,
    )
    rail = FakeRail()
    transfers.dispatch(platform, rail)
    transfers.receive(platform, rail.status(sent["uetr"], "ACSC"))
    assert balances(platform, shop.merchant_id) == (0, 0)
    verified(platform)


def test_a_daily_payout_not_above_the_fee_fails(platform, shop: Shop, clock: BusinessClock):
    values = {"instapay_payout_fee_minor": 50_000}  # ₱500: more than the day's sales
    platform.run(lambda u: fees.put_fee_settings(u, OPERATOR, values))
    bdo = account(platform, shop.merchant)
    turn_on(platform, shop.merchant, destination="bank_account", bank_account_id=bdo)
    sell(platform, shop, 40_000)
    clock.at_day(DAY0 + WINDOW_LATER, 22)
    report = daily.run_due(platform)
    assert report.failed == 1
    failed = platform.run(lambda u: payouts.get(u, shop.merchant, report.payout_ids[0]))
    assert failed["failure"]["code"] == "fee_exceeds_payout"
    assert balances(platform, shop.merchant_id) == (39_600, 0)
    verified(platform)
