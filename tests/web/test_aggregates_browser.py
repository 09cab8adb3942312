"""The console's "Merchants by province" page in Chromium at 360 px (issue 26, item 6): staff
find it in the console's menu, change the period, and nothing is wider than the phone (the
tables scroll inside their cards)."""

from __future__ import annotations

from tests.web import test_browser as journeys
from tests.web.test_aggregates_console import _more
from tests.web.test_browser import go, shots, sign_in

db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def test_merchants_by_province_on_a_phone(site, open_page):
    _more(site)
    page = open_page()
    sign_in(page, site.operator)
    go(page, "/op")
    assert page.locator('a[href="/op/insights"]').count() >= 1  # in the console's menu
    go(page, "/op/insights")
    assert page.get_by_role("heading", name="By province", exact=True).is_visible()
    page.get_by_role("link", name="90 days").click()
    page.wait_for_load_state()
    assert page.url.endswith("/op/insights?days=90")
    assert page.get_by_role("link", name="90 days").get_attribute("aria-current") == "page"
    assert page.evaluate(NO_SIDEWAYS)
    shots(page, "console-insights")
