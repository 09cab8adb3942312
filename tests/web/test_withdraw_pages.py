"""The Withdraw page through HTTP, on SQLite and PostgreSQL: what may be withdrawn and what is
kept back, the amount checked and confirmed before any money moves, once per form, refusals
beside the field, the automatic payout's settings, and the page in Filipino."""

from __future__ import annotations

import re

from tindahan.services.payments import cash
from tindahan.services.payouts import daily, payouts, settings
from tindahan.services.platform import parties
from tindahan.web import i18n

from .conftest import OPERATOR, Browser, Person, Site
from .test_merchant_pages import caller, pay


def money(amount: int) -> str:
    with i18n.using("en"):
        return i18n.money(amount)


def settle(site: Site, person: Person, amount: int) -> None:
    """Money in the settlement wallet that no recent sale claims (a funding)."""
    wallet = person.wallets["settlement"]
    site.platform.run(lambda u: cash.fund(u, OPERATOR, wallet, amount, "PHP", "TEST"))


def test_withdraw_checks_confirms_and_moves_once(site: Site, browser: Browser):
    nena = site.merchant
    settle(site, nena, 50_000)
    pay(site, site.buyer, nena, 10_000)  # ₱99 of it stays for the sale's refund
    browser.sign_in(nena)
    page = browser.get("/m/withdraw").text
    assert re.search(r'id="available">' + re.escape(money(50_000)), page)
    assert re.search(r'id="refund-hold">' + re.escape(money(9_900)), page)

    too_much = browser.post("/m/withdraw/review", {"amount": "500.01"})
    assert too_much.status_code == 400
    assert "You can withdraw at most " + money(50_000) in too_much.text
    assert site.balance(nena, "settlement") == 59_900

    review = browser.post("/m/withdraw/review", {"amount": "300"})
    assert review.status_code == 200
    assert re.search(r'id="confirm-amount">' + re.escape(money(30_000)), review.text)
    assert site.balance(nena) == 0  # nothing moves before "Confirm"
    form = {"amount": "300.00", "idempotency_key": browser.key()}
    done = browser.post("/m/withdraw", form)
    assert done.status_code == 303 and done.headers["location"].startswith("/m/withdraw?done=")
    again = browser.post("/m/withdraw", form)  # a double tap: the same answer, no second move
    assert again.headers["location"] == done.headers["location"]
    assert (site.balance(nena, "settlement"), site.balance(nena)) == (29_900, 30_000)
    shown = browser.get(done.headers["location"]).text
    assert "Done: the money is in your main wallet." in shown
    assert 'id="payouts"' in shown and money(30_000) in shown

    # the page went stale: the rest was taken in the meantime — refused beside the field
    site.platform.run(lambda u: payouts.create(u, caller(nena), payouts.NewPayout(20_000)))
    browser.post("/m/withdraw/review", {"amount": "1"}, from_page="/m/withdraw")
    late = browser.post("/m/withdraw", {"amount": "1.00", "idempotency_key": "k" * 20})
    assert late.status_code == 400 and "That is more than you can withdraw now" in late.text
    assert site.balance(nena, "settlement") == 9_900
    statement = browser.get("/m/wallet").text
    assert "Withdrawal" in statement


def test_settings_saved_and_refused_beside_the_field(site: Site, browser: Browser):
    nena = site.merchant
    browser.sign_in(nena)
    browser.get("/m/withdraw")
    form = {"enabled": "1", "time": "18:30", "keep": "100", "idempotency_key": browser.key()}
    saved = browser.post("/m/withdraw/settings", form)
    assert saved.status_code == 303, saved.text
    found = site.platform.run(lambda u: settings.get(u, caller(nena)))
    assert (found["enabled"], found["time_of_day"], found["keep_minor"]) == (True, "18:30", 10_000)
    page = browser.get("/m/withdraw?saved=1").text
    assert 'value="18:30"' in page and "checked" in page
    bad = {"time": "25:00", "keep": "100", "idempotency_key": browser.key()}
    refused = browser.post("/m/withdraw/settings", bad)
    assert refused.status_code == 400
    assert "Enter a time of day, like 21:00." in refused.text
    assert site.platform.run(lambda u: settings.get(u, caller(nena)))["enabled"] is True


def test_the_page_in_filipino_and_only_for_merchants(site: Site, browser: Browser):
    browser.sign_in(site.merchant)
    browser.post("/lang", {"lang": "fil", "next": "/m/withdraw"}, from_page="/m/withdraw")
    page = browser.get("/m/withdraw").text
    assert "Ito ang puwede mong i-withdraw ngayon." in page
    assert "Awtomatikong payout" in page
    buyer = Browser(str(browser.http.base_url))
    try:
        buyer.sign_in(site.buyer)
        assert buyer.get("/m/withdraw").status_code in (303, 403, 404)
    finally:
        buyer.close()


def test_a_failed_automatic_payout_says_why_in_words(site: Site, browser: Browser):
    nena = site.merchant
    settle(site, nena, 50_000)
    new = settings.NewSettings(enabled=True, time_of_day="00:00")
    site.platform.run(lambda u: settings.update_settings(u, caller(nena), new))
    freeze = parties.update_party
    site.platform.run(lambda u: freeze(u, OPERATOR, nena.party_id or "", "frozen", None))
    assert daily.run_due(site.platform).failed == 1
    site.platform.run(lambda u: freeze(u, OPERATOR, nena.party_id or "", "active", None))
    browser.sign_in(nena)
    page = browser.get("/m/withdraw").text
    assert "This wallet is frozen. Please contact Tindahan." in page
    assert "Not done" in page and site.balance(nena) == 0
