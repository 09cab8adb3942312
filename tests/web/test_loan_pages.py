"""The loan pages through HTTP, on SQLite and PostgreSQL: the offer's disclosure exactly as
the services compute it, acceptance (the tick required, once per idempotency key, the
wallet credited with the net proceeds), repayment from the wallet with its refusals beside
the field, another merchant's offer or loan as the 404 page, the CSRF lock, and the
operator's portfolio equal to ``loan_reports.portfolio`` with its loan tape."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any

import pytest

from tests.web import loans_fixture as lf
from tests.web.conftest import OPERATOR, Browser, Site
from tindahan.services import loan_reports
from tindahan.web import i18n

_TAG = re.compile(r"<[^>]+>")


@pytest.fixture
def product(site: Site) -> dict[str, Any]:
    return lf.make_product(site.platform)


def text(fragment: str) -> str:
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def fact(page: str, label: str) -> str:
    """The <dd> after the <dt> whose text is ``label``."""
    match = re.search(
        r"<dt>" + re.escape(html.escape(label, quote=False)) + r"</dt><dd>(.*?)</dd>", page
    )
    assert match, f"no fact {label!r} on the page"
    return text(match.group(1))


def rows(page: str, table_class: str) -> list[list[str]]:
    """The body rows of the first table of that class, as cell texts."""
    match = re.search(rf'<table class="{table_class}">(.*?)</table>', page, re.S)
    assert match, f"no table {table_class!r}"
    body = re.search(r"<tbody>(.*?)</tbody>", match.group(1), re.S)
    assert body
    found = re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    return [[text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in found]


def error_of(page: str, element_id: str) -> str:
    match = re.search(rf'<p id="{re.escape(element_id)}" class="error">(.*?)</p>', page, re.S)
    assert match, f"no error {element_id!r} on the page"
    return text(match.group(1))


def signed_in(browser: Browser, person: Any) -> Browser:
    browser.sign_in(person)
    return browser


def money(value: int) -> str:
    with i18n.using("en"):
        return i18n.money(value)


def percent(value: str) -> str:
    with i18n.using("en"):
        return i18n.percent(Decimal(value))


# --- the offer -------------------------------------------------------------------------------
def test_the_offer_page_shows_the_disclosure_as_the_services_compute_it(site, product, browser):
    made = lf.make_offer(site.platform, site.merchant, product)
    shown = lf.offer(site.platform, made["id"])
    d = shown["disclosure"]
    page = signed_in(browser, site.merchant).get("/m/loans")
    assert page.status_code == 200
    body = page.text
    assert fact(body, "Amount of the loan (principal)") == money(d["principal_minor"])
    assert fact(body, "Less the fee, taken before the money reaches you") == money(d["fee_minor"])
    net = "Amount financed (net proceeds: what reaches your wallet)"
    assert fact(body, net) == money(d["net_proceeds_minor"]) == money(d["amount_financed_minor"])
    assert fact(body, "Interest") == money(d["interest_minor"])
    assert fact(body, "Fees") == money(d["fee_minor"])
    assert fact(body, "Finance charge (interest + fees)") == money(d["finance_charge_minor"])
    assert d["finance_charge_minor"] == d["interest_minor"] + d["fee_minor"]
    assert fact(body, "Total of payments") == money(d["total_of_payments_minor"])
    assert fact(body, "Interest rate") == f"{percent(shown['rate_monthly'])} a month"
    assert fact(body, "Effective interest rate (EIR), a month") == percent(d["eir_monthly"])
    assert fact(body, "Effective interest rate (EIR), a year") == percent(d["eir_annual"])
    assert "The EIR is the true cost of the loan as one rate" in body
    with i18n.using("en"):
        expires = i18n.when(shown["expires_at"])
        expected = [
            [
                str(line["seq"]),
                i18n.day(line["due_date"]),
                money(line["principal_minor"]),
                money(line["interest_minor"]),
                money(line["fee_minor"]),
                money(line["total_minor"]),
            ]
            for line in d["schedule"]
        ]
    assert text(f"Open until {expires}.") in text(body)
    assert rows(body, "schedule") == expected
    assert len(expected) == shown["term"]
    assert f'action="/m/loans/offers/{made["id"]}/accept"' in body
    assert 'type="checkbox"' in body and 'name="confirm"' in body
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = browser.get("/m/loans").text
    assert "Nabasa ko ang disclosure" in filipino
    with i18n.using("fil"):
        assert i18n.money(d["finance_charge_minor"]) in filipino


def test_no_offer_says_so_and_an_active_loan_is_linked(site, product, browser):
    page = signed_in(browser, site.merchant).get("/m/loans")
    assert page.status_code == 200
    assert "No loan offer right now" in page.text
    assert "You have no loan offer and no loan being repaid." in page.text
    made = lf.make_loan(site.platform, site.merchant, product)
    page = browser.get("/m/loans")
    assert "No loan offer right now" in page.text
    assert "You have a loan being repaid." in page.text
    assert f'href="/m/loans/{made["id"]}"' in page.text


def test_signed_out_goes_to_sign_in(site, browser):
    for path in ("/m/loans", "/op/loans", "/op/loans/tape.csv"):
        response = browser.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin?next=" + path)


# --- accepting -------------------------------------------------------------------------------
def test_accept_without_the_tick_shows_the_error_beside_it_and_lends_nothing(
    site, product, browser
):
    made = lf.make_offer(site.platform, site.merchant, product)
    signed_in(browser, site.merchant).get("/m/loans")
    key = browser.key()
    response = browser.post(f"/m/loans/offers/{made['id']}/accept", {"idempotency_key": key})
    assert response.status_code == 400
    assert "Please tick this box" in error_of(response.text, f"e-confirm-{made['id']}")
    assert f'aria-describedby="e-confirm-{made["id"]}"' in response.text
    assert lf.loans_of(site.platform, site.merchant) == []
    assert lf.offer(site.platform, made["id"])["status"] == "open"
    assert site.balance(site.merchant) == 0
    # A newer offer withdraws this one: accepting it is refused in words, nothing lent.
    newer = lf.make_offer(site.platform, site.merchant, product)
    sent = {"idempotency_key": browser.key(), "confirm": "yes"}
    response = browser.post(f"/m/loans/offers/{made['id']}/accept", sent, from_page="/m/loans")
    assert response.status_code == 400
    assert "A newer offer replaced this one" in response.text
    assert f'action="/m/loans/offers/{newer["id"]}/accept"' in response.text
    assert lf.loans_of(site.platform, site.merchant) == []
    assert site.balance(site.merchant) == 0


def test_accept_lends_once_per_key_and_credits_the_net_proceeds(site, product, browser):
    made = lf.make_offer(site.platform, site.merchant, product)
    net = made["disclosure"]["net_proceeds_minor"]
    before = site.balance(site.merchant)
    signed_in(browser, site.merchant).get("/m/loans")
    sent = {"idempotency_key": browser.key(), "confirm": "yes"}
    path = f"/m/loans/offers/{made['id']}/accept"
    first = browser.post(path, sent)
    assert first.status_code == 303, first.text
    again = browser.post(path, sent, from_page="/m/loans")  # a double tap: the same key
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    made_loans = lf.loans_of(site.platform, site.merchant)
    assert len(made_loans) == 1
    loan_id = made_loans[0]["id"]
    assert first.headers["location"] == f"/m/loans/{loan_id}?done=accepted"
    assert site.balance(site.merchant) == before + net
    assert lf.offer(site.platform, made["id"])["status"] == "accepted"
    page = browser.get(first.headers["location"])
    assert page.status_code == 200
    assert "the money is in your wallet" in page.text
    # Another key for the same offer: refused beside the form, nothing more lent.
    other = browser.post(
        path, {"idempotency_key": browser.key(), "confirm": "yes"}, from_page="/m/loans"
    )
    assert other.status_code == 400
    assert "This offer was already accepted." in other.text
    assert len(lf.loans_of(site.platform, site.merchant)) == 1
    assert site.balance(site.merchant) == before + net


# --- the loan and repaying ---------------------------------------------------------------------
def test_the_loan_page_shows_progress_schedule_and_transactions(site, product, browser):
    made = lf.make_loan(site.platform, site.merchant, product)
    page = signed_in(browser, site.merchant).get(f"/m/loans/{made['id']}")
    assert page.status_code == 200
    body = page.text
    assert f'<progress id="repaid-bar" max="{made["principal_minor"]}" value="0">' in body
    assert fact(body, "Principal still owed") == money(made["balance"]["principal_minor"])
    assert fact(body, "Set aside from your sales") == money(made["balance"]["reserve_minor"])
    assert money(made["next_due"]["amount_minor"]) in body
    lines = rows(body, "schedule")
    assert len(lines) == made["term"]
    assert all(line[-1] == "Due" for line in lines)
    assert "Loan money sent to your wallet" in body
    assert 'name="amount"' in body and "data-once" in body


def test_a_repayment_reduces_what_is_owed_once_per_key(site, product, browser):
    made = lf.make_loan(site.platform, site.merchant, product)
    wallet = site.balance(site.merchant)
    path = f"/m/loans/{made['id']}"
    signed_in(browser, site.merchant).get(path)
    sent = {"idempotency_key": browser.key(), "amount": "500.00"}
    response = browser.post(f"{path}/repayments", sent)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{path}?done=repaid"
    again = browser.post(f"{path}/repayments", sent, from_page=path)
    assert again.status_code == 303
    after = lf.loan(site.platform, made["id"])
    assert after["balance"]["principal_minor"] == made["balance"]["principal_minor"] - 50_000
    assert sum(after["paid"].values()) == 50_000
    assert site.balance(site.merchant) == wallet - 50_000
    page = browser.get(response.headers["location"])
    assert "Thank you! Your payment was received." in page.text
    assert f'value="{after["paid"]["principal_minor"]}"' in page.text
    assert "Repayment" in page.text
    assert "Paying early lowered what you owe" in page.text  # re-amortised on the new balance
    assert len(rows(page.text, "schedule")) == made["term"]


BAD_AMOUNTS = [
    ("abc", "Enter an amount in pesos"),
    ("0", "The amount must be more than zero."),
    ("12.345", "Enter an amount in pesos"),
    ("999999", "That is more than the loan needs to be paid off."),
]


def test_bad_amounts_re_render_with_the_error_beside_the_field(site, product, browser):
    made = lf.make_loan(site.platform, site.merchant, product)
    wallet = site.balance(site.merchant)
    path = f"/m/loans/{made['id']}"
    signed_in(browser, site.merchant)
    for typed, message in BAD_AMOUNTS:
        response = browser.post(
            f"{path}/repayments",
            {"idempotency_key": browser.key(browser.get(path).text), "amount": typed},
        )
        assert response.status_code == 400, typed
        assert message in error_of(response.text, "e-amount"), typed
        assert f'value="{typed}"' in response.text
    assert lf.loan(site.platform, made["id"]) == made
    assert site.balance(site.merchant) == wallet


def test_more_than_the_wallet_holds_is_refused_beside_the_field(site, product, browser):
    made = lf.make_loan(site.platform, site.merchant, product)
    wallet = site.balance(site.merchant)
    payoff = made["balance"]["payoff_minor"]
    assert wallet < payoff  # the fee was deducted: the wallet holds less than the payoff
    path = f"/m/loans/{made['id']}"
    signed_in(browser, site.merchant).get(path)
    typed = f"{payoff // 100}.{payoff % 100:02d}"
    response = browser.post(
        f"{path}/repayments", {"idempotency_key": browser.key(), "amount": typed}
    )
    assert response.status_code == 400
    assert "There is not enough money in the wallet" in error_of(response.text, "e-amount")
    assert lf.loan(site.platform, made["id"])["balance"] == made["balance"]
    assert site.balance(site.merchant) == wallet


# --- tenancy and CSRF ------------------------------------------------------------------------
def test_another_merchants_offer_and_loan_are_not_found(site, product, browser):
    theirs = lf.make_offer(site.platform, site.other_merchant, product)
    third = lf.merchant_in(site.platform, "Aling Rosa's Carinderia", "Laguna")
    their_loan = lf.make_loan(site.platform, third, product)
    signed_in(browser, site.merchant).get("/m/loans")
    page = browser.get(f"/m/loans/{their_loan['id']}")
    assert page.status_code == 404
    assert "Not found" in page.text
    assert "Repayment progress" not in page.text and "Principal" not in page.text
    mine = browser.get("/m/loans")
    assert theirs["id"] not in mine.text and "A loan offer for you" not in mine.text
    accept = browser.post(
        f"/m/loans/offers/{theirs['id']}/accept",
        {"idempotency_key": "k" * 20, "confirm": "yes"},
        from_page="/m/loans",
    )
    assert accept.status_code == 404
    assert lf.offer(site.platform, theirs["id"])["status"] == "open"
    repay = browser.post(
        f"/m/loans/{their_loan['id']}/repayments",
        {"idempotency_key": "k" * 20, "amount": "100"},
        from_page="/m/loans",
    )
    assert repay.status_code == 404
    assert lf.loan(site.platform, their_loan["id"])["paid"] == their_loan["paid"]
    assert browser.get("/op/loans").status_code == 404
    assert browser.get("/op/loans/tape.csv").status_code == 404


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(site, product, browser):
    made = lf.make_offer(site.platform, site.merchant, product)
    signed_in(browser, site.merchant).get("/m/loans")
    key = browser.key()
    response = browser.http.post(
        f"/m/loans/offers/{made['id']}/accept", data={"idempotency_key": key, "confirm": "yes"}
    )
    assert response.status_code == 403
    assert lf.loans_of(site.platform, site.merchant) == []
    loan = lf.accept(site.platform, site.merchant, made)
    response = browser.http.post(
        f"/m/loans/{loan['id']}/repayments", data={"idempotency_key": key, "amount": "100"}
    )
    assert response.status_code == 403
    assert lf.loan(site.platform, loan["id"])["paid"] == loan["paid"]


# --- the operator -------------------------------------------------------------------------------
def test_the_operator_portfolio_equals_the_service(site, product, browser):
    lf.make_loan(site.platform, site.merchant, product)
    third = lf.merchant_in(site.platform, "Aling Rosa's Carinderia", "Laguna")
    other = lf.make_loan(site.platform, third, product)
    site.platform.run(lambda u: lf.loans.repay(u, lf.caller_of(third), other["id"], 120_000))
    report = site.platform.run(lambda u: loan_reports.portfolio(u, OPERATOR), write=False)
    page = signed_in(browser, site.operator).get("/op/loans")
    assert page.status_code == 200
    body = page.text
    total = report["total"]
    stats = dict(
        re.findall(r'<span class="label">(.*?)</span><span class="value">(.*?)</span>', body)
    )
    assert stats["Loans"] == str(total["loans"]) == "2"
    assert stats["Active loans"] == str(total["active"])
    assert html.unescape(stats["Disbursed"]) == money(total["disbursed_minor"])
    assert html.unescape(stats["Outstanding"]) == money(total["outstanding_minor"])
    assert html.unescape(stats["Collected"]) == money(total["collected_minor"])
    assert html.unescape(stats["Written off"]) == money(total["written_off_minor"])
    for name in ("par1", "par30", "par90"):
        assert stats[name.upper()] == percent(total[name])
    assert fact(body, "Interest") == money(total["collected"]["interest_minor"])
    by_province = rows(body, "portfolio")  # the first such table is by product
    assert [r[0] for r in by_province] == [p["name"] for p in report["by_product"]]
    provinces = re.search(r'id="province-h".*?<tbody>(.*?)</tbody>', body, re.S)
    assert provinces
    found = [
        [text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)]
        for r in re.findall(r"<tr>(.*?)</tr>", provinces.group(1), re.S)
    ]
    assert found == [
        [
            p["province"],
            str(p["loans"]),
            str(p["active"]),
            money(p["disbursed_minor"]),
            money(p["outstanding_minor"]),
            money(p["collected_minor"]),
            money(p["written_off_minor"]),
            percent(p["par1"]),
            percent(p["par30"]),
            percent(p["par90"]),
        ]
        for p in report["by_province"]
    ]
    assert {p["province"] for p in report["by_province"]} == {"Laguna", "Metro Manila"}
    assert body.count('<svg class="chart"') == 2
    assert "Outstanding by province" in body and "PAR30 by province" in body
    assert 'href="/op/loans/tape.csv"' in body
    tape = browser.get("/op/loans/tape.csv")
    assert tape.status_code == 200
    assert tape.headers["content-type"].startswith("text/csv")
    expected = site.platform.run(lambda u: loan_reports.tape(u, OPERATOR), write=False)
    assert tape.text == expected
    assert len(expected.strip().splitlines()) == 3
