"""Selling online through the API: storefront → checkout → escrow → ship → deliver → release,
buyers abroad, disputes, refunds; with the ledger checked by ``verify`` after each story."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import Api, Party, World, make_party
from tindahan.services.ledger.verify import verify
from tindahan.webhooks.signature import sign
from tindahan.worker import tick

DAY = 86_400


@pytest.fixture
def shop(world: World) -> dict[str, Any]:
    """Aling Nena's online shop: a plain product (10 in stock) and a shirt in two sizes."""
    api, key = world.api, world.merchant.key
    store = api.ok(
        api.post(
            "/v1/storefronts",
            key,
            {"slug": "aling-nena", "name": "Aling Nena Online", "shipping_fee_minor": 5000},
        )
    )
    coffee = api.ok(
        api.post(
            f"/v1/storefronts/{store['id']}/products",
            key,
            {"title": "Barako coffee 250 g", "price_minor": 18000, "stock": 10},
        )
    )
    shirt = api.ok(
        api.post(
            f"/v1/storefronts/{store['id']}/products",
            key,
            {
                "title": "Marikina shirt",
                "price_minor": 35000,
                "variants": [
                    {"name": "M", "stock": 1},
                    {"name": "L", "stock": 3, "price_minor": 37000},
                ],
            },
        )
    )
    return {"store": store, "coffee": coffee, "shirt": shirt}


def checkout(
    api: Api, buyer: Party, shop: dict[str, Any], lines: list[dict[str, Any]]
) -> dict[str, Any]:
    return api.ok(
        api.post("/v1/orders", buyer.key, {"storefront_id": shop["store"]["id"], "lines": lines})
    )


def coffee(shop: dict[str, Any], quantity: int = 1) -> dict[str, Any]:
    return {"product_id": shop["coffee"]["id"], "quantity": quantity}


def stock_of(api: Api, key: str, product: dict[str, Any]) -> list[int]:
    found = api.ok(api.get(f"/v1/products/{product['id']}", key))
    return [v["stock"] for v in found["variants"]]


def ledger_ok(platform) -> None:
    report = verify(platform.db)
    assert report.ok, report.violations


def test_the_whole_story_money_waits_in_escrow_until_delivery(world, shop, platform, clock):
    api, buyer, merchant = world.api, world.buyer, world.merchant
    order = checkout(api, buyer, shop, [coffee(shop, 2)])
    assert order["status"] == "pending_payment"
    assert order["total_minor"] == 2 * 18000 + 5000
    assert stock_of(api, merchant.key, shop["coffee"]) == [8]  # reserved at checkout
    before = world.balance(buyer)

    paid = api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}))
    assert paid["status"] == "paid"
    assert paid["escrow"]["held_minor"] == 41000
    assert world.balance(buyer) == before - 41000
    assert world.balance(merchant, "settlement") == 0  # not the merchant's yet
    assert "ship" in api.ok(api.get(f"/v1/orders/{order['id']}", merchant.key))["allowed_actions"]

    shipment = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/shipments",
            merchant.key,
            {"courier": "LBC", "tracking_number": "LBC123456"},
        )
    )
    assert shipment["lines"] == [{"line_no": 1, "quantity": 2}]
    for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
        api.ok(api.post(f"/v1/shipments/{shipment['id']}/events", merchant.key, {"status": status}))
    delivered = api.ok(api.get(f"/v1/orders/{order['id']}", buyer.key))
    assert delivered["status"] == "delivered"
    assert delivered["release_at"] is not None
    timeline = api.ok(api.get(f"/v1/shipments/{shipment['id']}", buyer.key))["timeline"]
    assert [t["status"] for t in timeline][-1] == "delivered"

    done = api.ok(api.post(f"/v1/orders/{order['id']}/confirm", buyer.key, {}))
    assert done["status"] == "completed"
    fee = 820  # 2% of 41,000, HALF_UP
    assert done["escrow"] == {
        "account_id": done["escrow"]["account_id"],
        "paid_in_minor": 41000,
        "held_minor": 0,
        "released_minor": 41000,
        "fee_minor": fee,
        "refunded_minor": 0,
    }
    assert world.balance(merchant, "settlement") == 41000 - fee
    actions = [(h["action"], h["to_status"], h["actor_role"]) for h in done["history"]]
    assert actions == [
        ("checkout", "pending_payment", "buyer"),
        ("pay", "paid", "buyer"),
        ("ship", "shipped", "merchant"),
        ("deliver", "delivered", "merchant"),
        ("confirm", "completed", "buyer"),
    ]
    ledger_ok(platform)


def test_auto_release_after_the_configured_days(world, shop, platform, clock):
    api, buyer, merchant = world.api, world.buyer, world.merchant
    api.ok(api.post("/v1/fee_settings", world.operator, {"escrow_auto_release_days": 3}))
    order = checkout(api, buyer, shop, [coffee(shop)])
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}))
    shipment = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/shipments",
            merchant.key,
            {"courier": "J&T", "tracking_number": "JT1"},
        )
    )
    api.ok(
        api.post(f"/v1/shipments/{shipment['id']}/events", merchant.key, {"status": "delivered"})
    )
    clock.advance(3 * DAY - 1)
    tick(platform)
    assert api.ok(api.get(f"/v1/orders/{order['id']}", buyer.key))["status"] == "delivered"
    clock.advance(1)
    assert tick(platform).orders_released == 1
    done = api.ok(api.get(f"/v1/orders/{order['id']}", buyer.key))
    assert done["status"] == "completed"
    assert done["history"][-1]["actor_role"] == "worker"
    assert world.balance(merchant, "settlement") == 23000 - 460
    ledger_ok(platform)


def test_unpaid_orders_expire_and_their_stock_comes_back(world, shop, platform, clock):
    api = world.api
    order = checkout(
        api,
        world.buyer,
        shop,
        [
            {
                "product_id": shop["shirt"]["id"],
                "variant_id": shop["shirt"]["variants"][0]["id"],
                "quantity": 1,
            }
        ],
    )
    assert stock_of(api, world.merchant.key, shop["shirt"]) == [0, 3]
    refused = api.post(
        "/v1/orders",
        world.other_buyer.key,
        {
            "storefront_id": "aling-nena",
            "lines": [
                {
                    "product_id": shop["shirt"]["id"],
                    "variant_id": shop["shirt"]["variants"][0]["id"],
                    "quantity": 1,
                }
            ],
        },
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "out_of_stock"
    clock.advance(30 * 60)
    assert tick(platform).orders_expired == 1
    assert api.ok(api.get(f"/v1/orders/{order['id']}", world.buyer.key))["status"] == "cancelled"
    assert stock_of(api, world.merchant.key, shop["shirt"]) == [1, 3]
    late = api.post(f"/v1/orders/{order['id']}/pay", world.buyer.key, {})
    assert late.status_code == 409 and late.json()["error"]["code"] == "order_transition_invalid"


def test_a_buyer_abroad_pays_in_dollars_and_the_merchant_gets_pesos(
    world, shop, platform, api, operator_key
):
    abroad = make_party(
        api,
        operator_key,
        {"kind": "customer", "name": "Tita Baby (Daly City)", "currency": "USD", "tier": "full"},
    )
    api.ok(api.post("/v1/fx_rates/USD", operator_key, {"mid_rate": "58.25", "spread_bps": 150}))
    api.ok(
        api.post(
            "/v1/fundings",
            operator_key,
            {"wallet_id": abroad.wallets["main"], "amount_minor": 50_000, "currency": "USD"},
        )
    )
    order = checkout(api, abroad, shop, [coffee(shop, 3)])  # ₱590.00
    assert order["buyer_currency"] == "USD"
    need = api.post(f"/v1/orders/{order['id']}/pay", abroad.key, {})
    assert need.status_code == 400 and need.json()["error"]["code"] == "fx_quote_required"
    quote = api.ok(api.post(f"/v1/orders/{order['id']}/fx_quotes", abroad.key, {}))
    assert quote["php_minor"] == 59000
    # 58.25 less 1.5% = 57.37625 PHP per USD; $10.29 buys ₱590.40, $10.28 only ₱589.82
    assert quote["customer_rate"] == "57.37625"
    assert quote["buyer_minor"] == 1029
    paid = api.ok(api.post(f"/v1/orders/{order['id']}/pay", abroad.key, {"quote_id": quote["id"]}))
    assert paid["escrow"]["held_minor"] == 59000 and paid["buyer_paid_minor"] == 1029
    assert world.balance(abroad) == 50_000 - 1029
    refunded = api.ok(
        api.post(f"/v1/orders/{order['id']}/refunds", world.merchant.key, {"amount_minor": 59000})
    )
    assert refunded["status"] == "refunded"
    assert refunded["buyer_refunded_minor"] == 1029
    assert world.balance(abroad) == 50_000  # every cent back, whatever the rate did
    ledger_ok(platform)


def test_expired_quotes_and_unsupported_pairs_are_refused(world, shop, api, operator_key, clock):
    abroad = make_party(
        api, operator_key, {"kind": "customer", "name": "Li Wei", "currency": "CNY"}
    )
    order = checkout(api, abroad, shop, [coffee(shop)])
    missing = api.post(f"/v1/orders/{order['id']}/fx_quotes", abroad.key, {})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "fx_pair_unsupported"
    bad_pair = api.post("/v1/fx_rates/JPY", operator_key, {"mid_rate": "0.38"})
    assert bad_pair.status_code == 400 and bad_pair.json()["error"]["code"] == "fx_pair_unsupported"
    api.ok(api.post("/v1/fx_rates/CNY", operator_key, {"mid_rate": "8.05"}))
    api.ok(
        api.post(
            "/v1/fundings",
            operator_key,
            {"wallet_id": abroad.wallets["main"], "amount_minor": 100_000, "currency": "CNY"},
        )
    )
    quote = api.ok(api.post(f"/v1/orders/{order['id']}/fx_quotes", abroad.key, {}))
    clock.advance(10 * 60)
    expired = api.post(f"/v1/orders/{order['id']}/pay", abroad.key, {"quote_id": quote["id"]})
    assert expired.status_code == 409 and expired.json()["error"]["code"] == "fx_quote_expired"
    assert world.balance(abroad) == 100_000


def test_a_dispute_freezes_escrow_until_the_operator_splits_it(world, shop, platform):
    api, buyer, merchant = world.api, world.buyer, world.merchant
    order = checkout(api, buyer, shop, [coffee(shop, 2)])
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}))
    dispute = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/disputes", buyer.key, {"reason": "one bag arrived torn"}
        )
    )
    assert dispute["status"] == "open"
    frozen = api.post(
        f"/v1/orders/{order['id']}/shipments",
        merchant.key,
        {"courier": "LBC", "tracking_number": "X1"},
    )
    assert frozen.status_code == 409
    not_yours = api.post(
        f"/v1/disputes/{dispute['id']}/resolve", merchant.key, {"resolution": "release"}
    )
    assert not_yours.status_code == 403
    before = world.balance(buyer)
    resolved = api.ok(
        api.post(
            f"/v1/disputes/{dispute['id']}/resolve",
            world.operator,
            {"resolution": "split", "refund_minor": 18000, "note": "half refund"},
        )
    )
    assert (resolved["refund_minor"], resolved["release_minor"]) == (18000, 23000)
    assert world.balance(buyer) == before + 18000
    assert world.balance(merchant, "settlement") == 23000 - 460
    done = api.ok(api.get(f"/v1/orders/{order['id']}", buyer.key))
    assert done["status"] == "completed" and done["escrow"]["refunded_minor"] == 18000
    ledger_ok(platform)


def test_a_courier_posts_signed_events(world, shop, api, operator_key, clock):
    courier = api.ok(api.post("/v1/couriers", operator_key, {"name": "Ninja Van"}))
    order = checkout(api, world.buyer, shop, [coffee(shop)])
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", world.buyer.key, {}))
    api.ok(
        api.post(
            f"/v1/orders/{order['id']}/shipments",
            world.merchant.key,
            {"courier": "Ninja Van", "tracking_number": "NV42"},
        )
    )
    body = json.dumps(
        {"tracking_number": "NV42", "status": "delivered", "location": "Marikina"}
    ).encode()
    now = clock.now // 10**9
    forged = api.post(
        f"/v1/couriers/{courier['id']}/events",
        None,
        content=body,
        headers={
            "Tindahan-Signature": sign("whsec_wrong", now, body),
            "Content-Type": "application/json",
        },
    )
    assert forged.status_code == 401
    good = api.post(
        f"/v1/couriers/{courier['id']}/events",
        None,
        content=body,
        headers={
            "Tindahan-Signature": sign(courier["secret"], now, body),
            "Content-Type": "application/json",
        },
    )
    assert good.status_code == 200, good.text
    assert api.ok(api.get(f"/v1/orders/{order['id']}", world.buyer.key))["status"] == "delivered"


def test_an_order_is_paid_by_scanning_its_dynamic_qr(world, shop, platform):
    api, buyer = world.api, world.buyer
    order = checkout(api, buyer, shop, [coffee(shop)])
    code = api.ok(api.get(f"/v1/orders/{order['id']}/qr", buyer.key))
    assert code["order_id"] == order["id"] and code["kind"] == "dynamic"
    wrong_door = api.post("/v1/qr/payments", buyer.key, {"payload": code["payload"]})
    assert wrong_door.status_code == 400 and wrong_door.json()["error"]["code"] == "qr_is_order"
    stranger = api.post(
        "/v1/qr/order_payments", world.other_buyer.key, {"payload": code["payload"]}
    )
    assert stranger.status_code == 404
    paid = api.ok(api.post("/v1/qr/order_payments", buyer.key, {"payload": code["payload"]}))
    assert paid["status"] == "paid" and paid["escrow"]["held_minor"] == order["total_minor"]
    again = api.get(f"/v1/orders/{order['id']}/qr", buyer.key)
    assert again.status_code == 409 and again.json()["error"]["code"] == "order_not_payable"
    ledger_ok(platform)


def test_each_step_is_announced_to_the_buyer_and_the_merchant(world, shop, platform):
    from sqlalchemy import select

    from tindahan.store.payment_tables import events

    api, buyer, merchant = world.api, world.buyer, world.merchant
    order = checkout(api, buyer, shop, [coffee(shop, 2)])
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}))
    api.ok(api.post(f"/v1/orders/{order['id']}/refunds", merchant.key, {"amount_minor": 5000}))
    api.ok(api.post(f"/v1/orders/{order['id']}/disputes", buyer.key, {"reason": "late"}))

    def announced(unit) -> list[str]:
        rows = unit.conn.execute(select(events.c.type, events.c.data)).all()
        return [t for t, data in rows if order["id"] in data]

    found = platform.run(announced, write=False)
    assert sorted(found) == sorted(
        [
            "order.created",
            "order.paid",
            "order.partially_refunded",
            "order.disputed",
            "dispute.opened",
        ]
    )


def test_a_courier_resending_an_event_does_not_add_it_twice(world, shop, api, operator_key, clock):
    courier = api.ok(api.post("/v1/couriers", operator_key, {"name": "Flash"}))
    order = checkout(api, world.buyer, shop, [coffee(shop)])
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", world.buyer.key, {}))
    made = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/shipments",
            world.merchant.key,
            {"courier": "Flash", "tracking_number": "FL9"},
        )
    )
    body = json.dumps(
        {"tracking_number": "FL9", "status": "delivered", "occurred_at": "2023-11-14T22:00:00Z"}
    ).encode()
    headers = {
        "Tindahan-Signature": sign(courier["secret"], clock.now // 10**9, body),
        "Content-Type": "application/json",
    }
    for _ in range(2):
        sent = api.post(f"/v1/couriers/{courier['id']}/events", None, content=body, headers=headers)
        assert sent.status_code == 200, sent.text
    shipment = api.ok(api.get(f"/v1/shipments/{made['id']}", world.merchant.key))
    assert [t["status"] for t in shipment["timeline"]] == ["label_created", "delivered"]
    assert shipment["delivered_at"] == "2023-11-14T22:00:00.000000Z"


def test_verify_catches_books_that_disagree_with_escrow(world, shop, platform):
    from sqlalchemy import update

    from tindahan.store.commerce_tables import orders

    api, buyer = world.api, world.buyer
    order = checkout(api, buyer, shop, [coffee(shop)])
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}))
    ledger_ok(platform)

    def tamper(unit) -> None:  # the CHECK holds (paid in = held + refunded), the ledger not
        unit.conn.execute(
            update(orders)
            .where(orders.c.id == order["id"])
            .values(held_minor=orders.c.held_minor - 100, refunded_minor=100)
        )

    platform.run(tamper)
    report = verify(platform.db)
    assert not report.ok
    assert any("escrow holds 23000, the order says 22900" in v for v in report.violations)
    assert any("open orders say 22900" in v for v in report.violations)
