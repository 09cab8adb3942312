"""Inbound credit transfers through the API (issue 19, item 5), on SQLite and PostgreSQL:
the clearing switch's signed door (``POST /v1/rails/messages``: a pacs.008 in, its pacs.002
out), its refusals (unsigned, unreadable, too large: nothing credited), and
``GET /v1/inbound_transfers`` reaching only the party's own."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime

import httpx
import pytest

from tests.rails.test_inbound import answers, pacs008
from tindahan.rails import MessageType, RecallRequest
from tindahan.rails import xml as rails_xml
from tindahan.services.rails import participants, recalls
from tindahan.switch.app import create_app
from tindahan.switch.clearing import ClearingHouse
from tindahan.webhooks.signature import sign

SECRET = "inbound-api-test-secret"
XML = "application/xml"


class HouseDoor:
    """The clearing house's ``accept`` as a ``RailPort`` (what ``POST /messages`` calls)."""

    def __init__(self, house: ClearingHouse) -> None:
        self.house = house

    def send(self, message: bytes) -> None:
        self.house.accept(message)

    def request_status(self, message: bytes) -> bytes | None:
        return None

    def answers(self) -> list[bytes]:
        return []


@pytest.fixture
def rails_secret(monkeypatch):
    monkeypatch.setenv("TINDAHAN_RAILS_SECRET", SECRET)


def post(api, data: bytes, secret: str = SECRET):
    headers = {
        "Tindahan-Signature": sign(secret, int(time.time()), data),
        "Content-Type": "application/xml",
    }
    return api.http.post("/v1/rails/messages", content=data, headers=headers)


def test_the_switch_credits_a_wallet_once_and_the_party_sees_it(world, rails_secret):
    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    message = pacs008((buyer.wallets["main"], 500_00, "PHP"))
    first = post(api, message)
    assert first.status_code == 200, first.text
    assert first.headers["content-type"].startswith("application/xml")
    assert answers(first.content) == [("ACSC", None)]
    again = post(api, message)
    assert again.content == first.content  # the duplicate: the same pacs.002, nothing moved
    assert world.balance(buyer) == before + 500_00
    mine = api.ok(api.get("/v1/inbound_transfers", buyer.key))["data"]
    assert [(t["status"], t["credited_minor"], t["wallet_id"]) for t in mine] == [
        ("credited", 500_00, buyer.wallets["main"])
    ]
    assert api.ok(api.get(f"/v1/inbound_transfers/{mine[0]['id']}", buyer.key))["id"]
    assert api.ok(api.get("/v1/inbound_transfers", world.other_buyer.key))["data"] == []
    hidden = api.get(f"/v1/inbound_transfers/{mine[0]['id']}", world.other_buyer.key)
    assert hidden.status_code == 404
    everyone = api.ok(api.get("/v1/inbound_transfers", world.operator))["data"]
    assert [t["id"] for t in everyone] == [mine[0]["id"]]


def test_unsigned_unreadable_or_huge_messages_are_refused_and_credit_nothing(world, rails_secret):
    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    message = pacs008((buyer.wallets["main"], 100_00, "PHP"))
    assert post(api, message, secret="wrong").status_code == 401
    unsigned = api.http.post("/v1/rails/messages", content=message)
    assert unsigned.status_code == 401
    three_decimals = message.replace(b">100.00<", b">100.005<")
    refused = post(api, three_decimals)
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "message_invalid"
    assert "more decimal places" in refused.json()["error"]["message"]
    huge = b"<a/>" + b" " * (50 * 1024 * 1024)
    assert post(api, huge).status_code == 413
    rejected = post(api, pacs008(("wal_nosuchwallet000000000000", 100_00, "PHP")))
    assert answers(rejected.content) == [("RJCT", "AC01")]
    assert world.balance(buyer) == before


def test_a_recall_waits_for_the_operator_who_accepts_it_through_the_api(world, rails_secret):
    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    message = pacs008((buyer.wallets["main"], 300_00, "PHP"))
    assert answers(post(api, message).content) == [("ACSC", None)]
    item = rails_xml.read(message)
    (sent,) = item.transactions
    assert sent.uetr is not None and sent.end_to_end_id is not None
    recall = rails_xml.camt056(
        message_id="RCL-API",
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
        assigner="BNORPHMMXXX",
        assignee="TNDHPHM1XXX",
        case_id="CASE-API",
        recalls=[
            RecallRequest(item.message_id, sent.uetr, sent.end_to_end_id, 300_00, "PHP", "FRAD")
        ],
    )
    assert post(api, recall).status_code == 202
    assert api.get("/v1/inbound_recalls", buyer.key).status_code == 403
    (pending,) = api.ok(api.get("/v1/inbound_recalls", world.operator, status="pending"))["data"]
    assert (pending["reason"]["code"], pending["party_id"]) == ("FRAD", buyer.id)
    path = f"/v1/inbound_recalls/{pending['id']}/decide"
    assert api.post(path, buyer.key, {"decision": "accept"}).status_code == 403
    bad = api.post(path, world.operator, {"decision": "maybe"})
    assert bad.status_code == 400
    decided = api.ok(api.post(path, world.operator, {"decision": "accept"}))
    assert decided["status"] == "accepted"
    assert world.balance(buyer) == before
    (transfer,) = api.ok(api.get("/v1/inbound_transfers", buyer.key))["data"]
    assert transfer["status"] == "returned"


def test_the_switch_s_banks_pay_a_wallet_duplicated_then_recalled(platform, world, rails_secret):
    """The simulated clearing house delivers a counterparty bank's pacs.008 over signed HTTP:
    twice under ``duplicated`` (credited once), then recalled under ``recalled``; the
    operator accepts and the worker's round hands the pacs.004 and camt.029 back to it."""
    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    house = ClearingHouse(participants.seed_rows(), "duplicated")
    switch = create_app(house, SECRET, str(api.http.base_url))

    def pay(amount: int) -> dict:
        body = json.dumps({"account": buyer.wallets["main"], "amount_minor": amount}).encode()
        signed = {"Tindahan-Signature": sign(SECRET, int(time.time()), body)}

        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=switch)
            async with httpx.AsyncClient(transport=transport, base_url="http://switch") as client:
                return await client.post("/inbound", content=body, headers=signed)

        response = asyncio.run(call())
        assert response.status_code == 200, response.text
        return dict(response.json())

    twice = pay(250_00)
    assert twice["answers"] == [{"status": "ACSC", "reason": None}] * 2
    assert world.balance(buyer) == before + 250_00
    house.faults = "recalled"
    recalled = pay(100_00)
    assert (recalled["answers"], recalled["recall"]) == ([{"status": "ACSC", "reason": None}], 202)
    assert [m.credit for m in house.settlement.movements] == [True, True]
    (pending,) = api.ok(api.get("/v1/inbound_recalls", world.operator, status="pending"))["data"]
    assert pending["uetr"] == recalled["uetr"]
    path = f"/v1/inbound_recalls/{pending['id']}/decide"
    api.ok(api.post(path, world.operator, {"decision": "accept"}))
    assert world.balance(buyer) == before + 250_00
    port = HouseDoor(house)
    assert recalls.dispatch(platform, port) == 1
    kinds = [message.message_type for message in house.resolutions]
    assert kinds == [MessageType.PACS_004, MessageType.CAMT_029]
    assert [m.credit for m in house.settlement.movements] == [True, True, False]


def test_the_door_past_the_router_answers_as_the_route_would(world, rails_secret):
    """``api.inbound.RailsDoor`` answers signed messages without the router: a streamed body
    over the bound is still the API's 413, a signature header too long goes on to the
    route (its 400), and the answers are counted under the route's template."""
    from tests.api.test_metrics import _count, _scrape

    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    _, counted = _scrape(world)
    message = pacs008((buyer.wallets["main"], 100_00, "PHP"))
    assert answers(post(api, message).content) == [("ACSC", None)]
    chunk = b" " * (1024 * 1024)
    headers = {"Tindahan-Signature": sign(SECRET, int(time.time()), b""), "Content-Type": XML}
    streamed = api.http.post(
        "/v1/rails/messages", content=iter([b"<a/>", *[chunk] * 20]), headers=headers
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["code"] == "body_too_large"
    long_header = {"Tindahan-Signature": "t=1,v1=" + "0" * 600, "Content-Type": XML}
    too_long = api.http.post("/v1/rails/messages", content=message, headers=long_header)
    assert too_long.status_code == 400
    _, found = _scrape(world)
    route, name = "/v1/rails/messages", "tindahan_http_requests"
    for status, times in (("200", 1), ("413", 1), ("400", 1)):
        seen = _count(found, name, method="POST", route=route, status=status)
        assert seen - _count(counted, name, method="POST", route=route, status=status) == times
    assert world.balance(buyer) == before + 100_00
