"""The loan pages through HTTP, on SQLite and PostgreSQL: the offer's disclosure exactly as
the services compute it, acceptance (the tick required, once per idempotency key, the
wallet credited with the net proceeds), repayment from the wallet with its refusals beside
the field, another merchant's offer or loan as the 404 page, the CSRF lock, the operator's
portfolio equal to ``loan_reports.portfolio`` with its loan tape, and the merchant's own
credit check: its score or "not enough history", its reasons in English and Filipino
(``web.reasons``), "Check my credit now" and the offer it may lead to."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select

from tests.lending.conftest import PRODUCT
from tests.web import loans_fixture as lf
from tests.web.conftest import OPERATOR, Browser, Site
from tindahan import limits
from tindahan.credit import features
from tindahan.services.credit import assessments as credit
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending import reports as loan_reports
from tindahan.services.payments import payments
from tindahan.store.credit_tables import credit_assessments
from tindahan.web import i18n
from tindahan.web.reasons import reason_text

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
                f"{money(line['total_minor'])} principal {money(line['principal_minor'])}, "
                f"interest {money(line['interest_minor'])}"
                + (f", fee {money(line['fee_minor'])}" if line["fee_minor"] else ""),
            ]
            for line in d["schedule"]
        ]
        totals = {line["total_minor"] for line in d["schedule"]}
        every = {"biweekly": "every two weeks"}.get(shown["frequency"], shown["frequency"])
        summary = (
            f"{shown['term']} payments of {money(min(totals))}, {every}"
            if len(totals) == 1
            else f"{shown['term']} payments of {money(min(totals))} to {money(max(totals))}, "
            f"{every}"
        )
    assert text(f"Open until {expires}.") in text(body)
    assert rows(body, "schedule") == expected  # three columns: all of it fits at 360 px
    assert len(expected) == shown["term"]
    assert text(summary) in text(body)  # "8 payments of ₱…, weekly", not "8 × weekly"
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
    next_due = made["next_due"]
    assert next_due is not None
    assert money(next_due["amount_minor"]) in body
    lines = rows(body, "schedule")
    assert len(lines) == made["term"]
    assert all(line[-1] == "Due" for line in lines)
    assert "Loan money sent to your wallet" in body
    assert 'name="amount"' in body and "data-once" in body


def test_a_cancelled_loan_s_page_says_so_and_owes_nothing(
    site, product, browser, tmp_path, monkeypatch
):
    """A loan whose disbursement an analyst returned after a review: the page says
    cancelled (in English and Filipino), nothing owed or due, no repayment form."""
    from tests.lending.test_loans_service import _reviewing
    from tindahan.services.risk import holds
    from tindahan.store.risk_tables import risk_alerts

    _reviewing(tmp_path, monkeypatch)
    made = lf.make_loan(site.platform, site.merchant, product)
    query = select(risk_alerts.c.id).where(risk_alerts.c.transfer_id.like("loan.%.disburse"))
    alert_id = site.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False)
    site.platform.run(lambda u: holds.decide(u, OPERATOR, alert_id, "return"))
    page = signed_in(browser, site.merchant).get(f"/m/loans/{made['id']}")
    assert page.status_code == 200
    body = page.text
    assert '<span class="badge">Cancelled</span>' in body
    assert "so you owe nothing" in body
    assert fact(body, "Principal still owed") == money(0)
    left = '<span class="label">Still to pay on the schedule</span><span class="value">'
    assert left + html.escape(money(0), quote=False) in body
    assert all(line[-1] == "Cancelled" for line in rows(body, "schedule"))
    assert "Loan cancelled: the money went back" in body
    assert 'name="amount"' not in body
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = browser.get(f"/m/loans/{made['id']}").text
    assert "Kinansela" in filipino and "wala kang utang" in filipino


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


# --- the merchant's own credit check -----------------------------------------------------------
@pytest.fixture
def model(monkeypatch, merchant_model):
    """The session's trained scorecard, found where the credit service looks for it."""
    monkeypatch.setenv(credit.MODEL_ENV, str(merchant_model.folder))
    return merchant_model


@pytest.fixture
def history_met(monkeypatch) -> None:
    """Scored without 60 days of history: the web tests run on the real clock, so the
    thresholds of ``features.insufficient`` are lifted (patched to find nothing missing) and
    the real model scores the merchant's real features — thin ones: a few sales of today.
    ``tests/credit`` scores a merchant with months of history on a settable clock."""
    monkeypatch.setattr(features, "insufficient", lambda row: [])


def assessments(site: Site) -> list[dict[str, Any]]:
    """The merchant's assessments: how many are stored (only this merchant is ever
    assessed here), each shown as the newest, which is all these tests look at."""
    query = select(func.count()).select_from(credit_assessments)
    count = site.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False)
    caller = lf.caller_of(site.merchant)
    newest = site.platform.run(lambda u: credit.latest(u, caller), write=False)
    return [newest] * count if newest else []


def offers_of(site: Site) -> list[dict[str, Any]]:
    caller = lf.caller_of(site.merchant)
    found = site.platform.run(lambda u: loan_offers.list_offers(u, caller), write=False)
    return found["data"]


def sell(site: Site, amounts: list[int]) -> None:
    for amount in amounts:
        new = payments.NewPayment(
            site.merchant.party_id, amount, "PHP", payer_id=site.buyer.party_id
        )
        site.platform.run(lambda u, n=new: payments.pay(u, OPERATOR, n))


def card(page: str) -> str:
    match = re.search(r'<section class="card credit-check".*?</section>', page, re.S)
    assert match, "no credit check card"
    return match.group(0)


def check_now(browser: Browser, key: str | None = None):
    browser.get("/m/loans")
    return browser.post("/m/loans/assess", {"idempotency_key": key or browser.key()})


def test_a_new_merchant_sees_not_enough_history_and_no_offer_once_per_key(
    site, product, browser, model
):
    page = signed_in(browser, site.merchant).get("/m/loans")
    assert "Your credit check" in page.text
    assert "You have not had a credit check yet." in page.text
    assert 'action="/m/loans/assess"' in card(page.text)
    browser.get("/m/loans")
    key = browser.key(card(browser.last))
    first = check_now(browser, key)
    assert first.status_code == 303, first.text
    assert first.headers["location"] == "/m/loans?checked=1&offer="
    again = check_now(browser, key)  # a double tap: the same key, the work done once
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    made = assessments(site)
    assert len(made) == 1 and made[0]["decision"] == "insufficient_history"
    assert offers_of(site) == []
    shown = text(card(browser.get(first.headers["location"]).text))
    assert "Your credit was checked." in browser.last
    assert "Not enough history yet" in shown
    assert "What weighed on it" in shown
    reasons = [r["text"] for r in made[0]["reasons"]]
    assert reasons == [
        f"on Tindahan for 0 days; a score needs {limits.CREDIT_MIN_TENURE_DAYS} days of sales "
        "history",
        f"0 sales in the last 90 days; a score needs at least {limits.CREDIT_MIN_SALES_90D}",
    ]
    for reason in reasons:
        assert reason[0].upper() + reason[1:] in shown
    with i18n.using("en"):
        assert text(f"Made {i18n.when(made[0]['created'])}") in shown
    assert "points" not in shown
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = text(card(browser.get("/m/loans").text))
    assert "Kulang pa ang kasaysayan" in filipino
    assert "0 araw ka pa lang sa Tindahan" in filipino
    assert f"hindi bababa sa {limits.CREDIT_MIN_SALES_90D}" in filipino


def test_a_scored_check_shows_points_and_reasons_never_the_probability_and_makes_an_offer(
    site, product, browser, model, history_met
):
    sell(site, [150_000, 120_000, 90_000])
    signed_in(browser, site.merchant)
    response = check_now(browser)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/m/loans?checked=1&offer=made"
    (made,) = assessments(site)
    assert made["decision"] == "scored" and made["score"] is not None
    (offer,) = offers_of(site)
    assert offer["status"] == "open" and offer["product_id"] == product["id"]
    page = browser.get(response.headers["location"]).text
    assert "A loan offer is ready for you" in page
    assert f'action="/m/loans/offers/{offer["id"]}/accept"' in page
    shown = text(card(page))
    with i18n.using("en"):
        assert f"{i18n.number(made['score'])} points" in shown
    assert "comes only from your shop's own sales on Tindahan" in shown
    assert made["reasons"], "the scorecard gives its reasons"
    for reason in made["reasons"]:
        assert reason["text"][0].upper() + reason["text"][1:] in shown
    probability = made["probability_of_default"]
    assert probability not in page and probability.rstrip("0") not in page
    assert "probability" not in page.lower()
    assert "Not enough history yet" not in shown
    browser.http.cookies.set("tdh_lang", "fil")
    filipino = text(card(browser.get("/m/loans").text))
    with i18n.using("fil"):
        for reason in made["reasons"]:
            sentence = reason_text(reason, made["features"])
            assert sentence[0].upper() + sentence[1:] in filipino
            if reason["code"] in features.FEATURES:
                assert sentence != reason["text"], reason


def test_a_refused_offer_is_said_beside_the_check_and_the_check_is_kept(
    site, product, browser, model, history_met
):
    """No sales at all: scored (the session's model puts this merchant under the product's
    0.2), but the limit from recent sales is below the product's smallest loan: the check
    stands, no offer, the reason in words. Then only a product lending at 0.01% is left:
    the probability is above it, so no offer is asked for, and the page says why without
    the probability."""
    signed_in(browser, site.merchant)
    response = check_now(browser)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/m/loans?checked=1&offer=limit_below_minimum"
    (made,) = assessments(site)
    assert made["decision"] == "scored"
    assert offers_of(site) == []
    page = text(browser.get(response.headers["location"]).text)
    assert "Your credit was checked, but no loan offer could be made." in page
    assert "Your recent sales on Tindahan are still below what the smallest loan needs." in page
    assert made["probability_of_default"] not in page
    site.platform.run(lambda u: loan_offers.retire_product(u, OPERATOR, product["id"]))
    lf.make_product(site.platform, replace(PRODUCT, name="Maingat", max_probability="0.0001"))
    response = check_now(browser)
    assert response.headers["location"] == "/m/loans?checked=1&offer=credit_not_approved"
    assert len(assessments(site)) == 2
    assert offers_of(site) == []
    page = text(browser.get(response.headers["location"]).text)
    assert "Your credit check is not yet enough for a loan." in page
    assert assessments(site)[0]["probability_of_default"] not in page
    # A code the page has no sentence for is not echoed from the URL.
    odd = text(browser.get("/m/loans?checked=1&offer=%3Cb%3Ehello").text)
    assert "no loan offer could be made this time." in odd and "hello" not in odd


def test_with_an_open_offer_a_check_leaves_it_alone(site, product, browser, model, history_met):
    sell(site, [150_000, 120_000])
    standing = lf.make_offer(site.platform, site.merchant, product)
    signed_in(browser, site.merchant)
    response = check_now(browser)
    assert response.headers["location"] == "/m/loans?checked=1&offer="
    assert [o["id"] for o in offers_of(site)] == [standing["id"]]
    assert lf.offer(site.platform, standing["id"])["status"] == "open"


def test_without_a_model_the_check_says_so_and_stores_nothing(
    site, product, browser, monkeypatch, tmp_path
):
    monkeypatch.setenv(credit.MODEL_ENV, str(tmp_path / "no-model"))
    signed_in(browser, site.merchant)
    response = check_now(browser)
    assert response.status_code == 400
    assert "The credit check is not available right now." in text(card(response.text))
    assert "tindahan credit train" not in response.text
    assert assessments(site) == []
    browser.http.cookies.set("tdh_lang", "fil")
    again = check_now(browser)
    assert "Hindi pa magagamit ang credit check ngayon." in text(card(again.text))


def test_a_check_without_the_csrf_token_is_refused(site, browser, model):
    signed_in(browser, site.merchant).get("/m/loans")
    key = browser.key()
    response = browser.http.post("/m/loans/assess", data={"idempotency_key": key})
    assert response.status_code == 403
    assert assessments(site) == []
    browser.http.cookies.clear()
    signed_out = browser.http.post("/m/loans/assess", data={"idempotency_key": key})
    assert signed_out.status_code in (303, 403)
    assert assessments(site) == []


# --- the reasons in Filipino (no database) ------------------------------------------------------
def fil_money(centavos: int) -> str:
    with i18n.using("fil"):
        return i18n.money(centavos)


#: A value of each feature and the number its Filipino sentence must show, rounded as
#: ``features.describe`` rounds it.
FEATURE_VALUES: dict[str, tuple[float, str]] = {
    "tenure_days": (75.0, "75 araw"),
    "sales_month_avg": (1_234_567.4, fil_money(1_234_567)),
    "sales_trend": (-0.123, "12%"),
    "sales_momentum": (0.8, "20%"),
    "sales_volatility": (0.456, "46%"),
    "active_day_share": (0.333, "33%"),
    "distinct_buyers_90d": (17.0, "17"),
    "repeat_buyer_share": (0.25, "25%"),
    "avg_ticket": (12_345.6, fil_money(12_346)),
    "refund_rate": (0.031, "3%"),
    "dispute_rate": (0.07, "7%"),
    "balance_avg": (250_000.0, fil_money(250_000)),
    "balance_min": (-5_000.4, fil_money(-5_000)),
    "balance_cover_days": (3.6, "4 araw"),
    "balance_min_cover_days": (1.2, "1 araw"),
    "cash_out_share": (0.9, "90%"),
    "loan_on_time_share": (0.5, "50%"),
    "loan_worst_dpd": (12.0, "12 araw"),
}


def filipino_of(code: str, value: Any, english: str, values: dict[str, Any] | None = None) -> str:
    with i18n.using("fil"):
        return reason_text(
            {"code": code, "text": english}, {code: value} if values is None else values
        )


def test_every_feature_has_a_filipino_reason_with_its_number():
    assert set(FEATURE_VALUES) == set(features.FEATURES)
    for code, (value, number) in FEATURE_VALUES.items():
        english = features.describe(code, value)
        filipino = filipino_of(code, value, english)
        assert filipino != english, code
        assert number in filipino, (code, filipino)
        with i18n.using("en"):
            assert reason_text({"code": code, "text": english}, {code: value}) == english
    for code, value, number in [("sales_trend", 0.5, "50%"), ("sales_momentum", 1.25, "25%")]:
        filipino = filipino_of(code, value, features.describe(code, value))
        assert number in filipino and ("tumaas" in filipino or "mataas" in filipino)
    level = features.describe("sales_momentum", 1.0)
    assert filipino_of("sales_momentum", 1.0, level) != level


def test_missing_values_and_too_little_history_in_filipino():
    for code, english in features.MISSING.items():
        filipino = filipino_of(code, None, english)
        assert filipino != english and filipino, code
    values = {"tenure_days": 12.0, "sales_count_90d": 3.0}
    tenure, sales = features.insufficient(pd.Series(values))
    short = filipino_of("insufficient_history", None, tenure, values)
    few = filipino_of("insufficient_history", None, sales, values)
    assert short != tenure and "12 araw" in short
    assert f"{limits.CREDIT_MIN_TENURE_DAYS} araw" in short
    assert few != sales and "3 benta" in few and str(limits.CREDIT_MIN_SALES_90D) in few


def test_an_unknown_code_or_value_falls_back_to_the_stored_english():
    cases = [
        ("a_new_feature", 1.0, "a new feature is 1", None),
        ("avg_ticket", 12_345.6, "an average sale of ₱123.46", {}),  # the value not kept
        ("avg_ticket", 12_345.6, "some other wording of ₱123.46", None),  # other texts
        ("avg_ticket", "not a number", "an average sale of something", None),
        ("insufficient_history", None, "on Tindahan for 3 days", {"tenure_days": 3.0}),
        ("tenure_days", None, "some text", None),  # no value and no MISSING sentence
    ]
    for code, value, english, values in cases:
        assert filipino_of(code, value, english, values) == english, code
    with i18n.using("fil"):
        assert reason_text({}, {}) == ""
