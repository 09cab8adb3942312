"""Bad input to the commerce API: a specific 4xx, and nothing moves.

Each refusal below is sent inside ``shop.nothing_moves()``, which reads the whole visible
state through the API with the operator's key before and after: every wallet's balances,
every party, every product with its variants' stock, every order (status, escrow figures,
lines, history, shipments, dispute), every shipment's timeline, every dispute and the FX
rate table. The answer must carry the expected status and ``code`` (and ``param`` where it
names one) in ``{"error": {type, code, message, param}}``, never a 500, and the state must
be the same after it: no money, stock or order status moves on a refused request. Stories
that moved money end with the ledger verified.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, Party, World, make_party
from tindahan import limits, qr
from tindahan.services.ledger.transfers import lookup_accounts
from tindahan.services.ledger.verify import verify
from tindahan.services.unit import ledger_id
from tindahan.webhooks.signature import sign
from tindahan.worker import tick

DAY = 86_400
TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "payment_error",
    403: "permission_error",
    404: "not_found",
    409: "conflict",
}
TYPE_OF_CODE = {"idempotency_key_reused": "idempotency_error"}
ANY = object()  # a param not checked


# --- helpers ---------------------------------------------------------------------------------
def refused(response: httpx.Response, status: int, code: str, param: Any = ANY) -> dict[str, Any]:
    """The error object with this status, type, code and (unless ANY) param."""
    if response.status_code >= 500:
        # No traceback: on Python 3.11, pytest formatting one (with ast) while the server
        # thread formats its own for the 500 (traceback carets, also ast) can raise
        # "SystemError: AST constructor recursion depth mismatch": the ast module keeps that
        # counter per interpreter, not per thread.
        pytest.fail(f"{response.status_code} (expected {status}): {response.text}", pytrace=False)
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    assert error["code"] == code, error
    assert error["type"] == TYPE_OF_CODE.get(code, TYPES[status]), error
    assert isinstance(error["message"], str) and error["message"], error
    if param is not ANY:
        assert error["param"] == param, error
    return error


@dataclass
class Shop:
    """Aling Nena's storefront: coffee (10 in stock), a shirt in M (1) and L (3), and an
    inactive product; plus a way to see that a refusal moved nothing."""

    world: World
    store: dict[str, Any]
    coffee: dict[str, Any]
    shirt: dict[str, Any]
    old: dict[str, Any]

    @property
    def api(self) -> Api:
        return self.world.api

    @property
    def op(self) -> str:
        return self.world.operator

    def page(self, path: str, **params: Any) -> list[dict[str, Any]]:
        found = self.api.ok(self.api.get(path, self.op, limit=200, **params))
        assert not found["has_more"]
        return found["data"]

    def state(self) -> dict[str, Any]:
        """Everything a refused request must leave as it was, read through the API."""
        orders = {o["id"]: o for o in self.page("/v1/orders")}
        shipments = {
            sid: self.api.ok(self.api.get(f"/v1/shipments/{sid}", self.op))
            for o in orders.values()
            for sid in o["shipment_ids"]
        }
        disputes = {
            o["dispute_id"]: self.api.ok(self.api.get(f"/v1/disputes/{o['dispute_id']}", self.op))
            for o in orders.values()
            if o["dispute_id"]
        }
        products = {
            p["id"]: p
            for s in self.page("/v1/storefronts")
            for p in self.page(f"/v1/storefronts/{s['id']}/products")
        }
        return {
            "wallets": {
                w["id"]: (w["balance_minor"], w["available_minor"], w["pending_out_minor"])
                for w in self.page("/v1/wallets")
            },
            "parties": sorted(p["id"] for p in self.page("/v1/parties")),
            "products": products,
            "orders": orders,
            "shipments": shipments,
            "disputes": disputes,
            "fx_rates": self.api.ok(self.api.get("/v1/fx_rates", self.op))["data"],
        }

    @contextmanager
    def nothing_moves(self) -> Iterator[None]:
        before = self.state()
        yield
        after = self.state()
        for part in before:
            assert after[part] == before[part], part

    # --- carts and orders
    def line(self, product: dict[str, Any], quantity: int = 1, size: int | None = None) -> Any:
        made: dict[str, Any] = {"product_id": product["id"], "quantity": quantity}
        if size is not None:
            made["variant_id"] = product["variants"][size]["id"]
        return made

    def cart(self, *lines: Any) -> dict[str, Any]:
        return {"storefront_id": self.store["id"], "lines": list(lines)}

    def order(self, buyer: Party | None = None, *lines: Any) -> dict[str, Any]:
        buyer = buyer or self.world.buyer
        wanted = self.cart(*(lines or (self.line(self.coffee, 2),)))
        return self.api.ok(self.api.post("/v1/orders", buyer.key, wanted))

    def paid(self, buyer: Party | None = None, *lines: Any) -> dict[str, Any]:
        buyer = buyer or self.world.buyer
        made = self.order(buyer, *lines)
        return self.api.ok(self.api.post(f"/v1/orders/{made['id']}/pay", buyer.key, {}))

    def ship(self, order: dict[str, Any], tracking: str, **extra: Any) -> dict[str, Any]:
        body = {"courier": "LBC", "tracking_number": tracking, **extra}
        path = f"/v1/orders/{order['id']}/shipments"
        return self.api.ok(self.api.post(path, self.world.merchant.key, body))

    def deliver(self, shipment: dict[str, Any]) -> None:
        path = f"/v1/shipments/{shipment['id']}/events"
        self.api.ok(self.api.post(path, self.world.merchant.key, {"status": "delivered"}))

    def get(self, order: dict[str, Any], key: str | None = None) -> dict[str, Any]:
        return self.api.ok(self.api.get(f"/v1/orders/{order['id']}", key or self.op))

    def stock(self, product: dict[str, Any]) -> list[int]:
        found = self.api.ok(self.api.get(f"/v1/products/{product['id']}", self.op))
        return [v["stock"] for v in found["variants"]]


@pytest.fixture
def shop(world: World) -> Shop:
    api, key = world.api, world.merchant.key
    store = api.ok(
        api.post(
            "/v1/storefronts",
            key,
            {"slug": "aling-nena", "name": "Aling Nena Online", "shipping_fee_minor": 5000},
        )
    )
    products = f"/v1/storefronts/{store['id']}/products"
    coffee = api.ok(
        api.post(products, key, {"title": "Barako coffee 250 g", "price_minor": 18000, "stock": 10})
    )
    shirt = api.ok(
        api.post(
            products,
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
    old = api.ok(
        api.post(
            products,
            key,
            {"title": "Last year's calendar", "price_minor": 5000, "stock": 5, "active": False},
        )
    )
    return Shop(world, store, coffee, shirt, old)


def rival(world: World) -> tuple[Party, dict[str, Any], dict[str, Any]]:
    """Another merchant with its own storefront and one product (4 in stock)."""
    api = world.api
    merchant = make_party(
        api,
        world.operator,
        {"kind": "merchant", "name": "Kuya's Carinderia", "mcc": "5812"}
        | {"city": "Pasig", "province": "Metro Manila"},
    )
    world.parties.append(merchant)
    store = api.ok(api.post("/v1/storefronts", merchant.key, {"slug": "kuya", "name": "Kuya"}))
    product = api.ok(
        api.post(
            f"/v1/storefronts/{store['id']}/products",
            merchant.key,
            {"title": "Adobo", "price_minor": 9000, "stock": 4},
        )
    )
    return merchant, store, product


def customer(world: World, name: str, fund: int = 0, **extra: Any) -> Party:
    made = make_party(
        world.api, world.operator, {"kind": "customer", "name": name, "tier": "full", **extra}
    )
    world.parties.append(made)
    if fund:
        body = {
            "wallet_id": made.wallets["main"],
            "amount_minor": fund,
            "currency": extra.get("currency", "PHP"),
        }
        world.api.ok(world.api.post("/v1/fundings", world.operator, body))
    return made


def ledger_ok(platform) -> None:
    report = verify(platform.db)
    assert report.ok, report.violations


# --- checkout --------------------------------------------------------------------------------
def test_checkout_refuses_what_is_not_for_sale(shop, world):
    api, buyer = shop.api, world.buyer
    other_merchant, other_store, adobo = rival(world)
    coffee_variant = shop.coffee["variants"][0]["id"]
    cases = [
        # (cart, status, code, param)
        (shop.cart(shop.line(shop.old)), 409, "product_inactive", "lines.0.product_id"),
        (shop.cart(shop.line(adobo)), 404, "resource_missing", "lines.0.product_id"),
        (
            shop.cart(shop.line(shop.coffee), {"product_id": "prd_nope", "quantity": 1}),
            404,
            "resource_missing",
            "lines.1.product_id",
        ),
        (
            shop.cart(
                {"product_id": shop.shirt["id"], "variant_id": coffee_variant, "quantity": 1}
            ),
            404,
            "resource_missing",
            "lines.0.variant_id",
        ),
        (shop.cart(shop.line(shop.shirt)), 400, "variant_required", "lines.0.variant_id"),
        (
            {"storefront_id": "no-such-shop", "lines": [shop.line(shop.coffee)]},
            404,
            "resource_missing",
            "id",
        ),
    ]
    with shop.nothing_moves():
        for body, status, code, param in cases:
            refused(api.post("/v1/orders", buyer.key, body), status, code, param)
        # a merchant buying from its own storefront, even through its slug
        own = {"storefront_id": "aling-nena", "lines": [shop.line(shop.coffee)]}
        refused(
            api.post("/v1/orders", world.merchant.key, own),
            400,
            "buyer_is_merchant",
            "storefront_id",
        )
        # a buyer cannot check out on another buyer's wallet; the operator must name one
        theirs = {**shop.cart(shop.line(shop.coffee)), "buyer_id": world.other_buyer.id}
        refused(api.post("/v1/orders", buyer.key, theirs), 404, "resource_missing", "buyer_id")
        refused(
            api.post("/v1/orders", world.operator, shop.cart(shop.line(shop.coffee))),
            400,
            "parameter_missing",
            "buyer_id",
        )
    # the rival's product is still for sale in its own storefront
    assert shop.stock(adobo) == [4]
    assert other_store["merchant_id"] == other_merchant.id


def test_out_of_stock_takes_no_stock_from_the_other_lines(shop, world):
    api, buyer = shop.api, world.buyer
    carts = [
        # coffee and size L are there, size M is not (1 left, 2 asked)
        (
            shop.cart(
                shop.line(shop.coffee, 2), shop.line(shop.shirt, 1, 1), shop.line(shop.shirt, 2, 0)
            ),
            "lines.2.quantity",
        ),
        (shop.cart(shop.line(shop.shirt, 1, 0), shop.line(shop.coffee, 11)), "lines.1.quantity"),
        # two lines of one variant count together: 2 + 2 > 3 of size L
        (
            shop.cart(
                shop.line(shop.coffee), shop.line(shop.shirt, 2, 1), shop.line(shop.shirt, 2, 1)
            ),
            "lines.1.quantity",
        ),
        (shop.cart(shop.line(shop.coffee, limits.MAX_LINE_QUANTITY)), "lines.0.quantity"),
    ]
    with shop.nothing_moves():
        for cart, param in carts:
            refused(api.post("/v1/orders", buyer.key, cart), 409, "out_of_stock", param)
    assert shop.stock(shop.coffee) == [10]
    assert shop.stock(shop.shirt) == [1, 3]
    # and every unit is still there to sell (which the state sees)
    with pytest.raises(AssertionError, match="products"), shop.nothing_moves():
        shop.order(
            buyer,
            shop.line(shop.coffee, 10),
            shop.line(shop.shirt, 1, 0),
            shop.line(shop.shirt, 3, 1),
        )
    assert shop.stock(shop.coffee) == [0] and shop.stock(shop.shirt) == [0, 0]


def test_checkout_refuses_bad_quantities_lines_and_fields(shop, world):
    api, buyer = shop.api, world.buyer
    coffee_id = shop.coffee["id"]
    with shop.nothing_moves():
        for quantity in (0, -1, 1.5, 2.0, "2", True, None, 10**6, 2**70, [1], {"n": 1}):
            line = {"product_id": coffee_id, "quantity": quantity}
            response = api.post("/v1/orders", buyer.key, shop.cart(line))
            refused(response, 400, "parameter_invalid", "lines.0.quantity")
        raw = (
            f'{{"storefront_id": "aling-nena", "lines": [{{"product_id": "{coffee_id}", '
            '"quantity": 1e400}]}'
        ).encode()
        response = api.post(
            "/v1/orders", buyer.key, content=raw, headers={"Content-Type": "application/json"}
        )
        refused(response, 400, "parameter_invalid", "lines.0.quantity")
        refused(
            api.post("/v1/orders", buyer.key, shop.cart({"product_id": coffee_id})),
            400,
            "parameter_missing",
            "lines.0.quantity",
        )
        refused(api.post("/v1/orders", buyer.key, shop.cart()), 400, "cart_empty", "lines")
        too_many = shop.cart(*[shop.line(shop.coffee)] * (limits.MAX_ORDER_LINES + 1))
        refused(api.post("/v1/orders", buyer.key, too_many), 400, "parameter_invalid", "lines")
        # unknown fields, the buyer's own price among them
        priced = shop.cart({**shop.line(shop.coffee), "unit_price_minor": 1})
        refused(
            api.post("/v1/orders", buyer.key, priced),
            400,
            "parameter_unknown",
            "lines.0.unit_price_minor",
        )
        coupon = {**shop.cart(shop.line(shop.coffee)), "coupon": "LIBRE"}
        refused(api.post("/v1/orders", buyer.key, coupon), 400, "parameter_unknown", "coupon")
        refused(
            api.post("/v1/orders", buyer.key, {"lines": [shop.line(shop.coffee)]}),
            400,
            "parameter_missing",
            "storefront_id",
        )


def test_an_order_total_beyond_the_limit_takes_no_stock(shop, world):
    api = shop.api
    dear = api.ok(
        api.post(
            f"/v1/storefronts/{shop.store['id']}/products",
            world.merchant.key,
            {"title": "Gold bar", "price_minor": 2**62, "stock": 5},
        )
    )
    with shop.nothing_moves():
        response = api.post("/v1/orders", world.buyer.key, shop.cart(shop.line(dear, 2)))
        refused(response, 400, "amount_invalid", "lines")
    assert shop.stock(dear) == [5]


# --- paying ----------------------------------------------------------------------------------
def test_paying_twice_someone_elses_or_with_a_needless_quote_is_refused(shop, world, platform):
    api, buyer = shop.api, world.buyer
    pending = shop.order(buyer, shop.line(shop.shirt, 1, 1))
    paid = shop.paid(buyer)
    pay = f"/v1/orders/{pending['id']}/pay"
    with shop.nothing_moves():
        refused(api.post(pay, world.other_buyer.key, {}), 404, "resource_missing", "id")
        refused(api.post(pay, world.merchant.key, {}), 403, "order_action_forbidden")
        refused(
            api.post(pay, buyer.key, {"quote_id": "fxq_x"}), 400, "fx_quote_not_needed", "quote_id"
        )
        refused(
            api.post(pay, buyer.key, {"amount_minor": 1}), 400, "parameter_unknown", "amount_minor"
        )
        refused(api.post("/v1/orders/ord_nope/pay", buyer.key, {}), 404, "resource_missing", "id")
        again = api.post(f"/v1/orders/{paid['id']}/pay", buyer.key, {})
        refused(again, 409, "order_transition_invalid", "status")
    # the same through the order's QR code
    code = api.ok(api.get(f"/v1/orders/{pending['id']}/qr", buyer.key))["payload"]
    tampered = qr.encode(dataclasses.replace(qr.describe(qr.decode(code)[0]), amount_minor=100))
    scan = "/v1/qr/order_payments"
    with shop.nothing_moves():
        refused(api.get(f"/v1/orders/{paid['id']}/qr", buyer.key), 409, "order_not_payable", "id")
        found = api.get(f"/v1/orders/{pending['id']}/qr", world.other_buyer.key)
        refused(found, 404, "resource_missing", "id")
        refused(api.post(scan, world.other_buyer.key, {"payload": code}), 404, "resource_missing")
        refused(
            api.post(scan, world.merchant.key, {"payload": code}), 403, "order_action_forbidden"
        )
        refused(api.post(scan, buyer.key, {"payload": tampered}), 400, "qr_invalid", "payload")
        bad_crc = code[:-1] + ("1" if code.endswith("0") else "0")
        refused(api.post(scan, buyer.key, {"payload": bad_crc}), 400, "qr_invalid")
        refused(api.post("/v1/qr/payments", buyer.key, {"payload": code}), 400, "qr_is_order")
    api.ok(api.post(scan, buyer.key, {"payload": code}))
    with shop.nothing_moves():
        response = api.post(scan, buyer.key, {"payload": code})
        refused(response, 409, "order_transition_invalid", "status")
    assert world.balance(buyer) == 1_000_000 - paid["total_minor"] - pending["total_minor"]
    ledger_ok(platform)


def test_insufficient_funds_books_no_escrow_and_the_order_waits(shop, world, platform):
    api = shop.api
    poor = customer(world, "Pedro", fund=10_000)
    order = shop.order(poor, shop.line(shop.coffee, 2))  # ₱410.00
    pay = f"/v1/orders/{order['id']}/pay"
    key = str(uuid.uuid4())
    with shop.nothing_moves():
        refused(api.post(pay, poor.key, {}, idem=key), 402, "insufficient_funds")
    after = shop.get(order)
    assert after["status"] == "pending_payment"
    assert after["escrow"]["account_id"] is None and after["escrow"]["paid_in_minor"] == 0
    assert [h["action"] for h in after["history"]] == ["checkout"]
    assert lookup_accounts(platform.db, [ledger_id(order["id"], "escrow")]) == {}
    assert world.balance(poor) == 10_000
    assert shop.stock(shop.coffee) == [8]  # still reserved for the order's payment window
    # the refused key answers the same refusal; topped up, a new key pays once
    world.fund(poor, 50_000)
    replay = api.post(pay, poor.key, {}, idem=key)
    refused(replay, 402, "insufficient_funds")
    assert replay.headers.get("Idempotent-Replayed") == "true"
    done = api.ok(api.post(pay, poor.key, {}))
    assert done["status"] == "paid" and done["escrow"]["held_minor"] == 41_000
    assert world.balance(poor) == 60_000 - 41_000
    ledger_ok(platform)


def test_paying_after_the_payment_window_is_refused(shop, world, clock):
    order = shop.order()
    clock.advance(limits.ORDER_PAYMENT_SECONDS)
    with shop.nothing_moves():
        response = shop.api.post(f"/v1/orders/{order['id']}/pay", world.buyer.key, {})
        refused(response, 409, "order_expired", "id")


def test_a_replayed_pay_returns_the_same_answer_and_debits_once(shop, world, platform):
    api, buyer = shop.api, world.buyer
    order = shop.order(buyer)
    pay = f"/v1/orders/{order['id']}/pay"
    key = str(uuid.uuid4())
    with pytest.raises(AssertionError, match="wallets"), shop.nothing_moves():
        first = api.post(pay, buyer.key, {}, idem=key)
    assert first.status_code == 200, first.text
    assert "Idempotent-Replayed" not in first.headers
    with shop.nothing_moves():
        second = api.post(pay, buyer.key, {}, idem=key)
        assert second.status_code == 200, second.text
        assert second.headers["Idempotent-Replayed"] == "true"
        assert second.json() == first.json()
        reused = api.post(pay, buyer.key, {"quote_id": "fxq_x"}, idem=key)
        refused(reused, 409, "idempotency_key_reused", "Idempotency-Key")
        refused(api.post(pay, buyer.key, {}), 409, "order_transition_invalid", "status")
    assert world.balance(buyer) == 1_000_000 - order["total_minor"]
    assert [h["action"] for h in shop.get(order)["history"]] == ["checkout", "pay"]
    ledger_ok(platform)


# --- shipping --------------------------------------------------------------------------------
def test_shipping_refusals(shop, world, platform):
    api, merchant = shop.api, world.merchant
    other_merchant, _, _ = rival(world)
    unpaid = shop.order()
    order = shop.paid(world.buyer, shop.line(shop.coffee, 2), shop.line(shop.shirt, 1, 1))
    other = shop.paid(world.other_buyer, shop.line(shop.coffee))
    path = f"/v1/orders/{order['id']}/shipments"

    def body(tracking: str = "LBC-1", **extra: Any) -> dict[str, Any]:
        return {"courier": "LBC", "tracking_number": tracking, **extra}

    with shop.nothing_moves():
        refused(
            api.post(f"/v1/orders/{unpaid['id']}/shipments", merchant.key, body()),
            409,
            "order_transition_invalid",
            "status",
        )
        refused(api.post(path, world.buyer.key, body()), 403, "order_action_forbidden")
        refused(api.post(path, world.other_buyer.key, body()), 404, "resource_missing", "id")
        refused(api.post(path, other_merchant.key, body()), 404, "resource_missing", "id")
        over = body(lines=[{"line_no": 1, "quantity": 3}])
        refused(api.post(path, merchant.key, over), 400, "quantity_invalid", "lines.0.quantity")
        twice = body(lines=[{"line_no": 1, "quantity": 2}, {"line_no": 1, "quantity": 1}])
        refused(api.post(path, merchant.key, twice), 400, "quantity_invalid", "lines.1.quantity")
        nowhere = body(lines=[{"line_no": 3, "quantity": 1}])
        refused(api.post(path, merchant.key, nowhere), 400, "line_invalid", "lines.0.line_no")
        for bad in ({"line_no": 1, "quantity": 0}, {"line_no": 0, "quantity": 1}):
            refused(api.post(path, merchant.key, body(lines=[bad])), 400, "parameter_invalid")
        past = body(promised_at="2020-01-01T00:00:00Z")
        refused(api.post(path, merchant.key, past), 400, "parameter_invalid", "promised_at")
        refused(
            api.post(path, merchant.key, body("  ")), 400, "parameter_missing", "tracking_number"
        )
    first = shop.ship(order, "LBC-1", lines=[{"line_no": 1, "quantity": 2}])
    with shop.nothing_moves():
        # the same courier's tracking number on another order, however it is spaced
        for taken in ("LBC-1", " LBC-1 "):
            response = api.post(f"/v1/orders/{other['id']}/shipments", merchant.key, body(taken))
            refused(response, 409, "tracking_number_taken", "tracking_number")
        over = body("LBC-2", lines=[{"line_no": 1, "quantity": 1}])
        refused(api.post(path, merchant.key, over), 400, "quantity_invalid", "lines.0.quantity")
    shop.ship(order, "LBC-2")  # the rest: the shirt
    with shop.nothing_moves():
        refused(api.post(path, merchant.key, body("LBC-3")), 409, "nothing_to_ship", "lines")
    # another courier may use the same number
    api.ok(
        api.post(
            f"/v1/orders/{other['id']}/shipments",
            merchant.key,
            {"courier": "J&T", "tracking_number": "LBC-1"},
        )
    )
    assert first["lines"] == [{"line_no": 1, "quantity": 2}]
    assert shop.get(order)["status"] == "shipped"
    ledger_ok(platform)


def test_shipment_event_refusals(shop, world):
    api = shop.api
    other_merchant, _, _ = rival(world)
    order = shop.paid()
    shipment = shop.ship(order, "LBC-9")
    events = f"/v1/shipments/{shipment['id']}/events"
    with shop.nothing_moves():
        refused(
            api.post(events, world.buyer.key, {"status": "delivered"}),
            403,
            "order_action_forbidden",
        )
        for stranger in (other_merchant, world.other_buyer):
            refused(
                api.post(events, stranger.key, {"status": "delivered"}), 404, "resource_missing"
            )
        for status in ("label_created", "lost", "", None):
            refused(
                api.post(events, world.merchant.key, {"status": status}),
                400,
                "parameter_invalid",
                "status",
            )
        future = {"status": "in_transit", "occurred_at": "2999-01-01T00:00:00Z"}
        refused(
            api.post(events, world.merchant.key, future), 400, "parameter_invalid", "occurred_at"
        )
    shop.deliver(shipment)
    with shop.nothing_moves():
        refused(
            api.post(events, world.merchant.key, {"status": "returned"}),
            409,
            "shipment_closed",
            "status",
        )


# --- confirming ------------------------------------------------------------------------------
def test_confirm_refusals(shop, world, platform):
    api = shop.api
    order = shop.paid()
    confirm = f"/v1/orders/{order['id']}/confirm"
    with shop.nothing_moves():
        refused(api.post(confirm, world.buyer.key, {}), 409, "order_transition_invalid", "status")
    shop.ship(order, "LBC-5")
    with shop.nothing_moves():
        refused(api.post(confirm, world.other_buyer.key, {}), 404, "resource_missing", "id")
        refused(api.post(confirm, world.merchant.key, {}), 403, "order_action_forbidden")
        refused(
            api.post(confirm, world.buyer.key, {"rating": 5}), 400, "parameter_unknown", "rating"
        )
    # a frozen merchant cannot be paid out: the confirmation is refused, escrow keeps it
    freeze = f"/v1/parties/{world.merchant.id}"
    api.ok(api.post(freeze, world.operator, {"status": "frozen"}))
    with shop.nothing_moves():
        refused(api.post(confirm, world.buyer.key, {}), 402, "wallet_frozen", "merchant")
    assert world.balance(world.merchant, "settlement") == 0
    assert shop.get(order)["escrow"]["held_minor"] == order["total_minor"]
    api.ok(api.post(freeze, world.operator, {"status": "active"}))
    assert api.ok(api.post(confirm, world.buyer.key, {}))["status"] == "completed"
    ledger_ok(platform)


def test_a_closed_merchants_storefront_takes_no_orders_and_no_money(shop, world):
    api = shop.api
    pending = shop.order()
    api.ok(api.post(f"/v1/parties/{world.merchant.id}", world.operator, {"status": "closed"}))
    with shop.nothing_moves():
        response = api.post(f"/v1/orders/{pending['id']}/pay", world.buyer.key, {})
        refused(response, 402, "wallet_closed")
        response = api.post("/v1/orders", world.other_buyer.key, shop.cart(shop.line(shop.coffee)))
        refused(response, 402, "wallet_closed")


# --- disputes --------------------------------------------------------------------------------
def test_a_dispute_after_the_window_is_refused_before_the_worker_releases(
    shop, world, clock, platform
):
    api = shop.api
    order = shop.paid()
    shop.deliver(shop.ship(order, "LBC-7"))
    delivered = shop.get(order)
    assert delivered["status"] == "delivered"
    clock.advance(limits.ESCROW_AUTO_RELEASE_DAYS * DAY)  # exactly release_at
    with shop.nothing_moves():
        response = api.post(
            f"/v1/orders/{order['id']}/disputes", world.buyer.key, {"reason": "never arrived"}
        )
        refused(response, 409, "dispute_window_closed", "id")
    assert shop.get(order)["escrow"]["held_minor"] == order["total_minor"]
    assert tick(platform).orders_released == 1
    assert shop.get(order)["status"] == "completed"
    ledger_ok(platform)


def test_dispute_refusals(shop, world, platform):
    api, buyer, op = shop.api, world.buyer, world.operator
    other_merchant, _, _ = rival(world)
    order = shop.paid()  # ₱410.00 held
    held = order["escrow"]["held_minor"]
    disputes = f"/v1/orders/{order['id']}/disputes"
    with shop.nothing_moves():
        refused(
            api.post(disputes, world.merchant.key, {"reason": "buyer is rude"}),
            403,
            "order_action_forbidden",
        )
        refused(api.post(disputes, world.other_buyer.key, {"reason": "x"}), 404, "resource_missing")
        refused(api.post(disputes, other_merchant.key, {"reason": "x"}), 404, "resource_missing")
        refused(
            api.post(disputes, buyer.key, {"reason": "   "}), 400, "parameter_missing", "reason"
        )
        refused(api.post(disputes, buyer.key, {"reason": ""}), 400, "parameter_invalid", "reason")
        refused(api.post(disputes, buyer.key, {}), 400, "parameter_missing", "reason")
    dispute = api.ok(api.post(disputes, buyer.key, {"reason": "one bag arrived torn"}))
    resolve = f"/v1/disputes/{dispute['id']}/resolve"
    with shop.nothing_moves():
        refused(api.post(disputes, buyer.key, {"reason": "again"}), 409, "order_transition_invalid")
        # escrow is frozen: no shipping, refund, confirm or cancel meanwhile
        refused(
            api.post(
                f"/v1/orders/{order['id']}/refunds", world.merchant.key, {"amount_minor": 1000}
            ),
            409,
            "order_transition_invalid",
        )
        refused(
            api.post(f"/v1/orders/{order['id']}/cancel", buyer.key, {}),
            409,
            "order_transition_invalid",
        )
        refused(
            api.post(resolve, world.merchant.key, {"resolution": "release"}), 403, "operator_only"
        )
        refused(api.post(resolve, buyer.key, {"resolution": "refund"}), 403, "operator_only")
        for refund_minor in (held, held + 1):
            body = {"resolution": "split", "refund_minor": refund_minor}
            refused(api.post(resolve, op, body), 400, "split_invalid", "refund_minor")
        refused(
            api.post(resolve, op, {"resolution": "split"}), 400, "split_invalid", "refund_minor"
        )
        refused(
            api.post(resolve, op, {"resolution": "split", "refund_minor": 0}),
            400,
            "parameter_invalid",
            "refund_minor",
        )
        for resolution in ("release", "refund"):
            body = {"resolution": resolution, "refund_minor": 1000}
            refused(api.post(resolve, op, body), 400, "parameter_invalid", "refund_minor")
        refused(
            api.post(resolve, op, {"resolution": "halve"}), 400, "parameter_invalid", "resolution"
        )
        refused(
            api.post("/v1/disputes/dsp_nope/resolve", op, {"resolution": "release"}),
            404,
            "resource_missing",
            "id",
        )
        for stranger in (other_merchant, world.other_buyer):
            found = api.get(f"/v1/disputes/{dispute['id']}", stranger.key)
            refused(found, 404, "resource_missing", "id")
    api.ok(api.post(resolve, op, {"resolution": "release", "note": "photos show it was fine"}))
    with shop.nothing_moves():
        for body in ({"resolution": "release"}, {"resolution": "refund"}):
            refused(api.post(resolve, op, body), 409, "dispute_resolved", "id")
        refused(api.post(disputes, buyer.key, {"reason": "still"}), 409, "order_transition_invalid")
    assert world.balance(buyer) == 1_000_000 - held
    ledger_ok(platform)


# --- refunds ---------------------------------------------------------------------------------
def test_refund_refusals(shop, world, platform):
    api, merchant = shop.api, world.merchant
    other_merchant, _, _ = rival(world)
    order = shop.paid(world.buyer, shop.line(shop.coffee, 2), shop.line(shop.shirt, 1, 1))
    held = order["escrow"]["held_minor"]  # 2 × 18,000 + 37,000 + 5,000
    refunds = f"/v1/orders/{order['id']}/refunds"
    with shop.nothing_moves():
        refused(
            api.post(refunds, merchant.key, {"amount_minor": held + 1}),
            400,
            "refund_exceeds_escrow",
            "amount_minor",
        )
        refused(
            api.post(refunds, world.buyer.key, {"amount_minor": 1000}),
            403,
            "order_action_forbidden",
        )
        # the buyer naming lines: nothing cancelled, nothing restocked
        lines = {"lines": [{"line_no": 1, "quantity": 1}]}
        refused(api.post(refunds, world.buyer.key, lines), 403, "order_action_forbidden")
        refused(api.post(refunds, other_merchant.key, lines), 404, "resource_missing", "id")
        refused(
            api.post(refunds, merchant.key, {"lines": [{"line_no": 3, "quantity": 1}]}),
            400,
            "line_invalid",
            "lines.0.line_no",
        )
        refused(
            api.post(refunds, merchant.key, {"lines": [{"line_no": 1, "quantity": 3}]}),
            400,
            "quantity_invalid",
            "lines.0.quantity",
        )
        # a good first line does not stay cancelled when the second is refused
        mixed = {"lines": [{"line_no": 1, "quantity": 1}, {"line_no": 2, "quantity": 2}]}
        refused(api.post(refunds, merchant.key, mixed), 400, "quantity_invalid", "lines.1.quantity")
        refused(api.post(refunds, merchant.key, {}), 400, "parameter_missing", "amount_minor")
        for amount in (0, -5, 1.5, "100"):
            refused(
                api.post(refunds, merchant.key, {"amount_minor": amount}),
                400,
                "amount_invalid",
                "amount_minor",
            )
    assert shop.stock(shop.coffee) == [8] and shop.stock(shop.shirt) == [1, 2]
    api.ok(api.post(refunds, merchant.key, {"amount_minor": 10_000}))
    shop.ship(order, "LBC-R", lines=[{"line_no": 1, "quantity": 1}])
    with shop.nothing_moves():
        refused(
            api.post(refunds, merchant.key, {"amount_minor": held - 10_000 + 1}),
            400,
            "refund_exceeds_escrow",
            "amount_minor",
        )
        # one coffee shipped: only one is left to cancel
        refused(
            api.post(refunds, merchant.key, {"lines": [{"line_no": 1, "quantity": 2}]}),
            400,
            "quantity_invalid",
            "lines.0.quantity",
        )
    assert shop.stock(shop.coffee) == [8]
    ledger_ok(platform)


# --- FX --------------------------------------------------------------------------------------
def test_bad_rates_and_pairs_are_refused(shop, world):
    api, op = shop.api, world.operator
    with shop.nothing_moves():
        for text in (
            "abc",
            "0",
            "-1",
            "1e9",
            "58.2500000000001",
            "NaN",
            "Infinity",
            "-Infinity",
            "sNaN",
            "0.00001",
            "10000.01",
            "58,25",
            "58_25",  # Decimal would read 5825
            "5825e-2",
            " 58.25",
            "+58.25",
            "\uff15\uff18.\uff12\uff15",  # fullwidth digits
            "1e-999999999",
            "9" * 40,
        ):
            response = api.post("/v1/fx_rates/USD", op, {"mid_rate": text})
            refused(response, 400, "rate_invalid", "mid_rate")
        for body in (
            {"mid_rate": ""},
            {"mid_rate": 58.25},
            {"mid_rate": "58.25", "spread_bps": "150"},
        ):
            refused(api.post("/v1/fx_rates/USD", op, body), 400, "parameter_invalid")
        for spread in (limits.MAX_FX_SPREAD_BPS + 1, -1, 1.5):
            body = {"mid_rate": "58.25", "spread_bps": spread}
            refused(api.post("/v1/fx_rates/USD", op, body), 400, "parameter_invalid", "spread_bps")
        for code in ("JPY", "PHP", "usd", "XXX"):
            response = api.post(f"/v1/fx_rates/{code}", op, {"mid_rate": "0.38"})
            refused(response, 400, "fx_pair_unsupported", "currency")
        refused(
            api.post("/v1/fx_rates/USD", world.merchant.key, {"mid_rate": "1"}),
            403,
            "operator_only",
        )
    # a round rate reads back as written, not as 6E+1
    made = api.ok(api.post("/v1/fx_rates/USD", op, {"mid_rate": "60", "spread_bps": 0}))
    assert (made["mid_rate"], made["customer_rate"]) == ("60", "60")


def test_fx_quote_and_pay_refusals(shop, world, clock, platform):
    api, op = shop.api, world.operator
    abroad = customer(world, "Tita Baby", currency="USD")
    order = shop.order(abroad, shop.line(shop.coffee, 2))  # ₱410.00
    second = shop.order(abroad, shop.line(shop.coffee, 1))
    php_order = shop.order(world.buyer)
    quotes = f"/v1/orders/{order['id']}/fx_quotes"
    pay = f"/v1/orders/{order['id']}/pay"
    with shop.nothing_moves():
        refused(api.post(quotes, abroad.key, {}), 400, "fx_pair_unsupported", "currency")
    api.ok(api.post("/v1/fx_rates/USD", op, {"mid_rate": "58.25", "spread_bps": 150}))
    fund = {"wallet_id": abroad.wallets["main"], "amount_minor": 500, "currency": "USD"}
    api.ok(api.post("/v1/fundings", op, fund))  # $5.00
    with shop.nothing_moves():
        response = api.post(quotes, abroad.key, {"currency": "EUR"})
        refused(response, 400, "fx_quote_mismatch", "currency")
        response = api.post(quotes, abroad.key, {"currency": "JPY"})
        refused(response, 400, "parameter_invalid", "currency")
        refused(api.post(quotes, world.other_buyer.key, {}), 404, "resource_missing", "id")
        refused(api.post(quotes, world.merchant.key, {}), 403, "order_action_forbidden")
        refused(api.post(pay, abroad.key, {}), 400, "fx_quote_required", "quote_id")
        response = api.post(pay, abroad.key, {"quote_id": "fxq_nope"})
        refused(response, 404, "resource_missing", "quote_id")
        # a PHP buyer has no quote to ask for
        response = api.post(f"/v1/orders/{php_order['id']}/fx_quotes", world.buyer.key, {})
        refused(response, 400, "fx_pair_unsupported", "currency")
    quote = api.ok(api.post(quotes, abroad.key, {}))
    other_quote = api.ok(api.post(f"/v1/orders/{second['id']}/fx_quotes", abroad.key, {}))
    with shop.nothing_moves():
        # a quote for another order, even the same buyer's, and a quote from a PHP wallet
        response = api.post(pay, abroad.key, {"quote_id": other_quote["id"]})
        refused(response, 404, "resource_missing", "quote_id")
        response = api.post(
            f"/v1/orders/{php_order['id']}/pay", world.buyer.key, {"quote_id": quote["id"]}
        )
        refused(response, 400, "fx_quote_not_needed", "quote_id")
        response = api.post(pay, world.other_buyer.key, {"quote_id": quote["id"]})
        refused(response, 404, "resource_missing", "id")
    clock.advance(limits.FX_QUOTE_SECONDS)
    with shop.nothing_moves():
        response = api.post(pay, abroad.key, {"quote_id": quote["id"]})
        refused(response, 409, "fx_quote_expired", "quote_id")
    fresh = api.ok(api.post(quotes, abroad.key, {}))
    assert fresh["buyer_minor"] == 715  # $7.15 at 57.37625
    with shop.nothing_moves():
        response = api.post(pay, abroad.key, {"quote_id": fresh["id"]})
        refused(response, 402, "insufficient_funds")
    assert shop.get(order)["escrow"]["account_id"] is None
    top_up = {"wallet_id": abroad.wallets["main"], "amount_minor": 1_000, "currency": "USD"}
    api.ok(api.post("/v1/fundings", op, top_up))
    paid = api.ok(api.post(pay, abroad.key, {"quote_id": fresh["id"]}))
    assert paid["buyer_paid_minor"] == 715
    assert world.balance(abroad) == 1_500 - 715
    ledger_ok(platform)


def test_wallet_currencies_that_cannot_be(shop, world):
    api, op = shop.api, world.operator
    api.ok(api.post("/v1/fx_rates/USD", op, {"mid_rate": "58.25"}))
    abroad = customer(world, "Li Wei", fund=10_000, currency="USD")
    with shop.nothing_moves():
        for code in ("JPY", "php", "US", 840):
            body = {"kind": "customer", "name": "Yuki", "currency": code}
            refused(api.post("/v1/parties", op, body), 400, "parameter_invalid", "currency")
        for kind, extra in (
            ("merchant", {"mcc": "5411", "city": "Makati", "province": "Metro Manila"}),
            ("agent", {}),
        ):
            body = {"kind": kind, "name": "Abroad Inc", "currency": "USD", **extra}
            refused(api.post("/v1/parties", op, body), 400, "currency_unsupported", "currency")
        # a dollar wallet sends no pesos, and receives none
        for payee in (world.buyer, world.merchant):
            body = {"payee_id": payee.id, "amount_minor": 1_000, "currency": "PHP"}
            refused(
                api.post("/v1/payments", abroad.key, body), 400, "currency_mismatch", "currency"
            )
        body = {"payee_id": world.buyer.id, "amount_minor": 1_000, "currency": "USD"}
        refused(api.post("/v1/payments", abroad.key, body), 400, "currency_unsupported", "currency")
        body = {"payee_id": abroad.id, "amount_minor": 1_000, "currency": "PHP"}
        refused(
            api.post("/v1/payments", world.buyer.key, body), 400, "currency_mismatch", "currency"
        )
        funding = {"wallet_id": abroad.wallets["main"], "amount_minor": 1_000, "currency": "PHP"}
        refused(api.post("/v1/fundings", op, funding), 400, "currency_mismatch", "currency")


def test_a_huge_dollar_funding_is_refused_not_a_server_error(shop, world):
    """Worth more pesos than any amount may be: a clear 400 (it used to overflow into a
    500 while counting it against the PHP limits); in pesos the tier limit answers first."""
    api, op = shop.api, world.operator
    api.ok(api.post("/v1/fx_rates/USD", op, {"mid_rate": "58.25"}))
    abroad = customer(world, "Tita Baby", currency="USD")
    with shop.nothing_moves():
        for party, currency, status, code, param in (
            (world.buyer, "PHP", 402, "limit_exceeded", "per_transaction_max_minor"),
            (abroad, "USD", 400, "amount_invalid", "amount_minor"),
        ):
            body = {
                "wallet_id": party.wallets["main"],
                "amount_minor": limits.MAX_AMOUNT_MINOR,
                "currency": currency,
            }
            refused(api.post("/v1/fundings", op, body), status, code, param)


# --- tenancy ---------------------------------------------------------------------------------
def test_orders_shipments_and_disputes_answer_only_their_parties(shop, world):
    api, buyer, merchant = shop.api, world.buyer, world.merchant
    other_merchant, other_store, adobo = rival(world)
    order = shop.paid()
    shipment = shop.ship(order, "LBC-T")
    dispute = api.ok(
        api.post(f"/v1/orders/{order['id']}/disputes", buyer.key, {"reason": "wrong roast"})
    )
    theirs = api.ok(
        api.post(
            "/v1/orders",
            world.other_buyer.key,
            {
                "storefront_id": other_store["id"],
                "lines": [{"product_id": adobo["id"], "quantity": 1}],
            },
        )
    )
    mine = shop.order(world.other_buyer, shop.line(shop.coffee))

    def listed(key: str, **params: Any) -> set[str]:
        return {o["id"] for o in api.ok(api.get("/v1/orders", key, **params))["data"]}

    assert listed(merchant.key) == {order["id"], mine["id"]}
    assert listed(other_merchant.key) == {theirs["id"]}
    assert listed(buyer.key) == {order["id"]}
    assert listed(world.other_buyer.key) == {theirs["id"], mine["id"]}
    assert listed(merchant.key, status="disputed") == {order["id"]}
    with shop.nothing_moves():
        for stranger in (other_merchant, world.other_buyer):
            for path in (
                f"/v1/orders/{order['id']}",
                f"/v1/orders/{order['id']}/shipments",
                f"/v1/shipments/{shipment['id']}",
                f"/v1/disputes/{dispute['id']}",
            ):
                refused(api.get(path, stranger.key), 404, "resource_missing")
        for key, party in ((merchant.key, other_merchant), (buyer.key, world.other_buyer)):
            refused(api.get("/v1/orders", key, party_id=party.id), 404, "resource_missing")
        refused(
            api.get("/v1/orders", merchant.key, starting_after=theirs["id"]),
            404,
            "resource_missing",
        )
        # and none of the order's actions
        for path, body in (
            ("pay", {}),
            ("cancel", {}),
            ("confirm", {}),
            ("refunds", {"amount_minor": 100}),
            ("shipments", {"courier": "LBC", "tracking_number": "X-1"}),
            ("disputes", {"reason": "mine now"}),
            ("fx_quotes", {}),
        ):
            response = api.post(f"/v1/orders/{order['id']}/{path}", other_merchant.key, body)
            refused(response, 404, "resource_missing", "id")
        response = api.post(
            f"/v1/shipments/{shipment['id']}/events", other_merchant.key, {"status": "delivered"}
        )
        refused(response, 404, "resource_missing")


def test_the_catalog_answers_edits_only_from_its_owner(shop, world):
    api, merchant, buyer = shop.api, world.merchant, world.buyer
    other_merchant, _, adobo = rival(world)
    coffee_variant = shop.coffee["variants"][0]["id"]
    with shop.nothing_moves():
        for key in (other_merchant.key, buyer.key):
            refused(
                api.post(f"/v1/storefronts/{shop.store['id']}", key, {"name": "Mine now"}),
                404,
                "resource_missing",
            )
            refused(
                api.post(f"/v1/products/{shop.coffee['id']}", key, {"price_minor": 1}),
                404,
                "resource_missing",
            )
            refused(
                api.post(f"/v1/products/{shop.coffee['id']}", key, {"active": False}),
                404,
                "resource_missing",
            )
            refused(
                api.post(
                    f"/v1/products/{shop.coffee['id']}/variants/{coffee_variant}",
                    key,
                    {"stock": 0},
                ),
                404,
                "resource_missing",
            )
            refused(
                api.post(
                    f"/v1/storefronts/{shop.store['id']}/products",
                    key,
                    {"title": "Fake coffee", "price_minor": 100},
                ),
                404,
                "resource_missing",
            )
        # the owner's variant id under another product (its own, or the rival's)
        for product in (shop.shirt, adobo):
            response = api.post(
                f"/v1/products/{product['id']}/variants/{coffee_variant}",
                merchant.key,
                {"stock_change": 5},
            )
            refused(response, 404, "resource_missing")
        # an inactive product: the owner and the operator see it, nobody else does
        for key in (buyer.key, other_merchant.key):
            refused(api.get(f"/v1/products/{shop.old['id']}", key), 404, "resource_missing", "id")
            listed = api.ok(api.get(f"/v1/storefronts/{shop.store['id']}/products", key))
            assert shop.old["id"] not in {p["id"] for p in listed["data"]}
        for key in (merchant.key, world.operator):
            found = api.ok(api.get(f"/v1/products/{shop.old['id']}", key))
            assert found["active"] is False and found["variants"][0]["stock"] == 5
            listed = api.ok(api.get(f"/v1/storefronts/{shop.store['id']}/products", key))
            assert shop.old["id"] in {p["id"] for p in listed["data"]}


# --- couriers --------------------------------------------------------------------------------
def test_courier_events_need_a_fresh_signature_and_a_known_parcel(shop, world, clock):
    api, op = shop.api, world.operator
    courier = api.ok(api.post("/v1/couriers", op, {"name": "Ninja Van"}))
    other = api.ok(api.post("/v1/couriers", op, {"name": "Flash"}))
    order = shop.paid()
    shipment = api.ok(
        api.post(
            f"/v1/orders/{order['id']}/shipments",
            world.merchant.key,
            {"courier": "Ninja Van", "tracking_number": "NV42"},
        )
    )
    path = f"/v1/couriers/{courier['id']}/events"
    now = clock.now // 10**9

    def event(**fields: Any) -> bytes:
        return json.dumps({"tracking_number": "NV42", "status": "delivered", **fields}).encode()

    def post(
        body: bytes, secret: str | None = courier["secret"], at: int = now, to: str = path
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["Tindahan-Signature"] = sign(secret, at, body)
        return api.post(to, None, content=body, headers=headers)

    good = event()
    with shop.nothing_moves():
        refused(post(good, None), 401, "signature_invalid")
        refused(post(good, "whsec_wrong"), 401, "signature_invalid")
        refused(post(good, other["secret"]), 401, "signature_invalid")
        refused(post(good, at=now - limits.WEBHOOK_TOLERANCE_SECONDS - 1), 401, "signature_invalid")
        refused(post(good, at=now + limits.WEBHOOK_TOLERANCE_SECONDS + 1), 401, "signature_invalid")
        refused(post(good, at=int(time.time())), 401, "signature_invalid")  # not the server's clock
        # signed for one body, sent with another
        headers = {
            "Content-Type": "application/json",
            "Tindahan-Signature": sign(courier["secret"], now, event(status="in_transit")),
        }
        refused(api.post(path, None, content=good, headers=headers), 401, "signature_invalid")
        for header in ("", "garbage", "t=abc,v1=00", f"t={now}", f"v1={'0' * 64}"):
            headers = {"Content-Type": "application/json", "Tindahan-Signature": header}
            refused(api.post(path, None, content=good, headers=headers), 401, "signature_invalid")
        # an API key is no courier's credential
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {op}"}
        refused(api.post(path, None, content=good, headers=headers), 401, "signature_invalid")
        # signed, but for a parcel that is not this courier's
        refused(post(event(tracking_number="NV43")), 404, "resource_missing", "tracking_number")
        refused(
            post(good, other["secret"], to=f"/v1/couriers/{other['id']}/events"),
            404,
            "resource_missing",
            "tracking_number",
        )
        refused(post(good, to="/v1/couriers/cou_nope/events"), 404, "resource_missing")
        # signed, but not a good body
        for body in (
            b"{not json",
            b"[]",
            b'"delivered"',
            b"",
            b"\xff\xfe",
            event(status="lost"),
            event(extra=1),
            json.dumps({"status": "delivered"}).encode(),
            event(occurred_at="9999-01-01T00:00:00Z"),
        ):
            refused(post(body), 400, "parameter_invalid")
    # a signature 299 s old is within the tolerance of the server's (test) clock
    clock.advance(limits.WEBHOOK_TOLERANCE_SECONDS - 1)
    done = post(event(status="in_transit"))
    assert done.status_code == 200, done.text
    assert [t["source"] for t in done.json()["timeline"]] == ["merchant", "courier"]
    found = api.ok(api.get(f"/v1/shipments/{shipment['id']}", world.buyer.key))
    assert found["status"] == "in_transit"
    assert shop.get(order)["status"] == "shipped"


# --- a NUL byte ------------------------------------------------------------------------------
def test_a_nul_byte_in_an_id_is_a_clear_400_on_every_store(shop, world):
    """Ids are ASCII letters, digits and ``_.:-`` (``schemas.ID_PATTERN``): a NUL byte, which
    PostgreSQL text cannot hold, used to reach a query there and answer 500."""
    api, buyer, op = shop.api, world.buyer, world.operator
    order = shop.order()
    nul = "\u0000"
    with shop.nothing_moves():
        for body, param in (
            (shop.cart({"product_id": "prd_" + nul, "quantity": 1}), "lines.0.product_id"),
            ({"storefront_id": "aling" + nul, "lines": [shop.line(shop.coffee)]}, "storefront_id"),
        ):
            refused(api.post("/v1/orders", buyer.key, body), 400, "parameter_invalid", param)
        body = {**shop.cart(shop.line(shop.coffee)), "buyer_id": "cus_" + nul}
        refused(api.post("/v1/orders", op, body), 400, "parameter_invalid", "buyer_id")
        for path in (
            "/v1/orders/ord_%00",
            "/v1/orders/ord_%00/shipments",
            "/v1/products/prd_%00",
            "/v1/storefronts/sto_%00",
            "/v1/shipments/shp_%00",
            "/v1/disputes/dsp_%00",
            "/v1/wallets/wal_%00",
            "/v1/parties/cus_%00",
        ):
            refused(api.get(path, buyer.key), 400, "parameter_invalid")
        for query in ({"starting_after": "ord_" + nul}, {"party_id": "cus_" + nul}):
            refused(api.get("/v1/orders", op, **query), 400, "parameter_invalid")
        refused(api.post("/v1/orders/ord_%00/pay", buyer.key, {}), 400, "parameter_invalid")
        variant = f"/v1/products/{shop.coffee['id']}/variants/var_%00"
        refused(api.post(variant, world.merchant.key, {"stock": 1}), 400, "parameter_invalid")
        payment = {"payee_id": "mer_" + nul, "amount_minor": 100, "currency": "PHP"}
        refused(api.post("/v1/payments", buyer.key, payment), 400, "parameter_invalid")
        courier = api.post(
            "/v1/couriers/cou_%00/events",
            None,
            content=b"{}",
            headers={"Content-Type": "application/json"},
        )
        refused(courier, 400, "parameter_invalid")
    assert shop.get(order)["status"] == "pending_payment"
