"""A buyer on a phone (Chromium at 360 px) picks a courier at checkout: the shop's couriers
priced for the saved address, the window marked as an estimate, nothing wider than the
phone, and the order keeping the courier and its fee."""

from __future__ import annotations

from tests.web import test_browser as journeys
from tests.web.test_browser import go, shots, sign_in
from tests.web.test_buyer_pages import ADDRESS, SHOP, caller, get_order
from tests.web.test_courier_checkout import ship_by_courier
from tindahan.services.commerce import addresses

# The browser journeys' fixtures: the embedded store, the live app, pages at 360 px.
db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_a_buyer_on_a_phone_picks_a_courier(site, open_page):
    ship_by_courier(site)
    buyer_caller = caller(site.buyer)
    home = {k: v for k, v in ADDRESS.items() if k != "address_id"}
    site.platform.run(lambda u: addresses.add(u, buyer_caller, home))
    buyer = open_page()
    buyer.set_viewport_size({"width": 360, "height": 800})
    sign_in(buyer, site.buyer)
    go(buyer, SHOP)
    coffee = buyer.locator(".product", has_text="Coffee 3-in-1")
    coffee.get_by_role("button", name="Add to cart").click()
    buyer.wait_for_load_state()
    go(buyer, f"{SHOP}/cart")
    choice = buyer.get_by_role("radio", name="J&T Express")
    assert choice.is_visible() and choice.is_checked()
    assert buyer.get_by_text("Arrives in 1–2 days (estimate)").is_visible()
    assert buyer.evaluate(NO_SIDEWAYS)
    shots(buyer, "cart-couriers")
    buyer.get_by_role("button", name="Check out · ₱140.00").click()
    buyer.wait_for_load_state()
    order_id = buyer.url.rstrip("/").split("/")[-1].split("?")[0]
    order = get_order(site, order_id)
    assert order["delivery"]["courier"] == "jnt" and order["shipping_minor"] == 7500
