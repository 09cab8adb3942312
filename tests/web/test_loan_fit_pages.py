"""Loan fit on the offer (issue 26, item 3), on SQLite and PostgreSQL: the sentence says how
many times the merchant's usual sales cover the largest installment, as ``insights.loan_fit``
computes it from the dashboard's sales, and that the choice is the merchant's."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

from tests.web import loans_fixture as lf
from tests.web import test_loan_pages as loan_pages
from tests.web.conftest import OPERATOR
from tests.web.test_loan_pages import sell, signed_in, text
from tindahan.insights import loan_fit
from tindahan.services.payments import cash, sales
from tindahan.web import i18n

product = loan_pages.product


def shown_fit(page: str, offer_id: str) -> str:
    match = re.search(rf'<p class="loan-fit (\w+)" id="fit-{offer_id}">(.*?)</p>', page, re.S)
    assert match, "no loan fit on the offer"
    return match.group(1) + ": " + text(match.group(2))


def test_no_sales_yet_says_so(site, product, browser):
    made = lf.make_offer(site.platform, site.merchant, product)
    page = signed_in(browser, site.merchant).get("/m/loans").text
    assert shown_fit(page, made["id"]) == (
        "unknown: You have no sales on Tindahan yet to compare this installment with. "
        "This is advice: the choice is yours."
    )


def test_the_cover_is_the_usual_period_over_the_largest_installment(site, product, browser, clock):
    made = lf.make_offer(site.platform, site.merchant, product)
    sell(site, [500_000])  # one sale today, counted from tomorrow
    clock.advance(86_400)
    offer = lf.offer(site.platform, made["id"])
    largest = max(row["total_minor"] for row in offer["disclosure"]["schedule"])
    days = loan_fit.PERIOD_DAYS[offer["frequency"]]
    last = site.platform.run(sales.today, write=False) - timedelta(days=1)
    caller = lf.caller_of(site.merchant)
    daily = site.platform.run(
        lambda u: sales.daily_sales(u, caller, site.merchant.party_id, 90, last), write=False
    )
    amounts = [a for _d, a, _c in daily]
    expected = loan_fit.fit(amounts, largest, offer["frequency"])
    # One sale in 90 days: the usual period (the median one) sold nothing unless a period is
    # longer than half the window.
    count = 90 // days
    assert expected.periods == count
    page = signed_in(browser, site.merchant).get("/m/loans").text
    assert expected.level == "rarely"
    assert shown_fit(page, made["id"]) == (
        "rarely: In most periods your sales did not reach this installment: it may be hard to "
        "pay. Think about a smaller amount. This is advice: the choice is yours."
    )


SENTENCES = {
    "comfortable": "Your sales usually cover this installment {times} times: it fits with room "
    "to spare.",
    "fits": "Your sales usually cover this installment {times} times: it fits, with a small "
    "margin.",
    "tight": "Your sales usually cover this installment only {times} times: it may be hard to "
    "pay. Think about a smaller amount.",
}


def test_steady_weekly_sales_against_the_installment(site, product, browser, clock):
    # A sale of ₱6,000 each week for the 13 weeks before the offer.
    wallet = site.buyer.wallets["main"]
    clock.now -= 92 * 86_400 * 10**9
    for _ in range(2):
        site.platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 3_900_000, "PHP", "FIT"))
    for _ in range(13):
        sell(site, [600_000])
        clock.advance(7 * 86_400)
    made = lf.make_offer(site.platform, site.merchant, product)
    offer = lf.offer(site.platform, made["id"])
    assert offer["frequency"] == "weekly"
    largest = max(row["total_minor"] for row in offer["disclosure"]["schedule"])
    last = site.platform.run(sales.today, write=False) - timedelta(days=1)
    caller = lf.caller_of(site.merchant)
    daily = site.platform.run(
        lambda u: sales.daily_sales(u, caller, site.merchant.party_id, 90, last), write=False
    )
    expected = loan_fit.fit([a for _d, a, _c in daily], largest, "weekly")
    assert expected.usual_sales_minor == 600_000 and expected.cover is not None
    assert expected.cover == (Decimal(600_000) / largest).quantize(Decimal("0.1"), ROUND_DOWN)
    page = signed_in(browser, site.merchant).get("/m/loans").text
    with i18n.using("en"):
        times = i18n.number(expected.cover)
    sentence = SENTENCES[expected.level].format(times=times)
    assert shown_fit(page, made["id"]) == (
        f"{expected.level}: {sentence} This is advice: the choice is yours."
    )
