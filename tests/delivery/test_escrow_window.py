"""Escrow follows the delivery window (issue 25, item 3), on SQLite and PostgreSQL: a
courier order delivered before the end of its promised window starts the buyer's days to
complain at that end, one delivered late at its delivery; a flat-fee order as before."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.delivery.test_checkout_couriers import (  # noqa: F401  (fixtures)
    DAVAO,
    OPERATOR,
    checkout,
    platform,
    shop,
)
from tindahan import limits
from tindahan.services.commerce import escrow, jobs, orders
from tindahan.services.commerce import shipments as shipping
from tindahan.services.delivery import reports
from tindahan.services.payments import cash
from tindahan.services.platform import notifications, sms
from tindahan.services.unit import Platform, iso
from tindahan.store.payment_tables import wallets

DAY_S = 86_400
DAY = DAY_S * 10**9
RELEASE = limits.ESCROW_AUTO_RELEASE_DAYS * DAY


def _shipped(platform: Platform, shop: dict[str, Any]) -> tuple[str, str, int]:  # noqa: F811
    """A paid J&T order to Davao (the card's window: 4-8 days), shipped: its id, the
    parcel's and the payment's time."""
    buyer = shop["buyer"]
    wallet = platform.run(
        lambda u: u.conn.execute(
            select(wallets.c.id).where(
                wallets.c.party_id == buyer.party_id, wallets.c.kind == "main"
            )
        ).scalar_one(),
        write=False,
    )
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 1_000_000, "PHP", None))
    order = checkout(platform, shop, DAVAO, "jnt")
    assert (order["delivery"]["min_days"], order["delivery"]["max_days"]) == (4, 8)
    platform.run(lambda u: escrow.pay(u, buyer, order["id"], None))
    paid = platform.run(lambda u: orders.order_row(u, order["id"]), write=False)["paid_at_ns"]
    parcel = platform.run(
        lambda u: shipping.ship(u, shop["merchant"], order["id"], "J&T Express", "JT-1")
    )
    return order["id"], parcel["id"], paid


def _deliver(platform: Platform, shop: dict[str, Any], parcel: str) -> None:  # noqa: F811
    platform.run(lambda u: shipping.post_event(u, shop["merchant"], parcel, "delivered"))


def test_an_early_parcel_counts_from_the_promised_date(platform, shop, clock):  # noqa: F811
    order_id, parcel, paid = _shipped(platform, shop)
    clock.advance(2 * DAY_S)  # day 2 of a 4-8 day window
    _deliver(platform, shop, parcel)
    row = platform.run(lambda u: orders.order_row(u, order_id), write=False)
    assert row["status"] == "delivered"
    assert row["release_at_ns"] == paid + 8 * DAY + RELEASE
    assert row["release_at_ns"] > clock.now + RELEASE


def test_a_late_parcel_counts_from_its_delivery(platform, shop, clock):  # noqa: F811
    order_id, parcel, paid = _shipped(platform, shop)
    clock.advance(10 * DAY_S)  # two days past the window
    _deliver(platform, shop, parcel)
    row = platform.run(lambda u: orders.order_row(u, order_id), write=False)
    assert row["release_at_ns"] == clock.now + RELEASE
    assert clock.now > paid + 8 * DAY


def test_a_parcel_past_its_window_is_flagged_until_delivered(platform, shop, clock):  # noqa: F811
    order_id, parcel, _ = _shipped(platform, shop)

    def delivery() -> dict[str, Any]:
        return platform.run(lambda u: orders.get(u, OPERATOR, order_id), write=False)["delivery"]

    assert delivery()["late"] is False
    assert delivery()["promised_at"] is not None
    clock.advance(8 * DAY_S)  # the window's last moment: not late yet
    assert delivery()["late"] is False
    clock.advance(60)
    assert delivery()["late"] is True
    _deliver(platform, shop, parcel)
    assert delivery()["late"] is False


def _notices(platform: Platform, party_id: str) -> dict[str, dict[str, Any]]:  # noqa: F811
    found = platform.run(
        lambda u: notifications.list_notifications(u, OPERATOR, 50, party_id=party_id),
        write=False,
    )["data"]
    return {n["kind"]: n["facts"] for n in found}


def test_the_buyer_is_told_the_window_and_both_are_told_once_when_late(
    platform,  # noqa: F811
    shop,  # noqa: F811
    clock,
):
    _, parcel, paid = _shipped(platform, shop)
    promised = orders.promised_at_ns({"window_max_days": 8, "paid_at_ns": paid})
    buyer_id, merchant_id = shop["buyer"].party_id, shop["merchant"].party_id
    told = _notices(platform, buyer_id)
    assert told["order.confirmed"]["arrives_by"] == iso(promised)
    assert told["order.shipped"]["arrives_by"] == iso(promised)
    assert "order.confirmed" not in _notices(platform, merchant_id)
    assert jobs.flag_late_orders(platform) == 0  # within its window
    clock.advance(8 * DAY_S + 60)
    assert jobs.flag_late_orders(platform) == 1
    assert jobs.flag_late_orders(platform) == 0  # told once
    assert _notices(platform, buyer_id)["order.late"]["role"] == "buyer"
    assert _notices(platform, merchant_id)["order.late"]["role"] == "merchant"
    texts = platform.run(lambda u: sms.list_messages(u, OPERATOR, 50), write=False)["data"]
    texted = {(m["kind"], m["party_id"]) for m in texts}
    assert ("order_shipped_by", buyer_id) in texted and ("order_shipped", buyer_id) not in texted
    assert {("order_late", buyer_id), ("order_late_shop", merchant_id)} <= texted
    _deliver(platform, shop, parcel)
    (jnt,) = platform.run(lambda u: reports.on_time(u, OPERATOR), write=False)
    assert (jnt["courier"], jnt["zone"], jnt["delivered"], jnt["on_time"]) == (
        "jnt",
        "island_crossing",
        1,
        0,
    )
