"""What a newcomer does after ``make run``, in Chromium at a phone's width, on the demo
itself: sign in with the merchant the console prints, collect a payment by QR that the demo
buyer pays from a second browser, sell from the merchant's storefront to that buyer (to the
delivery address saved in the demo buyer's book), ship, see the money released, accept the
loan offer, read it all in Filipino.

The demo is seeded as ``tindahan serve --demo`` seeds it (``demo seed``, the lending demo
with the session's credit model, ``seed_logins``), on SQLite; ``demo seed`` runs once per
worker and the test starts on a copy of it (``seeded_demo``).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tests import apps
from tests.api.conftest import TEST_DATA_KEY
from tests.web.conftest import Pages, sign_in_page
from tests.web.test_browser import go, shots
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.lending import loans
from tindahan.services.payments import wallets
from tindahan.services.platform import logins
from tindahan.services.seed import demo
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.vault import Vault

OPERATOR = Caller("test", None, frozenset(DEFAULT_SCOPES))


@pytest.fixture
def demo_world(
    sqlite_url, seeded_demo, merchant_model, monkeypatch
) -> Iterator[tuple[Platform, dict]]:
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    seeded_demo.copy_to(sqlite_url)  # ``demo seed``, run once per worker (its exit 0 checked)
    with connect(sqlite_url) as database:
        platform = Platform(database, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
        assert "offer" in demo.seed_lending(platform, merchant_model)
        people = {person["who"]: person for person in demo.seed_logins(platform)}
        yield platform, people


@pytest.fixture
def demo_pages(chromium, demo_world, shared_server) -> Iterator[Pages]:
    platform, _ = demo_world
    with shared_server.serving(apps.web_app(platform)) as base_url:
        pages = Pages(chromium, base_url)
        yield pages
        pages.close()


def sign_in(page: Any, person: dict[str, str]) -> None:
    sign_in_page(page, *creds(person))


def creds(person: dict[str, str]) -> tuple[str, str]:
    return person["phone"], person["pin"]


def main_balance(platform: Platform, party_id: str) -> int:
    found = platform.run(
        lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id), write=False
    )["data"]
    return next(int(w["balance_minor"]) for w in found if w["kind"] == "main")


def test_every_merchant_journey_on_the_demo_from_a_phone(demo_world, demo_pages):
    platform, people = demo_world
    shop, buyer = demo_pages(), demo_pages()
    sign_in(shop, people["merchant with a loan offer"])
    assert shop.url.endswith("/m")
    shots(shop, "demo-merchant-home")
    merchant_id = logins.sign_in(platform, *creds(people["merchant with a loan offer"]))[1].party_id
    assert merchant_id is not None

    # Collect ₱85.50 by QR; the demo buyer pays it from another phone.
    go(shop, "/m/requests")
    shop.get_by_label("Amount (₱)").fill("85.50")
    shop.get_by_role("button", name="Make the QR").click()
    shop.wait_for_load_state()
    request_id = shop.url.split("?")[0].rstrip("/").split("/")[-1]
    sign_in(buyer, people["buyer"])
    go(buyer, f"/pay/{request_id}")
    buyer.get_by_role("button", name="Pay ₱85.50").click()
    buyer.wait_for_load_state()
    shop.reload()
    assert shop.get_by_text("Paid").first.is_visible()

    # The QR poster and the storefront.
    go(shop, "/m/qr")
    assert shop.locator("svg").first.is_visible()
    go(shop, "/m/store")
    slug_link = shop.locator("a[href^='/s/']").first.get_attribute("href")
    assert slug_link

    # The buyer buys from the merchant's storefront and pays from the wallet.
    go(buyer, slug_link)
    buyer.locator(".product").first.get_by_role("button", name="Add to cart").click()
    buyer.wait_for_load_state()
    go(buyer, slug_link + "/cart")
    # the demo buyer's saved address (a real Marikina barangay, as the PSGC names it) is
    # offered and chosen
    assert buyer.locator("input[name=address_id]").first.is_checked()
    assert buyer.get_by_text("7 Kamagong St., Concepcion Uno, City of Marikina").is_visible()
    buyer.get_by_role("button", name="Check out", exact=False).click()
    buyer.wait_for_load_state()
    assert buyer.get_by_text("7 Kamagong St.").first.is_visible()
    buyer.get_by_role("button", name="from my wallet", exact=False).click()
    buyer.wait_for_load_state()
    order_id = buyer.url.split("?")[0].rstrip("/").split("/")[-1]

    # The merchant ships and marks it delivered; the buyer confirms; the money is released.
    go(shop, f"/m/orders/{order_id}")
    shop.get_by_label("Courier").select_option(label="LBC")
    shop.get_by_label("Tracking number").fill("LBC-0099887766")
    shop.get_by_role("button", name="Mark as shipped").click()
    shop.wait_for_load_state()
    shop.get_by_label("What happened").select_option(label="Delivered")
    shop.get_by_role("button", name="Add to the timeline").click()
    shop.wait_for_load_state()
    buyer.reload()
    buyer.get_by_role("button", name="I received it — release the money").click()
    buyer.wait_for_load_state()
    shop.reload()
    assert shop.get_by_text("released", exact=False).first.is_visible()
    shots(shop, "demo-merchant-order")

    # The loan offer, read and accepted.
    go(shop, "/m/loans")
    shots(shop, "demo-loan-offer")
    before = main_balance(platform, merchant_id)
    shop.get_by_role("checkbox").first.check()
    shop.get_by_role("button", name="Accept the loan").first.click()
    shop.wait_for_load_state()
    loan_id = shop.url.split("?")[0].rstrip("/").split("/")[-1]
    loan = platform.run(lambda u: loans.get(u, OPERATOR, loan_id), write=False)
    assert loan["merchant_id"] == merchant_id and loan["status"] == "active"
    deducted = loan["fee_minor"] if loan["fee_mode"] == "deducted" else 0
    assert main_balance(platform, merchant_id) - before == loan["principal_minor"] - deducted
    shots(shop, "demo-loan")

    # And all of it in Filipino.
    shop.get_by_role("button", name="Filipino").click()
    shop.wait_for_load_state()
    assert shop.get_by_role("button", name="Mag-sign out").is_visible()
    go(shop, "/m")
    shots(shop, "demo-merchant-home-fil")
