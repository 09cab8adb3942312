"""The journey of issue 19 in Chromium at 360 px: a merchant adds a bank account, withdraws
sales to it (the rail, fee and arrival shown before "Confirm"), and sees it credited — sent
through the real simulated clearing switch, started as ``serve --demo`` starts it (a child
process on a free loopback port, ``cli.clearing``), by the worker's round."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.web.conftest import OPERATOR
from tests.web.test_browser import db_url, go, live, open_page, shots, sign_in  # noqa: F401
from tindahan.cli import clearing
from tindahan.services.payments import cash
from tindahan.services.rails import participants
from tindahan.worker import rails as worker_rails


@pytest.fixture
def switch(monkeypatch, tmp_path) -> Iterator[clearing.Switch]:
    monkeypatch.setenv(worker_rails.URL_ENV, "")  # restored after the test, as is the secret
    monkeypatch.setenv(worker_rails.SECRET_ENV, "")
    started = clearing.start(str(tmp_path / "switch.sqlite3"))  # its own file, not ./var's
    assert started is not None, "the switch did not start"
    yield started
    started.stop()
    assert started.process.poll() is not None  # stopped with its parent


def test_a_merchant_withdraws_to_a_bank_and_sees_it_credited(site, open_page, switch):  # noqa: F811
    participants.ensure_seeded(site.platform)
    wallet = site.merchant.wallets["settlement"]
    site.platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 80_000, "PHP", "TEST"))
    page = open_page()
    sign_in(page, site.merchant)
    go(page, "/m/banks")
    page.get_by_label("Bank or e-wallet").select_option("BDO")
    page.get_by_label("Account number").fill("0012-3456-7890")
    page.get_by_label("Account name").fill("Aling Nena Cruz")
    page.get_by_role("button", name="Save the bank account").click()
    page.wait_for_url("**/m/banks?added=1")
    assert "•••• 7890" in page.locator("#bank-accounts").inner_text()
    shots(page, "bank-accounts")

    go(page, "/m/withdraw")
    choice = "BDO Unibank Inc. •••• 7890 · Aling Nena Cruz"
    page.get_by_label("Bank account", exact=True).select_option(label=choice)
    page.get_by_label("Amount to send (₱)").fill("300")
    page.locator("form[action='/m/withdraw/bank/review']").get_by_role("button").click()
    assert page.locator("#confirm-rail").inner_text() == "InstaPay"
    assert page.locator("#confirm-fee").inner_text().startswith("None")
    assert page.locator("#confirm-arrival").inner_text() == "Within seconds, any day and any time."
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shots(page, "merchant-withdraw-bank-confirm")
    page.get_by_role("button", name="Confirm: send ₱300.00").click()
    page.wait_for_url("**/m/transfers/btr_*")
    assert page.locator("#transfer-status").inner_text() == "Waiting to be sent"

    rail = worker_rails.from_environment()  # what the worker of `serve --demo` reaches
    assert rail is not None and rail.base_url == switch.url
    assert worker_rails.rails_round(site.platform, rail) == 1  # sent, answered ACSC, posted
    page.reload()
    assert page.locator("#transfer-status").inner_text() == "Credited"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shots(page, "merchant-bank-transfer-credited")
    assert site.balance(site.merchant, "settlement") == 50_000


def test_a_buyer_pays_another_banks_qr_code_and_sees_it_credited(
    site,
    open_page,  # noqa: F811
    switch,
    clock,
    tmp_path,
):
    """Issue 19, item 3 in Chromium at 360 px: a photo of another e-wallet's QR Ph merchant
    code scanned, the amount, the review with the InstaPay fee and total, the PIN, then the
    transfer's page — sent through the real switch and credited."""
    from tests.rails.test_qr_interbank import code
    from tindahan import limits
    from tindahan.services.platform import fees
    from tindahan.services.qr import codes

    participants.ensure_seeded(site.platform)
    site.platform.run(
        lambda u: fees.put_fee_settings(u, OPERATOR, {"instapay_send_fee_minor": 12_00})
    )
    picture = tmp_path / "gcash-poster.png"
    picture.write_bytes(codes.png(code()))
    page = open_page()
    sign_in(page, site.buyer)
    clock.advance(limits.PAY_FRESH_SIGNIN_S + 1)
    go(page, "/b")
    page.get_by_role("link", name="Scan QR").click()
    page.wait_for_load_state()
    page.get_by_label("A photo of the QR code").set_input_files(str(picture))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Pay Aling Nena Store").is_visible()
    assert "G-Xchange" in page.locator("#scan-bank").inner_text()
    page.get_by_label("Amount to pay, in pesos").fill("80")
    page.get_by_role("button", name="Review").click()
    page.wait_for_load_state()
    assert page.locator("#confirm-fee").inner_text() == "₱12.00"
    assert page.locator("#confirm-total").inner_text() == "₱92.00"
    assert "•••• 6543" in page.locator("#confirm-to").inner_text()
    page.get_by_label("Your PIN").fill(site.buyer.pin)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shots(page, "buyer-scan-bank-review")
    page.get_by_role("button", name="Pay ₱92.00").click()
    page.wait_for_url("**/b/transfers/btr_*")
    assert site.balance(site.buyer) == 1_000_000  # held, not yet posted
    rail = worker_rails.from_environment()
    assert rail is not None and worker_rails.rails_round(site.platform, rail) == 1
    page.reload()
    assert page.locator("#transfer-status").inner_text() == "Credited"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shots(page, "buyer-scan-bank-credited")
    assert site.balance(site.buyer) == 1_000_000 - 92_00
