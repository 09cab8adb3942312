"""The merchant's selling pages over HTTP: the storefront, products and stock, and orders with
their escrow state, shipments and the actions the merchant may take — each form's success
and bad input, double submits, another merchant's ids (404), signed-out and CSRF refusals,
and the whole journey from a new product to the money released to the settlement wallet."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog, escrow, orders, shipments
from tindahan.services.commerce.orders import CartLine
from tindahan.services.commerce.views import OrderView
from tindahan.services.platform import logins, parties

from .conftest import OPERATOR, Person, Site


def caller(person: Person) -> Caller:
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def key() -> str:
    return str(uuid.uuid4())


def buy(site: Site, product: dict[str, Any], quantity: int = 1, *, pay: bool = True) -> str:
    """The buyer checks out one line at Aling Nena's (and pays into escrow)."""
    who = caller(site.buyer)
    variant = product["variants"][0]["id"]
    line = CartLine(product["id"], quantity, variant)
    made = site.platform.run(lambda u: orders.checkout(u, who, site.storefront["id"], [line]))
    if pay:
        site.platform.run(lambda u: escrow.pay(u, who, made["id"], None))
    return str(made["id"])


def order(site: Site, order_id: str) -> OrderView:
    return site.platform.run(lambda u: orders.get(u, OPERATOR, order_id), write=False)


def parcels(site: Site, order_id: str) -> list[dict[str, Any]]:
    found = site.platform.run(
        lambda u: shipments.list_for_order(u, OPERATOR, order_id), write=False
    )
    return list(found["data"])


def product(site: Site, product_id: str) -> dict[str, Any]:
    return site.platform.run(lambda u: catalog.get_product(u, OPERATOR, product_id), write=False)


def product_titles(site: Site, storefront_id: str) -> list[str]:
    found = site.platform.run(
        lambda u: catalog.list_products(u, OPERATOR, storefront_id, 200, None), write=False
    )
    return [p["title"] for p in found["data"]]


def error_of(page: str, field: str) -> str:
    match = re.search(rf'id="e-{re.escape(field)}" class="error">([^<]+)<', page)
    assert match, f"no error beside {field}"
    return match.group(1)


def new_merchant(site: Site) -> Person:
    """A merchant who has not opened a storefront."""
    new = parties.NewParty(
        "merchant", "Ate Liza's Kakanin", mcc="5812", city="Pasig", province="Metro Manila"
    )
    made = site.platform.run(lambda u: parties.create(u, OPERATOR, new))
    phone, pin = "09170000009", "802461"
    site.platform.run(
        lambda u: logins.create(u, None, party_id=made["id"], phone=phone, secret=pin)
    )
    return Person(new.name, phone, pin, made["id"])


# --- signed out, CSRF ------------------------------------------------------------------------
def test_signed_out_goes_to_sign_in(browser):
    for path in ("/m/store", "/m/products", "/m/products/new", "/m/orders", "/m/orders/ord_x"):
        response = browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"] == "/signin?next=" + path


def test_posts_without_the_csrf_token_are_refused_and_change_nothing(site, browser, second_browser):
    order_id = buy(site, site.products[0])
    browser.sign_in(site.merchant)
    browser.get(f"/m/orders/{order_id}")
    ship = {"courier": "LBC", "tracking_number": "LBC-1", "idempotency_key": key()}
    response = browser.http.post(f"/m/orders/{order_id}/ship", data=ship)
    assert response.status_code == 403
    assert "Form refused" in response.text
    new = {"title": "Sneaky", "price": "10", "stock": "1", "idempotency_key": key()}
    wrong = {**new, "csrf_token": "0" * 64}
    assert browser.http.post("/m/products", data=new).status_code == 403
    assert browser.http.post("/m/products", data=wrong).status_code == 403
    assert order(site, order_id)["status"] == "paid"
    assert not parcels(site, order_id)
    assert "Sneaky" not in product_titles(site, site.storefront["id"])
    # a buyer has no selling pages
    second_browser.sign_in(site.buyer)
    assert second_browser.get("/m/products").status_code == 404


# --- the storefront --------------------------------------------------------------------------
def test_the_store_page_shows_the_public_link_and_edits_the_store(site, browser):
    browser.sign_in(site.merchant)
    page = browser.get("/m/store").text
    assert 'href="/s/nena-store"' in page
    assert "₱50.00" in page
    form = {"name": "Changed", "shipping_fee": "abc", "idempotency_key": key()}
    response = browser.post("/m/store", form, from_page="/m/store")
    assert response.status_code == 400
    assert "pesos" in error_of(response.text, "shipping_fee")
    assert 'value="abc"' in response.text and 'value="Changed"' in response.text
    found = site.platform.run(
        lambda u: catalog.get_storefront(u, OPERATOR, "nena-store"), write=False
    )
    assert (found["name"], found["shipping_fee_minor"]) == ("Aling Nena's Store", 5_000)
    form = {
        "name": "Aling Nena's Sari-Sari",
        "description": "Coffee, rice and T-shirts",
        "shipping_fee": "75.50",
        "idempotency_key": key(),
    }
    response = browser.post("/m/store", form)
    assert response.status_code == 303
    assert response.headers["location"] == "/m/store?saved=1"
    found = site.platform.run(
        lambda u: catalog.get_storefront(u, OPERATOR, "nena-store"), write=False
    )
    assert (found["name"], found["shipping_fee_minor"]) == ("Aling Nena's Sari-Sari", 7_550)
    assert found["description"] == "Coffee, rice and T-shirts"
    page = browser.get("/m/store?saved=1").text
    assert "Saved." in page and "₱75.50" in page and 'value="75.50"' in page


def test_a_new_merchant_opens_a_storefront(site, browser):
    liza = new_merchant(site)
    browser.sign_in(liza)
    assert "Open your storefront" in browser.get("/m/products").text
    page = browser.get("/m/store").text
    assert 'name="slug"' in page
    base = {"name": "Ate Liza's Kakanin", "shipping_fee": "0"}
    taken = browser.post("/m/store", {**base, "slug": "nena-store", "idempotency_key": key()})
    assert taken.status_code == 400
    assert error_of(taken.text, "slug") == "Another shop already uses this web address."
    bad = browser.post("/m/store", {**base, "slug": "Liza's!", "idempotency_key": key()})
    assert bad.status_code == 400
    assert "lowercase" in error_of(bad.text, "slug")
    assert site.platform.run(lambda u: catalog.own_storefront(u, caller(liza))) is None
    made = browser.post("/m/store", {**base, "slug": "Ate-Liza", "idempotency_key": key()})
    assert made.status_code == 303
    store = site.platform.run(lambda u: catalog.own_storefront(u, caller(liza)))
    assert store is not None
    assert (store["slug"], store["shipping_fee_minor"]) == ("ate-liza", 0)
    assert 'href="/s/ate-liza"' in browser.get("/m/store").text


# --- products --------------------------------------------------------------------------------
def test_the_products_page_and_adding_products(site, browser):
    shirt = site.products[1]
    site.platform.run(
        lambda u: catalog.update_product(u, caller(site.merchant), shirt["id"], {"active": False})
    )
    browser.sign_in(site.merchant)
    page = browser.get("/m/products").text
    assert "Coffee 3-in-1, 10 sachets" in page and "₱65.00" in page and "₱250.00" in page
    assert "M: 5" in page and "L: 2" in page and ">30<" in page.replace(" ", "")
    assert "On sale" in page and "Hidden" in page
    assert f'href="/m/products/{shirt["id"]}"' in page
    page = browser.get("/m/products/new").text
    assert 'name="option_stock_3"' in page
    form = {
        "title": "Tsinelas",
        "description": "Rubber slippers",
        "price": "120.50",
        "option_0": "Size 8",
        "option_stock_0": "4",
        "option_1": "Size 9",
        "option_stock_1": "0",
        "idempotency_key": key(),
    }
    first = browser.post("/m/products", form)
    again = browser.post("/m/products", form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    product_id = first.headers["location"].split("/")[-1].split("?")[0]
    made = product(site, product_id)
    assert (made["title"], made["price_minor"], made["description"]) == (
        "Tsinelas",
        12_050,
        "Rubber slippers",
    )
    assert [(v["name"], v["stock"]) for v in made["variants"]] == [("Size 8", 4), ("Size 9", 0)]
    assert product_titles(site, site.storefront["id"]).count("Tsinelas") == 1
    page = browser.get(first.headers["location"]).text
    assert "Saved." in page and "Size 8" in page
    form = {"title": "Bigas, 1 kilo", "price": "₱52", "stock": "40", "idempotency_key": key()}
    response = browser.post("/m/products", form, from_page="/m/products/new")
    assert response.status_code == 303
    made = product(site, response.headers["location"].split("/")[-1].split("?")[0])
    assert made["price_minor"] == 5_200
    assert [(v["name"], v["stock"]) for v in made["variants"]] == [(None, 40)]


BAD_PRODUCTS = [
    ({"price": "abc"}, "price", "pesos"),
    ({"stock": "-3"}, "stock", "whole number"),
    ({"title": "   "}, "title", "fill this in"),
    ({"stock": "", "option_0": "", "option_stock_0": "2"}, "option_0", "Name this option"),
    ({"stock": "", "option_0": "M", "option_stock_0": "-1"}, "option_stock_0", "whole"),
    ({"option_0": "M", "option_stock_0": "1"}, "stock", "each option"),
    ({"price": "0"}, "price", "more than zero"),
    (
        {
            "stock": "",
            "option_0": "M",
            "option_stock_0": "1",
            "option_1": "m",
            "option_stock_1": "2",
        },
        "option_0",
        "different name",
    ),
]


def test_bad_product_input_re_renders_and_creates_nothing(site, browser):
    browser.sign_in(site.merchant)
    before = product_titles(site, site.storefront["id"])
    for changes, field, says in BAD_PRODUCTS:
        form = {"title": "Suka", "price": "25", "stock": "5", **changes, "idempotency_key": key()}
        response = browser.post("/m/products", form, from_page="/m/products/new")
        assert response.status_code == 400, changes
        assert says.lower() in error_of(response.text, field).lower(), changes
        for name, value in form.items():
            if value.strip() and name != "idempotency_key":
                assert f'value="{value}"' in response.text, (changes, name)
    assert product_titles(site, site.storefront["id"]) == before


def test_editing_a_product_and_hiding_it(site, browser):
    coffee = site.products[0]
    browser.sign_in(site.merchant)
    page = browser.get(f"/m/products/{coffee['id']}").text
    assert 'value="65.00"' in page and "checked" in page
    form = {"title": "Kape 3-in-1", "price": "70", "description": "", "idempotency_key": key()}
    response = browser.post(f"/m/products/{coffee['id']}", form)
    assert response.status_code == 303
    found = product(site, coffee["id"])
    assert (found["title"], found["price_minor"], found["active"]) == ("Kape 3-in-1", 7_000, False)
    bad = {"title": "", "price": "abc", "active": "1", "idempotency_key": key()}
    response = browser.post(
        f"/m/products/{coffee['id']}", bad, from_page=f"/m/products/{coffee['id']}"
    )
    assert response.status_code == 400
    assert error_of(response.text, "title") and error_of(response.text, "price")
    assert 'value="abc"' in response.text
    assert product(site, coffee["id"])["title"] == "Kape 3-in-1"


def test_stock_is_set_by_count_or_by_what_arrived(site, browser):
    shirt = site.products[1]
    medium, large = (v["id"] for v in shirt["variants"])
    path = f"/m/products/{shirt['id']}"
    browser.sign_in(site.merchant)
    page = browser.get(path).text
    assert f'name="count_{medium}"' in page and f'name="arrived_{large}"' in page
    form = {f"count_{medium}": "12", f"arrived_{large}": "3", "idempotency_key": key()}
    first = browser.post(f"{path}/stock", form)
    again = browser.post(f"{path}/stock", form)  # a double tap: arrived once
    assert first.status_code == again.status_code == 303
    assert [v["stock"] for v in product(site, shirt["id"])["variants"]] == [12, 5]
    for bad, field in (
        ({f"count_{medium}": "-4"}, f"count_{medium}"),
        ({f"arrived_{large}": "0"}, f"arrived_{large}"),
        ({f"count_{medium}": "2", f"arrived_{medium}": "1"}, f"arrived_{medium}"),
    ):
        response = browser.post(f"{path}/stock", {**bad, "idempotency_key": key()}, from_page=path)
        assert response.status_code == 400
        assert error_of(response.text, field)
    empty = browser.post(f"{path}/stock", {"idempotency_key": key()}, from_page=path)
    assert empty.status_code == 400 and 'class="alert"' in empty.text
    assert [v["stock"] for v in product(site, shirt["id"])["variants"]] == [12, 5]


def test_own_storefront_and_own_product_are_the_callers_only(site):
    nena, tonyo = caller(site.merchant), caller(site.other_merchant)
    run = site.platform.run
    assert run(lambda u: catalog.own_storefront(u, nena))["slug"] == "nena-store"
    assert run(lambda u: catalog.own_storefront(u, tonyo))["slug"] == "tonyo-hardware"
    assert run(lambda u: catalog.own_storefront(u, caller(site.buyer))) is None
    assert run(lambda u: catalog.own_storefront(u, OPERATOR)) is None
    coffee = site.products[0]["id"]
    assert run(lambda u: catalog.get_own_product(u, nena, coffee))["id"] == coffee
    assert run(lambda u: catalog.get_own_product(u, OPERATOR, coffee))["id"] == coffee
    with pytest.raises(RefusalError) as refused:
        run(lambda u: catalog.get_own_product(u, tonyo, coffee))
    assert refused.value.code == "resource_missing"


# --- orders ----------------------------------------------------------------------------------
def test_the_whole_journey_from_new_product_to_money_released(site, browser):
    browser.sign_in(site.merchant)
    new = {"title": "Ube halaya jar", "price": "180", "stock": "10", "idempotency_key": key()}
    made = browser.post("/m/products", new, from_page="/m/products/new")
    assert made.status_code == 303
    halaya = product(site, made.headers["location"].split("/")[-1].split("?")[0])
    order_id = buy(site, halaya, 2)  # 2 × ₱180 + ₱50 shipping = ₱410 in escrow
    settled = site.balance(site.merchant, "settlement")

    listing = browser.get("/m/orders").text
    assert f'href="/m/orders/{order_id}"' in listing
    assert "Paid — money in escrow" in listing and "₱410.00" in listing
    path = f"/m/orders/{order_id}"
    page = browser.get(path).text
    assert "₱410.00 held in escrow until the buyer confirms or 7 days after delivery." in page
    assert "Ube halaya jar" in page and "₱360.00" in page and "₱50.00" in page
    assert f'action="/m/orders/{order_id}/ship"' in page
    assert f'action="/m/orders/{order_id}/cancel"' in page
    assert f'action="/m/orders/{order_id}/refund"' in page

    ship = {"courier": "J&T Express", "tracking_number": "JT0001", "idempotency_key": key()}
    response = browser.post(f"{path}/ship", ship)
    assert (response.status_code, response.headers["location"]) == (303, path)
    (parcel,) = parcels(site, order_id)
    page = browser.get(path).text
    assert "J&amp;T Express" in page and "JT0001" in page and "Label created" in page
    assert f'action="/m/orders/{order_id}/ship"' not in page  # everything is shipped
    assert f'action="/m/orders/{order_id}/cancel"' not in page
    events = f"{path}/shipments/{parcel['id']}/events"
    for status, where in (("picked_up", "Marikina"), ("delivered", "Quezon City")):
        form = {
            f"event_{parcel['id']}": status,
            f"location_{parcel['id']}": where,
            "idempotency_key": key(),
        }
        assert browser.post(events, form, from_page=path).status_code == 303
    page = browser.get(path).text
    assert "Picked up" in page and "Quezon City" in page and "Delivered" in page
    assert "until the buyer confirms, or until" in page
    assert order(site, order_id)["status"] == "delivered"
    assert site.balance(site.merchant, "settlement") == settled

    site.platform.run(lambda u: escrow.confirm(u, caller(site.buyer), order_id))
    page = browser.get(path).text
    assert "Completed — money released" in page
    assert "₱410.00 released to your wallet on" in page
    assert "after the ₱8.20 marketplace fee" in page and "₱401.80" in page
    assert "The buyer confirmed receipt" in page
    assert 'action="' + f"/m/orders/{order_id}/" not in page  # nothing left to do
    assert site.balance(site.merchant, "settlement") == settled + 40_180
    assert product(site, halaya["id"])["variants"][0]["stock"] == 8


def test_shipping_twice_with_the_same_key_ships_once(site, browser):
    order_id = buy(site, site.products[0])
    path = f"/m/orders/{order_id}"
    browser.sign_in(site.merchant)
    browser.get(path)
    ship = {"courier": "LBC", "tracking_number": "LBC-778", "idempotency_key": browser.key()}
    first = browser.post(f"{path}/ship", ship)
    again = browser.post(f"{path}/ship", ship)
    assert first.status_code == again.status_code == 303
    assert len(parcels(site, order_id)) == 1
    shipped = [h for h in order(site, order_id)["history"] if h["action"] == "ship"]
    assert len(shipped) == 1


def test_bad_order_action_input_is_shown_beside_the_field(site, browser):
    order_id = buy(site, site.products[0])
    path = f"/m/orders/{order_id}"
    browser.sign_in(site.merchant)
    for form, field in (
        ({"courier": "Pigeon Post", "tracking_number": "X1"}, "courier"),
        ({"courier": "", "tracking_number": "X2"}, "courier"),
        ({"courier": "LBC", "tracking_number": "  "}, "tracking_number"),
    ):
        sent = {**form, "idempotency_key": key()}
        response = browser.post(f"{path}/ship", sent, from_page=path)
        assert response.status_code == 400, form
        assert error_of(response.text, field), form
        if form["tracking_number"].strip():
            assert f'value="{form["tracking_number"]}"' in response.text
    assert order(site, order_id)["status"] == "paid" and not parcels(site, order_id)
    # a tracking number in use
    first, second = buy(site, site.products[0]), buy(site, site.products[0])
    ship = {"courier": "LBC", "tracking_number": "LBC-1"}
    for order_id, status in ((first, 303), (second, 400)):
        path = f"/m/orders/{order_id}"
        response = browser.post(f"{path}/ship", {**ship, "idempotency_key": key()}, from_page=path)
        assert response.status_code == status
    assert "another shipment" in error_of(response.text, "tracking_number")
    assert order(site, second)["status"] == "paid"
    # a parcel event that is not one
    order_id = buy(site, site.products[0])
    parcel = site.platform.run(
        lambda u: shipments.ship(u, caller(site.merchant), order_id, "LBC", "LBC-9")
    )
    path = f"/m/orders/{order_id}"
    field = f"event_{parcel['id']}"
    events = f"{path}/shipments/{parcel['id']}/events"
    bad = browser.post(events, {field: "lost_at_sea", "idempotency_key": key()}, from_page=path)
    assert bad.status_code == 400 and error_of(bad.text, field)
    other = browser.post(
        f"{path}/shipments/shp_notthisone/events", {field: "picked_up", "idempotency_key": key()}
    )
    assert other.status_code == 404
    assert [e["status"] for e in parcels(site, order_id)[0]["timeline"]] == ["label_created"]


def test_cancelling_and_refunding_give_the_money_back(site, browser):
    before = site.balance(site.buyer)
    order_id = buy(site, site.products[0], 3)
    path = f"/m/orders/{order_id}"
    browser.sign_in(site.merchant)
    form = {"cancel_reason": "Out of hot water", "idempotency_key": key()}
    asked = browser.post(f"{path}/cancel", form, from_page=path)  # a question first
    assert asked.status_code == 200 and "Cancel this order?" in asked.text
    assert 'name="confirmed" value="yes"' in asked.text and "Out of hot water" in asked.text
    assert order(site, order_id)["status"] == "paid"  # nothing done yet
    confirmed = {**form, "confirmed": "yes"}
    assert browser.post(f"{path}/cancel", confirmed).status_code == 303
    assert order(site, order_id)["status"] == "cancelled"
    assert site.balance(site.buyer) == before
    page = browser.get(path).text
    assert "Cancelled" in page and "Out of hot water" in page
    assert "₱245.00 refunded to the buyer." in page
    assert product(site, site.products[0]["id"])["variants"][0]["stock"] == 30
    # refunding part, then all
    before = site.balance(site.buyer)
    order_id = buy(site, site.products[0], 2)  # ₱130 + ₱50
    path = f"/m/orders/{order_id}"
    bad = browser.post(
        f"{path}/refund", {"refund_amount": "abc", "idempotency_key": key()}, from_page=path
    )
    assert bad.status_code == 400 and error_of(bad.text, "refund_amount")
    too_much = browser.post(
        f"{path}/refund", {"refund_amount": "999", "idempotency_key": key()}, from_page=path
    )
    assert too_much.status_code == 400 and error_of(too_much.text, "refund_amount")
    assert order(site, order_id)["escrow"]["refunded_minor"] == 0
    part = {"refund_amount": "50", "refund_reason": "No shipping", "idempotency_key": key()}
    asked = browser.post(f"{path}/refund", part, from_page=path)
    assert asked.status_code == 200 and "Yes, refund ₱50.00" in asked.text
    assert order(site, order_id)["escrow"]["refunded_minor"] == 0
    part["confirmed"] = "yes"
    assert browser.post(f"{path}/refund", part).status_code == 303
    page = browser.get(path).text
    assert "₱130.00 held in escrow" in page and "₱50.00 refunded to the buyer." in page
    everything = {"refund_amount": "", "idempotency_key": key()}
    asked = browser.post(f"{path}/refund", everything)
    assert "Refund ₱130.00 to the buyer?" in asked.text  # empty: everything still held
    assert browser.post(f"{path}/refund", {**everything, "confirmed": "yes"}).status_code == 303
    found = order(site, order_id)
    assert found["status"] == "refunded" and found["escrow"]["held_minor"] == 0
    assert site.balance(site.buyer) == before


def test_the_orders_list_filters_by_state_and_shows_only_own_sales(site, browser, clock):
    paid = buy(site, site.products[0])
    clock.advance(60)
    unpaid = buy(site, site.products[0], pay=False)
    hammer = site.platform.run(
        lambda u: catalog.create_product(
            u,
            caller(site.other_merchant),
            site.other_storefront["id"],
            catalog.NewProduct("Pako, 1 kilo", 9_000, stock=5),
        )
    )
    line = CartLine(hammer["id"], 1, hammer["variants"][0]["id"])
    theirs = site.platform.run(
        lambda u: orders.checkout(u, caller(site.buyer), site.other_storefront["id"], [line])
    )["id"]
    browser.sign_in(site.merchant)
    everything = browser.get("/m/orders").text
    assert paid in everything and unpaid in everything and theirs not in everything
    assert everything.index(unpaid) < everything.index(paid)  # newest first
    waiting = browser.get("/m/orders?status=pending_payment").text
    assert unpaid in waiting and paid not in waiting and "Waiting for payment" in waiting
    assert "No orders in this state." in browser.get("/m/orders?status=disputed").text
    page = browser.get(f"/m/orders/{unpaid}").text
    assert "Waiting for the buyer to pay ₱115.00" in page
    assert f'action="/m/orders/{unpaid}/cancel"' in page
    assert f'action="/m/orders/{unpaid}/ship"' not in page


def test_another_merchants_product_and_order_are_not_found(site, browser):
    nails = site.platform.run(
        lambda u: catalog.create_product(
            u,
            caller(site.other_merchant),
            site.other_storefront["id"],
            catalog.NewProduct("Pako, 1 kilo", 9_000, stock=5),
        )
    )
    who = caller(site.buyer)
    line = CartLine(nails["id"], 1, nails["variants"][0]["id"])
    theirs = site.platform.run(
        lambda u: orders.checkout(u, who, site.other_storefront["id"], [line])
    )["id"]
    site.platform.run(lambda u: escrow.pay(u, who, theirs, None))
    browser.sign_in(site.merchant)
    page = browser.get(f"/m/orders/{theirs}")
    assert page.status_code == 404 and "Pako" not in page.text and "₱140.00" not in page.text
    browser.get("/m/orders")
    for action, form in (
        ("ship", {"courier": "LBC", "tracking_number": "STOLEN-1"}),
        ("cancel", {}),
        ("refund", {"refund_amount": "10"}),
    ):
        response = browser.post(f"/m/orders/{theirs}/{action}", {**form, "idempotency_key": key()})
        assert response.status_code == 404, action
    assert browser.get("/m/orders/ord_nosuchorder").status_code == 404
    found = order(site, theirs)
    assert found["status"] == "paid" and found["escrow"]["refunded_minor"] == 0
    assert not parcels(site, theirs)
    # a product
    tonyo = caller(site.other_merchant)
    hammer = site.platform.run(
        lambda u: catalog.create_product(
            u,
            tonyo,
            site.other_storefront["id"],
            catalog.NewProduct("Martilyo, claw hammer", 35_000, stock=7),
        )
    )
    path = f"/m/products/{hammer['id']}"
    response = browser.get(path)
    assert response.status_code == 404 and "Martilyo" not in response.text
    browser.get("/m/products")
    edit = {"title": "Mine now", "price": "1", "idempotency_key": key()}
    assert browser.post(path, edit).status_code == 404
    stock = {f"count_{hammer['variants'][0]['id']}": "0", "idempotency_key": key()}
    assert browser.post(f"{path}/stock", stock, from_page="/m/products").status_code == 404
    assert browser.get("/m/products/prd_nosuchproduct").status_code == 404
    kept = product(site, hammer["id"])
    assert (kept["title"], kept["variants"][0]["stock"]) == ("Martilyo, claw hammer", 7)
