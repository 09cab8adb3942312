"""Issue 21 item 4 by SMS: a paid order is texted to its merchant, and the parcel's
statuses a buyer acts on (shipped, out for delivery, failed attempt, delivered, returned)
to its buyer; "picked up" and "in transit" only on the page and in webhooks."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from tests.commerce.test_escrow_lifecycles import _checkout, _ship, shop  # noqa: F401
from tindahan.services.commerce import escrow
from tindahan.services.commerce import shipments as shipping
from tindahan.sms import notices
from tindahan.store.payment_tables import sms_messages


def _texts(shop) -> list[tuple[str, str]]:  # noqa: F811
    query = select(sms_messages.c.party_id, sms_messages.c.kind).order_by(
        sms_messages.c.created_at_ns, sms_messages.c.id
    )
    return [(r[0], r[1]) for r in shop.run(lambda u: u.conn.execute(query).all())]


def test_orders_and_parcels_are_texted_to_whom_they_concern(shop):  # noqa: F811
    buyer, merchant = shop.buyers[0], shop.merchants[0]
    order_id = _checkout(shop, 0, 0, (0, 2))
    before = Counter(_texts(shop))
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    parcel = _ship(shop, order_id, "LBC-9")
    for status in ("picked_up", "in_transit", "out_for_delivery", "failed_attempt"):
        shop.run(lambda u, s=status: shipping.post_event(u, shop.caller(merchant), parcel, s))
    shop.run(lambda u: shipping.post_event(u, shop.caller(merchant), parcel, "delivered"))
    new = Counter(_texts(shop)) - before
    order_texts = [t for t in new.elements() if not t[1].startswith("payment_")]
    # The test clock stands still: the rows' order is not the events' order, so compare sets.
    assert sorted(order_texts) == sorted(
        [
            (merchant, "order_paid"),
            (buyer, "order_shipped"),
            (buyer, "parcel_out_for_delivery"),
            (buyer, "parcel_failed_attempt"),
            (buyer, "parcel_delivered"),
        ]
    )


def test_which_order_events_become_texts():
    paid = {
        "id": "ord_1",
        "total_minor": 12_345,
        "currency": "PHP",
        "merchant_id": "m",
        "buyer_id": "b",
        "short_ref": "7KQ2-M9XD",
    }
    (notice,) = notices.for_event("order.paid", paid, ("b", "m"))
    assert (notice.party_id, notice.kind) == ("m", "order_paid")
    assert notice.data == {
        "amount_minor": 12_345,
        "currency": "PHP",
        "ref": "7KQ2-M9XD",
        "other": "b",
    }
    (shipped,) = notices.for_event("order.shipped", paid, ("b", "m"))
    assert (shipped.party_id, shipped.kind) == ("b", "order_shipped")
    moving = {"order_id": "ord_1", "status": "in_transit", "buyer_id": "b", "short_ref": "X"}
    assert notices.for_event("shipment.updated", moving, ("b", "m")) == []
    returned = {**moving, "status": "returned"}
    assert [n.kind for n in notices.for_event("shipment.updated", returned, ())] == [
        "parcel_returned"
    ]
    assert notices.for_event("shipment.updated", {"status": "delivered"}, ()) == []  # no buyer
