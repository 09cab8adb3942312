"""Send money to a mobile number on the buyer's pages (issue 21, item 6), through HTTP on
SQLite and PostgreSQL: the number and amount, a confirmation naming the recipient (masked),
the PIN once the sign-in is stale, one send per idempotency key, the receipt; refusals said
beside the field with nothing moved."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import Browser, Site
from tindahan import limits


def _to_confirm(browser: Browser, mobile: str, amount: str, note: str = "") -> Any:
    return browser.post(
        "/b/send-money",
        {"mobile": mobile, "amount": amount, "note": note},
        from_page="/b/send-money",
    )


def test_send_money_with_the_pin_once(browser: Browser, site: Site, clock: Any) -> None:
    browser.sign_in(site.buyer)
    assert 'href="/b/send-money"' in browser.get("/b").text
    clock.advance(limits.PAY_FRESH_SIGNIN_S + 1)
    confirm = _to_confirm(browser, "0917 000 0005", "150.25", "pang-load")
    assert confirm.status_code == 200, confirm.text
    assert "Maria S." in confirm.text and "Maria Santos" not in confirm.text
    assert "+639170000005" in confirm.text and 'name="pin"' in confirm.text
    key = browser.key()
    sent = {
        "idempotency_key": key,
        "mobile": "+639170000005",
        "amount": "150.25",
        "note": "pang-load",
    }
    wrong = browser.post("/b/send-money/confirm", {**sent, "pin": "918273"})
    assert wrong.status_code == 400 and "Wrong PIN. Nothing was paid." in wrong.text
    assert site.balance(site.other_buyer) == 1_000_000
    done = browser.post("/b/send-money/confirm", {**sent, "pin": site.buyer.pin})
    assert done.status_code == 303, done.text
    again = browser.post("/b/send-money/confirm", {**sent, "pin": site.buyer.pin})
    assert again.status_code == 303 and again.headers["location"] == done.headers["location"]
    assert site.balance(site.buyer) == 1_000_000 - 15_025
    assert site.balance(site.other_buyer) == 1_000_000 + 15_025
    receipt = browser.get(done.headers["location"])
    assert "You sent ₱150.25 to Maria S." in receipt.text and "pang-load" in receipt.text
    assert "Maria S.." not in receipt.text  # the initial's full stop ends the sentence


def test_refusals_are_said_beside_the_number(browser: Browser, site: Site) -> None:
    browser.sign_in(site.buyer)
    for mobile, said in (
        ("0917 000 0004", "This is your own number."),
        ("0917 999 9999", "No Tindahan wallet is registered to this mobile number."),
        ("0917 000 0002", "This number belongs to a store."),
        ("12345", "Enter a Philippine mobile number"),
    ):
        page = _to_confirm(browser, mobile, "10")
        assert page.status_code == 400 and said in page.text, mobile
        assert 'aria-invalid="true"' in page.text
    too_much = _to_confirm(browser, "09170000005", "10")
    assert too_much.status_code == 200
    key = browser.key()
    over = browser.post(
        "/b/send-money/confirm",
        {"idempotency_key": key, "mobile": "+639170000005", "amount": "20000"},
    )
    assert over.status_code == 400 and "There is not enough money" in over.text
    assert site.balance(site.buyer) == 1_000_000


def test_a_merchant_cannot_open_the_buyers_send_page(browser: Browser, site: Site) -> None:
    browser.sign_in(site.merchant)
    assert browser.get("/b/send-money").status_code == 404  # a buyer's page: not theirs
