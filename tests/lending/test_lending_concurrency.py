"""Lending under concurrency, on real PostgreSQL: one offer accepted from many requests at
once, sales setting money aside while the merchant repays and the close runs, two workers
closing the same day.

Each race runs the use cases on real threads released together by a barrier. A refusal is
an outcome the test checks; anything else raised in a thread fails the test. Afterwards the
books must agree: one loan and one disbursement, the reserve account equal to the loan's
reserve, interest booked once, and ``verify`` finds no violation.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.lending.conftest import OPERATOR, BusinessClock, Shop, merchant, wallet_of
from tests.lending.test_loans_service import check, net, offer, sell
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import verify
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import loans
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending import reports as loan_reports
from tindahan.services.lending.views import LoanView
from tindahan.services.unit import Platform

pytestmark = pytest.mark.postgres


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once; each result is the value or the RefusalError raised."""
    barrier = threading.Barrier(len(calls))

    def one(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except RefusalError as refusal:
            return refusal

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


def test_one_offer_accepted_from_many_requests_is_one_loan(platform: Platform, shop: Shop):
    made = offer(platform, shop, term=8)
    main = wallet_of(platform, shop.merchant_id)["account_id"]
    before = net(platform, main)

    def accept() -> LoanView:
        return platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))

    results = race([accept] * 8)
    loans_made = [r for r in results if isinstance(r, dict)]
    refusals = [r for r in results if isinstance(r, RefusalError)]
    assert len(loans_made) == 1
    assert {r.code for r in refusals} == {"offer_already_accepted"}
    assert net(platform, main) - before == made["disclosure"]["net_proceeds_minor"]
    assert verify.verify(platform.db).ok


def test_sales_repayments_and_the_close_at_once(
    platform: Platform, shop: Shop, clock: BusinessClock
):
    made = offer(platform, shop, term=8)
    loan = platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))
    for _ in range(8):  # into the second week: something is due, the reserve is in use
        clock.next_day()
        loan_close.close_due(platform)
    clock.next_day()

    def repay() -> LoanView:
        return platform.run(lambda u: loans.repay(u, shop.merchant, loan["id"], 20_000))

    def close() -> Any:
        return loan_close.close_due(platform)

    calls: list[Callable[[], Any]] = [lambda: sell(platform, shop, 50_000)] * 10
    calls += [repay] * 3 + [close] * 2
    results = race(calls)
    unexpected = [r for r in results if isinstance(r, RefusalError)]
    assert not unexpected, [(r.code, r.message) for r in unexpected]
    view = check(platform, shop.merchant, loan["id"])  # ledger == loan, verify ok
    reserve = net(platform, loans.account(loan["id"], "reserve"))
    assert reserve == view["balance"]["reserve_minor"]
    assert view["paid"]["principal_minor"] + view["paid"]["interest_minor"] > 0


def test_two_workers_close_one_day_and_book_it_once(
    platform: Platform, shop: Shop, clock: BusinessClock
):
    for name in ("Mang Tonyo", "Ate Joy", "Kuya Ben"):
        _, caller = merchant(platform, name)
        new = loan_offers.NewOffer(shop.product["id"], term=8)
        made = platform.run(lambda u, c=caller, n=new: loan_offers.create_offer(u, c, n))
        platform.run(lambda u, c=caller, m=made: loan_offers.accept(u, c, m["id"]))
    day = clock.day
    clock.next_day()
    results = race([lambda: loan_close.run(platform, day)] * 2)
    assert all(not isinstance(r, RefusalError) for r in results)
    once = net(platform, loans.OP_INTEREST)
    assert once > 0  # interest income booked
    again = loan_close.run(platform, day)
    assert again.already
    assert net(platform, loans.OP_INTEREST) == once
    portfolio = platform.run(lambda u: loan_reports.portfolio(u, OPERATOR), write=False)
    assert portfolio["total"]["active"] == 3
    assert verify.verify(platform.db).ok
