"""Notifications (issue 21, item 4), on SQLite and PostgreSQL: a paid order tells the
merchant, each shipment event tells the buyer, a send tells its recipient — each written in
the event's own transaction (a rolled-back payment leaves none); the header's badge counts
the unread, the list says them in English and Filipino and marks them read; the API lists
and marks only the caller's own."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.web.conftest import OPERATOR, Browser, Site
from tests.web.test_buyer_pages import bought, pay
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import shipments
from tindahan.services.payments import sends
from tindahan.services.platform import notifications
from tindahan.services.unit import Unit
from tindahan.store.payment_tables import events
from tindahan.store.payment_tables import notifications as rows


def _caller(party_id: Any) -> Caller:
    return Caller("test", str(party_id), frozenset(DEFAULT_SCOPES))


def _kinds(site: Site, party_id: Any) -> list[str]:
    found = site.platform.run(
        lambda u: notifications.list_notifications(u, _caller(party_id), 50), write=False
    )
    return [n["kind"] for n in found["data"]]


def _all_rows(site: Site) -> list[dict[str, Any]]:
    return [
        dict(r)
        for r in site.platform.run(
            lambda u: u.conn.execute(select(rows)).mappings().all(), write=False
        )
    ]


def test_order_paid_and_shipment_events_tell_merchant_and_buyer(
    browser: Browser, site: Site
) -> None:
    order_id = bought(browser, site)
    assert _kinds(site, site.merchant.party_id) == []  # placed, not paid: nothing yet
    assert pay(browser, order_id).status_code == 303
    (paid,) = site.platform.run(
        lambda u: notifications.list_notifications(u, _caller(site.merchant.party_id), 50),
        write=False,
    )["data"]
    assert (paid["kind"], paid["subject_id"], paid["read"]) == ("order.paid", order_id, False)
    assert paid["facts"]["amount_minor"] > 0 and paid["facts"]["short_ref"]
    event = site.platform.run(
        lambda u: u.conn.execute(
            select(events.c.type).where(events.c.id == paid["event_id"])
        ).scalar_one(),
        write=False,
    )
    assert event == "order.paid"
    merchant = _caller(site.merchant.party_id)
    shipped = site.platform.run(
        lambda u: shipments.ship(u, merchant, order_id, "LBC", "LBC-123456")
    )
    for status in ("in_transit", "out_for_delivery"):

        def report(u: Unit, s: str = status) -> Any:
            return shipments.post_event(u, merchant, shipped["id"], s)

        site.platform.run(report)
    assert sorted(_kinds(site, site.buyer.party_id)) == [
        "order.shipped",
        "shipment.updated",
        "shipment.updated",
    ]
    assert _kinds(site, site.other_buyer.party_id) == []
    # The buyer's pages: a badge of 3, the list in words, then read.
    home = browser.get("/b").text
    assert '<span class="count" id="unread-count">3' in home
    listed = browser.get("/notifications").text
    assert "is out for delivery today." in listed and "is on its way." in listed
    assert "was shipped." in listed and f'href="/b/orders/{order_id}"' in listed
    assert 'id="unread-count"' not in browser.get("/b").text
    assert all(r["read_at_ns"] for r in _all_rows(site) if r["party_id"] == site.buyer.party_id)
    browser.post("/lang", {"lang": "fil", "next": "/notifications"})
    assert "Naipadala na ang iyong order" in browser.get("/notifications").text


def test_a_send_tells_the_recipient_and_a_refused_one_tells_nobody(site: Site) -> None:
    buyer = _caller(site.buyer.party_id)
    sent = site.platform.run(
        lambda u: sends.send_to_mobile(u, buyer, sends.MobileSend("09170000005", 4_200))
    )
    (notice,) = site.platform.run(
        lambda u: notifications.list_notifications(u, _caller(site.other_buyer.party_id), 50),
        write=False,
    )["data"]
    assert notice["kind"] == "mobile_transfer.received" and notice["subject_id"] == sent["id"]
    assert notice["facts"]["name"] == "Juan D. C." and notice["facts"]["amount_minor"] == 4_200
    assert _kinds(site, site.buyer.party_id) == []  # the sender saw the receipt
    before = len(_all_rows(site))
    with pytest.raises(RefusalError):
        site.platform.run(
            lambda u: sends.send_to_mobile(u, buyer, sends.MobileSend("09170000005", 10**8))
        )
    assert len(_all_rows(site)) == before  # rolled back with its payment


def test_api_lists_and_marks_only_ones_own(site: Site, clock: Any) -> None:
    buyer, other = _caller(site.buyer.party_id), _caller(site.other_buyer.party_id)
    for amount in (100, 200):
        new = sends.MobileSend("09170000004", amount)

        def send(u: Unit, n: sends.MobileSend = new) -> Any:
            return sends.send_to_mobile(u, other, n)

        site.platform.run(send)
        clock.advance(1)  # newest first: the second is later
    mine = site.platform.run(lambda u: notifications.list_notifications(u, buyer, 1), write=False)
    assert mine["has_more"] is True and mine["data"][0]["facts"]["amount_minor"] == 200
    older = site.platform.run(
        lambda u: notifications.list_notifications(u, buyer, 5, mine["data"][0]["id"]),
        write=False,
    )
    assert [n["facts"]["amount_minor"] for n in older["data"]] == [100]
    first = older["data"][0]["id"]
    with pytest.raises(RefusalError) as caught:  # not theirs: no such notification
        site.platform.run(lambda u: notifications.mark_read(u, other, [first]))
    assert caught.value.code == "resource_missing"
    done = site.platform.run(lambda u: notifications.mark_read(u, buyer, [first]))
    assert (done["marked"], done["unread"]) == (1, 1)
    again = site.platform.run(lambda u: notifications.mark_read(u, buyer, [first]))
    assert again["marked"] == 0
    site.platform.run(lambda u: notifications.mark_read(u, buyer))
    assert site.platform.run(lambda u: notifications.unread_count(u, buyer), write=False) == 0
    with pytest.raises(RefusalError) as unnamed:
        site.platform.run(lambda u: notifications.unread_count(u, OPERATOR), write=False)
    assert unnamed.value.code == "parameter_missing"
    listed = site.platform.run(
        lambda u: notifications.list_notifications(
            u, OPERATOR, 10, party_id=str(site.buyer.party_id), unread=False
        ),
        write=False,
    )
    assert len(listed["data"]) == 2
