"""Payouts on a real TigerBeetle cluster (issue 22): a merchant's sales from its settlement
wallet to its main wallet through the two-store order (``payouts.cluster``), a crash after
each step, recovery, what is available read from the cluster (holds not booked yet
included), the daily payout, and ``ledger verify``.

The deployment is ``test_payments``'s (one per database kind, one replica, the barangay
moved over with the migration); the merchant's settlement wallet is funded on the cluster.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.payouts import daily
from tindahan.store.payment_tables import two_store_payments, wallet_usage
from tindahan.store.payout_tables import payout_runs

pytestmark = pytest.mark.xdist_group("tigerbeetle-b")

DAY_NS = 24 * 3600 * 10**9
#: The payments module's fixtures: its deployment (one per module that uses it) and crashes.
deployment = test_payments.deployment
crash_after = test_payments.crash_after


@pytest.fixture(scope="module")
def funded(deployment: Deployment) -> Deployment:
    """The merchant's settlement wallet with ₱20,000 from the operator, on the cluster."""
    deployment.world.fund(deployment.world.merchant, 2_000_000, "settlement")
    return deployment


def _wallets(d: Deployment) -> tuple[int, int]:
    """The merchant's settlement and main wallets' posted balances, nothing pending."""
    m = d.world.merchant
    rows = d.accounts((m, "settlement"), (m, "main"))
    assert all(a.debits_pending == a.credits_pending == 0 for a in rows)
    return rows[0].balance_posted, rows[1].balance_posted


def _payout(d: Deployment, amount: int, key: str) -> Any:
    body = {"amount_minor": amount, "currency": "PHP"}
    return d.api.post("/v1/payouts", d.world.merchant.key, body, idem=key)


def _available(d: Deployment) -> dict[str, Any]:
    return d.api.ok(d.api.get("/v1/payouts/available", d.world.merchant.key))


def _incoming(d: Deployment) -> int:
    """The merchant's main wallet's running total of money in (what a payout counts)."""

    def read(unit: Any) -> int:
        m = d.world.merchant
        main = movement.holders(unit, [m.id])[(m.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == main.account_id, wallet_usage.c.direction == "in"
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def test_a_payout_books_in_the_cluster_and_answers_once(funded):
    d = funded
    settlement, main = _wallets(d)
    shown = _available(d)
    assert shown["settlement_balance_minor"] == settlement  # the cluster's, not the switch's
    key = str(uuid.uuid4())
    paid = d.api.ok(_payout(d, 150_000, key))
    assert paid["status"] == "succeeded" and paid["object"] == "payout"
    assert _wallets(d) == (settlement - 150_000, main + 150_000)
    assert _available(d)["available_minor"] == shown["available_minor"] - 150_000
    hold = paid["transfer_id"]
    found = d.ledger.lookup_transfers([hold, f"{hold}.post"])
    assert set(found) == {hold, f"{hold}.post"} and found[hold].amount == 150_000
    again = _payout(d, 150_000, key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert _wallets(d) == (settlement - 150_000, main + 150_000)
    assert _announced(d, "payout.succeeded", paid["id"]) == 1
    listed = d.api.ok(d.api.get(f"/v1/payouts/{paid['id']}", d.world.merchant.key))
    assert listed == paid
    assert two_store.verify(d.db, d.ledger) == []


def test_what_is_available_reads_the_cluster_and_keeps_the_refund_hold(funded):
    d = funded
    before = _available(d)
    sale = d.api.ok(d.pay(d.world.merchant, 50_000, str(uuid.uuid4())))
    after = _available(d)
    gain = 50_000 - sale["fee_minor"]
    assert after["settlement_balance_minor"] == before["settlement_balance_minor"] + gain
    assert after["refund_hold_minor"] == before["refund_hold_minor"] + gain
    assert after["available_minor"] == before["available_minor"]
    settlement, main = _wallets(d)
    too_much = _payout(d, after["available_minor"] + 1, str(uuid.uuid4()))
    assert too_much.status_code == 402, too_much.text
    assert too_much.json()["error"]["code"] == "payout_exceeds_available"
    assert _wallets(d) == (settlement, main)
    assert two_store.unfinished(d.platform) == 0


def test_a_hold_not_booked_yet_counts_against_what_is_available(funded, crash_after):
    """A payout whose A committed but whose hold has not reached the cluster (a crash, or a
    request still at work) is counted: a second payout cannot take the same money."""
    d = funded
    available = _available(d)["available_minor"]
    key = str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: _payout(d, available - 100, key))
    crash_after(None)
    shown = _available(d)
    assert shown["pending_out_minor"] >= available - 100 and shown["available_minor"] == 100
    refused = _payout(d, 200, str(uuid.uuid4()))
    assert refused.status_code == 402, refused.text
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert d.api.ok(_payout(d, available - 100, key))["status"] == "succeeded"
    assert _available(d)["available_minor"] == 100
    d.world.fund(d.world.merchant, 1_000_000, "settlement")  # for the tests after it


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_payout_moves_the_money_once(funded, crash_after, step):
    d = funded
    settlement, main = _wallets(d)
    incoming = _incoming(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _payout(d, 1_234, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_payout(d, 1_234, key))
    assert answer["status"] == "succeeded"
    assert _wallets(d) == (settlement - 1_234, main + 1_234)
    assert _incoming(d) == incoming + 1_234
    replay = _payout(d, 1_234, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert _wallets(d) == (settlement - 1_234, main + 1_234)
    assert _announced(d, "payout.succeeded", answer["id"]) == 1


def test_a_payout_past_its_deadline_fails_and_gives_its_total_back(
    funded, crash_after, monkeypatch
):
    d = funded
    settlement, main = _wallets(d)
    incoming = _incoming(d)
    monkeypatch.setattr(two_store, "RESERVATION_TIMEOUT_S", 0)  # the deadline is at once
    key = str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: _payout(d, 777, key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == 1
    refused = _payout(d, 777, key)
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "reservation_expired"
    assert _wallets(d) == (settlement, main) and _incoming(d) == incoming
    listed = d.api.ok(d.api.get("/v1/payouts", d.world.merchant.key, params={"limit": 1}))
    failed = listed["data"][0]
    assert failed["status"] == "failed" and failed["failure"]["code"] == "reservation_expired"
    assert _announced(d, "payout.failed", failed["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def _daily_on(d: Deployment) -> None:
    body = {"enabled": True, "time_of_day": "00:00", "keep_minor": 0, "destination": "wallet"}
    d.api.ok(d.api.post("/v1/payout_settings", d.world.merchant.key, body))


def _run_of(d: Deployment, day: str) -> tuple[str, str] | None:
    def read(unit: Any) -> tuple[str, str] | None:
        row = unit.conn.execute(
            select(payout_runs.c.outcome, payout_runs.c.payout_id).where(
                payout_runs.c.merchant_id == d.world.merchant.id, payout_runs.c.day == day
            )
        ).first()
        return None if row is None else (row[0], row[1])

    return d.platform.run(read, write=False)


@pytest.mark.parametrize("days, step", [(3, None), (4, "inside A"), (5, "holds"), (6, "posts")])
def test_the_daily_payout_books_in_the_cluster_once(funded, crash_after, days, step):
    """Each case on a day of its own (the run's day; the money is as it is now)."""
    d = funded
    _daily_on(d)
    d.world.fund(d.world.merchant, 30_000, "settlement")  # something to pay out
    at = d.platform.now() + days * DAY_NS
    due = _available(d)["available_minor"]
    settlement, main = _wallets(d)
    crash_after(step)
    if step is not None:
        with pytest.raises(Exception, match=step):
            daily.run_due(d.platform, at)
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    report = daily.run_due(d.platform, at)
    # a crash after A left the day done and the payout to recovery; else this run pays
    assert report.paid == (1 if step in (None, "inside A") else 0), report
    outcome = _run_of(d, report.day)
    assert outcome is not None and outcome[0] == "paid"
    assert _wallets(d) == (settlement - due, main + due)
    assert daily.run_due(d.platform, at).paid == 0  # once a day
    assert _wallets(d) == (settlement - due, main + due)
    assert _announced(d, "payout.succeeded", outcome[1]) == 1
    assert two_store.unfinished(d.platform) == 0


def test_verify_checks_every_payout_against_its_transfers(funded):
    d = funded
    d.world.fund(d.world.merchant, 1_000, "settlement")  # the daily payouts took it all
    paid = d.api.ok(_payout(d, 321, str(uuid.uuid4())))
    assert two_store.verify(d.db, d.ledger) == []

    def legs(unit: Any, text: str | None = None) -> str:
        where = two_store_payments.c.payment_id == paid["id"]
        if text is not None:
            unit.conn.execute(two_store_payments.update().where(where).values(legs=text))
        return str(unit.conn.execute(select(two_store_payments.c.legs).where(where)).scalar_one())

    real = d.platform.run(legs)
    d.platform.run(lambda u: legs(u, real.replace('"amount": 321', '"amount": 322')))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1 and "moved 321, not 322" in problems[0], problems
    finally:
        d.platform.run(lambda u: legs(u, real))
