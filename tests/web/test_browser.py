"""The journeys of issue 8 in a real browser: Debian's Chromium, headless, driven by
Playwright — sign in and see the balance; a payment request paid by a buyer in a second
browser; buying from a storefront (to a new delivery address typed at 360 px, a wrong postal
code said beside its box), shipping to it, confirming delivery and the money released; a
loan offer seen and accepted; Filipino; a form posted from another site refused; a merchant
URL edited to another merchant's order showing not-found.

Each key page is saved at 360 px and 1280 px wide under ``test-artifacts/screenshots`` (or
``$TINDAHAN_SCREENSHOTS``), and no page weighs over 200 kB before images. These tests run on
the embedded store only: the pages' HTTP tests already run on both databases.
Without Chromium they are skipped with the way to enable them (``chromium_missing``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import apps
from tests.web import loans_fixture
from tests.web.conftest import OPERATOR, SHOTS, Pages, Person, screenshot, sign_in_page
from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.commerce import escrow, orders
from tindahan.services.payments import cash, requests
from tindahan.services.qr import codes
from tindahan.services.qr import pay as qrpay

PAGE_BUDGET_BYTES = 200_000
#: The element's right edge within the viewport (no part of it off-screen at 360 px).
FITS = "(sel) => document.querySelector(sel).getBoundingClientRect().right <= window.innerWidth"
WEIGHT = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  let total = nav ? nav.encodedBodySize : 0;
  for (const r of performance.getEntriesByType('resource')) {
    if (r.initiatorType !== 'img') total += r.encodedBodySize;
  }
  return total;
}"""

#: What an automated look can hold on every key page: a language, a label on every field,
#: a name on every button and link, alt text on images, one h1, no id twice.
A11Y = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push('no lang on <html>');
  const fields = document.querySelectorAll('input:not([type=hidden]), select, textarea');
  for (const el of fields) {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby');
    if (!named) problems.push('no label: ' + (el.name || el.id));
  }
  for (const el of document.querySelectorAll('button, a[href]')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) {
      problems.push('no name: ' + el.outerHTML.slice(0, 80));
    }
  }
  for (const img of document.querySelectorAll('img:not([alt])')) problems.push('alt: ' + img.src);
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) problems.push(h1 + ' h1 elements');
  const seen = new Set();
  for (const el of document.querySelectorAll('[id]')) {
    if (seen.has(el.id)) problems.push('id twice: ' + el.id);
    seen.add(el.id);
  }
  return problems;
}"""


@pytest.fixture
def db_url(sqlite_url) -> str:
    return sqlite_url


@pytest.fixture
def live(platform, shared_server) -> Iterator[str]:
    """The app with its real cookie settings (Secure: Chromium keeps them on 127.0.0.1)."""
    with shared_server.serving(apps.web_app(platform)) as base_url:
        yield base_url


@pytest.fixture
def open_page(chromium, live) -> Iterator[Pages]:
    pages = Pages(chromium, live)
    yield pages
    pages.close()


def go(page: Any, path: str) -> Any:
    return page.goto(page.base + path)


def sign_in(page: Any, person: Person) -> None:
    sign_in_page(page, person.phone, person.pin)


def shots(page: Any, name: str) -> None:
    """The page at both widths, its weight (HTML, CSS, JS) within the budget, and the
    accessibility checks every page must pass."""
    weight = page.evaluate(WEIGHT)
    assert weight < PAGE_BUDGET_BYTES, f"{name} weighs {weight} bytes"
    assert page.evaluate(A11Y) == [], name
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 800})
        screenshot(page, name)
    page.set_viewport_size({"width": 360, "height": 800})


def caller_of(person: Person) -> Caller:
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def test_sign_in_and_see_the_balance(site, open_page):
    page = open_page()
    go(page, "/")
    shots(page, "front")
    go(page, "/signin")
    shots(page, "signin")
    sign_in(page, site.merchant)
    assert page.url.endswith("/m")
    assert page.get_by_text("Settlement wallet").first.is_visible()
    assert page.get_by_text("₱0.00").first.is_visible()
    shots(page, "merchant-home")


def test_sign_in_with_the_keyboard_alone(site, open_page):
    page = open_page()
    go(page, "/signin")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # past the brand, to the phone field
    assert page.evaluate("document.activeElement.id") == "f-phone"
    page.keyboard.type(site.buyer.phone)
    page.keyboard.press("Tab")
    page.keyboard.type(site.buyer.pin)
    page.keyboard.press("Enter")
    page.wait_for_url("**/b")
    assert page.get_by_role("button", name="Sign out").is_visible()


def test_a_payment_request_paid_by_a_buyer_in_a_second_browser(site, open_page):
    merchant, buyer = open_page(), open_page()
    sign_in(merchant, site.merchant)
    go(merchant, "/m/requests")
    merchant.get_by_label("Amount (₱)").fill("150.75")
    merchant.get_by_label("What it is for (optional)").fill("2 kilos of rice")
    merchant.get_by_role("button", name="Make the QR").click()
    merchant.wait_for_load_state()
    assert "₱150.75" in merchant.content()
    assert merchant.locator("svg, img.qr").first.is_visible()
    shots(merchant, "merchant-request")
    merchant.context.grant_permissions(["clipboard-read", "clipboard-write"])
    merchant.get_by_role("button", name="Copy the link").click()
    # The label changes when the clipboard's promise settles: wait for it, don't sample.
    merchant.get_by_role("button", name="Copied").wait_for(state="visible")
    copied = merchant.evaluate("navigator.clipboard.readText()")
    assert copied == merchant.locator("#pay-link").input_value() and "/pay/" in copied
    request_id = merchant.url.rstrip("/").split("/")[-1].split("?")[0]

    sign_in(buyer, site.buyer)
    go(buyer, f"/pay/{request_id}")
    shots(buyer, "buyer-pay-request")
    buyer.get_by_role("button", name="Pay ₱150.75").click()
    buyer.wait_for_load_state()
    assert site.balance(site.buyer) == 1_000_000 - 15_075

    # The open request's page reloads itself (a meta refresh every few seconds): wait for it
    # to show the payment, rather than reload it ourselves and race the page's own reload.
    merchant.get_by_text("Paid").first.wait_for(state="visible", timeout=30_000)
    made = site.platform.run(lambda u: requests.get(u, OPERATOR, request_id), write=False)
    assert made["status"] == "paid"


def test_buy_ship_confirm_and_the_money_is_released(site, open_page):
    buyer, merchant = open_page(), open_page()
    go(buyer, "/s/nena-store")
    shots(buyer, "storefront")
    coffee = buyer.locator(".product", has_text="Coffee 3-in-1")
    coffee.get_by_label("Quantity").fill("2")
    coffee.get_by_role("button", name="Add to cart").click()
    buyer.wait_for_load_state()
    go(buyer, "/s/nena-store/cart")
    shots(buyer, "cart")
    buyer.get_by_role("link", name="Sign in to check out").click()
    buyer.get_by_label("Mobile number").fill(site.buyer.phone)
    buyer.get_by_label("PIN or password").fill(site.buyer.pin)
    buyer.get_by_role("button", name="Sign in").click()
    buyer.wait_for_load_state()
    assert "/cart" in buyer.url
    # a new delivery address, typed at 360 px; a wrong postal code is said beside its box,
    # a misspelled barangay beside its own with the official name to use (the PSGC list)
    buyer.set_viewport_size({"width": 360, "height": 800})
    buyer.get_by_label("Recipient's name").fill("Juan dela Cruz")
    buyer.get_by_label("Mobile number").fill("0917 555 0101")
    buyer.get_by_label("House number, street, building").fill("7 Kamagong St.")
    buyer.get_by_label("Barangay").fill("Konsepsion Uno")
    buyer.get_by_label("City or municipality").fill("marikina city")
    buyer.get_by_label("Province", exact=True).fill("Metro Manila")
    buyer.get_by_label("Postal code").fill("18070")
    buyer.get_by_role("button", name="Check out · ₱180.00").click()
    buyer.wait_for_load_state()
    assert buyer.get_by_text("A postal code is four digits, like 1805.").is_visible()
    barangay_error = buyer.locator("#e-barangay")
    assert barangay_error.is_visible()
    assert "Did you mean Concepcion Uno" in barangay_error.inner_text()
    assert buyer.evaluate(FITS, "#e-barangay")
    shots(buyer, "checkout-address-error")
    buyer.get_by_label("Barangay").fill("Concepcion Uno")
    buyer.get_by_label("Postal code").fill("1807")
    buyer.get_by_role("button", name="Check out · ₱180.00").click()
    buyer.wait_for_load_state()
    assert buyer.get_by_text("7 Kamagong St.").is_visible()
    shots(buyer, "buyer-order-unpaid")
    buyer.get_by_role("button", name="Pay ₱180.00 from my wallet").click()
    buyer.wait_for_load_state()
    assert site.balance(site.buyer) == 1_000_000 - 18_000
    order_id = buyer.url.rstrip("/").split("/")[-1].split("?")[0]

    sign_in(merchant, site.merchant)
    go(merchant, "/m/orders")
    shots(merchant, "merchant-orders")
    go(merchant, f"/m/orders/{order_id}")
    assert merchant.get_by_text("Concepcion Uno", exact=False).is_visible()
    # kept under its official names and its PSGC codes, for delivery zones
    placed = site.platform.run(lambda u: orders.get(u, OPERATOR, order_id), write=False)
    assert placed["shipping_address"]["city"] == "City of Marikina"
    assert placed["shipping_address"]["psgc"]["barangay_code"] == "1380700003"
    merchant.get_by_label("Courier").select_option(index=1)
    merchant.get_by_label("Tracking number").fill("JT0001234567")
    merchant.get_by_role("button", name="Mark as shipped").click()
    merchant.wait_for_load_state()
    merchant.get_by_label("What happened").select_option(label="Delivered")
    merchant.get_by_role("button", name="Add to the timeline").click()
    merchant.wait_for_load_state()
    shots(merchant, "merchant-order")

    buyer.reload()
    shots(buyer, "buyer-order-delivered")
    buyer.get_by_role("button", name="I received it — release the money").click()
    buyer.wait_for_load_state()
    order = site.platform.run(lambda u: orders.get(u, OPERATOR, order_id), write=False)
    assert order["status"] == "completed"
    merchant.reload()
    assert merchant.get_by_text("released", exact=False).first.is_visible()
    fee = 18_000 * 200 // 10_000  # the 2% marketplace fee on ₱180.00 is exact
    assert site.balance(site.merchant, "settlement") == 18_000 - fee


def test_a_refund_only_after_confirming(site, open_page):
    """The refund form sits under "Ship": a tap on it asks first, and only "Yes" refunds."""
    buyer = caller_of(site.buyer)
    line = orders.CartLine(site.products[0]["id"], 2, None)
    made = site.platform.run(lambda u: orders.checkout(u, buyer, site.storefront["id"], [line]))
    site.platform.run(lambda u: escrow.pay(u, buyer, made["id"], None))
    held = site.balance(site.buyer)
    page = open_page()
    sign_in(page, site.merchant)
    go(page, f"/m/orders/{made['id']}")
    page.get_by_role("button", name="Refund from escrow").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Please confirm").is_visible()
    shots(page, "merchant-refund-confirm")
    assert site.balance(site.buyer) == held  # asked, nothing moved
    page.get_by_role("link", name="No, go back to the order").click()
    page.wait_for_load_state()
    assert site.balance(site.buyer) == held
    page.get_by_role("button", name="Refund from escrow").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Yes, refund ₱180.00").click()
    page.wait_for_load_state()
    assert site.balance(site.buyer) == held + 18_000


def test_see_and_accept_a_loan_offer(site, open_page):
    product = loans_fixture.make_product(site.platform)
    offer = loans_fixture.make_offer(site.platform, site.merchant, product)
    page = open_page()
    sign_in(page, site.merchant)
    go(page, "/m/loans")
    disclosure = offer["disclosure"]
    text = page.content()
    assert "Finance charge" in text and "Total of payments" in text
    shots(page, "loan-offer")
    # At 360 px every column of the schedule is on screen: nothing to scroll sideways to.
    assert page.get_by_role("columnheader", name="Total per installment").is_visible()
    assert page.evaluate(FITS, "table.schedule"), "the schedule is wider than the phone"
    page.get_by_role("button", name="Accept the loan").click()
    page.wait_for_load_state()
    assert page.locator(".error").first.is_visible()  # the disclosure was not confirmed
    assert loans_fixture.loans_of(site.platform, site.merchant) == []
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Accept the loan").click()
    page.wait_for_load_state()
    assert "/m/loans/" in page.url
    shots(page, "loan")
    assert site.balance(site.merchant) == disclosure["net_proceeds_minor"]


def test_switch_to_filipino(site, open_page):
    page = open_page()
    sign_in(page, site.merchant)
    page.get_by_role("button", name="Filipino").click()
    page.wait_for_load_state()
    assert page.get_by_role("button", name="Mag-sign out").is_visible()
    tabs = page.get_by_role("navigation", name="Pangunahin")
    assert tabs.get_by_role("link", name="Mga order").is_visible()
    shots(page, "merchant-home-fil")
    go(page, "/m/loans")
    shots(page, "loans-fil")


def test_a_form_posted_from_another_site_is_refused(site, open_page, live):
    page = open_page()
    sign_in(page, site.merchant)
    forged = f"""<!doctype html><form id="f" method="post" action="{live}/m/requests">
      <input name="amount" value="1000"><input name="csrf_token" value="guessed">
      <input name="idempotency_key" value="0123456789abcdef"></form>
      <script>document.getElementById('f').submit()</script>"""
    page.route(
        "http://evil.test/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=forged),
    )
    page.goto("http://evil.test/")
    page.wait_for_url(f"{live}/m/requests")
    assert "Form refused" in page.content()
    made = site.platform.run(
        lambda u: requests.list_requests(u, caller_of(site.merchant), 10, None, None), write=False
    )
    assert made["data"] == []


def test_a_merchant_url_edited_to_another_merchants_order_shows_not_found(site, open_page):
    other_buyer = caller_of(site.other_buyer)
    line = orders.CartLine(site.products[0]["id"], 1, site.products[0]["variants"][0]["id"])
    mine = site.platform.run(
        lambda u: orders.checkout(u, other_buyer, storefront_id=site.storefront["id"], lines=[line])
    )
    page = open_page()
    sign_in(page, site.other_merchant)
    answer = go(page, f"/m/orders/{mine['id']}")  # Aling Nena's order, Mang Tonyo signed in
    assert answer.status == 404
    assert "Not found" in page.content()
    assert "Coffee" not in page.content() and "Maria" not in page.content()
    shots(page, "not-found")


def test_the_operator_console(site, open_page):
    page = open_page()
    sign_in(page, site.operator)
    for path, name in (
        ("/op", "console"),
        ("/op/parties", "console-parties"),
        ("/op/loans", "console-loans"),
        ("/op/audit", "console-audit"),
    ):
        assert go(page, path).status == 200
        shots(page, name)
    assert SHOTS.is_dir()


def test_the_accessibility_check_itself_finds_problems(open_page):
    page = open_page()
    page.set_content("<html><body><h1>a</h1><h1>b</h1><input name='x'><button></button></body>")
    problems = page.evaluate(A11Y)
    assert "no lang on <html>" in problems and "no label: x" in problems
    assert "2 h1 elements" in problems and any(p.startswith("no name") for p in problems)


def test_withdraw_sales_to_the_main_wallet_at_phone_width(site, open_page):
    """A merchant withdraws part of its sales: the available figure and what is kept back,
    the amount, the confirmation with where it goes, then the money in the main wallet."""
    wallet = site.merchant.wallets["settlement"]
    site.platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 80_000, "PHP", "TEST"))
    page = open_page()
    sign_in(page, site.merchant)
    page.get_by_role("link", name="Withdraw").click()
    page.wait_for_url("**/m/withdraw")
    assert page.locator("#available").inner_text() == "₱800.00"
    shots(page, "merchant-withdraw")
    page.get_by_label("Amount to withdraw (₱)").fill("250.50")
    page.get_by_role("button", name="Next: check and confirm").click()
    assert page.locator("#confirm-amount").inner_text() == "₱250.50"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    shots(page, "merchant-withdraw-confirm")
    page.get_by_role("button", name="Confirm: withdraw ₱250.50").click()
    page.wait_for_url("**/m/withdraw?done=*")
    assert page.get_by_role("status").inner_text() == "Done: the money is in your main wallet."
    assert page.locator("#available").inner_text() == "₱549.50"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert site.balance(site.merchant) == 25_050


def test_scan_to_pay_from_an_uploaded_qr_image_with_the_pin(site, open_page, clock, tmp_path):
    """Scan QR on the buyer's home: a photo of the shop's code chosen, the amount, the PIN
    (the sign-in is no longer fresh), paid; the receipt with its reference, at 360 px."""
    merchant_id = str(site.merchant.party_id)
    payload = site.platform.run(
        lambda u: qrpay.merchant_code(u, OPERATOR, merchant_id), write=False
    )["payload"]
    picture = tmp_path / "poster.png"
    picture.write_bytes(codes.png(payload))
    page = open_page()
    sign_in(page, site.buyer)
    clock.advance(limits.PAY_FRESH_SIGNIN_S + 1)
    go(page, "/b")
    page.get_by_role("link", name="Scan QR").click()
    page.wait_for_load_state()
    page.get_by_label("A photo of the QR code").set_input_files(str(picture))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Pay Aling Nena's Store").is_visible()
    page.get_by_label("Amount to pay, in pesos").fill("75")
    page.get_by_label("Your PIN").fill(site.buyer.pin)
    shots(page, "buyer-scan-pay")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_load_state()
    assert page.get_by_text("You paid ₱75.00 to Aling Nena's Store.").is_visible()
    shots(page, "buyer-scan-receipt")
    assert site.balance(site.buyer) == 1_000_000 - 7_500
