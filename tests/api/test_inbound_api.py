"""Inbound credit transfers through the API (issue 19, item 5), on SQLite and PostgreSQL:
the clearing switch's signed door (``POST /v1/rails/messages``: a pacs.008 in, its pacs.002
out), its refusals (unsigned, unreadable, too large: nothing credited), and
``GET /v1/inbound_transfers`` reaching only the party's own."""

from __future__ import annotations

import time

import pytest

from tests.rails.test_inbound import answers, pacs008
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
