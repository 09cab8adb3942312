"""The PIN before money leaves (issue 21, item 7), through HTTP on SQLite and PostgreSQL:
nothing asked in the first minutes after signing in, then paying a request, paying an order
and accepting a loan each need the PIN (the sign-in one until a payment PIN is set, then
only that); a wrong or missing PIN moves nothing; wrong PINs fill the sign-in throttles, so
the same lock-out holds at the till and at the sign-in page; setting the PIN needs the
sign-in secret and refuses weak or mismatched PINs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.web import loans_fixture as lf
from tests.web.conftest import Browser, Person, Site
from tests.web.test_buyer_pages import bought, make_request
from tindahan import limits
from tindahan.store.web_tables import audit_log

NEW_PIN = "274951"


def stale(clock: Any) -> None:
    """Time passes: the sign-in is no longer fresh."""
    clock.advance(limits.PAY_FRESH_SIGNIN_S + 1)


def pay_request(browser: Browser, path: str, pin: str | None) -> Any:
    browser.get(path)
    sent = {"idempotency_key": browser.key()}
    if pin is not None:
        sent["pin"] = pin
    return browser.post(path, sent)


def set_pin(browser: Browser, secret: str, new: str, again: str | None = None) -> Any:
    sent = {"secret": secret, "new_pin": new, "new_pin_again": again or new}
    return browser.post("/pin", sent, from_page="/pin")


def test_a_fresh_sign_in_pays_without_a_pin_a_stale_one_needs_it(browser, site, clock):
    asked = make_request(site)
    path = f"/pay/{asked['id']}"
    browser.sign_in(site.buyer)
    assert 'name="pin"' not in browser.get(path).text
    stale(clock)
    page = browser.get(path)
    assert 'name="pin"' in page.text and 'href="/pin"' in page.text
    before = site.balance(site.buyer)
    missing = pay_request(browser, path, None)
    assert missing.status_code == 400 and "Enter your PIN." in missing.text
    wrong = pay_request(browser, path, "918273")
    assert wrong.status_code == 400 and "Wrong PIN. Nothing was paid." in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    assert site.balance(site.buyer) == before
    right = pay_request(browser, path, site.buyer.pin)  # no payment PIN set: the sign-in one
    assert right.status_code == 303, right.text
    assert site.balance(site.buyer) == before - asked["amount_minor"]


def test_once_set_only_the_payment_pin_pays_an_order(browser, site, clock):
    order_id = bought(browser, site)
    assert set_pin(browser, "000000x", NEW_PIN).status_code == 400  # wrong sign-in secret
    mismatch = set_pin(browser, site.buyer.pin, NEW_PIN, "274950")
    assert mismatch.status_code == 400 and "The two PINs are not the same." in mismatch.text
    weak = set_pin(browser, site.buyer.pin, "123456")
    assert weak.status_code == 400 and "too easy to guess" in weak.text
    short = set_pin(browser, site.buyer.pin, "2749")
    assert short.status_code == 400 and "A PIN is 6 digits." in short.text
    done = set_pin(browser, site.buyer.pin, NEW_PIN)
    assert done.status_code == 303 and done.headers["location"] == "/pin?done=1"
    assert NEW_PIN not in browser.get("/pin").text
    stale(clock)
    path = f"/b/orders/{order_id}"
    before = site.balance(site.buyer)
    browser.get(path)
    refused = browser.post(f"{path}/pay", {"idempotency_key": browser.key(), "pin": site.buyer.pin})
    assert refused.status_code == 400 and "Wrong PIN." in refused.text
    assert site.balance(site.buyer) == before
    browser.get(path)
    paid = browser.post(f"{path}/pay", {"idempotency_key": browser.key(), "pin": NEW_PIN})
    assert paid.status_code == 303, paid.text
    assert site.balance(site.buyer) < before
    actions = site.platform.run(
        lambda u: list(u.conn.execute(select(audit_log.c.action)).scalars()), write=False
    )
    assert "login.pay_pin_set" in actions


def test_wrong_pins_lock_out_like_sign_in_tries(browser, second_browser, site, clock):
    asked = make_request(site)
    path = f"/pay/{asked['id']}"
    browser.sign_in(site.buyer)
    stale(clock)
    before = site.balance(site.buyer)
    for n in range(limits.SIGNIN_PAIR_TRIES):
        assert pay_request(browser, path, f"91827{n}").status_code == 400
    locked = pay_request(browser, path, site.buyer.pin)  # right, but too many wrong before
    assert locked.status_code == 400 and "Too many wrong tries" in locked.text
    assert site.balance(site.buyer) == before
    # The same throttle: signing in on this number from this browser waits as well.
    again = browser.post(
        "/signin", {"phone": site.buyer.phone, "secret": site.buyer.pin}, from_page="/signin"
    )
    assert again.status_code == 429
    # Another person is not slowed.
    second_browser.sign_in(site.other_buyer)


def _accept(browser: Browser, offer_id: str, pin: str) -> Any:
    sent = {"idempotency_key": browser.key(), "confirm": "yes", "pin": pin}
    return browser.post(f"/m/loans/offers/{offer_id}/accept", sent, from_page="/m/loans")


def test_accepting_a_loan_needs_the_pin(browser, site: Site, clock):
    made = lf.make_offer(site.platform, site.merchant, lf.make_product(site.platform))
    merchant: Person = site.merchant
    browser.sign_in(merchant)
    stale(clock)
    assert f'id="f-pin-{made["id"]}"' in browser.get("/m/loans").text
    wrong = _accept(browser, made["id"], "918273")
    assert wrong.status_code == 400 and "Wrong PIN." in wrong.text
    assert lf.loans_of(site.platform, merchant) == []
    right = _accept(browser, made["id"], merchant.pin)
    assert right.status_code == 303, right.text
    assert len(lf.loans_of(site.platform, merchant)) == 1
