"""Inbound credit transfers through the API (issue 19, item 5), on SQLite and PostgreSQL:
the clearing switch's signed door (``POST /v1/rails/messages``: a pacs.008 in, its pacs.002
out), its refusals (unsigned, unreadable, too large: nothing credited), and
``GET /v1/inbound_transfers`` reaching only the party's own."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from tests.rails.test_inbound import answers, pacs008
from tindahan.rails import RecallRequest
from tindahan.rails import xml as rails_xml
from tindahan.webhooks.signature import sign

SECRET = "inbound-api-test-secret"


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
