"""Couriers through the API, on SQLite and PostgreSQL: the operator's rate card, the
merchant's couriers, the buyer's offers for a cart and an address, and the order placed with
the chosen courier; bad input gets the error object and changes nothing."""

from __future__ import annotations

from typing import Any, get_args

from tests.api.conftest import World
from tests.api.test_commerce import coffee, shop  # noqa: F401  (a fixture)
from tindahan.api.delivery_schemas import ZoneName
from tindahan.delivery.zones import Zone

DAVAO = {
    "recipient": "Juan dela Cruz",
    "phone": "0917-123-4567",
    "street": "12 Sampaguita St.",
    "barangay": "Agdao",
    "city": "Davao City",
    "province": "",
    "postal_code": "8000",
    "notes": "",
}
CARD = {
    "name": "J&T Express",
    "cod_bps": 275,
    "cod_min_minor": 1500,
    "zones": {
        "island_crossing": {
            "min_days": 4,
            "max_days": 8,
            "tiers": [
                {"max_weight_g": 500, "fee_minor": 18000},
                {"max_weight_g": 3000, "fee_minor": 23000},
            ],
        }
    },
}


def error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return dict(response.json()["error"])


def test_couriers_from_rate_card_to_order(world: World, shop: dict[str, Any]):  # noqa: F811
    api, buyer, merchant = world.api, world.buyer, world.merchant
    store = shop["store"]["id"]
    assert error(api.post("/v1/couriers/jnt", merchant.key, CARD), 403)["code"] == "operator_only"
    bad = error(api.post("/v1/couriers/jnt", world.operator, {**CARD, "zones": {"mars": {}}}))
    assert bad["param"].startswith("zones")
    card = api.ok(api.post("/v1/couriers/jnt", world.operator, CARD))
    assert card["zones"]["island_crossing"]["tiers"][1]["fee_minor"] == 23000
    assert [c["code"] for c in api.ok(api.get("/v1/couriers", buyer.key))["data"]] == ["jnt"]

    unknown = error(
        api.post(
            f"/v1/storefronts/{store}/shipping", merchant.key, {"couriers": [{"courier": "dhl"}]}
        ),
        404,
    )
    assert unknown["param"] == "couriers.0.courier"
    listed = api.ok(
        api.post(
            f"/v1/storefronts/{store}/shipping",
            merchant.key,
            {"couriers": [{"courier": "jnt"}], "free_shipping_over_minor": 1_000_000},
        )
    )
    assert [c["courier"] for c in listed["couriers"]] == ["jnt"]
    assert error(api.post(f"/v1/storefronts/{store}/shipping", buyer.key, {}), 404)

    weight = {"weight_g": 250}
    api.ok(api.post(f"/v1/products/{shop['coffee']['id']}", merchant.key, weight))
    body = {"storefront_id": store, "lines": [coffee(shop, 3)], "address": DAVAO}
    offers = api.ok(api.post("/v1/shipping_offers", buyer.key, body))
    assert offers["zone"] == "island_crossing"
    assert [
        (o["courier"], o["fee_minor"], o["min_days"], o["max_days"]) for o in offers["offers"]
    ] == [
        ("jnt", 23000, 4, 8)  # 750 g: the second tier
    ]
    missing = error(api.post("/v1/orders", buyer.key, {**body, "save_address": False}))
    assert (missing["code"], missing["param"]) == ("courier_missing", "courier")
    order = api.ok(
        api.post("/v1/orders", buyer.key, {**body, "save_address": False, "courier": "jnt"})
    )
    assert order["shipping_minor"] == 23000
    assert order["total_minor"] == 3 * 18000 + 23000
    assert order["delivery"]["courier"] == "jnt" and order["delivery"]["zone"] == "island_crossing"
    product = api.ok(api.get(f"/v1/products/{shop['coffee']['id']}", buyer.key))
    assert product["weight_g"] == 250
    heavy = error(api.post(f"/v1/products/{shop['coffee']['id']}", merchant.key, {"weight_g": 0}))
    assert heavy["param"] == "weight_g"


def test_the_api_knows_every_zone():
    assert set(get_args(ZoneName)) == {z.value for z in Zone}
