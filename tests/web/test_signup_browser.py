"""Self sign-up in Chromium at 360 px (issue 24): a person types a number and a name,
reads the code the local gateway received, chooses a PIN twice, and lands on their wallet."""

from __future__ import annotations

import re

from tests.web import test_browser as journeys
from tests.web.test_browser import go, shots
from tests.web.test_catalog_browser import NO_SIDEWAYS
from tindahan.services.platform import sms
from tindahan.worker.sms import LocalGateway

db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page


def test_a_person_signs_up_on_a_phone_with_the_texted_code(site, open_page):
    page = open_page()
    go(page, "/signin")
    page.get_by_role("link", name="New here? Sign up").click()
    page.wait_for_load_state()
    page.get_by_label("Mobile number").fill("0917 555 0123")
    page.get_by_label("Your name").fill("Rosa Magbanua")
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "signup")
    page.get_by_role("button", name="Text me a code").click()
    page.wait_for_load_state()
    assert page.get_by_text("We texted a 6-digit code").is_visible()

    sms.deliver_due(site.platform, LocalGateway())  # the worker's round, the local gateway
    texts = site.platform.run(lambda u: sms.sent_to(u, "+639175550123"), write=False)
    code = re.search(r"\b(\d{6})\b", texts[-1])
    assert code is not None

    page.get_by_label("Code from the SMS").fill(code.group(1))
    page.get_by_label("Choose a PIN (6 digits)").fill("907153")
    page.get_by_label("The PIN again").fill("907153")
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "signup-code")
    page.get_by_role("button", name="Open my wallet").click()
    page.wait_for_load_state()
    assert page.url.endswith("/b")
    assert page.get_by_text("Rosa Magbanua").first.is_visible()
    assert page.evaluate(NO_SIDEWAYS)


def test_the_pages_in_cebuano_fit_a_phone(site, open_page):
    """The longest of the three languages' words on the narrowest screen: no sideways scroll."""
    page = open_page()
    go(page, "/signin")
    page.get_by_role("button", name="Cebuano").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Mag-sign in").is_visible()
    for path in ("/signin", "/signup", "/reset"):
        go(page, path)
        assert page.evaluate(NO_SIDEWAYS), path
    shots(page, "reset-ceb")
    buyer = open_page()
    journeys.sign_in(buyer, site.buyer)
    buyer.get_by_role("button", name="Cebuano").click()
    buyer.wait_for_load_state()
    for path in ("/b", "/b/orders", "/pin"):
        go(buyer, path)
        assert buyer.evaluate(NO_SIDEWAYS), path
    go(buyer, "/b")
    assert buyer.get_by_text("Akong wallet").first.is_visible()
