"""What a newcomer to the API tried first (issue 21, item 14): filters that filter, names
that stay, on SQLite and PostgreSQL."""

from __future__ import annotations

import hmac
from pathlib import Path

from tindahan.kernel.callers import SCOPES
from tindahan.webhooks.events import EVENT_TYPES
from tindahan.webhooks.signature import sign

PHP = "PHP"


def test_parties_filter_by_kind_and_name(world):
    api, operator = world.api, world.operator
    merchants = api.ok(api.get("/v1/parties", operator, kind="merchant"))["data"]
    assert [p["id"] for p in merchants] == [world.merchant.id]
    customers = api.ok(api.get("/v1/parties", operator, kind="customer"))["data"]
    assert {p["id"] for p in customers} == {world.buyer.id, world.other_buyer.id}
    named = api.ok(api.get("/v1/parties", operator, name="NENA"))["data"]
    assert [p["id"] for p in named] == [world.merchant.id]
    refused = api.get("/v1/parties", operator, kind="bank")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "kind_invalid"
    assert refused.json()["error"]["param"] == "kind"
    # a merchant's key still sees only itself, whatever it asks for
    own = api.ok(api.get("/v1/parties", world.merchant.key, kind="customer"))["data"]
    assert own == []


def test_a_payment_requests_merchant_name_is_there_on_every_read(world):
    api, merchant = world.api, world.merchant
    body = {"amount_minor": 12_500, "currency": PHP, "reference": "INV-7"}
    made = api.ok(api.post("/v1/payment_requests", merchant.key, body))
    assert made["merchant_name"] == "Aling Nena's Store"
    again = api.ok(api.get(f"/v1/payment_requests/{made['id']}", merchant.key))
    assert again["merchant_name"] == "Aling Nena's Store"
    listed = api.ok(api.get("/v1/payment_requests", merchant.key))["data"]
    assert [r["merchant_name"] for r in listed] == ["Aling Nena's Store"]
    canceled = api.ok(api.post(f"/v1/payment_requests/{made['id']}/cancel", merchant.key))
    assert canceled["merchant_name"] == "Aling Nena's Store"


def test_the_docs_name_every_scope_and_event_and_how_to_check_a_signature(api):
    described = api.ok(api.get("/openapi.json", None))["info"]["description"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in (*SCOPES, *EVENT_TYPES):
        assert f"`{name}`" in described, name
    for name in SCOPES:
        assert f"`{name}`" in readme, name
    for name in EVENT_TYPES:
        family, _, last = name.partition(".")
        assert f"`{name}`" in readme or f"`{family}.{last}|" in readme or f"|{last}" in readme
    assert "`<t>.<body>`" in described and "`<t>.<body>`" in readme


def test_the_documented_signature_recipe_is_what_deliveries_carry():
    secret, timestamp, body = "whsec_abc-DEF_123", 1_765_000_000, b'{"id":"evt_1","x":"\\u20b1"}'
    by_the_docs = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, "sha256")
    assert sign(secret, timestamp, body) == f"t={timestamp},v1={by_the_docs.hexdigest()}"
