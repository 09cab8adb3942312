"""The merchant's money pages through HTTP: the dashboard's figures are the services', the
statement CSV is exact to the centavo, the QR poster is the merchant's own code, and a
payment request goes from "waiting" to "paid" — once per form, and never for another
merchant's eyes. ``daily_sales`` is tested on SQLite and PostgreSQL (the ``db`` fixture)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import escrow, orders
from tindahan.services.payments import payments, sales, wallets
from tindahan.services.payments import requests as request_service
from tindahan.services.payments.views import PaymentView
from tindahan.services.qr import codes as qrcodes
from tindahan.services.qr import pay as qrpay
from tindahan.web import i18n
from tindahan.web.merchant import is_payday, pesos, spreadsheet_safe

from .conftest import OPERATOR, Person, Site

DAY = 86_400 * 10**9


def caller(person: Person) -> Caller:
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def pay(site: Site, buyer: Person, merchant: Person, amount: int, **extra: str) -> PaymentView:
    new = payments.NewPayment(merchant.party_id or "", amount, "PHP", **extra)
    return site.platform.run(lambda u: payments.pay(u, caller(buyer), new))


def money(amount: int) -> str:
    with i18n.using("en"):
        return i18n.money(amount)


def my_requests(site: Site, person: Person) -> list[dict]:
    return site.platform.run(
        lambda u: request_service.list_requests(u, caller(person), 50, None, None), write=False
    )["data"]


# --- the sales service ------------------------------------------------------------------
def test_daily_sales_groups_by_manila_day_and_counts_orders(site, clock):
    nena, tonyo = site.merchant, site.other_merchant
    nov16 = sales.day_start_ns(date(2023, 11, 16))
    clock.now = nov16 - 10**9  # 23:59:59 on the 15th in Manila (15:59:59 UTC)
    pay(site, site.buyer, nena, 1_000)
    clock.now = nov16  # midnight: the 16th
    pay(site, site.other_buyer, nena, 2_500)
    pay(site, site.buyer, tonyo, 777)  # another merchant's sale
    coffee = site.products[0]
    order = site.platform.run(
        lambda u: orders.checkout(
            u, caller(site.buyer), site.storefront["id"], [orders.CartLine(coffee["id"], 1)]
        )
    )
    site.platform.run(lambda u: escrow.pay(u, caller(site.buyer), order["id"], None))
    found = site.platform.run(
        lambda u: sales.daily_sales(u, caller(nena), nena.party_id, 3, date(2023, 11, 16)),
        write=False,
    )
    total = order["total_minor"]
    assert found == [
        (date(2023, 11, 14), 0, 0),
        (date(2023, 11, 15), 1_000, 1),
        (date(2023, 11, 16), 2_500 + total, 2),
    ]
    assert sales.totals(found, date(2023, 11, 16)) == {
        "today_minor": 2_500 + total,
        "today_count": 2,
        "month_minor": 3_500 + total,
        "month_count": 3,
    }
    with pytest.raises(RefusalError) as refused:
        site.platform.run(
            lambda u: sales.daily_sales(u, caller(tonyo), nena.party_id, 3), write=False
        )
    assert refused.value.code == "resource_missing"
    with pytest.raises(RefusalError):
        site.platform.run(lambda u: sales.daily_sales(u, OPERATOR, nena.party_id, 0), write=False)


def test_counterparties_only_for_the_callers_payments(site):
    paid = pay(site, site.buyer, site.merchant, 4_200, reference="R-7")
    theirs = pay(site, site.other_buyer, site.other_merchant, 100)
    found = site.platform.run(
        lambda u: sales.counterparties(u, caller(site.merchant), [paid["id"], theirs["id"]]),
        write=False,
    )
    assert found == {
        paid["id"]: {"kind": "merchant", "name": "Juan C.", "reference": "R-7", "description": None}
    }


def test_balance_before_is_the_posted_balance_then(site, clock):
    wallet = site.merchant.wallets["settlement"]
    first = pay(site, site.buyer, site.merchant, 10_000)
    clock.advance(60)
    cut = clock.now
    clock.advance(60)
    pay(site, site.buyer, site.merchant, 5_000)
    before = site.platform.run(
        lambda u: wallets.balance_before(u, caller(site.merchant), wallet, cut), write=False
    )
    assert before == first["net_minor"]
    with pytest.raises(RefusalError):
        site.platform.run(
            lambda u: wallets.balance_before(u, caller(site.other_merchant), wallet, cut),
            write=False,
        )


# --- pages -----------------------------------------------------------------------------
def test_signed_out_goes_to_sign_in_and_a_buyer_gets_not_found(site, browser):
    for path in ("/m", "/m/wallet", "/m/qr", "/m/requests", "/m/wallet/statement.csv"):
        response = browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=" + path)
    browser.sign_in(site.buyer)
    assert browser.get("/m").status_code == 404


def test_dashboard_shows_what_the_services_say(site, browser, clock):
    juan = pay(site, site.buyer, site.merchant, 12_345, reference="Tindahan-1")
    clock.advance(86_400)  # the next day in Manila, same hour
    maria = pay(site, site.other_buyer, site.merchant, 5_000)
    browser.sign_in(site.merchant)
    page = browser.get("/m")
    assert page.status_code == 200
    html = page.text
    nena = caller(site.merchant)
    on = site.platform.run(sales.today, write=False)
    daily = site.platform.run(
        lambda u: sales.daily_sales(u, nena, site.merchant.party_id, 90, on), write=False
    )
    totals = sales.totals(daily, on)
    assert totals["today_minor"] == 5_000
    assert totals["month_minor"] == (17_345 if on.day > 1 else 5_000)
    assert f'id="sales-today">{money(totals["today_minor"])}<' in html
    assert f'id="sales-month">{money(totals["month_minor"])}<' in html
    settlement = site.balance(site.merchant, "settlement")
    assert settlement == juan["net_minor"] + maria["net_minor"]
    assert f'id="balance-settlement">{money(settlement)}<' in html
    assert f'id="balance-main">{money(site.balance(site.merchant, "main"))}<' in html
    assert html.count('<rect class="bar') == 90
    paydays = sum(1 for d, _a, _c in daily if is_payday(d))
    assert html.count('class="bar peak"') == paydays > 0
    assert "Juan C." in html and "Tindahan-1" in html and "Maria S." in html
    assert html.count("<li>") >= 2  # the two sales in the recent list, each with its fee
    if juan["fee_minor"]:
        assert f"you get {money(juan['net_minor'])}" in html
    for link in ('href="/m/requests"', 'href="/m/qr"', 'href="/m/orders"', 'href="/m/loans"'):
        assert link in html
    assert "Mang Tonyo" not in html


def test_wallet_statement_pages_older_entries(site, browser):
    for amount in range(1_000, 1_000 + 27 * 10, 10):  # 27 sales: more than one page
        pay(site, site.buyer, site.merchant, amount)
    browser.sign_in(site.merchant)
    wallet = site.merchant.wallets["settlement"]
    entries = site.platform.run(
        lambda u: wallets.statement(u, caller(site.merchant), wallet, 200, None, None, None),
        write=False,
    )["data"]
    page = browser.get("/m/wallet")
    assert page.status_code == 200
    assert money(site.balance(site.merchant, "settlement")) in page.text
    pages = [page.text.split('id="wallet-main"')[0]]
    while older := re.search(r'href="(/m/wallet\?settlement_after=[^"#]+)', pages[-1]):
        page = browser.get(older.group(1).replace("&amp;", "&"))
        assert page.status_code == 200
        pages.append(page.text.split('id="wallet-main"')[0])
    assert len(pages) == -(-len(entries) // 25) > 1
    assert sum(p.count("<li>") for p in pages) == len(entries)
    assert money(1_000) not in pages[0] and money(1_000) in pages[-1]  # the first sale


def test_statement_csv_to_the_centavo(site, browser):
    sale = pay(site, site.buyer, site.merchant, 12_345, reference="=HYPERLINK(1)")
    pay(site, site.other_buyer, site.merchant, 99)
    browser.sign_in(site.merchant)
    month = site.platform.run(sales.today, write=False).strftime("%Y-%m")
    response = browser.get(f"/m/wallet/statement.csv?wallet=settlement&month={month}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    sales_rows = [r for r in rows if r["type"] == "merchant_payment"]
    assert [r["amount_php"] for r in sales_rows] == ["123.45", "0.99"]
    assert all(r["direction"] == "credit" for r in sales_rows)
    assert sales_rows[0]["description"] == "Juan C. · =HYPERLINK(1)"
    assert spreadsheet_safe("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet_safe("Juan C.") == "Juan C."
    assert sales_rows[0]["transfer_id"] in sale["transfer_ids"]
    assert sales_rows[0]["time"].endswith("+08:00")
    fees = [r for r in rows if r["type"] == "merchant_discount"]
    assert all(r["direction"] == "debit" for r in fees)
    assert rows[-1]["balance_php"] == pesos(site.balance(site.merchant, "settlement"))
    assert pesos(1_234_56) == "1234.56" and pesos(-5) == "-0.05" and pesos(100) == "1.00"
    empty = browser.get("/m/wallet/statement.csv?wallet=main&month=2001-01")
    assert empty.status_code == 200 and empty.text.strip().count("\n") == 0
    for bad in ("2023-13", "abc", "2023-1", ""):
        refused = browser.get(f"/m/wallet/statement.csv?wallet=settlement&month={bad}")
        assert refused.status_code == 400
        assert "Choose a month" in refused.text
    assert browser.get("/m/wallet/statement.csv?wallet=float&month=2023-11").status_code == 400


def test_qr_poster_is_the_merchants_own_code(site, browser):
    browser.sign_in(site.merchant)
    page = browser.get("/m/qr")
    assert page.status_code == 200
    assert '<svg class="qr"' in page.text and "data-print" in page.text
    download = browser.get("/m/qr.svg")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("image/svg+xml")
    assert download.headers["content-disposition"].startswith("attachment;")
    nena = caller(site.merchant)
    code = site.platform.run(
        lambda u: qrpay.merchant_code(u, nena, site.merchant.party_id), write=False
    )
    short = site.platform.run(
        lambda u: qrpay.merchant_short_code(u, nena, site.merchant.party_id), write=False
    )
    assert short is not None  # paid by USSD from a phone without a camera (issue 24)
    note = f"Merchant code {short}"
    assert download.content == qrcodes.svg(code["payload"], site.merchant.name, note=note)


# --- payment requests ------------------------------------------------------------------
def test_request_created_shown_paid(site, browser):
    browser.sign_in(site.merchant)
    browser.get("/m/requests")
    form = {
        "amount": "150.50",
        "reference": "R-1",
        "description": "2 kape",
        "idempotency_key": browser.key(),
    }
    made = browser.post("/m/requests", form)
    assert made.status_code == 303
    path = made.headers["location"]
    request_id = path.rsplit("/", 1)[1]
    assert [(r["id"], r["amount_minor"]) for r in my_requests(site, site.merchant)] == [
        (request_id, 15_050)
    ]
    page = browser.get(path).text
    assert money(15_050) in page and "2 kape" in page
    assert '<meta http-equiv="refresh" content="5">' in page
    assert '<svg class="qr"' in page
    assert f"/pay/{request_id}" in page
    assert "Waiting for payment" in page
    assert browser.get(path + "/qr.svg").headers["content-type"].startswith("image/svg+xml")
    listing = browser.get("/m/requests").text
    assert request_id in listing and "badge wait" in listing
    site.platform.run(lambda u: request_service.pay(u, caller(site.buyer), request_id, None))
    paid = browser.get(path).text
    assert "Paid by Juan C." in paid
    assert 'http-equiv="refresh"' not in paid
    assert '<svg class="qr"' not in paid
    assert "Cancel this request" not in paid


def test_request_double_submit_makes_one(site, browser):
    browser.sign_in(site.merchant)
    browser.get("/m/requests")
    form = {"amount": "75", "idempotency_key": browser.key()}
    first = browser.post("/m/requests", form)
    again = browser.post("/m/requests", form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert len(my_requests(site, site.merchant)) == 1


def test_request_bad_amount_is_shown_beside_the_field(site, browser):
    browser.sign_in(site.merchant)
    browser.get("/m/requests")
    form = {
        "amount": "12.345",
        "description": "Load ni Aling Rosa",
        "idempotency_key": browser.key(),
    }
    response = browser.post("/m/requests", form)
    assert response.status_code == 400
    assert 'id="e-amount"' in response.text
    assert 'value="12.345"' in response.text and "Load ni Aling Rosa" in response.text
    assert my_requests(site, site.merchant) == []
    empty = browser.post("/m/requests", {"amount": "", "idempotency_key": browser.key()})
    assert empty.status_code == 400 and 'id="e-amount"' in empty.text


def test_request_without_csrf_is_refused(site, browser):
    browser.sign_in(site.merchant)
    browser.get("/m/requests")
    response = browser.http.post(
        "/m/requests", data={"amount": "50", "idempotency_key": browser.key()}
    )
    assert response.status_code == 403
    assert my_requests(site, site.merchant) == []


def test_cancel_an_open_request(site, browser):
    browser.sign_in(site.merchant)
    made = site.platform.run(
        lambda u: request_service.create(u, caller(site.merchant), amount_minor=900, currency="PHP")
    )
    path = f"/m/requests/{made['id']}"
    browser.get(path)
    response = browser.post(path + "/cancel", {"idempotency_key": browser.key()})
    assert response.status_code == 303
    assert my_requests(site, site.merchant)[0]["status"] == "canceled"
    page = browser.get(path).text
    assert "Cancelled" in page and "Cancel this request" not in page


def test_another_merchants_request_is_not_found(site, browser):
    theirs = site.platform.run(
        lambda u: request_service.create(
            u, caller(site.other_merchant), amount_minor=424_242, currency="PHP", description="Yero"
        )
    )
    browser.sign_in(site.merchant)
    path = f"/m/requests/{theirs['id']}"
    for response in (browser.get(path), browser.get(path + "/qr.svg")):
        assert response.status_code == 404
        assert money(424_242) not in response.text and "Yero" not in response.text
    browser.get("/m/requests")
    cancel = browser.post(path + "/cancel", {"idempotency_key": browser.key()})
    assert cancel.status_code == 404
    assert my_requests(site, site.other_merchant)[0]["status"] == "open"


def test_pages_in_filipino(site, browser):
    browser.sign_in(site.merchant)
    browser.http.cookies.set("tdh_lang", "fil")
    for path in ("/m", "/m/wallet", "/m/qr", "/m/requests"):
        response = browser.get(path)
        assert response.status_code == 200
        assert 'lang="fil"' in response.text
    assert "Benta" in browser.get("/m").text


def test_payday_rule():
    assert is_payday(date(2024, 2, 29)) and is_payday(date(2023, 2, 28))
    assert is_payday(date(2023, 11, 15)) and not is_payday(date(2023, 11, 16))
    assert sum(is_payday(date(2023, 1, 1) + timedelta(days=n)) for n in range(365)) == 24
