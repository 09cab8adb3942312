"""A product's cost on its page and the margin on the insights page (issue 26), by hand, on
SQLite and PostgreSQL: three coffees sold at ₱65.00 (₱195.00), a cost of ₱40.00 a piece
recorded — margin 19,500 − 3 × 4,000 = 7,500 centavos, 38 % (0.3846) of what they sold for."""

from __future__ import annotations

import uuid

from tests.web.test_insights_pages import buy
from tindahan.web import i18n


def test_a_cost_recorded_gives_a_margin(site, browser, clock):
    coffee = site.products[0]
    buy(site, 3)
    browser.sign_in(site.merchant)
    page = browser.get(f"/m/products/{coffee['id']}").text
    assert "What it costs you" in page and 'name="cost"' in page
    bad = browser.post(
        f"/m/products/{coffee['id']}/cost",
        {"cost": "forty", "idempotency_key": str(uuid.uuid4())},
    )
    assert bad.status_code == 400 and "Enter an amount in pesos" in bad.text
    saved = browser.post(
        f"/m/products/{coffee['id']}/cost",
        {"cost": "40.00", "idempotency_key": str(uuid.uuid4())},
        from_page=f"/m/products/{coffee['id']}",
    )
    assert saved.status_code == 303, saved.text
    assert 'value="40.00"' in browser.get(f"/m/products/{coffee['id']}").text
    # The storefront never shows it.
    assert "40.00" not in browser.get(f"/s/{site.storefront['slug']}/p/{coffee['id']}").text
    clock.advance(86_400)
    browser.sign_in(site.merchant)
    html = browser.get("/m/insights").text
    with i18n.using("en"):
        margin = i18n.money(7_500)
    assert (
        f"Coffee 3-in-1, 10 sachets earned you {margin} after its cost in the last 28 days: "
        "38% of what it sold for." in html
    )


def test_another_merchant_cannot_set_it(site, browser):
    coffee = site.products[0]
    browser.sign_in(site.other_merchant)
    refused = browser.post(
        f"/m/products/{coffee['id']}/cost",
        {"cost": "1.00", "idempotency_key": str(uuid.uuid4())},
        from_page="/m",
    )
    assert refused.status_code == 404


def test_a_lead_time_kept_on_the_product_is_used_by_the_reorder_list(site, browser, clock):
    """Issue 26: the supplier's lead time kept per product (the product's page), shown and
    used on the insights page instead of the page's default; a bad figure refused beside the
    field, empty forgets it; another merchant's product is not found."""
    coffee = site.products[0]
    buy(site, 3)
    clock.advance(86_400)
    browser.sign_in(site.merchant)
    page = f"/m/products/{coffee['id']}"
    assert 'name="lead_time"' in browser.get(page).text
    for bad in ("61", "two", "-1"):
        refused = browser.post(
            f"{page}/lead_time", {"lead_time": bad, "idempotency_key": str(uuid.uuid4())},
            from_page=page,
        )  # fmt: skip
        assert (
            refused.status_code == 400 and "Write a whole number of days, 0 to 60." in refused.text
        )
    saved = browser.post(
        f"{page}/lead_time", {"lead_time": "9", "idempotency_key": str(uuid.uuid4())},
        from_page=page,
    )  # fmt: skip
    assert saved.status_code == 303, saved.text
    assert 'value="9"' in browser.get(page).text
    assert "Its supplier: 9 days" in browser.get("/m/insights").text
    forgot = browser.post(
        f"{page}/lead_time", {"lead_time": "", "idempotency_key": str(uuid.uuid4())},
        from_page=page,
    )  # fmt: skip
    assert forgot.status_code == 303
    assert "Its supplier:" not in browser.get("/m/insights").text
    browser.sign_in(site.other_merchant)
    other = browser.post(
        f"{page}/lead_time", {"lead_time": "2", "idempotency_key": str(uuid.uuid4())},
        from_page="/m",
    )  # fmt: skip
    assert other.status_code == 404
