"""The insights page's paydays and holidays card (issue 26, item 1) over HTTP on SQLite and
PostgreSQL: a new shop has seen no payday yet and says so; with sales its sentence follows
the service's verdict, in English and Filipino; the API gives the weekday figures."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_insights_pages import caller
from tests.web.test_sales_mix_pages import _counter
from tindahan.services.insights import calendar


def test_the_paydays_card_and_the_weekday_figures(site: Site, browser, clock):
    browser.sign_in(site.merchant)
    html = browser.get("/m/insights").text
    assert "Paydays and holidays" in html
    found = site.platform.run(
        lambda u: calendar.sales_calendar(u, caller(site.merchant), site.merchant.party_id or ""),
        write=False,
    )
    assert {e["verdict"] for e in found["effects"].values()} == {"unseen"}
    assert "No payday in your sales history yet. No holiday in your sales history yet." in html
    _counter(site, 50_000)
    clock.advance(86_400)
    browser.sign_in(site.merchant)
    found = site.platform.run(
        lambda u: calendar.sales_calendar(u, caller(site.merchant), site.merchant.party_id or ""),
        write=False,
    )
    assert found["best_weekday"] is not None
    averages = [d["average_minor"] for d in found["weekdays"]]
    assert sum(averages) == 50_000 // 13  # one sale in 13 weeks: its weekday's average
    shown = browser.get("/m/insights")
    assert shown.status_code == 200, shown.text[-3000:]
    html = shown.text
    payday = found["effects"]["payday"]
    expected = {
        "unseen": "No payday in your sales history yet.",
        "same": "Paydays sell about the same as a usual day at your store.",
    }.get(payday["verdict"], "On paydays")
    assert expected in html, html[
        html.find("effects-sentence") : html.find("effects-sentence") + 300
    ]
    browser.http.cookies.set("tdh_lang", "fil")
    assert "Sahod at holiday" in browser.get("/m/insights").text
    api = browser.http.get(
        "/v1/insights/sales_calendar",
        params={"weeks": 53},
        headers={"Authorization": "Bearer nothing"},
    )
    assert api.status_code == 401
