"""The merchant's insights page through HTTP, on SQLite and PostgreSQL: the reorder list,
best sellers and slow movers, and the best weekday, each with its sentence; the lead time
option and its refusal; Filipino; another merchant's figures never shown."""

from __future__ import annotations

from datetime import timedelta

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.commerce import escrow, orders
from tindahan.services.payments import payments, sales
from tindahan.web import i18n

from .conftest import Person, Site


def caller(person: Person) -> Caller:
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def buy(site: Site, quantity: int) -> None:
    coffee = site.products[0]
    order = site.platform.run(
        lambda u: orders.checkout(
            u, caller(site.buyer), site.storefront["id"], [orders.CartLine(coffee["id"], quantity)]
        )
    )
    site.platform.run(lambda u: escrow.pay(u, caller(site.buyer), order["id"], None))


def test_the_page_says_what_sells_and_which_day(site, browser, clock):
    buy(site, 3)
    new = payments.NewPayment(site.merchant.party_id or "", 50_000, "PHP")
    site.platform.run(lambda u: payments.pay(u, caller(site.other_buyer), new))
    sale_day = site.platform.run(sales.today, write=False)
    clock.advance(86_400)  # the figures run to yesterday
    browser.sign_in(site.merchant)
    page = browser.get("/m/insights")
    assert page.status_code == 200, page.text
    html = page.text
    assert "Coffee 3-in-1, 10 sachets sold the most in the last 28 days: 3 pieces." in html
    assert "Not sold in the last 28 days: T-shirt, cotton." in html
    with i18n.using("en"):
        best = i18n.day(sale_day, "EEEE")
    # One weekday with sales out of seven: its average is seven times the mean day, 600 % more.
    assert f"{best} is your best day: 600% more than an average day." in html
    assert html.count('class="bar peak"') == 1
    # Three coffees in 91 days: far from running out of 27 left in 3 days.
    assert "Nothing to reorder yet" in html
    assert html.count("<tr") >= 3 and "T-shirt, cotton" in html
    assert "Mang Tonyo" not in html
    assert 'href="/m/insights"' in browser.get("/m").text


def test_a_slow_supplier_and_little_stock_mean_reorder_now(site, browser, clock):
    buy(site, 25)  # 5 of 30 left
    clock.advance(86_400)
    browser.sign_in(site.merchant)
    html = browser.get("/m/insights", params={"lead_time": "60"}).text
    assert "1 product may run out before a new delivery arrives: order it now." in html
    assert 'value="60"' in html and 'class="soon"' in html


def test_a_bad_lead_time_is_said_and_the_default_used(site, browser):
    browser.sign_in(site.merchant)
    for bad in ("61", "-1", "tres"):
        page = browser.get("/m/insights", params={"lead_time": bad})
        assert page.status_code == 200
        assert "The lead time is a whole number of days from 0 to 60." in page.text
        assert 'value="3"' in page.text


def test_filipino_and_who_may_see_it(site, browser):
    assert browser.get("/m/insights").status_code == 303  # signed out: to sign in
    browser.sign_in(site.buyer)
    assert browser.get("/m/insights").status_code == 404
    browser.http.cookies.clear()
    browser.sign_in(site.merchant)
    browser.http.cookies.set("tdh_lang", "fil")
    html = browser.get("/m/insights").text
    assert "Mag-order na" in html and "Pinakamabenta" in html
    assert "Wala pang benta sa nakaraang 13 linggo." in html


def test_weekday_lift_by_hand():
    from datetime import date
    from decimal import Decimal

    from tindahan.insights.weekdays import by_weekday

    monday = date(2025, 6, 2)
    daily = [(monday + timedelta(days=i), 1000 if i % 7 == 5 else 500) for i in range(14)]
    daily.append((monday + timedelta(days=14), 700))  # a third Monday: (500+500+700)//3 = 566
    week = by_weekday(daily)
    assert week.average_minor == (566, 500, 500, 500, 500, 1000, 500)
    assert week.best == 5
    # mean = 4066 / 7 = 580.857…; 1000 / 580.857 - 1 = 0.7216… → 0.72
    assert week.lift == Decimal("0.72")
    assert by_weekday([]).best is None
