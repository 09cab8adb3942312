"""An online sale repays a loan like any sale (``services.payments.settlement``), on SQLite
and PostgreSQL.

A merchant with an active auto-deducting loan (20% of each sale) sells once by each channel
that credits its settlement wallet: a direct merchant payment, and an online order whose
escrow is released by the buyer's confirmation, by the worker's auto-release, or by a
dispute split (the merchant's part only). Each time the loan's reserve takes 20% of the sale
(rounded down), the settlement wallet keeps the rest of what the sale brought, the loan's
transaction names the payment or the order, and ``ledger verify`` holds with the loan's
accounts equal to its row. On the installment's due date the daily close pays it from the
reserve: the set-aside is allocated to the installment like any repayment."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.lending.conftest import OPERATOR, BusinessClock, Shop, wallet_of
from tests.lending.test_loans_service import check, net, offer
from tindahan.services.commerce import catalog, disputes, escrow, orders, shipments
from tindahan.services.commerce import jobs as order_jobs
from tindahan.services.commerce.orders import CartLine
from tindahan.services.commerce.shipments import LineShip
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import loans
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending.views import LoanTransactionView, LoanView, OfferView
from tindahan.services.payments import payments
from tindahan.services.platform import fees
from tindahan.services.unit import Platform

PRICE = 150_001  # 20% of it is 30,000.2 centavos: the share rounds down to 30,000
SHARE = 30_000


def _order(platform: Platform, shop: Shop) -> str:
    """A paid order of one item at ``PRICE`` (no shipping fee), shipped and delivered."""
    store = platform.run(
        lambda u: catalog.create_storefront(
            u, OPERATOR, slug="aling-nena", name="Aling Nena", merchant_id=shop.merchant_id
        )
    )
    item = catalog.NewProduct("Barako coffee 5 kg", PRICE, stock=5)
    product = platform.run(lambda u: catalog.create_product(u, OPERATOR, store["id"], item))
    cart = [CartLine(product["id"], 1, None)]
    order = platform.run(lambda u: orders.checkout(u, shop.customer, store["id"], cart))
    platform.run(lambda u: escrow.pay(u, shop.customer, order["id"], None))
    parcel = platform.run(
        lambda u: shipments.ship(u, shop.merchant, order["id"], "LBC", "LBC-77", [LineShip(1, 1)])
    )
    platform.run(lambda u: shipments.post_event(u, shop.merchant, parcel["id"], "delivered"))
    return str(order["id"])


def _sell(platform: Platform, shop: Shop, clock: BusinessClock, channel: str) -> dict[str, Any]:
    """One sale by ``channel``; returns what the merchant's part of it was (``gross``), what
    it left in the settlement wallet before the set-aside (``net``) and where it came from."""
    if channel == "payment":
        new = payments.NewPayment(shop.merchant_id, PRICE, "PHP")
        paid = platform.run(lambda u: payments.pay(u, shop.customer, new))
        return {"gross": PRICE, "net": paid["net_minor"], "payment_id": paid["id"]}
    order_id = _order(platform, shop)
    if channel == "confirm":
        platform.run(lambda u: escrow.confirm(u, shop.customer, order_id))
    elif channel == "auto_release":
        days = platform.run(lambda u: fees.fee_settings(u))["escrow_auto_release_days"]
        clock.set(clock() + (days * 86_400 + 1) * 10**9)
        assert order_jobs.release_orders(platform) == 1
    else:  # a dispute split: 1 centavo back to the buyer, the rest to the merchant
        dispute = platform.run(
            lambda u: disputes.open_dispute(u, shop.customer, order_id, "one bag torn")
        )
        platform.run(lambda u: disputes.resolve(u, OPERATOR, dispute["id"], "split", 1, "ok"))
    view = platform.run(lambda u: orders.get(u, OPERATOR, order_id))
    assert view["status"] == "completed"
    released, fee = view["escrow"]["released_minor"], view["escrow"]["fee_minor"]
    return {"gross": released, "net": released - fee, "order_id": order_id}


def _of_kind(platform: Platform, shop: Shop, loan_id: str, kind: str) -> list[dict[str, Any]]:
    found = platform.run(lambda u: loans.transactions(u, shop.merchant, loan_id))["data"]
    return [t for t in found if t["kind"] == kind]


@pytest.mark.parametrize("channel", ["payment", "confirm", "auto_release", "split"])
def test_each_channel_sets_aside_the_share_and_the_close_repays_from_it(
    platform: Platform, shop: Shop, clock: BusinessClock, channel: str
) -> None:
    made = offer(platform, shop, term=8)
    assert set(made) == set(OfferView.__annotations__)
    loan_id = platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))["id"]
    settlement = wallet_of(platform, shop.merchant_id, "settlement")["account_id"]
    before = net(platform, settlement)

    sale = _sell(platform, shop, clock, channel)
    share = SHARE if channel != "split" else (PRICE - 1) * 2_000 // 10_000  # 30,000 too
    assert sale["gross"] == PRICE - (channel == "split")
    assert share == SHARE

    view = check(platform, shop.merchant, loan_id)  # ledger verify, loan row = its accounts
    assert view["balance"]["reserve_minor"] == SHARE
    assert net(platform, loans.account(loan_id, "reserve")) == SHARE
    assert net(platform, settlement) - before == sale["net"] - SHARE
    (aside,) = _of_kind(platform, shop, loan_id, "set_aside")
    assert set(view) == set(LoanView.__annotations__)  # the typed views are what is sent
    assert set(aside) == set(LoanTransactionView.__annotations__)
    assert (aside["amount_minor"], aside["source"]) == (SHARE, "sale")
    assert (aside["payment_id"], aside["order_id"]) == (
        sale.get("payment_id"),
        sale.get("order_id"),
    )
    sale_id = sale.get("payment_id") or f"{sale['order_id']}_release"
    assert aside["transfer_ids"] == [f"{sale_id.replace('_', '.')}.loan"]

    # the due date: the close pays the installment from the reserve, in the product's order
    first = platform.run(lambda u: loans.schedule(u, shop.merchant, loan_id))["data"][0]
    clock.at_day(date.fromisoformat(first["due_date"]) + timedelta(days=1))
    loan_close.close_due(platform)  # through yesterday, the due date
    view = check(platform, shop.merchant, loan_id)
    assert view["balance"]["reserve_minor"] == 0
    assert net(platform, loans.account(loan_id, "reserve")) == 0
    line = platform.run(lambda u: loans.schedule(u, shop.merchant, loan_id))["data"][0]
    assert line["paid_minor"] == SHARE  # the installment took the reserve
    assert line["unpaid_minor"] == first["total_minor"] - SHARE
    assert view["balance"]["reserve_minor"] == 0


def test_a_sale_sets_aside_nothing_without_an_auto_deducting_loan(
    platform: Platform, shop: Shop, clock: BusinessClock
) -> None:
    settlement = wallet_of(platform, shop.merchant_id, "settlement")["account_id"]
    sale = _sell(platform, shop, clock, "confirm")
    assert net(platform, settlement) == sale["net"]
