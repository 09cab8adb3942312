"""Payouts under concurrency, on real PostgreSQL: the daily run started by several runners at
once pays each merchant once, and payouts asked for at once never take more than was
available — the refund hold stays whole.

Each race runs on real threads released together by a barrier; a refusal is an outcome the
test counts, anything else raised fails the test. ``ledger verify`` passes afterwards.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.lending.conftest import DAY0, BusinessClock, Shop, merchant
from tests.lending.test_lending_concurrency import race
from tests.payouts.helpers import available, balances, pay_out, sell
from tests.payouts.test_payouts_service import turn_on, verified
from tindahan.kernel.refusals import RefusalError
from tindahan.services.payments import payments
from tindahan.services.payouts import daily
from tindahan.store.payout_tables import payout_runs, payouts

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


def test_runners_at_once_pay_each_merchant_once(platform, shop: Shop, clock: BusinessClock):
    shops = [(shop.merchant_id, shop.merchant)]
    for name in ("Ate Joy", "Mang Ben"):
        shops.append(merchant(platform, name))
    for merchant_id, caller in shops:
        turn_on(platform, caller, time_of_day="09:00")
        new = payments.NewPayment(merchant_id, 100_000, "PHP")
        platform.run(lambda u, n=new: payments.pay(u, shop.customer, n))
    clock.at_day(DAY0 + timedelta(days=8), 10)
    reports = race([lambda: daily.run_due(platform) for _ in range(6)])
    assert sum(r.paid for r in reports) == 3
    assert sum(r.paid_minor for r in reports) == 3 * 99_000
    count = select(func.count()).select_from(payouts)
    assert platform.run(lambda u: u.conn.execute(count).scalar(), write=False) == 3
    runs = select(func.count()).select_from(payout_runs)
    assert platform.run(lambda u: u.conn.execute(runs).scalar(), write=False) == 3
    for merchant_id, _ in shops:
        assert balances(platform, merchant_id) == (0, 99_000)
    verified(platform)


def test_payouts_at_once_never_take_the_refund_hold(platform, shop: Shop, clock: BusinessClock):
    sell(platform, shop, 100_000)  # ₱990 in settlement
    clock.at_day(DAY0 + timedelta(days=8))
    sell(platform, shop, 50_000)  # ₱495 more, refundable: held
    figures = available(platform, shop.merchant)
    assert (figures["available_minor"], figures["refund_hold_minor"]) == (99_000, 49_500)
    results = race([lambda: pay_out(platform, shop.merchant, 40_000) for _ in range(5)])
    made = [r for r in results if not isinstance(r, RefusalError)]
    assert len(made) == 2  # 2 × ₱400 fit under ₱990; a third would take the hold
    assert {r.code for r in results if isinstance(r, RefusalError)} == {"payout_exceeds_available"}
    assert balances(platform, shop.merchant_id) == (148_500 - 80_000, 80_000)
    verified(platform)
