"""The lending API over HTTP, on SQLite and PostgreSQL: a merchant's loan from offer to
repayment with the operator's book right to the centavo, idempotent acceptance, tenancy
(another merchant's loan is 404, the book is the operator's), and refusals that answer
``{"error": {type, code, message, param}}`` and change nothing.

The database clock starts at 10:00 on a Philippine business day (``clock`` below), so
offers expire and days end when the test says so. Credit assessments are inserted as the
credit service stores them (``tests.lending.conftest.assess``): no model is needed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, Party, World, make_party
from tests.conftest import Clock
from tests.lending.conftest import assess
from tindahan import limits
from tindahan.lending.calendar import day_start_ns
from tindahan.services.ledger.verify import verify
from tindahan.services.lending.reports import TAPE_COLUMNS
from tindahan.services.unit import Platform

DAY0 = date(2026, 9, 1)  # a Tuesday
HOUR = 3600
TYPES = {
    400: "invalid_request_error",
    403: "permission_error",
    404: "not_found",
    409: "conflict",
}
ANY = object()
PRODUCT = {
    "name": "Puhunan",
    "min_principal_minor": 100_000,
    "max_principal_minor": 1_000_000,
    "frequency": "weekly",
    "min_term": 4,
    "max_term": 16,
    "rate_min": "2",
    "rate_max": "4",
    "fee_bps": 300,
    "penalty_rate": "3",
    "grace_days": 2,
    "auto_deduct_bps": 2000,
}
STORE = {"kind": "merchant", "mcc": "5411", "city": "Calamba", "province": "Laguna"}


@pytest.fixture
def clock() -> Clock:
    """Overrides the root ``clock``: 10:00 Philippine time on ``DAY0``."""
    return Clock(day_start_ns(DAY0) + 10 * HOUR * 10**9)


def refused(response: httpx.Response, status: int, code: str | None, param: Any = ANY) -> dict:
    """The error object with this status, type, code (unless None) and param (unless ANY)."""
    if response.status_code >= 500:
        pytest.fail(f"{response.status_code} (expected {status}): {response.text}", pytrace=False)
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"type", "code", "message", "param"}, error
    assert error["type"] == TYPES[status], error
    if code is not None:
        assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"], error
    if param is not ANY:
        assert error["param"] == param, error
    return error


@dataclass
class Lending:
    world: World
    platform: Platform
    clock: Clock
    product: dict[str, Any]

    @property
    def api(self) -> Api:
        return self.world.api

    @property
    def op(self) -> str:
        return self.world.operator

    @property
    def merchant(self) -> Party:
        return self.world.merchant

    def new_merchant(self, name: str) -> Party:
        made = make_party(self.api, self.op, {**STORE, "name": name})
        assess(self.platform, made.id)
        return made

    def offer(self, who: Party | None = None, **fields: Any) -> dict[str, Any]:
        who = who or self.merchant
        body = {"product_id": self.product["id"], **fields}
        return self.api.ok(self.api.post("/v1/loan_offers", who.key, body))

    def accept(self, offer: dict[str, Any], who: Party | None = None) -> dict[str, Any]:
        who = who or self.merchant
        return self.api.ok(self.api.post(f"/v1/loan_offers/{offer['id']}/accept", who.key))

    def loan(self, loan_id: str, key: str | None = None) -> dict[str, Any]:
        return self.api.ok(self.api.get(f"/v1/loans/{loan_id}", key or self.op))

    def repay(self, loan_id: str, amount: int, who: Party | None = None) -> dict[str, Any]:
        who = who or self.merchant
        path = f"/v1/loans/{loan_id}/repayments"
        return self.api.ok(self.api.post(path, who.key, {"amount_minor": amount}))

    def pay_merchant(self, amount: int, merchant: Party | None = None) -> dict[str, Any]:
        body = {
            "payee_id": (merchant or self.merchant).id,
            "amount_minor": amount,
            "currency": "PHP",
        }
        return self.api.ok(self.api.post("/v1/payments", self.world.buyer.key, body))

    def state(self) -> dict[str, Any]:
        """What a refusal must leave as it was, read through the API with the operator's
        key: every wallet's balances, every product, offer and loan (with its schedule and
        transactions)."""
        api, op = self.api, self.op
        wallets = api.ok(api.get("/v1/wallets", op, limit=200))["data"]
        loans = api.ok(api.get("/v1/loans", op))["data"]
        return {
            "wallets": {
                w["id"]: (w["balance_minor"], w["available_minor"], w["pending_out_minor"])
                for w in wallets
            },
            "products": api.ok(api.get("/v1/loan_products", op))["data"],
            "offers": api.ok(api.get("/v1/loan_offers", op))["data"],
            "loans": loans,
            "schedules": {
                x["id"]: api.ok(api.get(f"/v1/loans/{x['id']}/schedule", op)) for x in loans
            },
            "transactions": {
                x["id"]: api.ok(api.get(f"/v1/loans/{x['id']}/transactions", op)) for x in loans
            },
            "holidays": api.ok(api.get("/v1/loan_holidays", op))["data"],
        }

    @contextmanager
    def nothing_moves(self) -> Iterator[None]:
        before = self.state()
        yield
        after = self.state()
        for part in before:
            assert after[part] == before[part], part


@pytest.fixture
def lending(world, platform, clock) -> Lending:
    product = world.api.ok(world.api.post("/v1/loan_products", world.operator, PRODUCT))
    assess(platform, world.merchant.id)  # scored, PD 0.05, ₱20,000 a month of sales
    return Lending(world, platform, clock, product)


def ledger_ok(platform: Platform) -> None:
    report = verify(platform.db)
    assert report.ok, report.violations


# --- 1. the merchant's journey ---------------------------------------------------------------
def test_merchant_journey_offer_to_repayment_and_the_operators_book(lending: Lending):
    api, world, op = lending.api, lending.world, lending.op
    assert lending.product["object"] == "loan_product"
    assert lending.product["status"] == "active"
    assert lending.product["allocation_order"] == ["penalty", "fee", "interest", "principal"]

    # The offer, with its full disclosure.
    offer = lending.offer(term=8)
    assert offer["object"] == "loan_offer" and offer["status"] == "open"
    assert offer["merchant_id"] == world.merchant.id
    assert offer["principal_minor"] == offer["limit_minor"] == 1_000_000
    assert offer["term"] == 8 and offer["frequency"] == "weekly"
    assert Decimal("0.02") < Decimal(offer["rate_monthly"]) < Decimal("0.04")  # PD 0.05
    assert offer["small_loan_ceilings_apply"] is True
    shown = offer["disclosure"]
    assert shown["principal_minor"] == 1_000_000
    assert shown["fee_minor"] == 30_000  # 3%, deducted
    assert shown["amount_financed_minor"] == shown["net_proceeds_minor"] == 970_000
    schedule = shown["schedule"]
    assert len(schedule) == 8
    assert sum(i["principal_minor"] for i in schedule) == 1_000_000
    interest = sum(i["interest_minor"] for i in schedule)
    assert interest > 0 and shown["interest_minor"] == interest
    assert shown["finance_charge_minor"] == interest + 30_000
    assert shown["total_of_payments_minor"] == sum(i["total_minor"] for i in schedule)
    assert shown["total_of_payments_minor"] == 1_000_000 + interest
    for key in ("eir_monthly", "eir_annual", "eir_per_period", "rate_per_period"):
        assert isinstance(shown[key], str), key
        Decimal(shown[key])  # a decimal string
    assert Decimal(shown["eir_monthly"]) > Decimal(offer["rate_monthly"])  # the fee
    assert Decimal(shown["eir_annual"]) > 12 * Decimal(shown["eir_monthly"])  # compounded
    dues = [date.fromisoformat(i["due_date"]) for i in schedule]
    assert dues[0] > DAY0 and dues == sorted(dues)
    seen = api.ok(api.get(f"/v1/loan_offers/{offer['id']}", world.merchant.key))
    assert seen["fit"]["level"] == "unknown"  # no sale yet (the fit's own test below)
    assert {k: v for k, v in seen.items() if k != "fit"} == offer

    # Acceptance: the net proceeds reach the main wallet.
    main_before = world.balance(world.merchant)
    loan = lending.accept(offer)
    loan_id = loan["id"]
    assert loan["object"] == "loan" and loan["status"] == "active"
    assert loan["offer_id"] == offer["id"] and loan["principal_minor"] == 1_000_000
    assert world.balance(world.merchant) == main_before + 970_000
    accepted = api.ok(api.get(f"/v1/loan_offers/{offer['id']}", world.merchant.key))
    assert accepted["status"] == "accepted" and accepted["loan_id"] == loan_id
    assert accepted["fit"] is None  # nothing left to decide
    assert loan["balance"]["principal_minor"] == 1_000_000
    assert loan["balance"]["reserve_minor"] == 0
    ledger_ok(lending.platform)
    lending.clock.advance(60)  # transactions list by time: one a minute

    # A customer pays the merchant: 20% of the sale goes to the loan's reserve.
    settlement_before = world.balance(world.merchant, "settlement")
    paid = lending.pay_merchant(150_000)
    assert paid["status"] == "succeeded"
    view = lending.loan(loan_id, world.merchant.key)
    assert view["balance"]["reserve_minor"] == 30_000
    fee = paid["fee_minor"]
    assert world.balance(world.merchant, "settlement") == settlement_before + 150_000 - fee - 30_000

    # The schedule and the transactions.
    lines = api.ok(api.get(f"/v1/loans/{loan_id}/schedule", world.merchant.key))["data"]
    assert [x["seq"] for x in lines] == list(range(1, 9))
    assert all(x["status"] == "open" and x["version"] == 1 for x in lines)
    assert [(x["due_date"], x["principal_minor"], x["interest_minor"]) for x in lines] == [
        (i["due_date"], i["principal_minor"], i["interest_minor"]) for i in schedule
    ]
    txns = api.ok(api.get(f"/v1/loans/{loan_id}/transactions", world.merchant.key))["data"]
    assert [t["kind"] for t in txns] == ["disbursement", "set_aside"]
    assert txns[0]["amount_minor"] == 970_000 and txns[0]["source"] == "lender"
    assert txns[1]["amount_minor"] == 30_000 and txns[1]["payment_id"] == paid["id"]
    lending.clock.advance(60)

    # The merchant repays ₱500 from the main wallet: the reserve's ₱300 is used first.
    main_before = world.balance(world.merchant)
    after = lending.repay(loan_id, 50_000)
    assert world.balance(world.merchant) == main_before - 50_000
    assert after["balance"]["reserve_minor"] == 0
    assert after["status"] == "active"
    txns = api.ok(api.get(f"/v1/loans/{loan_id}/transactions", world.merchant.key))["data"]
    repayment = txns[-1]
    assert repayment["kind"] == "repayment" and repayment["source"] == "main"
    assert repayment["amount_minor"] == 80_000  # 30,000 from the reserve + 50,000
    parts = ("principal_minor", "interest_minor", "fee_minor", "penalty_minor")
    assert sum(repayment[p] for p in parts) == 80_000
    ledger_ok(lending.platform)

    # A second merchant borrows ₱1,500 over 4 weeks a day later and repays it all.
    lending.clock.advance(24 * HOUR)
    other = lending.new_merchant("Sari-sari ni Ben")
    world.fund(other, 200_000)
    second = lending.accept(lending.offer(other, principal_minor=150_000, term=4), other)
    assert world.balance(other) == 200_000 + 150_000 - 4_500
    payoff = lending.loan(second["id"], other.key)["balance"]["payoff_minor"]
    assert payoff >= 150_000
    closed = lending.repay(second["id"], payoff, other)
    assert closed["status"] == "closed"
    assert closed["balance"]["receivable_minor"] == 0
    assert world.balance(other) == 200_000 + 150_000 - 4_500 - payoff
    ledger_ok(lending.platform)

    # The operator's book, to the centavo.
    first = lending.loan(loan_id)
    repaid = [
        t["amount_minor"]
        for lid in (loan_id, second["id"])
        for t in api.ok(api.get(f"/v1/loans/{lid}/transactions", op))["data"]
        if t["kind"] == "repayment"
    ]
    assert repaid == [80_000, payoff]
    book = api.ok(api.get("/v1/loan_portfolio", op))
    assert book["object"] == "loan_portfolio" and book["currency"] == "PHP"
    total = book["total"]
    assert total["loans"] == 2 and total["active"] == 1
    assert total["disbursed_minor"] == 1_000_000 + 150_000
    assert total["outstanding_minor"] == first["balance"]["principal_minor"]
    assert total["outstanding_minor"] == 1_000_000 - first["paid"]["principal_minor"]
    assert total["collected_minor"] == sum(repaid) == 80_000 + payoff
    assert sum(total["collected"].values()) == total["collected_minor"]
    assert total["written_off_minor"] == 0
    [by_product] = book["by_product"]
    assert by_product["product_id"] == lending.product["id"] and by_product["name"] == "Puhunan"
    assert {k: v for k, v in by_product.items() if k not in ("product_id", "name")} == total
    provinces = {p["province"]: p for p in book["by_province"]}
    assert set(provinces) == {"Metro Manila", "Laguna"}
    assert provinces["Metro Manila"]["disbursed_minor"] == 1_000_000
    assert provinces["Laguna"]["collected_minor"] == payoff

    # The loan tape: a header and one row per loan.
    tape = api.get("/v1/loan_tape", op)
    assert tape.status_code == 200, tape.text
    assert tape.headers["content-type"].startswith("text/csv")
    assert "loan-tape.csv" in tape.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(tape.text)))
    assert tuple(rows[0]) == TAPE_COLUMNS
    assert len(rows) == 3
    by_id = {r[0]: dict(zip(TAPE_COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(by_id) == {loan_id, second["id"]}
    assert by_id[loan_id]["status"] == "active"
    assert int(by_id[loan_id]["outstanding_principal_minor"]) == total["outstanding_minor"]
    assert by_id[second["id"]]["status"] == "closed"
    assert by_id[second["id"]]["outstanding_principal_minor"] == "0"
    assert by_id[second["id"]]["province"] == "Laguna"
    ledger_ok(lending.platform)


# --- 2. idempotency --------------------------------------------------------------------------
def test_the_open_offer_says_whether_its_installments_fit_the_sales(lending: Lending):
    """Issue 26, item 3: the offer's view carries the loan-fit advice — the usual weekly
    sales (the median of the 12 complete weeks to yesterday) over the largest installment,
    rounded down to one place — for the merchant and the operator; advice, never a gate."""
    api, world = lending.api, lending.world
    world.fund(world.buyer, 1_000_000)
    for _week in range(13):  # one ₱1,500 sale a week: every 7-day period has exactly one
        lending.pay_merchant(150_000)
        lending.clock.advance(7 * 86_400)
    assess(lending.platform, world.merchant.id)
    offer = lending.offer(term=16)
    largest = max(row["total_minor"] for row in offer["disclosure"]["schedule"])
    cover = (Decimal(150_000) / Decimal(largest)).quantize(Decimal("0.1"), "ROUND_DOWN")
    assert Decimal("1.5") <= cover < 3  # ₱1,500 against about ₱700: "fits"
    expected = {
        "object": "loan_fit",
        "level": "fits",
        "cover": str(cover),
        "usual_sales_minor": 150_000,
        "installment_minor": largest,
        "period_days": 7,
        "periods": 12,
        "days_compared": 90,
        "advice_only": True,
    }
    path = f"/v1/loan_offers/{offer['id']}"
    assert api.ok(api.get(path, world.merchant.key))["fit"] == expected
    assert api.ok(api.get(path, lending.op))["fit"] == expected
    # A key that may read loans but not payments reads the offer, without the advice.
    body = {"party_id": world.merchant.id, "scopes": ["loans:read"]}
    narrow = api.ok(api.post("/v1/api_keys", lending.op, body))["secret"]
    assert api.ok(api.get(path, narrow))["fit"] is None
    # Advice, not a gate: the offer is accepted as any other.
    assert lending.accept(offer)["status"] == "active"


def test_accepting_twice_with_one_key_disburses_once(lending: Lending):
    api, world = lending.api, lending.world
    offer = lending.offer()
    before = world.balance(world.merchant)
    path = f"/v1/loan_offers/{offer['id']}/accept"
    first = api.post(path, world.merchant.key, idem="take-the-loan")
    second = api.post(path, world.merchant.key, idem="take-the-loan")
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    net = offer["disclosure"]["net_proceeds_minor"]
    assert world.balance(world.merchant) == before + net
    loans = api.ok(api.get("/v1/loans", world.merchant.key))["data"]
    assert [x["id"] for x in loans] == [first.json()["id"]]

    with lending.nothing_moves():
        again = api.post(path, world.merchant.key)  # a new key
        refused(again, 409, "offer_already_accepted", "id")
    assert world.balance(world.merchant) == before + net
    ledger_ok(lending.platform)


def test_repaying_twice_with_one_key_moves_money_once(lending: Lending):
    api, world = lending.api, lending.world
    loan = lending.accept(lending.offer())
    before = world.balance(world.merchant)
    path = f"/v1/loans/{loan['id']}/repayments"
    first = api.post(path, world.merchant.key, {"amount_minor": 10_000}, idem="pay-once")
    second = api.post(path, world.merchant.key, {"amount_minor": 10_000}, idem="pay-once")
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert world.balance(world.merchant) == before - 10_000
    # the same key with another amount is refused
    reused = api.post(path, world.merchant.key, {"amount_minor": 20_000}, idem="pay-once")
    assert reused.status_code == 409, reused.text
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert world.balance(world.merchant) == before - 10_000
    ledger_ok(lending.platform)


# --- 3. tenancy ------------------------------------------------------------------------------
def test_another_merchant_cannot_reach_the_offer_or_the_loan(lending: Lending):
    api, world = lending.api, lending.world
    other = lending.new_merchant("Iba")
    offer = lending.offer()
    oid = offer["id"]
    with lending.nothing_moves():
        refused(api.get(f"/v1/loan_offers/{oid}", other.key), 404, "resource_missing")
        refused(api.post(f"/v1/loan_offers/{oid}/accept", other.key), 404, "resource_missing")
        refused(api.get(f"/v1/loan_offers/{oid}", world.buyer.key), 404, "resource_missing")
    assert [o["id"] for o in api.ok(api.get("/v1/loan_offers", other.key))["data"]] == []
    # the operator sees it but cannot accept for the merchant
    assert api.ok(api.get(f"/v1/loan_offers/{oid}", lending.op))["status"] == "open"
    with lending.nothing_moves():
        refused(api.post(f"/v1/loan_offers/{oid}/accept", lending.op), 409, "merchant_only")

    loan = lending.accept(offer)
    lid = loan["id"]
    with lending.nothing_moves():
        for path in ("", "/schedule", "/transactions"):
            refused(api.get(f"/v1/loans/{lid}{path}", other.key), 404, "resource_missing")
        body = {"amount_minor": 1_000}
        repay = api.post(f"/v1/loans/{lid}/repayments", other.key, body)
        refused(repay, 404, "resource_missing")
    assert api.ok(api.get("/v1/loans", other.key))["data"] == []
    assert [x["id"] for x in api.ok(api.get("/v1/loans", world.merchant.key))["data"]] == [lid]


def test_the_book_is_the_operators(lending: Lending):
    api, key = lending.api, lending.merchant.key
    loan = lending.accept(lending.offer())
    lid = loan["id"]
    with lending.nothing_moves():
        refused(api.post("/v1/loan_products", key, PRODUCT), 403, "operator_only")
        path = f"/v1/loan_products/{lending.product['id']}/retire"
        refused(api.post(path, key), 403, "operator_only")
        refused(api.get("/v1/loan_portfolio", key), 403, "operator_only")
        refused(api.get("/v1/loan_tape", key), 403, "operator_only")
        restructure = api.post(f"/v1/loans/{lid}/restructure", key, {"term": 16})
        refused(restructure, 403, "operator_only")
        refused(api.post(f"/v1/loans/{lid}/write_off", key, {}), 403, "operator_only")
        put = api.http.put(
            "/v1/loan_holidays/2026-12-08",
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "h1"},
            json={"name": "Immaculate Conception"},
        )
        refused(put, 403, "operator_only")


def test_a_merchant_cannot_run_the_close(lending: Lending):
    lending.accept(lending.offer())
    lending.clock.advance(24 * HOUR)
    body = {"business_date": DAY0.isoformat()}
    with lending.nothing_moves():
        refused(
            lending.api.post("/v1/loan_closes", lending.merchant.key, body), 403, "operator_only"
        )


# --- 4. bad input changes nothing ------------------------------------------------------------
def test_an_expired_offer_cannot_be_accepted(lending: Lending):
    offer = lending.offer()
    lending.clock.advance(limits.LOAN_OFFER_SECONDS)  # exactly its expiry
    api = lending.api
    before = lending.world.balance(lending.merchant)
    with lending.nothing_moves():
        response = api.post(f"/v1/loan_offers/{offer['id']}/accept", lending.merchant.key)
        refused(response, 409, "offer_expired", "id")
    seen = api.ok(api.get(f"/v1/loan_offers/{offer['id']}", lending.merchant.key))
    assert seen["status"] == "expired" and seen["loan_id"] is None
    assert lending.world.balance(lending.merchant) == before
    assert api.ok(api.get("/v1/loans", lending.op))["data"] == []


def test_a_newer_offer_withdraws_the_older(lending: Lending):
    old = lending.offer(term=4)
    new = lending.offer(term=8)
    api = lending.api
    assert api.ok(api.get(f"/v1/loan_offers/{old['id']}", lending.op))["status"] == "withdrawn"
    with lending.nothing_moves():
        response = api.post(f"/v1/loan_offers/{old['id']}/accept", lending.merchant.key)
        refused(response, 409, "offer_withdrawn", "id")
    assert lending.accept(new)["term"] == 8


OUTSIDE_THE_PRODUCT = [
    ({"principal_minor": 99_999}, "amount_out_of_range", "principal_minor"),
    ({"principal_minor": 1_000_001}, "amount_out_of_range", "principal_minor"),
    ({"term": 3}, "term_out_of_range", "term"),
    ({"term": 17}, "term_out_of_range", "term"),
    ({"principal_minor": 0}, "parameter_invalid", "principal_minor"),
    ({"principal_minor": 150_000.5}, "parameter_invalid", "principal_minor"),
    ({"term": "8"}, "parameter_invalid", "term"),
]


def test_an_offer_outside_the_product_is_refused(lending: Lending):
    lending.offer(term=8)  # an open offer, which a refused request must not withdraw
    with lending.nothing_moves():
        for fields, code, param in OUTSIDE_THE_PRODUCT:
            body = {"product_id": lending.product["id"], **fields}
            response = lending.api.post("/v1/loan_offers", lending.merchant.key, body)
            refused(response, 400, code, param)


def test_offers_that_cannot_be_made(lending: Lending):
    api, key = lending.api, lending.merchant.key
    fresh = make_party(api, lending.op, {**STORE, "name": "Bago"})  # no assessment
    with lending.nothing_moves():
        missing = {"product_id": "lnp_nosuchproduct000000000000"}
        refused(api.post("/v1/loan_offers", key, missing), 404, "resource_missing")
    body = {"product_id": lending.product["id"]}
    with lending.nothing_moves():
        refused(api.post("/v1/loan_offers", fresh.key, body), 409, "assessment_required")
    # a merchant with an open loan cannot take a second one
    lending.accept(lending.offer())
    with lending.nothing_moves():
        refused(api.post("/v1/loan_offers", key, body), 409, "loan_already_open")


BAD_PRODUCTS = [
    ({"rate_max": "7"}, "legal_cap_exceeded", ANY),  # above 6% a month nominal
    ({"penalty_rate": "6"}, "legal_cap_exceeded", ANY),  # above 5% a month
    ({"method": "flat"}, "method_not_allowed", "method"),
    ({"method": "balloon"}, "method_invalid", "method"),
    ({"frequency": "hourly"}, "frequency_invalid", "frequency"),
    ({"rate_min": "5", "rate_max": "4"}, "rate_invalid", "rate_min"),
    ({"min_principal_minor": 0}, "parameter_invalid", "min_principal_minor"),
    ({"min_term": 1.5}, "parameter_invalid", "min_term"),
    ({"fee_bps": "300"}, "parameter_invalid", "fee_bps"),
    ({"colour": "blue"}, "parameter_unknown", "colour"),
]


def test_a_product_that_cannot_exist_is_refused(lending: Lending):
    with lending.nothing_moves():
        for fields, code, param in BAD_PRODUCTS:
            body = {**PRODUCT, "name": "Bawal", **fields}
            refused(lending.api.post("/v1/loan_products", lending.op, body), 400, code, param)


BAD_REPAYMENTS = [
    ({"amount_minor": -1}, "amount_invalid"),
    ({"amount_minor": 0}, "amount_invalid"),
    ({"amount_minor": 100.5}, "amount_invalid"),
    ({"amount_minor": 100.0}, "amount_invalid"),
    ({"amount_minor": "100"}, "amount_invalid"),
    ({"amount_minor": True}, "amount_invalid"),
    ({"amount_minor": 2**63}, "amount_invalid"),
    ({}, "parameter_missing"),
    ({"amount_minor": 100, "tip_minor": 5}, "parameter_unknown"),
    ({"amount_minor": 100, "source": "float"}, "source_invalid"),
]


def test_bad_repayments_are_refused(lending: Lending):
    loan = lending.accept(lending.offer())
    path = f"/v1/loans/{loan['id']}/repayments"
    with lending.nothing_moves():
        for body, code in BAD_REPAYMENTS:
            refused(lending.api.post(path, lending.merchant.key, body), 400, code)


def test_repaying_more_than_is_owed_and_a_closed_loan(lending: Lending):
    api, world = lending.api, lending.world
    loan = lending.accept(lending.offer(principal_minor=200_000, term=4))
    lending.pay_merchant(100_000)  # 20,000 to the reserve
    lid, key = loan["id"], world.merchant.key
    view = lending.loan(lid)
    assert view["balance"]["reserve_minor"] == 20_000
    payoff = view["balance"]["payoff_minor"]
    path = f"/v1/loans/{lid}/repayments"
    with lending.nothing_moves():
        error = refused(
            api.post(path, key, {"amount_minor": payoff + 1}), 400, "overpayment", "amount_minor"
        )
        assert str(payoff) in error["message"]
        refused(api.post(path, lending.op, {"amount_minor": 1_000}), 409, "merchant_only")
    main = world.balance(world.merchant)
    settlement = world.balance(world.merchant, "settlement")
    closed = lending.repay(lid, payoff)
    assert closed["status"] == "closed"
    assert closed["balance"]["reserve_minor"] == 0
    assert world.balance(world.merchant) == main - payoff
    assert world.balance(world.merchant, "settlement") == settlement
    with lending.nothing_moves():
        refused(api.post(path, key, {"amount_minor": 1_000}), 409, "loan_closed", "id")
        refused(api.post(f"/v1/loans/{lid}/write_off", lending.op, {}), 409, "loan_not_active")
        restructure = api.post(f"/v1/loans/{lid}/restructure", lending.op, {"term": 8})
        refused(restructure, 409, "loan_not_active")
    ledger_ok(lending.platform)


def test_unknown_fields_and_ids_are_refused(lending: Lending):
    api, key, op = lending.api, lending.merchant.key, lending.op
    loan = lending.accept(lending.offer())
    lid = loan["id"]
    with lending.nothing_moves():
        offer = {"product_id": lending.product["id"], "discount": 1}
        refused(api.post("/v1/loan_offers", key, offer), 400, "parameter_unknown", "discount")
        refused(api.post("/v1/loan_offers", key, {}), 400, "parameter_missing", "product_id")
        body = {"product_id": lending.product["id"], "term": "8"}
        refused(api.post("/v1/loan_offers", key, body), 400, "parameter_invalid", "term")
        refused(api.post("/v1/loan_offers", key, []), 400, "body_invalid")
        restructure = api.post(f"/v1/loans/{lid}/restructure", op, {"term": 8, "x": 1})
        refused(restructure, 400, "parameter_unknown", "x")
        refused(api.post(f"/v1/loans/{lid}/write_off", op, {"reason": "x"}), 400, None)
        close = {"business_date": "2026-09-01", "force": True}
        refused(api.post("/v1/loan_closes", op, close), 400, "parameter_unknown", "force")
        for path in ("/v1/loans/loan_nosuchloan00000000000000", "/v1/loan_offers/lno_nope"):
            refused(api.get(path, key), 404, "resource_missing")
        refused(api.get("/v1/loans/bad id!", key), 400, None)
    assert lending.loan(lid)["status"] == "active"


def put_holiday(lending: Lending, day: str, body: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {lending.op}", "Idempotency-Key": f"h-{day}"}
    return lending.api.http.put(f"/v1/loan_holidays/{day}", headers=headers, json=body)


def test_holidays_and_their_bad_dates(lending: Lending):
    made = put_holiday(lending, "2026-12-08", {"name": "Immaculate Conception"})
    assert made.status_code == 200, made.text
    assert made.json() == {
        "object": "loan_holiday",
        "day": "2026-12-08",
        "name": "Immaculate Conception",
    }
    with lending.nothing_moves():
        refused(put_holiday(lending, "2026-02-30", {"name": "x"}), 400, "date_invalid", "day")
        refused(put_holiday(lending, "2026-13-01", {"name": "x"}), 400, "date_invalid", "day")
        refused(put_holiday(lending, "Dec-8-2026", {"name": "x"}), 400, None)
        refused(put_holiday(lending, "2026-12-25", {}), 400, "parameter_missing", "name")
        refused(put_holiday(lending, "2026-12-25", {"name": ""}), 400, None, "name")
        refused(put_holiday(lending, "2026-12-25", {"name": "x", "y": 1}), 400, None, "y")
    days = lending.api.ok(lending.api.get("/v1/loan_holidays", lending.op))["data"]
    assert [d["day"] for d in days] == ["2026-12-08"]


MALFORMED_DAYS = [
    ("2026-02-30", "date_invalid"),
    ("2026-13-01", "date_invalid"),
    ("01/09/2026", "parameter_invalid"),
    ("yesterday", "parameter_invalid"),
    ("", "parameter_invalid"),
    (20260901, "parameter_invalid"),
]


def test_a_close_for_a_malformed_day_is_refused(lending: Lending):
    lending.accept(lending.offer())
    lending.clock.advance(24 * HOUR)
    with lending.nothing_moves():
        for day, code in MALFORMED_DAYS:
            response = lending.api.post("/v1/loan_closes", lending.op, {"business_date": day})
            refused(response, 400, code, "business_date")
        response = lending.api.post("/v1/loan_closes", lending.op, {})
        refused(response, 400, "parameter_missing", "business_date")


def test_a_close_for_today_or_a_future_day_is_refused(lending: Lending):
    loan = lending.accept(lending.offer())
    with lending.nothing_moves():
        for ahead in (0, 1, 400):
            day = (DAY0 + timedelta(days=ahead)).isoformat()
            response = lending.api.post("/v1/loan_closes", lending.op, {"business_date": day})
            refused(response, 400, "date_invalid", "business_date")
    assert lending.loan(loan["id"])["balance"]["interest_minor"] == 0


# --- 5. the daily close ----------------------------------------------------------------------
def close_day(lending: Lending, day: date, idem: str | None = None) -> dict[str, Any]:
    body = {"business_date": day.isoformat()}
    return lending.api.ok(lending.api.post("/v1/loan_closes", lending.op, body, idem=idem))


def figures(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "milliseconds"}


def test_the_close_runs_for_a_past_day_and_once(lending: Lending):
    loan = lending.accept(lending.offer(term=8))
    lending.clock.advance(24 * HOUR)
    before = lending.loan(loan["id"])
    report = close_day(lending, DAY0)
    assert report["object"] == "loan_close"
    assert report["business_date"] == DAY0.isoformat()
    assert report["loans"] == 1
    assert report["buckets"]["current"] == 1
    after = lending.loan(loan["id"])
    assert (
        after["balance"]["interest_minor"]
        == before["balance"]["interest_minor"] + (report["interest_minor"])
    )
    ledger_ok(lending.platform)
    with lending.nothing_moves():
        again = close_day(lending, DAY0)
        replay = close_day(lending, DAY0, idem="close-once")
        close_day(lending, DAY0, idem="close-once")
    assert again["loans"] == replay["loans"] == 1
    ledger_ok(lending.platform)


def test_a_second_close_reports_the_same_figures(lending: Lending):
    lending.accept(lending.offer(term=8))
    lending.clock.advance(24 * HOUR)
    first = close_day(lending, DAY0)
    assert first["interest_minor"] > 0
    again = close_day(lending, DAY0)
    assert figures(again) == figures(first)
