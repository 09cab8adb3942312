"""The insights page's sales mix card (issue 26, item 1): by hour, the average sale, repeat
buyers and the channels, with figures by hand, in English and Filipino, on SQLite and
PostgreSQL.

Sales: Juan's online order of three coffees (3 × ₱65.00 + ₱50.00 shipping = ₱245.00) and
Maria's two payments at the counter (₱500.00 and ₱300.00), all at 06:13 Manila (the test
clock). Average: ₱1,045.00 / 3 = ₱348.33 (down from ₱348.333…); Maria came back: one
repeat buyer of two, ₱800.00 of ₱1,045.00 = 76.6 % → 77 %; online 23 %, QR 77 %, requests 0 %.
"""

from __future__ import annotations

from datetime import datetime

from tests.web.conftest import Site
from tests.web.test_insights_pages import buy, caller
from tindahan.services.payments import payments
from tindahan.web import i18n


def _counter(site: Site, amount_minor: int) -> None:
    new = payments.NewPayment(site.merchant.party_id or "", amount_minor, "PHP")
    site.platform.run(lambda u: payments.pay(u, caller(site.other_buyer), new))


def test_the_sales_mix_by_hand(site, browser, clock):
    buy(site, 3)
    _counter(site, 50_000)
    _counter(site, 30_000)
    browser.sign_in(site.merchant)
    today = browser.get("/m/insights").text
    assert "No sales in the last 28 days yet." in today  # today is not over
    clock.advance(86_400)  # the figures run to yesterday; a day-old session signs in again
    browser.sign_in(site.merchant)
    shown = browser.get("/m/insights")
    assert shown.status_code == 200, shown.text
    html = shown.text
    with i18n.using("en"):
        average = i18n.money(34_833)
        six = i18n.clock(datetime(2024, 1, 1, 6, tzinfo=i18n.MANILA))
    assert six.startswith("6:00") and f"Most of your money comes in around {six}." in html
    assert f"An average sale was {average}, over 3 sales." in html
    assert "1 of your 2 buyers paid more than once; they brought 77% of your sales." in html
    assert "online orders 23%, QR at the counter 77%, payment requests 0%." in html
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = browser.get("/m/insights").text
    assert "1 sa 2 mong mamimili ang nagbayad nang higit sa isang beses" in filipino
    assert "Benta ayon sa oras" in filipino
