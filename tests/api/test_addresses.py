"""Delivery addresses through the API: the buyer's book, an order placed with an address,
and who reads it (the buyer, the merchant, the operator; nobody else), on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.api.conftest import World
from tests.api.test_commerce import coffee, shop  # noqa: F401  (a fixture)
from tindahan.store.payment_tables import idempotency_keys

HOME = {
    "recipient": "Juan dela Cruz",
    "phone": "0917-123-4567",
    "street": "12 Sampaguita St.",
    "barangay": "Malanday",
    "city": "Marikina",
    "province": "Metro Manila",
    "postal_code": "1805",
    "notes": "green gate",
}


def error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    return dict(response.json()["error"])


def test_the_address_book_for_its_owner_only(world: World):
    api, buyer, other = world.api, world.buyer, world.other_buyer
    made = api.ok(api.post("/v1/addresses", buyer.key, HOME))
    assert made["object"] == "address" and made["phone"] == "+639171234567"
    assert made["psgc"]["barangay_code"] == "1380700005"
    assert api.get(f"/v1/addresses/{made['id']}", other.key).status_code == 404
    assert api.get(f"/v1/addresses/{made['id']}", world.merchant.key).status_code == 404
    assert api.post(f"/v1/addresses/{made['id']}/remove", other.key).status_code == 404
    assert api.ok(api.get("/v1/addresses", other.key))["data"] == []
    seen = api.ok(api.get("/v1/addresses", world.operator, party_id=buyer.id))["data"]
    assert [a["id"] for a in seen] == [made["id"]]
    changed = api.ok(api.post(f"/v1/addresses/{made['id']}", buyer.key, {"notes": "blue gate"}))
    assert changed["notes"] == "blue gate" and changed["street"] == HOME["street"]
    gone = api.ok(api.post(f"/v1/addresses/{made['id']}/remove", buyer.key))
    assert gone["status"] == "removed"
    assert api.ok(api.get("/v1/addresses", buyer.key))["data"] == []


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("phone", "0817 123 4567", "phone_invalid"),
        ("postal_code", "180", "postal_code_invalid"),
        ("barangay", "   ", "parameter_missing"),
        ("barangay", "Malandy", "barangay_unknown"),
        ("city", "Marikna", "city_unknown"),
        ("province", "Batangs", "province_unknown"),
        ("postal_code", "1100", "postal_code_mismatch"),
    ],
)
def test_a_bad_address_is_refused_by_field(world: World, field: str, value: str, code: str):
    api, buyer = world.api, world.buyer
    found = error(api.post("/v1/addresses", buyer.key, {**HOME, field: value}))
    assert (found["code"], found["param"]) == (code, field)
    assert api.ok(api.get("/v1/addresses", buyer.key))["data"] == []


def test_an_order_carries_its_address_to_the_merchant_not_to_strangers(
    world: World,
    shop: dict[str, Any],  # noqa: F811
    platform: Any,
):
    api, buyer = world.api, world.buyer
    body = {"storefront_id": shop["store"]["id"], "lines": [coffee(shop)], "address": HOME}
    bad = error(api.post("/v1/orders", buyer.key, {**body, "address": {**HOME, "city": ""}}))
    assert (bad["code"], bad["param"]) == ("parameter_missing", "address.city")
    typo = error(
        api.post("/v1/orders", buyer.key, {**body, "address": {**HOME, "barangay": "Malandy"}})
    )
    assert (typo["code"], typo["param"]) == ("barangay_unknown", "address.barangay")
    assert "did you mean Malanday" in typo["message"]
    order = api.ok(api.post("/v1/orders", buyer.key, body))
    assert order["shipping_address"]["postal_code"] == "1805"
    assert order["shipping_address"]["city"] == "City of Marikina"
    assert order["shipping_address"]["psgc"] == {
        "barangay_code": "1380700005",
        "city_code": "1380700000",
        "province_code": None,
        "region_code": "1300000000",
    }
    book = api.ok(api.get("/v1/addresses", buyer.key))["data"]
    assert len(book) == 1
    api.ok(api.post(f"/v1/addresses/{book[0]['id']}", buyer.key, {"street": "Somewhere else"}))
    for key in (buyer.key, world.merchant.key, world.operator):
        seen = api.ok(api.get(f"/v1/orders/{order['id']}", key))
        assert seen["shipping_address"]["street"] == HOME["street"]
    sales = api.ok(api.get("/v1/orders", world.merchant.key))["data"]
    assert sales[0]["shipping_address"]["recipient"] == "Juan dela Cruz"
    assert api.get(f"/v1/orders/{order['id']}", world.other_buyer.key).status_code == 404
    theirs = api.ok(api.post("/v1/addresses", world.other_buyer.key, HOME))
    stolen = api.post(
        "/v1/orders", buyer.key, {**body, "address": None, "address_id": theirs["id"]}
    )
    assert stolen.status_code == 404 and stolen.json()["error"]["param"] == "address_id"
    stored = platform.run(
        lambda u: [repr(r) for r in u.conn.execute(select(idempotency_keys)).all()], write=False
    )
    assert stored and not any("Sampaguita" in row or "dela Cruz" in row for row in stored)
