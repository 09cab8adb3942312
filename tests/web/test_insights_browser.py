"""The insights page in Chromium at 360 px (issue 26): a merchant with a paid order opens it
from the dashboard, changes the supplier's lead time, and reads it in English and Filipino;
nothing is wider than the phone, and the page passes the accessibility checks."""

from __future__ import annotations

from tests.web import test_browser as journeys
from tests.web.test_browser import go, shots, sign_in
from tests.web.test_insights_pages import buy

# The browser journeys' fixtures: the embedded store, the live app, pages at 360 px.
db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_insights_on_a_phone_in_two_languages(site, open_page, clock):
    buy(site, 25)
    clock.advance(86_400)
    page = open_page()
    sign_in(page, site.merchant)
    go(page, "/m")
    page.get_by_role("link", name="Insights").click()
    page.wait_for_load_state()
    assert page.get_by_text("Coffee 3-in-1, 10 sachets sold the most").is_visible()
    page.get_by_label("Days your supplier takes to deliver").fill("60")
    page.get_by_role("button", name="Update").click()
    page.wait_for_load_state()
    assert page.get_by_text("1 product may run out before a new delivery arrives").is_visible()
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "insights")
    page.context.add_cookies([{"name": "tdh_lang", "value": "fil", "url": page.base}])
    go(page, "/m/insights")
    assert page.get_by_role("heading", name="Mag-order na").is_visible()
    assert page.get_by_text("ang pinakamabenta sa nakaraang 28 araw").is_visible()
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "insights-fil")
