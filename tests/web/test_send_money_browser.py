"""Send money to a mobile number in a real browser at 360 px (issue 21, item 6): from the
buyer's home, the number and amount, the confirmation naming the recipient, the PIN (the
sign-in no longer fresh), sent, the receipt. On the embedded store only, as the other
browser journeys (the pages' HTTP tests run on both databases)."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_browser import FITS, db_url, go, live, open_page, shots, sign_in
from tindahan import limits

__all__ = ["db_url", "live", "open_page"]  # fixtures, shared with the other journeys


def test_send_money_to_a_mobile_number_with_the_pin(site: Site, open_page, clock) -> None:
    page = open_page()
    sign_in(page, site.buyer)
    clock.advance(limits.PAY_FRESH_SIGNIN_S + 1)
    go(page, "/b")
    page.get_by_role("link", name="Send money").click()
    page.wait_for_load_state()
    page.get_by_label("Their mobile number").fill("0917 000 0005")
    page.get_by_label("Amount, in pesos").fill("250")
    page.get_by_label("Note (optional)").fill("baon")
    shots(page, "buyer-send-money")
    page.get_by_role("button", name="Next").click()
    page.wait_for_load_state()
    assert page.get_by_text("Maria S.", exact=True).is_visible()
    assert page.evaluate(FITS, "#send-summary")
    page.get_by_label("Your PIN").fill(site.buyer.pin)
    shots(page, "buyer-send-confirm")
    page.get_by_role("button", name="Send ₱250.00").click()
    page.wait_for_load_state()
    assert page.get_by_text("You sent ₱250.00 to Maria S.").is_visible()
    shots(page, "buyer-send-receipt")
    assert site.balance(site.buyer) == 1_000_000 - 25_000
    assert site.balance(site.other_buyer) == 1_000_000 + 25_000
