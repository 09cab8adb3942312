"""Self sign-up and PIN reset on the pages (issue 24, item 3), through HTTP: the code from
the local gateway, the PIN twice, the refusals beside their fields, 429 when codes are asked
too often, and the pages in the person's language."""

from __future__ import annotations

import re

from sqlalchemy import select

from tindahan import limits
from tindahan.services.platform import sms
from tindahan.store.payment_tables import parties
from tindahan.worker.sms import LocalGateway

NEW = "+639175550123"


def code_for(site, phone: str = NEW) -> str:
    sms.deliver_due(site.platform, LocalGateway())
    texts = site.platform.run(lambda u: sms.sent_to(u, phone), write=False)
    found = re.search(r"\b(\d{6})\b", texts[-1])
    assert found, texts
    return found.group(1)


def ask(browser, phone: str = "0917 555 0123", name: str = "Rosa Magbanua"):
    return browser.post("/signup", {"phone": phone, "name": name}, from_page="/signup")


def finish(browser, code: str, pin: str = "907153", again: str = "907153"):
    return browser.post(
        "/signup/verify",
        {"phone": NEW, "name": "Rosa Magbanua", "code": code, "pin": pin, "pin_again": again},
    )


def test_sign_up_by_oneself_and_land_signed_in(browser, site):
    page = ask(browser)
    assert page.status_code == 200 and "We texted a 6-digit code to +639175550123" in page.text
    assert 'name="phone" value="+639175550123"' in page.text  # carried in a hidden field
    done = finish(browser, code_for(site))
    assert done.status_code == 303 and done.headers["location"] == "/b"
    assert browser.get("/b").status_code == 200
    found = site.platform.run(
        lambda u: u.conn.execute(select(parties.c.kind, parties.c.name)).all(), write=False
    )
    assert ("customer", "Rosa Magbanua") in [tuple(r) for r in found]


def test_a_wrong_code_and_different_pins_are_said_beside_their_fields(browser, site):
    ask(browser)
    code = code_for(site)
    different = finish(browser, code, "907153", "907154")
    assert different.status_code == 400
    assert "The two PINs are not the same." in different.text
    wrong = finish(browser, f"{(int(code) + 1) % 10**6:06d}")
    assert wrong.status_code == 401
    assert "This code is wrong or has expired" in wrong.text
    assert code not in wrong.text  # never echoed back
    assert finish(browser, code).status_code == 303  # the code survived both


def test_asking_again_too_soon_is_429_with_retry_after(browser, site):
    ask(browser)
    again = browser.post("/signup", {"phone": NEW, "name": "Rosa Magbanua", "again": "1"})
    assert again.status_code == 429
    assert 0 < int(again.headers["Retry-After"]) <= limits.OTP_RESEND_AFTER_S
    assert "A code was just sent" in again.text


def test_a_bad_number_is_refused_before_any_code(browser, site):
    page = ask(browser, phone="12345")
    assert page.status_code == 400 and "Philippine mobile number" in page.text
    sms.deliver_due(site.platform, LocalGateway())
    assert site.platform.run(lambda u: sms.list_messages(u, _op(), 5), write=False)["data"] == []


def _op():
    from tests.web.conftest import OPERATOR

    return OPERATOR


def test_reset_a_forgotten_pin(browser, site):
    buyer = site.buyer
    page = browser.post("/reset", {"phone": buyer.phone}, from_page="/reset")
    assert page.status_code == 200 and "If +63" in page.text
    code = code_for(site, buyer.phone)
    done = browser.post(
        "/reset/verify",
        {"phone": buyer.phone, "code": code, "pin": "586204", "pin_again": "586204"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/signin?reset=1"
    assert "Your new PIN is saved" in browser.get("/signin?reset=1").text
    old = browser.post("/signin", {"phone": buyer.phone, "secret": buyer.pin})
    assert old.status_code == 401
    new = browser.post("/signin", {"phone": buyer.phone, "secret": "586204"}, from_page="/signin")
    assert new.status_code == 303


def test_a_reset_for_an_unknown_number_looks_the_same(browser, site):
    page = browser.post("/reset", {"phone": "0918 000 1111"}, from_page="/reset")
    assert page.status_code == 200 and "If +639180001111 has a Tindahan account" in page.text
    sms.deliver_due(site.platform, LocalGateway())
    assert site.platform.run(lambda u: sms.sent_to(u, "+639180001111"), write=False) == []


def test_the_pages_and_the_code_follow_the_language(browser, site):
    browser.http.cookies.set("tdh_lang", "fil")
    page = ask(browser)
    assert "Ilagay ang code" in page.text
    sms.deliver_due(site.platform, LocalGateway())
    text = site.platform.run(lambda u: sms.sent_to(u, NEW), write=False)[-1]
    assert "ang code mo para mag-sign up" in text


def test_signin_links_to_sign_up_and_reset(browser, site):
    page = browser.get("/signin").text
    assert 'href="/signup"' in page and 'href="/reset"' in page
