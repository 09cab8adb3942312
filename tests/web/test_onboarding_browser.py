"""Onboarding a merchant from the console in Chromium at 360 px (issue 21, item 9): the
operator fills the four steps with an ID photo, reads the first PIN, opens the QR poster,
and the new merchant signs in with that PIN on another phone."""

from __future__ import annotations

from tests.web import test_browser as journeys
from tests.web.conftest import sign_in_page
from tests.web.test_browser import go, shots, sign_in
from tests.web.test_catalog_browser import NO_SIDEWAYS, jpeg

db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page


def test_an_operator_onboards_a_merchant_on_a_phone(site, open_page, tmp_path):
    staff, shop = open_page(), open_page()
    sign_in(staff, site.operator)
    go(staff, "/op/parties")
    staff.get_by_role("link", name="Onboard a merchant or agent").click()
    staff.wait_for_load_state()
    staff.get_by_label("Kind").select_option("merchant")
    staff.get_by_label("Business name").fill("Carinderia ni Aling Rosa")
    staff.get_by_label("Mobile number").fill("0918 765 4321")
    staff.get_by_label("Category (MCC)").fill("5812")
    staff.get_by_label("City or municipality").fill("Marikina")
    staff.get_by_label("Province").fill("Metro Manila")
    staff.get_by_label("KYC tier").select_option("basic")
    staff.get_by_label("ID number").fill("N01-23-456789")
    staff.get_by_label("ID, front").set_input_files(jpeg(tmp_path / "id.jpg"))
    assert staff.evaluate(NO_SIDEWAYS)
    shots(staff, "console-onboard")
    staff.get_by_role("button", name="Onboard", exact=True).click()
    staff.wait_for_load_state()
    assert staff.get_by_text("Carinderia ni Aling Rosa is onboarded").is_visible()
    pin = staff.get_by_test_id("first-pin").inner_text().strip()
    assert len(pin) == 6 and pin.isdigit()
    assert staff.evaluate(NO_SIDEWAYS)
    shots(staff, "console-onboarded")
    staff.get_by_role("link", name="Print the QR poster").click()
    staff.wait_for_load_state()
    assert staff.locator("svg.qr").is_visible()
    staff.get_by_role("link", name="Open the party").click()
    staff.wait_for_load_state()
    image = staff.get_by_alt_text("ID, front")
    staff.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
    )
    assert staff.evaluate(NO_SIDEWAYS)

    sign_in_page(shop, "09187654321", pin)
    assert shop.url.endswith("/m")
