"""Loan disbursements through the API with the ledger on a real TigerBeetle cluster (issue
22): the acceptance through the two-store order (``payments.loan_cluster``), a crash after each of
its steps and recovery, a disbursement undone when its time ran out, and verify; the daily
close, repayments from a wallet and from sales (the set-aside in a sale, in an order's
release and in a dispute decision's release, each against the SQL path's figures for the
same sales).

The deployment is ``test_payments``'s (a one-replica cluster per database, the barangay moved
over with the migration); each test takes a new merchant, as a merchant has one loan at a
time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.api.conftest import Party, make_party
from tests.lending.conftest import assess
from tests.tigerbeetle import test_payments, test_web_withdraw_send
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies, _incoming_of
from tests.tigerbeetle.test_requests_qr import PIN
from tests.ussd.conftest import PIN as USSD_PIN
from tests.ussd.conftest import Phone
from tindahan.kernel.callers import DEFAULT_SCOPES, SCOPES, Caller
from tindahan.services.commerce import disputes, escrow, escrow_cluster, orders
from tindahan.services.ledger import cluster_booking, movement, risk_gate
from tindahan.services.lending import close, loans, operator_cluster
from tindahan.services.lending import close_cluster as close_cluster_module
from tindahan.services.payments import payments, two_store
from tindahan.services.payments.payments import NewPayment
from tindahan.services.platform import logins
from tindahan.store.lending_tables import (
    loan_closes,
    loan_installments,
    loan_moves,
    loan_offers,
    loan_transactions,
)
from tindahan.store.lending_tables import loans as loan_rows
from tindahan.store.payment_tables import events, two_store_payments, wallet_usage
from tindahan.store.web_tables import audit_log
from tindahan.tigerbeetle.verify import verify as verify_cluster

pytestmark = pytest.mark.xdist_group("tigerbeetle-a")

#: The payments module's fixtures: its deployment (one per module that uses it) and crashes.
deployment = test_payments.deployment
crash_after = test_payments.crash_after

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


def _offer(d: Deployment) -> tuple[Party, dict[str, Any]]:
    """A new merchant, assessed, with an open offer of ₱5,000 over 8 weeks (a 3% fee)."""
    product = d.api.ok(d.api.post("/v1/loan_products", d.world.operator, PRODUCT))
    merchant = make_party(d.api, d.world.operator, {**STORE, "name": f"Tindahan {uuid.uuid4()}"})
    assess(d.platform, merchant.id)
    body = {"product_id": product["id"], "principal_minor": 500_000, "term": 8}
    return merchant, d.api.ok(d.api.post("/v1/loan_offers", merchant.key, body))


def _accept(d: Deployment, merchant: Party, offer: dict[str, Any], key: str) -> Any:
    return d.api.post(f"/v1/loan_offers/{offer['id']}/accept", merchant.key, idem=key)


def _wallet(d: Deployment, merchant: Party) -> int:
    """The merchant's main wallet in the cluster (0 when the cluster has not opened it)."""
    account = d.platform.run(lambda u: _account(u, merchant), write=False)
    found = d.ledger.lookup_accounts([account]).get(account)
    assert found is None or found.debits_pending == found.credits_pending == 0
    return 0 if found is None else found.balance_posted


def _account(unit: Any, merchant: Party) -> str:
    return movement.holders(unit, [merchant.id])[(merchant.id, "main")].account_id


def _principal(d: Deployment, loan_id: str) -> int:
    """The loan's principal receivable in the cluster (debits less credits)."""
    account = loans.account(loan_id, "principal")
    found = d.ledger.lookup_accounts([account])[account]
    return found.debits_posted - found.credits_posted


def _fees(d: Deployment) -> int:
    found = d.ledger.lookup_accounts([loans.OP_FEES])[loans.OP_FEES]
    return found.credits_posted - found.debits_posted


def test_an_acceptance_disburses_in_the_cluster_and_answers_once(deployment):
    d = deployment
    merchant, offer = _offer(d)
    net, fee = offer["disclosure"]["net_proceeds_minor"], offer["disclosure"]["fee_minor"]
    fees = _fees(d)
    key = str(uuid.uuid4())
    loan = d.api.ok(_accept(d, merchant, offer, key))
    assert loan["object"] == "loan" and loan["status"] == "active"
    assert _wallet(d, merchant) == net == 500_000 - fee
    assert _principal(d, loan["id"]) == 500_000  # the fee deducted: net + fee
    assert _fees(d) == fees + fee
    assert _incoming_of(d, merchant) == net
    assert _announced(d, "loan.disbursed", loan["id"]) == 1
    entries = d.api.ok(d.api.get(f"/v1/loans/{loan['id']}/transactions", merchant.key))["data"]
    (entry,) = entries
    tail = {t.removeprefix(loan["id"].replace("_", ".")) for t in entry["transfer_ids"]}
    assert tail == {".disburse", ".disburse.post", ".fee"}
    again = _accept(d, merchant, offer, key)
    assert again.json() == loan and again.headers["Idempotent-Replayed"] == "true"
    other = _accept(d, merchant, offer, str(uuid.uuid4()))
    assert other.status_code == 409 and other.json()["error"]["code"] == "offer_already_accepted"
    assert _wallet(d, merchant) == net
    assert _announced(d, "loan.disbursed", loan["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_disbursement_pays_it_once(deployment, crash_after, step):
    d = deployment
    merchant, offer = _offer(d)
    net = offer["disclosure"]["net_proceeds_minor"]
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _accept(d, merchant, offer, key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    loan = d.api.ok(_accept(d, merchant, offer, key))
    assert loan["status"] == "active"
    replay = _accept(d, merchant, offer, key)
    assert replay.json() == loan and replay.headers["Idempotent-Replayed"] == "true"
    assert _wallet(d, merchant) == net
    assert _principal(d, loan["id"]) == 500_000
    assert _incoming_of(d, merchant) == net
    assert _announced(d, "loan.disbursed", loan["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def _count(d: Deployment, table: Any, column: Any, value: str) -> int:
    query = select(func.count()).select_from(table).where(column == value)
    return int(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_a_disbursement_past_its_time_is_undone_and_the_offer_is_open_again(
    deployment, crash_after
):
    d = deployment
    merchant, offer = _offer(d)
    key = str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: _accept(d, merchant, offer, key))
    crash_after(None)
    loan_id = d.platform.run(
        lambda u: u.conn.execute(
            select(loan_offers.c.loan_id).where(loan_offers.c.id == offer["id"])
        ).scalar_one(),
        write=False,
    )
    assert loan_id is not None and _incoming_of(d, merchant) > 0

    def past_deadline(unit: Any) -> None:
        place = two_store_payments.c.payment_id == loan_id
        unit.conn.execute(two_store_payments.update().where(place).values(deadline_ns=0))

    d.platform.run(past_deadline)
    assert two_store.recover(d.platform, older_than_s=0) == 1
    answer = _accept(d, merchant, offer, key)
    assert answer.status_code == 402, answer.text
    assert answer.json()["error"]["code"] == "reservation_expired"
    assert _wallet(d, merchant) == 0 and _incoming_of(d, merchant) == 0
    assert _count(d, loan_rows, loan_rows.c.id, loan_id) == 0
    assert _count(d, loan_installments, loan_installments.c.loan_id, loan_id) == 0
    assert _count(d, loan_transactions, loan_transactions.c.loan_id, loan_id) == 0
    assert _announced(d, "loan.disbursed", loan_id) == 0
    # the offer is open again: a new acceptance disburses
    loan = d.api.ok(_accept(d, merchant, offer, str(uuid.uuid4())))
    assert _wallet(d, merchant) == offer["disclosure"]["net_proceeds_minor"]
    assert loan["id"] != loan_id
    assert two_store.verify(d.db, d.ledger) == []


# -- the daily close's postings (``lending.close_cluster``) ------------------------------------


class Crash(Exception):
    """The close's process dies after the cluster booked a chunk, before its commit."""


def _receivables(d: Deployment, loan_id: str) -> tuple[int, int]:
    """The loan's interest and penalty receivables in the cluster (0 if never opened)."""
    ids = [loans.account(loan_id, "interest"), loans.account(loan_id, "penalty")]
    found = d.ledger.lookup_accounts(ids)
    return tuple(  # type: ignore[return-value]
        0 if i not in found else found[i].debits_posted - found[i].credits_posted for i in ids
    )


def _row(d: Deployment, loan_id: str) -> Any:
    query = select(loan_rows).where(loan_rows.c.id == loan_id)
    return d.platform.run(lambda u: u.conn.execute(query).mappings().one(), write=False)


def test_the_daily_close_books_its_postings_in_the_cluster_once(deployment, monkeypatch):
    """Twelve days closed one by one: interest accrues daily and, past the first due date
    and its grace, a penalty — in the cluster, equal to the loan's row; a crash after the
    cluster booked a chunk and before its commit, then the rerun: nothing twice."""
    d = deployment
    merchant, offer = _offer(d)
    loan = d.api.ok(_accept(d, merchant, offer, str(uuid.uuid4())))
    start = date.fromisoformat(_row(d, loan["id"])["closed_through"])
    interest = d.ledger.lookup_accounts([loans.OP_INTEREST]).get(loans.OP_INTEREST)
    income = 0 if interest is None else interest.credits_posted
    real = close.close_after

    def dies(unit: Any, day: date, report: Any, after: str) -> Any:
        done = real(unit, day, report, after)
        if done[0]:
            raise Crash(day)
        return done

    for n in range(1, 13):
        day = start + timedelta(days=n)
        if n == 6:
            monkeypatch.setattr(close, "close_after", dies)
            with pytest.raises(Crash):
                close.run(d.platform, day)
            monkeypatch.setattr(close, "close_after", real)
            assert _row(d, loan["id"])["closed_through"] == (day - timedelta(days=1)).isoformat()
        report = close.run(d.platform, day)
        assert not report.already
        row = _row(d, loan["id"])
        assert row["closed_through"] == day.isoformat()
        assert _receivables(d, loan["id"]) == (row["interest_accrued_minor"], row["penalty_minor"])
    assert row["interest_accrued_minor"] > 0 and row["penalty_minor"] > 0
    again = close.run(d.platform, day)
    assert again.already
    assert _receivables(d, loan["id"]) == (row["interest_accrued_minor"], row["penalty_minor"])
    after = d.ledger.lookup_accounts([loans.OP_INTEREST])[loans.OP_INTEREST].credits_posted
    assert after - income >= row["interest_accrued_minor"]
    assert verify_cluster(d.ledger).ok
    assert two_store.verify(d.db, d.ledger) == []
    # verify compares each loan's accounts in the cluster with its row
    where = loan_rows.c.id == loan["id"]

    def forge(unit: Any, value: int) -> None:
        unit.conn.execute(loan_rows.update().where(where).values(interest_accrued_minor=value))

    booked = row["interest_accrued_minor"]
    d.platform.run(lambda u: forge(u, booked + 1))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1 and "the interest account holds" in problems[0], problems
    finally:
        d.platform.run(lambda u: forge(u, booked))


# -- repayments from a wallet (``payments.repayment_cluster``) and the close's hold -----------


def _loan(d: Deployment) -> tuple[Party, dict[str, Any]]:
    merchant, offer = _offer(d)
    return merchant, d.api.ok(_accept(d, merchant, offer, str(uuid.uuid4())))


def _repay(d: Deployment, merchant: Party, loan_id: str, amount: int, key: str) -> Any:
    body = {"amount_minor": amount, "source": "main"}
    return d.api.post(f"/v1/loans/{loan_id}/repayments", merchant.key, body, idem=key)


def _outgoing_of(d: Deployment, merchant: Party) -> int:
    def read(unit: Any) -> int:
        account = _account(unit, merchant)
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == account, wallet_usage.c.direction == "out"
            )
        )
        return max(rows.scalars(), default=0)  # the day's and the month's: the same here

    return d.platform.run(read, write=False)


_TOTALS = (
    "principal_paid_minor",
    "interest_accrued_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_minor",
    "penalty_paid_minor",
    "reserve_minor",
    "closed_through",
    "status",
    "ledger_hold",
)


def _books(d: Deployment, loan_id: str) -> tuple[Any, ...]:
    """The loan's totals and its lines' payments, and its five accounts in the cluster."""
    row = _row(d, loan_id)
    lines = d.api.ok(d.api.get(f"/v1/loans/{loan_id}/schedule", d.world.operator))
    ids = [loans.account(loan_id, role) for role in ("principal", "interest", "fee", "reserve")]
    found = d.ledger.lookup_accounts(ids)
    balances = [
        0 if i not in found else found[i].debits_posted - found[i].credits_posted for i in ids
    ]
    return tuple(row[c] for c in _TOTALS), lines["data"], balances


def _paid(row: Any) -> int:
    return int(row["principal_paid_minor"] + row["interest_paid_minor"] + row["fee_paid_minor"])


def _clean(d: Deployment) -> None:
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok


def test_a_repayment_from_the_wallet_books_in_the_cluster_and_answers_once(deployment):
    d = deployment
    merchant, loan = _loan(d)
    wallet, principal = _wallet(d, merchant), _principal(d, loan["id"])
    key = str(uuid.uuid4())
    paid = d.api.ok(_repay(d, merchant, loan["id"], 30_000, key))
    assert paid["object"] == "loan" and paid["id"] == loan["id"] and paid["status"] == "active"
    assert _wallet(d, merchant) == wallet - 30_000
    row = _row(d, loan["id"])
    assert row["ledger_hold"] is None
    assert _principal(d, loan["id"]) == principal - row["principal_paid_minor"]
    assert _paid(row) == 30_000
    assert _outgoing_of(d, merchant) == 30_000
    assert _announced(d, "loan.repaid", loan["id"]) == 1
    entries = d.api.ok(d.api.get(f"/v1/loans/{loan['id']}/transactions", merchant.key))["data"]
    (entry,) = [e for e in entries if e["kind"] == "repayment"]
    assert entry["amount_minor"] == 30_000 and any(
        t.endswith(".wallet") for t in entry["transfer_ids"]
    )
    again = _repay(d, merchant, loan["id"], 30_000, key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert _wallet(d, merchant) == wallet - 30_000
    # refused in A, nothing moved: more than is owed; more than the wallet holds (the
    # cluster's hold refused: 402, the outgoing total given back, the loan untouched)
    over = _repay(d, merchant, loan["id"], 10_000_000, str(uuid.uuid4()))
    assert over.status_code == 400 and over.json()["error"]["code"] == "overpayment"
    before = _books(d, loan["id"])
    low = _repay(d, merchant, loan["id"], wallet - 30_000 + 1, str(uuid.uuid4()))
    assert low.status_code == 402 and low.json()["error"]["code"] == "insufficient_funds"
    assert _books(d, loan["id"]) == before
    assert _wallet(d, merchant) == wallet - 30_000 and _outgoing_of(d, merchant) == 30_000
    assert _announced(d, "loan.repaid", loan["id"]) == 1
    _clean(d)


#: One loan per deployment that the crash tests repay from, in turn (a loan costs a second).
_REPAYING: dict[int, tuple[Party, dict[str, Any]]] = {}


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_repayment_repays_once(deployment, crash_after, step):
    d = deployment
    merchant, loan = _REPAYING.get(id(d)) or _REPAYING.setdefault(id(d), _loan(d))
    wallet, out, paid = _wallet(d, merchant), _outgoing_of(d, merchant), _paid(_row(d, loan["id"]))
    told = _announced(d, "loan.repaid", loan["id"])
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _repay(d, merchant, loan["id"], 25_000, key))
    crash_after(None)
    held = _row(d, loan["id"])["ledger_hold"]
    assert (held is None) == (step in ("inside A", "C"))
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step in ("inside A", "C") else 1)
    answer = d.api.ok(_repay(d, merchant, loan["id"], 25_000, key))
    assert answer["id"] == loan["id"]
    assert _wallet(d, merchant) == wallet - 25_000
    assert _outgoing_of(d, merchant) == out + 25_000
    assert _announced(d, "loan.repaid", loan["id"]) == told + 1
    row = _row(d, loan["id"])
    assert row["ledger_hold"] is None and _paid(row) == paid + 25_000
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []  # (the cluster's own checks: once, above)


def _reopen(d: Deployment, day: date) -> None:
    """The day's close forgotten, so ``close.run`` closes for it the loans still behind."""
    d.platform.run(
        lambda u: u.conn.execute(
            loan_closes.delete().where(loan_closes.c.business_date == day.isoformat())
        )
    )


def test_a_repayment_between_a_crashed_close_and_its_rerun_waits_and_books_once(
    deployment, monkeypatch
):
    """Twin loans: one closed for a day and repaid; the other's close crashes after the
    cluster accepted its chunk, a repayment then (refused: the loan is held), the rerun, the
    same repayment. Both end with the same rows, lines and accounts; verify clean."""
    d = deployment
    plain, twin = _loan(d)
    day = date.fromisoformat(_row(d, twin["id"])["closed_through"]) + timedelta(days=1)
    _reopen(d, day)
    assert not close.run(d.platform, day).blocked
    assert _row(d, twin["id"])["closed_through"] == day.isoformat()
    crashed, other = _loan(d)  # disbursed the same day: the same schedule
    # the twin's close crashes after the cluster accepted it (its row read back as before)
    monkeypatch.setattr(close_cluster_module, "book", _crashing(close_cluster_module.book))
    _reopen(d, day)
    assert _row(d, other["id"])["closed_through"] < day.isoformat()
    with pytest.raises(Crash):
        close.run(d.platform, day)
    monkeypatch.undo()
    assert _row(d, other["id"])["ledger_hold"] == f"close:{day.isoformat()}"
    busy = _repay(d, crashed, other["id"], 20_000, str(uuid.uuid4()))
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "loan_busy"
    rerun = close.run(d.platform, day)
    assert rerun.loans >= 1 and not rerun.blocked
    d.api.ok(_repay(d, plain, twin["id"], 20_000, str(uuid.uuid4())))
    d.api.ok(_repay(d, crashed, other["id"], 20_000, str(uuid.uuid4())))
    mine, theirs = _books(d, twin["id"]), _books(d, other["id"])
    assert mine == theirs and mine[0][1] > 0  # interest accrued for the day, once
    _clean(d)


def test_a_close_waits_for_a_repayment_between_its_stores(deployment, crash_after):
    d = deployment
    merchant, loan = _loan(d)
    day = date.fromisoformat(_row(d, loan["id"])["closed_through"]) + timedelta(days=1)
    crash_after("holds")
    _dies(d, lambda: _repay(d, merchant, loan["id"], 15_000, str(uuid.uuid4())))
    crash_after(None)
    _reopen(d, day)
    report = close.run(d.platform, day)
    assert report.blocked == 1 and not report.already
    assert _row(d, loan["id"])["closed_through"] < day.isoformat()
    assert _count(d, loan_closes, loan_closes.c.business_date, day.isoformat()) == 0
    assert two_store.recover(d.platform, older_than_s=0) == 1
    done = close.run(d.platform, day)
    assert not done.blocked and _row(d, loan["id"])["closed_through"] == day.isoformat()
    assert _count(d, loan_closes, loan_closes.c.business_date, day.isoformat()) == 1
    _clean(d)


def _crashing(real: Any) -> Any:
    def book(unit: Any, ledger: Any, chains: Any) -> None:
        real(unit, ledger, chains)
        raise Crash("after the cluster accepted the chunk")

    return book


# -- the web Loans pages on the cluster (``loan_cluster.reserving``, ``repayment_cluster``) ----

sign_in = test_web_withdraw_send.sign_in


@pytest.mark.one_database
def test_the_web_loan_pages_accept_and_repay_on_the_cluster_once(deployment, sign_in):
    d = deployment
    merchant, offer = _offer(d)
    net = offer["disclosure"]["net_proceeds_minor"]
    page = sign_in(merchant)
    page.get("/m/loans")
    path = f"/m/loans/offers/{offer['id']}/accept"
    sent = {"idempotency_key": page.field("idempotency_key"), "confirm": "yes", "pin": PIN}
    first = page.post(path, sent)
    assert first.status_code == 303, first.text
    again = page.post(path, sent)  # a double tap: the same key
    assert again.headers["location"] == first.headers["location"]
    loan_id = first.headers["location"].removeprefix("/m/loans/").split("?")[0]
    assert _wallet(d, merchant) == net and _principal(d, loan_id) == 500_000
    assert _announced(d, "loan.disbursed", loan_id) == 1
    page.get(f"/m/loans/{loan_id}")
    sent = {"idempotency_key": page.field("idempotency_key"), "amount": "300.00", "pin": PIN}
    done = page.post(f"/m/loans/{loan_id}/repayments", sent)
    assert done.status_code == 303, done.text
    assert page.post(f"/m/loans/{loan_id}/repayments", sent).status_code == 303
    assert _wallet(d, merchant) == net - 30_000 and _paid(_row(d, loan_id)) == 30_000
    assert _announced(d, "loan.repaid", loan_id) == 1
    assert two_store.verify(d.db, d.ledger) == []  # the cluster's own checks: above


# -- the USSD menu's loan repayment on the cluster (``channel._once`` with an ``_OnCluster``) --


@pytest.mark.one_database
def test_the_ussd_menu_repays_a_loan_on_the_cluster_once(deployment, crash_after):
    """A crash after B, recovery, the network's resend: one repayment, the same screen; the
    cluster's refusal in words."""
    d = deployment
    merchant, loan = _loan(d)
    number = "+63918" + str(uuid.uuid4().int)[:7]
    d.platform.run(
        lambda u: logins.create(u, None, party_id=merchant.id, phone=number, secret=USSD_PIN)
    )
    phone = Phone(d.api.http, number)
    wallet = _wallet(d, merchant)
    typed = ("6", "1", "100")
    assert phone.run(*typed) == "CON Repay P100.00 on your loan?\nEnter your PIN:"
    crash_after("B")
    _dies(d, lambda: phone.post("*".join((*typed, USSD_PIN))))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == 1
    phone.http = d.api.http  # the client reconnects, as the aggregator would
    answer = phone.dial(*typed, USSD_PIN)
    assert answer.startswith("END Repaid P100.00. Still to pay P"), answer
    assert phone.dial(*typed, USSD_PIN) == answer
    assert _wallet(d, merchant) == wallet - 10_000 and _paid(_row(d, loan["id"])) == 10_000
    assert _announced(d, "loan.repaid", loan["id"]) == 1
    audited = select(func.count()).where(
        audit_log.c.action == "ussd.loan_repaid", audit_log.c.object_id == loan["id"]
    )
    assert d.platform.run(lambda u: u.conn.execute(audited).scalar_one(), write=False) == 1
    low = phone.new_session().dial("6", "1", str(wallet // 100), USSD_PIN)
    assert low == "END Your balance is too low. Nothing moved.", low
    assert _wallet(d, merchant) == wallet - 10_000
    assert two_store.verify(d.db, d.ledger) == []  # the cluster's own checks: above


# -- restructuring, write-off and recovery on the cluster (``lending.operator_cluster``,
# ``payments.recovery_cluster``), each against its SQL-ledger twin ----------------------------

OPERATOR = Caller("op", None, frozenset(SCOPES))


class _Undone(Exception):
    """The SQL-ledger twin's transaction, rolled back on purpose."""


def _sql_twin(d: Deployment, work: Any) -> dict[str, Any]:
    """The SQL path's use case on the same loan, in a transaction rolled back: its answer,
    its lines, its event and the batch it gives the SQL ledger (``movement.book`` captured:
    this database's SQL ledger never saw the loan) — what the cluster's must equal."""
    seen: dict[str, Any] = {}

    def run(unit: Any) -> None:
        seen["view"] = work(unit)
        seen["lines"] = loans.schedule(unit, OPERATOR, seen["view"]["id"])["data"]
        raise _Undone

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(movement, "book", lambda unit, batch, *a, **k: seen.update(batch=batch))
        patch.setattr(loans, "emit", lambda unit, kind, data, to: seen.update(event=(kind, data)))
        with pytest.raises(_Undone):
            d.platform.run(run)
    return seen


def _shape(view: dict[str, Any]) -> dict[str, Any]:
    """A loan's view without its moment of closing (the twin's is another instant)."""
    return {k: v for k, v in view.items() if k != "closed"}


def _legs_of(transfers: Any) -> list[tuple[Any, ...]]:
    """Transfers as (what follows the entry's id, accounts, amount, code), in id order."""
    return sorted(
        (t.id.split(".", 2)[-1], t.debit_account_id, t.credit_account_id, t.amount, t.code)
        for t in transfers
    )


def _event(d: Deployment, kind: str, loan_id: str) -> dict[str, Any]:
    rows = d.platform.run(
        lambda u: list(u.conn.execute(select(events.c.data).where(events.c.type == kind))),
        write=False,
    )
    (found,) = [json.loads(x)["data"] for (x,) in rows if json.loads(x)["data"]["id"] == loan_id]
    return found


def _entry(d: Deployment, loan_id: str, kind: str) -> dict[str, Any]:
    entries = d.api.ok(d.api.get(f"/v1/loans/{loan_id}/transactions", d.world.operator))["data"]
    (entry,) = [e for e in entries if e["kind"] == kind]
    return entry


def _same_as_twin(
    d: Deployment, twin: dict[str, Any], answer: dict[str, Any], kind: str, event: str
) -> None:
    """The cluster's answer, lines, event and booked transfers are the SQL twin's."""
    loan_id = answer["id"]
    assert _shape(answer) == _shape(twin["view"])
    lines = d.api.ok(d.api.get(f"/v1/loans/{loan_id}/schedule", d.world.operator))["data"]
    assert lines == twin["lines"]
    assert twin["event"][0] == event and _shape(_event(d, event, loan_id)) == _shape(answer)
    ids = _entry(d, loan_id, kind)["transfer_ids"]
    booked = d.ledger.lookup_transfers(ids)
    assert sorted(booked) == sorted(ids)
    held = [t for t in booked.values() if not t.id.endswith(".post")]  # a recovery's hold
    assert _legs_of(held) == _legs_of(twin.get("batch", []))


def _operate(d: Deployment, loan_id: str, action: str, body: dict[str, Any], key: str) -> Any:
    return d.api.post(f"/v1/loans/{loan_id}/{action}", d.world.operator, body, idem=key)


def _late(d: Deployment, loan_id: str) -> None:
    """The loan closed through a day past its first due date and grace: interest accrued and
    a penalty booked, in the cluster."""
    day = date.fromisoformat(_row(d, loan_id)["closed_through"]) + timedelta(days=12)
    _reopen(d, day)
    assert not close.run(d.platform, day).blocked
    assert _row(d, loan_id)["penalty_minor"] > 0


def test_a_restructure_a_write_off_and_a_recovery_answer_as_on_the_sql_ledger(deployment):
    d = deployment
    merchant, loan = _loan(d)
    loan_id = loan["id"]
    _late(d, loan_id)
    penalty = _row(d, loan_id)["penalty_minor"]
    # a restructuring that forgives the penalty: the waiver booked in the cluster
    body = {"term": 6, "rate_monthly": "2.5", "waive_penalties": True, "note": "typhoon"}
    twin = _sql_twin(
        d, lambda u: loans.restructure(u, OPERATOR, loan_id, 6, "2.5", True, "typhoon")
    )
    key = str(uuid.uuid4())
    done = d.api.ok(_operate(d, loan_id, "restructure", body, key))
    _same_as_twin(d, twin, done, "restructure", "loan.restructured")
    assert done["waived_minor"] == penalty and _receivables(d, loan_id)[1] == 0
    again = _operate(d, loan_id, "restructure", body, key)
    assert again.json() == done and again.headers["Idempotent-Replayed"] == "true"
    assert _announced(d, "loan.restructured", loan_id) == 1
    # refused in the claim as on SQL, nothing held
    for bad, code in (({"term": 999}, "term_out_of_range"), ({"term": 6, "rate_monthly": "9"}, "")):
        refused = _operate(d, loan_id, "restructure", bad, str(uuid.uuid4()))
        assert refused.status_code in (400, 422) and (not code or code in refused.text)
    assert _row(d, loan_id)["ledger_hold"] is None
    # the write-off: every receivable against losses, in the cluster
    twin = _sql_twin(d, lambda u: loans.write_off(u, OPERATOR, loan_id, "gone"))
    key = str(uuid.uuid4())
    gone = d.api.ok(_operate(d, loan_id, "write_off", {"note": "gone"}, key))
    _same_as_twin(d, twin, gone, "write_off", "loan.written_off")
    assert gone["status"] == "written_off" and gone["written_off_minor"] > 0
    assert _principal(d, loan_id) == 0 and _receivables(d, loan_id) == (0, 0)
    again = _operate(d, loan_id, "write_off", {"note": "gone"}, key)
    assert again.json() == gone and again.headers["Idempotent-Replayed"] == "true"
    twice = _operate(d, loan_id, "write_off", {}, str(uuid.uuid4()))
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "loan_not_active"
    # a payment on the written-off loan: a recovery, through the two-store order
    wallet, out = _wallet(d, merchant), _outgoing_of(d, merchant)
    caller = Caller("m", merchant.id, frozenset(SCOPES))
    twin = _sql_twin(d, lambda u: loans.repay(u, caller, loan_id, 40_000, "main"))
    key = str(uuid.uuid4())
    back = d.api.ok(_repay(d, merchant, loan_id, 40_000, key))
    _same_as_twin(d, twin, back, "recovery", "loan.recovered")
    assert back["recovered_minor"] == 40_000 and _wallet(d, merchant) == wallet - 40_000
    assert _outgoing_of(d, merchant) == out + 40_000
    again = _repay(d, merchant, loan_id, 40_000, key)
    assert again.json() == back and again.headers["Idempotent-Replayed"] == "true"
    left = gone["written_off_minor"] - 40_000
    over = _repay(d, merchant, loan_id, left + 1, str(uuid.uuid4()))
    assert over.status_code == 400 and over.json()["error"]["code"] == "overpayment"
    low = _repay(d, merchant, loan_id, min(left, wallet - 40_000 + 1), str(uuid.uuid4()))
    assert low.status_code == 402 and low.json()["error"]["code"] == "insufficient_funds"
    row = _row(d, loan_id)
    assert row["ledger_hold"] is None and row["recovered_minor"] == 40_000
    assert _outgoing_of(d, merchant) == out + 40_000
    assert _announced(d, "loan.recovered", loan_id) == 1
    _clean(d)
    assert operator_cluster.recover(d.platform, older_than_s=0) == 0  # nothing left held


@pytest.fixture
def crash_op(monkeypatch) -> Any:
    """Make ``operator_cluster`` crash after a step (None: no more)."""

    def arm(step: str | None) -> None:
        def hook(done: str) -> None:
            if done == step:
                raise Crash(step)

        monkeypatch.setattr(operator_cluster, "crash_hook", hook)

    return arm


#: One loan per deployment that the restructure crash tests reschedule, in turn.
_RESCHEDULING: dict[int, tuple[Party, dict[str, Any]]] = {}


#: The crash points and the action crashed there. Both actions share the claim, the book and
#: the answer (only the figures differ): a write-off at the claim (recovery books it) and
#: inside the book after the cluster took its chain (the resend alone finishes it), a
#: restructuring inside the book (no legs: the rows rolled back) and after the commit.
_OPERATOR_CRASHES = [
    ("claim", "write_off"),
    ("booked", "write_off"),
    ("booked", "restructure"),
    ("C", "restructure"),
]


@pytest.mark.parametrize(("step", "action"), _OPERATOR_CRASHES)
def test_a_crash_after_a_step_of_a_restructure_or_write_off_books_once(
    deployment, crash_op, step, action
):
    """A crash after the claim (the loan held: a repayment waits), inside the book's
    transaction after the cluster took the chain, after its commit; then recovery (or, for
    the crash inside the book, the resend alone) finishes it, and the resend answers."""
    d = deployment
    if action == "restructure":
        merchant, loan = _RESCHEDULING.get(id(d)) or _RESCHEDULING.setdefault(id(d), _loan(d))
        body: dict[str, Any] = {"term": 5}
    else:
        (merchant, loan), body = _loan(d), {"note": "gone"}
    loan_id = loan["id"]
    kind = "loan.restructured" if action == "restructure" else "loan.written_off"
    told, version = _announced(d, kind, loan_id), _row(d, loan_id)["version"]
    key = str(uuid.uuid4())
    crash_op(step)
    _dies(d, lambda: _operate(d, loan_id, action, body, key))
    crash_op(None)
    held = _row(d, loan_id)["ledger_hold"]
    assert (held is None) == (step == "C")
    if (step, action) == ("booked", "write_off"):  # the cluster has what no row names yet
        assert _principal(d, loan_id) == 0 and _row(d, loan_id)["status"] == "active"
    if held is not None:
        busy = _repay(d, merchant, loan_id, 10_000, str(uuid.uuid4()))
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "loan_busy"
    if step != "booked":  # the resend alone finishes the crash inside the book
        assert operator_cluster.recover(d.platform, older_than_s=0) == (0 if step == "C" else 1)
    answer = d.api.ok(_operate(d, loan_id, action, body, key))
    replay = _operate(d, loan_id, action, body, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    row = _row(d, loan_id)
    assert row["ledger_hold"] is None and _announced(d, kind, loan_id) == told + 1
    if action == "restructure":
        assert answer["term"] == 5 and row["version"] == version + 1
    else:
        assert answer["status"] == "written_off" and _principal(d, loan_id) == 0
        assert answer["written_off_minor"] == 500_000  # the principal, its fee deducted
    assert operator_cluster.recover(d.platform, older_than_s=0) == 0
    assert two_store.verify(d.db, d.ledger) == []  # (the cluster's own checks: above)


#: One written-off loan per deployment that the recovery crash tests recover from, in turn.
_RECOVERING: dict[int, tuple[Party, dict[str, Any]]] = {}


def _written_off(d: Deployment) -> tuple[Party, dict[str, Any]]:
    merchant, loan = _loan(d)
    d.api.ok(_operate(d, loan["id"], "write_off", {}, str(uuid.uuid4())))
    return merchant, loan


@pytest.mark.parametrize("step", ["A", "posts"])
def test_a_crash_after_a_step_of_a_recovery_recovers_once(deployment, crash_after, step):
    """A crash with the loan held and nothing booked (recovery books the whole order, its
    A's and C's own writes), and with only C missing. The other steps are the order's, as
    the repayments' crash test (above) injects them; nothing there is the recovery's own."""
    d = deployment
    merchant, loan = _RECOVERING.get(id(d)) or _RECOVERING.setdefault(id(d), _written_off(d))
    wallet, out = _wallet(d, merchant), _outgoing_of(d, merchant)
    recovered, told = (
        _row(d, loan["id"])["recovered_minor"],
        _announced(d, "loan.recovered", loan["id"]),
    )
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _repay(d, merchant, loan["id"], 5_000, key))
    crash_after(None)
    held = _row(d, loan["id"])["ledger_hold"]
    assert (held is None) == (step == "C")
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step == "C" else 1)
    answer = d.api.ok(_repay(d, merchant, loan["id"], 5_000, key))
    assert answer["id"] == loan["id"] and answer["status"] == "written_off"
    assert _wallet(d, merchant) == wallet - 5_000 and _outgoing_of(d, merchant) == out + 5_000
    row = _row(d, loan["id"])
    assert row["ledger_hold"] is None and row["recovered_minor"] == recovered + 5_000
    assert _announced(d, "loan.recovered", loan["id"]) == told + 1
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []


# -- repaid from sales: the set-aside in a sale and in a release (``lending.set_aside_cluster``) --


class _Rolled(Exception):
    """Carries the SQL path's figures out of its rolled-back transaction."""


def _buyer(d: Deployment) -> Party:
    """A new buyer with ₱20,000.00 in the cluster (the operator's funding on the cluster)."""
    body = {"kind": "customer", "name": f"Juan {uuid.uuid4()}", "tier": "full"}
    buyer = make_party(d.api, d.world.operator, body)
    d.world.fund(buyer, 2_000_000)
    return buyer


def _sale(d: Deployment, buyer: Party, merchant: Party, amount: int, key: str) -> Any:
    return d.pay(merchant, amount, key, payer=buyer)


def _sql_sales_twin(
    d: Deployment, loan_id: str, sales: Callable[[Any], None]
) -> tuple[int, list[int]]:
    """The SQL ledger's figures for the same sales on the loan as it stands: its own path
    (``payments.plan`` / ``escrow.release_legs``, which set aside as a SQL-ledger sale does,
    through ``settlement.credit_sale`` and ``loans.set_aside``) on a platform with no cluster,
    in a transaction rolled back. The loan's reserve after, and each set-aside."""
    sql = replace(d.platform, ledger=None)
    query = select(loan_transactions.c.id, loan_transactions.c.amount_minor).where(
        loan_transactions.c.loan_id == loan_id, loan_transactions.c.kind == "set_aside"
    )

    def work(unit: Any) -> None:
        before = {i for i, _ in unit.conn.execute(query)}
        sales(unit)
        row = unit.conn.execute(select(loan_rows).where(loan_rows.c.id == loan_id)).mappings()
        made = [a for i, a in unit.conn.execute(query) if i not in before]
        raise _Rolled(row.one()["reserve_minor"], made)

    with pytest.raises(_Rolled) as got:
        sql.run(work)
    return got.value.args[0], got.value.args[1]


def _planned(buyer: Party, merchant: Party, *amounts: int) -> Callable[[Any], None]:
    caller = Caller("test", buyer.id, frozenset(DEFAULT_SCOPES))

    def sales(unit: Any) -> None:
        for amount in amounts:
            payments.plan(unit, caller, NewPayment(merchant.id, amount, "PHP"))

    return sales


def _set_asides(d: Deployment, loan_id: str) -> dict[str | None, int]:
    """The loan's set-aside entries by the payment (or order) they came from."""
    query = select(
        loan_transactions.c.payment_id,
        loan_transactions.c.order_id,
        loan_transactions.c.amount_minor,
    ).where(loan_transactions.c.loan_id == loan_id, loan_transactions.c.kind == "set_aside")
    rows = d.platform.run(lambda u: list(u.conn.execute(query)), write=False)
    return {p or o: a for p, o, a in rows}


def _reserve(d: Deployment, loan_id: str) -> int:
    """The loan's reserve in the cluster (its credits: the merchant's money set aside)."""
    account = loans.account(loan_id, "reserve")
    found = d.ledger.lookup_accounts([account]).get(account)
    return 0 if found is None else found.credits_posted - found.debits_posted


def _settlement(d: Deployment, merchant: Party) -> int:
    """The merchant's settlement wallet in the cluster (0 before the cluster opened it)."""
    wanted = d.platform.run(
        lambda u: movement.holders(u, [merchant.id])[(merchant.id, "settlement")].account_id,
        write=False,
    )
    account = d.ledger.lookup_accounts([wanted]).get(wanted)
    if account is None:
        return 0
    assert account.debits_pending == account.credits_pending == 0
    return account.balance_posted


def _repayment_moves(d: Deployment, loan_id: str) -> int:
    query = select(func.count()).where(
        loan_moves.c.loan_id == loan_id, loan_moves.c.kind == "repayment"
    )
    return int(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_sales_in_flight_together_set_aside_as_the_sql_ledger_does(deployment, crash_after):
    """Two sales of ₱3,000.00 to a merchant repaying 20% of each sale: the first stopped
    after its holds (its set-aside under way, the loan held by sales: a repayment waits),
    the second made whole meanwhile, then recovery. The figures are the SQL path's for the
    two sales one after the other: the second counted the first's set-aside still under
    way, so it set aside only what the installment still needed."""
    d = deployment
    merchant, loan = _loan(d)
    buyer = _buyer(d)
    reserve, (first, second) = _sql_sales_twin(
        d, loan["id"], _planned(buyer, merchant, 300_000, 300_000)
    )
    assert first == 60_000 and 0 < second < 60_000  # the need capped the second
    settled, key = _settlement(d, merchant), str(uuid.uuid4())
    crash_after("holds")
    _dies(d, lambda: _sale(d, buyer, merchant, 300_000, key))
    crash_after(None)
    assert _row(d, loan["id"])["ledger_hold"] == "sales"
    busy = _repay(d, merchant, loan["id"], 10_000, str(uuid.uuid4()))
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "loan_busy"
    other = d.api.ok(_sale(d, buyer, merchant, 300_000, str(uuid.uuid4())))
    assert _row(d, loan["id"])["ledger_hold"] == "sales"  # the first still under way
    assert two_store.recover(d.platform, older_than_s=0) == 1
    paid = d.api.ok(_sale(d, buyer, merchant, 300_000, key))
    again = _sale(d, buyer, merchant, 300_000, key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    row = _row(d, loan["id"])
    assert row["ledger_hold"] is None and row["reserve_minor"] == reserve == first + second
    assert _reserve(d, loan["id"]) == reserve
    assert _set_asides(d, loan["id"]) == {paid["id"]: first, other["id"]: second}
    fees = paid["fee_minor"] + other["fee_minor"]
    assert _settlement(d, merchant) == settled + 600_000 - fees - reserve
    assert _repayment_moves(d, loan["id"]) == 0
    assert _count(d, loan_moves, loan_moves.c.loan_id, loan["id"]) == 0
    _clean(d)
    # verify names an entry that says another figure than the cluster's leg
    entry = loan_transactions.c.payment_id == paid["id"]

    def forge(unit: Any, value: int) -> None:
        unit.conn.execute(loan_transactions.update().where(entry).values(amount_minor=value))

    d.platform.run(lambda u: forge(u, first + 1))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert any("the loan's entry says" in p for p in problems), problems
    finally:
        d.platform.run(lambda u: forge(u, first))


#: One loan per deployment that the sales' crash tests sell to, in turn.
_SELLING: dict[int, tuple[Party, dict[str, Any], Party]] = {}


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_sale_sets_aside_once(deployment, crash_after, step):
    d = deployment
    if id(d) not in _SELLING:
        _SELLING[id(d)] = (*_loan(d), _buyer(d))
    merchant, loan, buyer = _SELLING[id(d)]
    reserve, (aside,) = _sql_sales_twin(d, loan["id"], _planned(buyer, merchant, 40_000))
    assert aside == 8_000
    settled, key = _settlement(d, merchant), str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _sale(d, buyer, merchant, 40_000, key))
    crash_after(None)
    assert (_row(d, loan["id"])["ledger_hold"] is None) == (step in ("inside A", "C"))
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step in ("inside A", "C") else 1)
    paid = d.api.ok(_sale(d, buyer, merchant, 40_000, key))
    assert paid["status"] == "succeeded"
    row = _row(d, loan["id"])
    assert row["ledger_hold"] is None and row["reserve_minor"] == reserve
    assert _reserve(d, loan["id"]) == reserve
    assert _set_asides(d, loan["id"])[paid["id"]] == aside
    assert _settlement(d, merchant) == settled + 40_000 - paid["fee_minor"] - aside
    assert _announced(d, "payment.succeeded", paid["id"]) == 1
    assert _count(d, loan_moves, loan_moves.c.loan_id, loan["id"]) == 0
    assert two_store.unfinished(d.platform) == 0
    if step == two_store.STEPS[-1]:  # the last: every step's sale verified at once
        assert two_store.verify(d.db, d.ledger) == []


def _shop(d: Deployment, merchant: Party) -> dict[str, Any]:
    api = d.api
    body = {"slug": f"sa-{uuid.uuid4().hex[:12]}", "name": "Utang Store", "shipping_fee_minor": 0}
    store = api.ok(api.post("/v1/storefronts", merchant.key, body))
    body = {"title": "Bigas 1 kg", "price_minor": 40_000, "stock": 100}
    product = api.ok(api.post(f"/v1/storefronts/{store['id']}/products", merchant.key, body))
    return {"store": store, "product": product}


def _ordered(d: Deployment, shop: dict[str, Any], buyer: Party) -> str:
    """An order of ₱400.00 paid into escrow (on the cluster)."""
    api = d.api
    lines = [{"product_id": shop["product"]["id"], "quantity": 1}]
    body = {"storefront_id": shop["store"]["id"], "lines": lines}
    order = api.ok(api.post("/v1/orders", buyer.key, body))
    api.ok(api.post(f"/v1/orders/{order['id']}/pay", buyer.key, {}, idem=str(uuid.uuid4())))
    return str(order["id"])


def _delivered(d: Deployment, shop: dict[str, Any], merchant: Party, buyer: Party) -> str:
    """An order of ₱400.00 paid into escrow (on the cluster), shipped and delivered."""
    api, order_id = d.api, _ordered(d, shop, buyer)
    body = {"courier": "LBC", "tracking_number": f"LBC{uuid.uuid4().hex[:8]}"}
    shipment = api.ok(api.post(f"/v1/orders/{order_id}/shipments", merchant.key, body))
    api.ok(
        api.post(f"/v1/shipments/{shipment['id']}/events", merchant.key, {"status": "delivered"})
    )
    return order_id


def _released(d: Deployment, order_id: str) -> Callable[[Any], None]:
    def release(unit: Any) -> None:
        order = orders.order_row(unit, order_id)
        escrow.release_legs(unit, order, order["held_minor"])

    return release


#: One loan and shop per deployment that the releases' crash tests sell through, in turn.
_SHOPS: dict[int, tuple[Party, dict[str, Any], Party, dict[str, Any]]] = {}


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_release_sets_aside_once(deployment, crash_after, step):
    """The buyer confirms an order of a merchant repaying from sales: the release carries
    the set-aside of the merchant's part (the SQL path's figure), once whatever the crash."""
    d = deployment
    if id(d) not in _SHOPS:
        merchant, loan = _loan(d)
        _SHOPS[id(d)] = (merchant, loan, _buyer(d), _shop(d, merchant))
    merchant, loan, buyer, shop = _SHOPS[id(d)]
    order_id = _delivered(d, shop, merchant, buyer)
    reserve, (aside,) = _sql_sales_twin(d, loan["id"], _released(d, order_id))
    assert aside == 8_000  # 20% of ₱400.00
    settled, key = _settlement(d, merchant), str(uuid.uuid4())
    confirm = f"/v1/orders/{order_id}/confirm"
    crash_after(step)
    _dies(d, lambda: d.api.post(confirm, buyer.key, {}, idem=key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step in ("inside A", "C") else 1)
    done = d.api.ok(d.api.post(confirm, buyer.key, {}, idem=key))
    assert done["status"] == "completed"
    order = d.api.ok(d.api.get(f"/v1/orders/{order_id}", buyer.key))
    assert order["escrow"]["released_minor"] == 40_000 and order["escrow"]["held_minor"] == 0
    fee = order["escrow"]["fee_minor"]
    assert _settlement(d, merchant) == settled + 40_000 - fee - aside
    row = _row(d, loan["id"])
    assert row["ledger_hold"] is None and row["reserve_minor"] == reserve
    assert _reserve(d, loan["id"]) == reserve
    assert _set_asides(d, loan["id"])[order_id] == aside
    assert two_store.unfinished(d.platform) == 0
    assert escrow_cluster.verify(d.db, d.ledger) == []
    if step == two_store.STEPS[-1]:  # the last: every step's release verified at once
        assert two_store.verify(d.db, d.ledger) == []


def _disputed(d: Deployment, buyer: Party, order_id: str) -> str:
    path = f"/v1/orders/{order_id}/disputes"
    return str(d.api.ok(d.api.post(path, buyer.key, {"reason": "basag ang dating"}))["id"])


def _resolve(d: Deployment, dispute_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    return d.api.post(f"/v1/disputes/{dispute_id}/resolve", d.world.operator, body, idem=key)


def _decided(dispute_id: str, body: dict[str, Any]) -> Callable[[Any], None]:
    """The SQL path's decision (``disputes.resolve``: the rest released by
    ``escrow.complete``, its set-aside by ``loans.set_aside``), its batch not booked (the
    SQL ledger never saw this escrow)."""

    def decide(unit: Any) -> None:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(movement, "book", lambda unit, batch, *a, **k: None)
            refund = body.get("refund_minor")
            disputes.resolve(unit, OPERATOR, dispute_id, body["resolution"], refund, None)

    return decide


def test_a_decision_for_the_merchant_or_split_sets_aside_as_the_sql_ledger_does(
    deployment, crash_after
):
    """Two disputed orders of ₱400.00 of a merchant repaying 20% of each sale: one split
    (₱100.00 back to the buyer), cut after the cluster's posts, recovered and resent; the
    other decided for the merchant. Each decision's release sets aside, once, the SQL path's
    figure for the same decision (its own path, in a transaction rolled back); the dispute's
    and the order's figures are a merchant's without a loan; verify finds nothing."""
    d = deployment
    merchant, loan = _loan(d)
    buyer = _buyer(d)
    shop = _shop(d, merchant)
    split_order, whole_order = _ordered(d, shop, buyer), _ordered(d, shop, buyer)
    split, whole = _disputed(d, buyer, split_order), _disputed(d, buyer, whole_order)
    decisions: list[tuple[str, str, dict[str, Any], int]] = [
        (split, split_order, {"resolution": "split", "refund_minor": 10_000}, 6_000),
        (whole, whole_order, {"resolution": "release"}, 8_000),
    ]
    for dispute_id, order_id, body, expected in decisions:
        reserve, (aside,) = _sql_sales_twin(d, loan["id"], _decided(dispute_id, body))
        assert aside == expected  # 20% of what is released to the merchant
        settled = _settlement(d, merchant)
        send = partial(_resolve, d, dispute_id, body, str(uuid.uuid4()))
        if dispute_id == split:
            crash_after("posts")  # the cluster has the set-aside, the loan's rows not yet
            _dies(d, send)
            crash_after(None)
            assert _row(d, loan["id"])["ledger_hold"] == "sales"
            assert two_store.recover(d.platform, older_than_s=0) == 1
        answer = d.api.ok(send())
        again = send()
        assert again.json() == answer and again.headers["Idempotent-Replayed"] == "true"
        to_buyer = body.get("refund_minor", 0)
        assert answer["status"] == "resolved"
        assert (answer["refund_minor"], answer["release_minor"]) == (to_buyer, 40_000 - to_buyer)
        order = d.api.ok(d.api.get(f"/v1/orders/{order_id}", buyer.key))
        figures = order["escrow"]
        assert order["status"] == "completed" and figures["held_minor"] == 0
        assert figures["released_minor"] == 40_000 - to_buyer
        assert (
            _settlement(d, merchant) == settled + 40_000 - to_buyer - figures["fee_minor"] - aside
        )
        row = _row(d, loan["id"])
        assert row["ledger_hold"] is None and row["reserve_minor"] == reserve
        assert _reserve(d, loan["id"]) == reserve
        assert _set_asides(d, loan["id"])[order_id] == aside
    assert _count(d, loan_moves, loan_moves.c.loan_id, loan["id"]) == 0
    assert two_store.unfinished(d.platform) == 0
    assert escrow_cluster.verify(d.db, d.ledger) == []
    assert two_store.verify(d.db, d.ledger) == []


def test_a_close_between_a_sale_s_a_and_c_waits_and_the_loan_ends_as_its_twin(
    deployment, crash_after, monkeypatch
):
    """Twin loans, each sold ₱2,000.00 and closed for a day: one in that order; the other's
    sale stopped after its posts (the cluster has its set-aside, the loan's rows not yet),
    so its close is blocked until recovery finishes the sale, and then closes it. Both end
    with the same rows, lines and accounts. Then a close's crashed chunk holds the loans:
    a sale meanwhile sets nothing aside (decided), and the rerun books the chunk once."""
    d = deployment
    (plain, twin), buyer = _loan(d), _buyer(d)
    day = date.fromisoformat(_row(d, twin["id"])["closed_through"]) + timedelta(days=1)
    d.api.ok(_sale(d, buyer, plain, 200_000, str(uuid.uuid4())))
    _reopen(d, day)
    assert not close.run(d.platform, day).blocked
    crashed, other = _loan(d)  # disbursed the same day: the same schedule
    crash_after("posts")
    _dies(d, lambda: _sale(d, buyer, crashed, 200_000, str(uuid.uuid4())))
    crash_after(None)
    _reopen(d, day)
    report = close.run(d.platform, day)
    assert report.blocked == 1 and _row(d, other["id"])["closed_through"] < day.isoformat()
    assert _reserve(d, other["id"]) == 40_000 and _row(d, other["id"])["reserve_minor"] == 0
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert not close.run(d.platform, day).blocked
    mine, theirs = _books(d, twin["id"]), _books(d, other["id"])
    assert mine == theirs and mine[0][6] == 40_000  # the reserve, once
    _clean(d)
    # a close's chunk crashed after the cluster accepted it: the loans stay held by it
    following = day + timedelta(days=1)
    _reopen(d, following)
    monkeypatch.setattr(close_cluster_module, "book", _crashing(close_cluster_module.book))
    with pytest.raises(Crash):
        close.run(d.platform, following)
    monkeypatch.undo()
    assert _row(d, other["id"])["ledger_hold"] == f"close:{following.isoformat()}"
    settled = _settlement(d, crashed)
    sold = d.api.ok(_sale(d, buyer, crashed, 100_000, str(uuid.uuid4())))
    assert _settlement(d, crashed) == settled + 100_000 - sold["fee_minor"]  # nothing aside
    assert sold["id"] not in _set_asides(d, other["id"])
    assert not close.run(d.platform, following).blocked
    assert _row(d, other["id"])["ledger_hold"] is None
    assert _books(d, twin["id"]) == _books(d, other["id"])
    _clean(d)


# -- held for review (``two_store.judged``, as a payment's) ------------------------------------

#: Every disbursement held for review: a first bank-in to a new payee, any amount. (The test
#: rules other modules use, velocity at ₱0 an hour, never see a disbursement: velocity judges
#: spending kinds only, and a disbursement is a bank-in, ``risk_gate.KINDS``.)
DISBURSEMENTS_REVIEWED = """
[[rule]]
id = "new_payee"
version = 1
decision = "review"
[rule.params]
min_minor = 1
kinds = ["bank_in"]
"""


def _reviewing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules = tmp_path / "loan_rules.toml"
    rules.write_text(DISBURSEMENTS_REVIEWED)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(rules))


def _held(d: Deployment, merchant: Party) -> tuple[int, int]:
    """(posted, held: pending debits) of the merchant's main wallet in the cluster."""
    account = d.platform.run(lambda u: _account(u, merchant), write=False)
    found = d.ledger.lookup_accounts([account])[account]
    return found.balance_posted, found.debits_pending


def _held_loan(d: Deployment, loan: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The disbursement's alert, and what its hold holds in the cluster (the wallet)."""
    (entry,) = d.platform.run(
        lambda u: list(
            u.conn.execute(
                select(loan_transactions.c.transfer_ids).where(
                    loan_transactions.c.loan_id == loan["id"]
                )
            ).scalars()
        ),
        write=False,
    )
    ids = json.loads(entry) if isinstance(entry, str) else entry
    alert = test_payments._alert_of(d, ids[0])
    hold = d.ledger.lookup_transfers([alert["hold_id"]])[alert["hold_id"]]
    assert alert["hold_id"] in ids and hold.timeout_seconds == 0
    return alert, hold.amount


@pytest.mark.parametrize("decision", ["release", "return"])
def test_a_disbursement_held_for_review_is_held_in_the_cluster_then_decided(
    deployment, tmp_path, monkeypatch, decision
):
    """As on SQL: the loan is active, its net proceeds in the merchant's wallet and held
    (wallet → ``op.risk.holds``, no timeout, in the post chain); a release leaves them the
    merchant's; a return takes them back to the loan's principal and cancels the loan, its
    deducted fee reversed and the reserve a sale filled meanwhile given back to the
    settlement wallet in the same batch (``loans.cancel_returned``) — first with its
    transaction dead after the cluster booked it: the same decision again books nothing
    twice. Verify checks the hold against its alert, and the loan against its accounts."""
    d = deployment
    merchant, offer = _offer(d)
    net = offer["disclosure"]["net_proceeds_minor"]
    fee = 500_000 - net  # deducted
    assert fee > 0
    buyer = _buyer(d) if decision == "return" else None  # funded before the rules (a bank-in)
    _reviewing(tmp_path, monkeypatch)
    key = str(uuid.uuid4())
    fees = _fees(d)
    loan = d.api.ok(_accept(d, merchant, offer, key))
    assert loan["status"] == "active"
    alert, held = _held_loan(d, loan)
    assert (alert["rule"], alert["kind"], held) == ("new_payee", "bank_in", net)
    assert _held(d, merchant) == (net, net)
    assert test_payments._held_shown(d, merchant) == net
    assert _accept(d, merchant, offer, key).json() == loan
    assert two_store.verify(d.db, d.ledger) == []
    assert _fees(d) == fees + fee
    reserve = 0
    if buyer is not None:  # a sale meanwhile sets money aside, given back at the return
        d.api.ok(_sale(d, buyer, merchant, 100_000, str(uuid.uuid4())))
        reserve = _reserve(d, loan["id"])
        assert reserve > 0 and _row(d, loan["id"])["reserve_minor"] == reserve
    settled = _settlement(d, merchant)
    if decision == "return":  # its transaction dies after the cluster booked the return
        book = cluster_booking.book_within

        def dies(*args: Any) -> None:
            book(*args)
            raise Crash("after the cluster")

        monkeypatch.setattr(cluster_booking, "book_within", dies)
        with pytest.raises(Crash):
            test_payments._decide(d, alert["id"], decision)
        monkeypatch.setattr(cluster_booking, "book_within", book)
        assert _row(d, loan["id"])["status"] == "active"  # the rows not yet
        assert (_held(d, merchant), _principal(d, loan["id"]), _fees(d)) == ((0, 0), 0, fees)
        assert (_reserve(d, loan["id"]), _settlement(d, merchant)) == (0, settled + reserve)
    test_payments._decide(d, alert["id"], decision)
    assert _held(d, merchant) == ((net, 0) if decision == "release" else (0, 0))
    assert test_payments._held_shown(d, merchant) == 0
    assert _announced(d, "loan.disbursed", loan["id"]) == 1
    row = _row(d, loan["id"])
    if decision == "release":
        assert row["status"] == "active" and _principal(d, loan["id"]) == 500_000
        assert _fees(d) == fees + fee
    else:  # cancelled: nothing owed, the fee income given back, once
        assert row["status"] == "cancelled"
        assert _principal(d, loan["id"]) == 0 and _fees(d) == fees
        assert (_reserve(d, loan["id"]), _settlement(d, merchant)) == (0, settled + reserve)
        assert row["reserve_minor"] == 0
        assert _announced(d, "loan.cancelled", loan["id"]) == 1
        got = d.api.ok(d.api.get(f"/v1/loans/{loan['id']}", merchant.key))
        assert got["status"] == "cancelled" and got["balance"]["principal_minor"] == 0
        refused = _repay(d, merchant, loan["id"], 100, str(uuid.uuid4()))
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "loan_cancelled"
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_a_disbursement_held_for_review_holds_it_once(
    deployment, crash_after, tmp_path, monkeypatch, step
):
    d = deployment
    merchant, offer = _offer(d)
    net = offer["disclosure"]["net_proceeds_minor"]
    _reviewing(tmp_path, monkeypatch)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _accept(d, merchant, offer, key))
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    loan = d.api.ok(_accept(d, merchant, offer, key))
    assert loan["status"] == "active"
    assert _held(d, merchant) == (net, net)  # paid once, held once
    alert, _ = _held_loan(d, loan)  # one alert
    test_payments._decide(d, alert["id"], "release")
    assert _held(d, merchant) == (net, 0)
    assert _principal(d, loan["id"]) == 500_000
    assert two_store.verify(d.db, d.ledger) == []
