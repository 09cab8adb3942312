"""The cart page with couriers: the shop's couriers listed (priced for the buyer's saved
address, with the card's window marked as an estimate), the chosen one kept on the order,
and a checkout without one refused beside the couriers."""

from __future__ import annotations

from sqlalchemy import update

from tests.web.conftest import OPERATOR
from tests.web.test_buyer_pages import ADDRESS, SHOP, add, caller, get_order, product
from tindahan.services.commerce import catalog
from tindahan.services.delivery import couriers
from tindahan.store.commerce_tables import orders as order_table

CARD = {
    "name": "J&T Express",
    "zones": {
        "within_city": {
            "min_days": 1,
            "max_days": 2,
            "tiers": [{"max_weight_g": 1000, "fee_minor": 7500}],
        }
    },
}


def ship_by_courier(site) -> None:
    coffee = product(site, "Coffee")
    merchant = caller(site.merchant)

    def work(unit):
        couriers.set_card(unit, OPERATOR, "jnt", CARD)
        catalog.update_product(unit, merchant, coffee["id"], {"weight_g": 200})
        couriers.set_shipping(unit, merchant, site.storefront["id"], [couriers.Choice("jnt")], None)

    site.platform.run(work)


def test_the_cart_offers_the_shops_couriers_and_the_order_keeps_the_choice(browser, site):
    ship_by_courier(site)
    browser.sign_in(site.buyer)
    add(browser, product(site, "Coffee")["id"], "2")
    page = browser.get(f"{SHOP}/cart")
    assert 'name="courier" value="jnt"' in page.text and "J&amp;T Express" in page.text

    refused = browser.post(f"{SHOP}/checkout", {**ADDRESS, "idempotency_key": browser.key()})
    assert refused.status_code == 400
    assert "Choose a courier for this order." in refused.text

    body = {**ADDRESS, "courier": "jnt", "idempotency_key": browser.key(refused.text)}
    placed = browser.post(f"{SHOP}/checkout", body)
    assert placed.status_code == 303, placed.text
    order = get_order(site, placed.headers["location"].removeprefix("/b/orders/"))
    assert order["shipping_minor"] == 7500 and order["total_minor"] == 2 * 6500 + 7500
    assert order["delivery"]["courier"] == "jnt" and order["delivery"]["zone"] == "within_city"
    shown = browser.get(placed.headers["location"])
    assert "J&amp;T Express: arrives in 1–2 days (estimate)" in shown.text

    add(browser, product(site, "Coffee")["id"], "1")
    priced = browser.get(f"{SHOP}/cart")  # the address is in the book now: priced for it
    assert "₱75.00" in priced.text and "Arrives in 1–2 days (estimate)" in priced.text


def test_the_merchant_chooses_couriers_a_flat_fee_and_free_shipping(browser, site):
    site.platform.run(lambda u: couriers.set_card(u, OPERATOR, "jnt", CARD))
    browser.sign_in(site.merchant)
    page = browser.get("/m/shipping")
    assert page.status_code == 200 and "I ship with J&amp;T Express" in page.text
    bad = browser.post(
        "/m/shipping",
        {
            "use-jnt": "1",
            "flat-jnt": "-5",
            "free_over": "",
            "idempotency_key": browser.key(page.text),
        },
    )
    assert bad.status_code == 400
    unchanged = site.platform.run(
        lambda u: couriers.shipping(u, OPERATOR, site.storefront["id"]), write=False
    )
    assert unchanged["couriers"] == []
    body = {
        "use-jnt": "1",
        "flat-jnt": "60",
        "free_over": "1000",
        "idempotency_key": browser.key(bad.text),
    }
    saved = browser.post("/m/shipping", body)
    assert saved.status_code == 303, saved.text
    shipping = site.platform.run(
        lambda u: couriers.shipping(u, OPERATOR, site.storefront["id"]), write=False
    )
    assert shipping["couriers"][0]["flat_fee_minor"] == 6_000
    assert shipping["free_shipping_over_minor"] == 100_000
    again = browser.get("/m/shipping")
    assert 'value="60.00"' in again.text and 'value="1000.00"' in again.text


def test_an_order_past_its_window_is_flagged_on_both_order_pages(browser, second_browser, site):
    ship_by_courier(site)
    browser.sign_in(site.buyer)
    add(browser, product(site, "Coffee")["id"], "1")
    page = browser.get(f"{SHOP}/cart")
    body = {**ADDRESS, "courier": "jnt", "idempotency_key": browser.key(page.text)}
    placed = browser.post(f"{SHOP}/checkout", body)
    assert placed.status_code == 303, placed.text
    order_id = placed.headers["location"].removeprefix("/b/orders/")
    flag = "Past its delivery window: not delivered by the promised day"
    assert flag not in browser.get(placed.headers["location"]).text

    def paid_three_days_ago(unit):  # the card's window is 1-2 days
        three_days = 3 * 86_400 * 10**9
        unit.conn.execute(
            update(order_table)
            .where(order_table.c.id == order_id)
            .values(status="paid", paid_at_ns=unit.now() - three_days)
        )

    site.platform.run(paid_three_days_ago)
    assert get_order(site, order_id)["delivery"]["late"] is True
    assert flag in browser.get(placed.headers["location"]).text
    second_browser.sign_in(site.merchant)
    seller_page = second_browser.get(f"/m/orders/{order_id}")
    assert seller_page.status_code == 200 and flag in seller_page.text


def test_the_merchant_weighs_a_product_on_its_page(browser, site):
    coffee = product(site, "Coffee")
    browser.sign_in(site.merchant)
    page = browser.get(f"/m/products/{coffee['id']}")
    assert 'name="weight_g"' in page.text
    form = {"title": coffee["title"], "price": "65.00", "active": "1", "category_id": ""}
    bad = browser.post(
        f"/m/products/{coffee['id']}",
        {**form, "weight_g": "200g", "idempotency_key": browser.key(page.text)},
    )
    assert bad.status_code == 400 and "Enter a whole number." in bad.text
    saved = browser.post(
        f"/m/products/{coffee['id']}",
        {**form, "weight_g": "250", "idempotency_key": browser.key(bad.text)},
    )
    assert saved.status_code == 303, saved.text
    merchant = caller(site.merchant)
    stored = site.platform.run(
        lambda u: catalog.get_own_product(u, merchant, coffee["id"]), write=False
    )
    assert stored["weight_g"] == 250
    shown = browser.get(f"/m/products/{coffee['id']}").text
    assert 'name="weight_g" type="text" value="250"' in shown
