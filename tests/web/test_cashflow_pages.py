"""The insights page's 30-day outlook card (issue 26, item 3), over HTTP on SQLite and
PostgreSQL: a shop with a day of sales behind it says what the service computes, in English
and Filipino; a shop with none says it has nothing to forecast from, and one whose first sale
is days old that it is too soon."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_insights_pages import caller
from tests.web.test_sales_mix_pages import _counter
from tindahan.services.insights import cashflow
from tindahan.web import i18n


def test_the_outlook_card(site: Site, browser, clock):
    browser.sign_in(site.other_merchant)
    none = browser.get("/m/insights").text
    assert "No sales in the last half-year to forecast from yet." in none
    _counter(site, 50_000)
    clock.advance(86_400)
    browser.sign_in(site.merchant)
    young = browser.get("/m/insights").text
    assert "Your first sale was less than 14 days ago: too soon to forecast your sales." in young
    clock.advance(14 * 86_400)
    _counter(site, 30_000)
    clock.advance(86_400)
    found = site.platform.run(
        lambda u: cashflow.cash_flow(u, caller(site.merchant), site.merchant.party_id or "", 30),
        write=False,
    )
    assert found["sales_forecast"] == "forecast"
    assert found["average_sale_minor"] == 40_000 and found["sales_minor"] > 0
    browser.sign_in(site.merchant)
    html = browser.get("/m/insights").text
    with i18n.using("en"):
        said = (
            f"Your sales could bring about {i18n.money(found['sales_minor'])} in the next 30 "
            f"days; loan installments take {i18n.money(0)} and your regular payments "
            f"{i18n.money(0)}: about {i18n.money(found['net_minor'])} left."
        )
    assert said in html
    assert "Expected sales by week" in html and "not a promise" in html
    browser.http.cookies.set("tdh_lang", "fil")
    assert "Ang susunod na 30 araw" in browser.get("/m/insights").text
