"""A buyer on a phone (Chromium at 360 px) picks a courier at checkout: the shop's couriers
priced for the saved address, each with its fee and its window — learned from the history
where the courier has one in the zone, else the card's, marked as an estimate — nothing
wider than the phone, and the order keeping the courier, its fee and its window."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from tests.web import test_browser as journeys
from tests.web.conftest import OPERATOR
from tests.web.test_browser import go, shots, sign_in
from tests.web.test_buyer_pages import ADDRESS, SHOP, caller, get_order
from tests.web.test_courier_checkout import CARD, ship_by_courier
from tindahan.delivery import simulate
from tindahan.services.commerce import addresses
from tindahan.services.delivery import couriers, promises

# The browser journeys' fixtures: the embedded store, the live app, pages at 360 px.
db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page
NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def _learned_and_estimated(site) -> None:
    """J&T with a history inside cities (its parcels' ends made one barangay: 30 and more
    in the zone), LBC with none: its card's window, an estimate."""
    history = simulate.simulate(300, seed=5, start=date(2026, 6, 1), days=90).shipments
    local = [replace(s, destination=s.origin) if s.courier == "jnt" else s for s in history]
    window = {"min_days": 2, "max_days": 3, "tiers": [{"max_weight_g": 1000, "fee_minor": 7500}]}
    lbc = {**CARD, "name": "LBC Express", "zones": {"within_city": window}}
    merchant = caller(site.merchant)

    def work(unit):
        couriers.set_card(unit, OPERATOR, "lbc", lbc)
        choices = [couriers.Choice("jnt"), couriers.Choice("lbc")]
        couriers.set_shipping(unit, merchant, site.storefront["id"], choices, None)
        promises.import_history(unit, OPERATOR, local, "simulated")

    site.platform.run(work)


def test_a_buyer_on_a_phone_picks_a_courier(site, open_page):
    ship_by_courier(site)
    _learned_and_estimated(site)
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
    assert choice.is_visible()
    learned = buyer.locator("label", has_text="J&T Express")
    assert (
        "₱75.00" in learned.inner_text()
        and "as 8 in 10 parcels like it did" in learned.inner_text()
    )
    estimated = buyer.locator("label", has_text="LBC Express")
    assert estimated.is_visible() and "₱75.00" in estimated.inner_text()
    assert "Arrives in 2–3 days (estimate)" in estimated.inner_text()
    assert buyer.evaluate(NO_SIDEWAYS)
    shots(buyer, "cart-couriers")
    choice.check()
    buyer.get_by_role("button", name="Check out · ₱140.00").click()
    buyer.wait_for_load_state()
    order_id = buyer.url.rstrip("/").split("/")[-1].split("?")[0]
    order = get_order(site, order_id)
    assert order["delivery"]["courier"] == "jnt" and order["shipping_minor"] == 7500
    assert order["delivery"]["estimate"] is False  # the learned window, kept on the order
    window = f"arrives in {order['delivery']['min_days']}–{order['delivery']['max_days']} days"
    assert window + ", as 8 in 10 parcels like it did" in buyer.content()
