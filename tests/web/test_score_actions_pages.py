"""The credit check's "What would raise it" for a merchant (issue 26, item 4), on SQLite and
PostgreSQL: the actions follow the stored reasons (``insights.score``), in English and
Filipino, and promise no score."""

from __future__ import annotations

import re

from tests.web import test_loan_pages as loan_pages
from tests.web.test_loan_pages import assessments, card, check_now, sell, signed_in, text
from tindahan.insights import score
from tindahan.web import i18n

product = loan_pages.product
model = loan_pages.model
history_met = loan_pages.history_met

ENGLISH = {
    "sell_here": "Take more of your sales through Tindahan",
    "regular_days": "Sell on more days each week, even small amounts",
    "buyers_by_qr": "Ask more of your buyers, your regulars too, to pay by your QR code.",
    "fewer_refunds": "Describe your products fully and ship on time",
    "keep_balance": "Leave part of your sales in your wallet",
    "pay_on_time": "Pay each installment on or before its due date.",
}


def shown_actions(page: str) -> list[str]:
    match = re.search(r'<ul class="actions-list" id="score-actions">(.*?)</ul>', page, re.S)
    assert match, "no actions on the page"
    return [text(item) for item in re.findall(r"<li>(.*?)</li>", match.group(1), re.S)]


def test_not_enough_history_asks_for_sales_here(site, product, browser, model):
    signed_in(browser, site.merchant)
    check_now(browser)
    (made,) = assessments(site)
    assert made["decision"] == "insufficient_history"
    page = browser.get("/m/loans").text
    assert [a[: len(ENGLISH["sell_here"])] for a in shown_actions(page)] == [ENGLISH["sell_here"]]
    assert "What would raise it" in text(card(page)) and "no score is promised" in page
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = browser.get("/m/loans").text
    assert shown_actions(filipino) == [
        "Idaan sa Tindahan ang mas marami mong benta: QR, payment request at ang iyong online "
        "na tindahan."
    ]
    assert "walang ipinapangakong score" in filipino


def test_a_scored_check_lists_the_actions_of_its_largest_reasons(
    site, product, browser, model, history_met
):
    sell(site, [150_000, 120_000, 90_000])
    signed_in(browser, site.merchant)
    check_now(browser)
    (made,) = assessments(site)
    expected = score.actions(r["code"] for r in made["reasons"])
    assert expected, made["reasons"]
    found = shown_actions(browser.get("/m/loans").text)
    assert len(found) == len(expected) <= score.MAX_ACTIONS
    for sentence, action in zip(found, expected, strict=True):
        assert sentence.startswith(ENGLISH[action]), (sentence, action)
    with i18n.using("en"):
        assert "points" not in " ".join(found)
