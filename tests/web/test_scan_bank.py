"""Scan to pay another bank's or e-wallet's QR Ph merchant code (issue 19, item 3) through
HTTP on SQLite and PostgreSQL: the amount typed, the InstaPay fee and total shown before the
PIN, a wrong PIN holding nothing, paid once per key, and the transfer's page; refusals
(over InstaPay's cap, a person's P2P code) back on the page with nothing held."""

from __future__ import annotations

import pytest

from tests.rails.test_qr_interbank import code
from tests.web.conftest import OPERATOR, Site
from tests.web.test_pin_pages import stale
from tindahan.services.platform import fees
from tindahan.services.rails import participants


@pytest.fixture
def banks_site(site: Site) -> Site:
    participants.ensure_seeded(site.platform)
    values = {"instapay_send_fee_minor": 12_00}
    site.platform.run(lambda u: fees.put_fee_settings(u, OPERATOR, values))
    return site


def available(site: Site) -> int:
    from tindahan.services.payments import wallets

    wallet = site.buyer.wallets["main"]
    found = site.platform.run(lambda u: wallets.get(u, OPERATOR, wallet), write=False)
    return int(found["available_minor"])


def test_a_static_code_of_another_bank_is_reviewed_with_its_fee_then_paid(
    browser, banks_site, clock
):
    site = banks_site
    browser.sign_in(site.buyer)
    stale(clock)
    payload = code()
    browser.get("/b/scan")
    first = browser.post("/b/scan", {"payload": payload})
    assert first.status_code == 200, first.text
    assert "Pay Aling Nena Store" in first.text and "G-Xchange" in first.text
    assert 'name="amount"' in first.text and 'name="pin"' not in first.text
    before = available(site)
    review = browser.post("/b/scan/bank/review", {"payload": payload, "amount": "80"})
    assert review.status_code == 200, review.text
    assert "₱12.00" in review.text and "₱92.00" in review.text and 'name="pin"' in review.text
    wrong = browser.post(
        "/b/scan/bank/pay",
        {"payload": payload, "amount": "80", "pin": "918273", "idempotency_key": browser.key()},
    )
    assert wrong.status_code == 400 and "Wrong PIN" in wrong.text and "₱92.00" in wrong.text
    assert available(site) == before
    key = browser.key()
    sent = {"payload": payload, "amount": "80", "pin": site.buyer.pin, "idempotency_key": key}
    paid = browser.post("/b/scan/bank/pay", sent)
    assert paid.status_code == 303 and paid.headers["location"].startswith("/b/transfers/btr_")
    again = browser.post("/b/scan/bank/pay", sent)  # a double tap: the same transfer
    assert again.headers["location"] == paid.headers["location"]
    assert available(site) == before - 92_00
    page = browser.get(paid.headers["location"])
    assert page.status_code == 200 and "•••• 6543" in page.text and "Aling Nena Store" in page.text


def test_a_dynamic_code_goes_straight_to_the_review_and_refusals_hold_nothing(
    browser, banks_site, clock
):
    site = banks_site
    browser.sign_in(site.buyer)
    stale(clock)
    before = available(site)
    browser.get("/b/scan")
    dynamic = browser.post("/b/scan", {"payload": code(amount=45_50)})
    assert dynamic.status_code == 200, dynamic.text
    assert "₱57.50" in dynamic.text and 'name="pin"' in dynamic.text
    browser.get("/b/scan")
    over = browser.post("/b/scan", {"payload": code(amount=50_000_01)})
    assert over.status_code == 400 and "₱50,000.00" in over.text
    browser.get("/b/scan")
    person = browser.post("/b/scan", {"payload": code(guid="com.p2pqrpay")})
    assert person.status_code == 400 and "Send to a bank account" in person.text
    assert available(site) == before
