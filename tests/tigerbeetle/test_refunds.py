"""Refunds through the API with the ledger on a real TigerBeetle cluster (issue 22): full and
partial, the fee share given back as on the SQL ledger, the SQL path's refusals, a settlement
wallet too low, a crash after each step of the two-store order, and verify.

The deployment is ``test_payments``'s (one per database kind for this module: a one-replica
cluster, the barangay moved over with the migration); the tests compare before and after.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tindahan.ledger.model import NewTransfer
from tindahan.payments.fees import fee_returned
from tindahan.services.ledger import movement, risk_gate
from tindahan.services.payments import two_store
from tindahan.services.platform.chart import fee_account
from tindahan.store.payment_tables import events, refunds, two_store_payments
from tindahan.tigerbeetle.verify import verify as verify_cluster

pytestmark = pytest.mark.xdist_group("tigerbeetle-b")
#: The payments module's fixtures: this module gets its own deployment from them.
deployment = test_payments.deployment
crash_after = test_payments.crash_after


def _refund(d: Deployment, payment_id: str, amount: int | None, key: str | None = None) -> Any:
    body: dict[str, Any] = {"payment_id": payment_id, "reason": "sira ang item"}
    if amount is not None:
        body["amount_minor"] = amount
    return d.api.post("/v1/refunds", d.world.merchant.key, body, idem=key or str(uuid.uuid4()))


def _paid(d: Deployment, amount: int) -> dict[str, Any]:
    paid = d.api.ok(d.pay(d.world.merchant, amount, str(uuid.uuid4())))
    assert paid["status"] == "succeeded" and paid["fee_minor"] > 0
    return dict(paid)


def _payment(d: Deployment, payment_id: str) -> dict[str, Any]:
    return dict(d.api.ok(d.api.get(f"/v1/payments/{payment_id}", d.world.merchant.key)))


def _payment_events(d: Deployment, event_type: str, payment_id: str) -> int:
    rows = d.platform.run(
        lambda u: list(u.conn.execute(select(events.c.data).where(events.c.type == event_type))),
        write=False,
    )
    return sum(json.loads(data)["data"]["id"] == payment_id for (data,) in rows)


def test_a_full_refund_books_in_the_cluster_and_gives_the_fee_back(deployment):
    d = deployment
    paid = _paid(d, 20_000)
    fee = paid["fee_minor"]
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    refund = d.api.ok(_refund(d, paid["id"], None, key))
    assert refund["status"] == "succeeded" and refund["amount_minor"] == 20_000
    assert refund["fee_returned_minor"] == fee  # all of it, as on the SQL ledger
    # the buyer whole again; the merchant gives back what it got (the gross less the fee)
    assert d.balances()[:2] == (buyer + 20_000, settlement - (20_000 - fee))
    ids = {t.removeprefix(refund["id"].replace("_", ".")) for t in refund["transfer_ids"]}
    assert ids == {"", ".post", ".fee"}
    again = _refund(d, paid["id"], None, key)
    assert again.json() == refund and again.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[:2] == (buyer + 20_000, settlement - (20_000 - fee))
    payment = _payment(d, paid["id"])
    assert payment["status"] == "refunded" and payment["refunded_minor"] == 20_000
    assert _announced(d, "refund.succeeded", refund["id"]) == 1
    assert _payment_events(d, "payment.refunded", paid["id"]) == 1
    got = d.api.ok(d.api.get(f"/v1/refunds/{refund['id']}", d.world.merchant.key))
    assert got == refund
    # nothing left to refund: the SQL path's refusal, decided in A
    over = _refund(d, paid["id"], 1)
    assert over.status_code == 409 and over.json()["error"]["code"] == "payment_not_refundable"


def test_partial_refunds_give_back_exactly_the_fee_between_them(deployment):
    d = deployment
    paid = _paid(d, 10_001)
    fee = paid["fee_minor"]
    buyer, settlement, _ = d.balances()
    first = d.api.ok(_refund(d, paid["id"], 3_333))
    assert first["fee_returned_minor"] == fee_returned(fee, 10_001, 0, 3_333)
    assert _payment(d, paid["id"])["status"] == "partially_refunded"
    too_much = _refund(d, paid["id"], 10_001 - 3_333 + 1)
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_exceeds_payment"
    rest = d.api.ok(_refund(d, paid["id"], None))
    assert rest["amount_minor"] == 10_001 - 3_333
    assert first["fee_returned_minor"] + rest["fee_returned_minor"] == fee
    assert d.balances()[:2] == (buyer + 10_001, settlement - (10_001 - fee))
    payment = _payment(d, paid["id"])
    assert payment["status"] == "refunded" and payment["refunded_minor"] == 10_001
    listed = d.api.ok(d.api.get(f"/v1/payments/{paid['id']}/refunds", d.world.merchant.key))
    assert [r["id"] for r in listed["data"]] == sorted([first["id"], rest["id"]])


def test_only_the_merchant_paid_refunds_and_only_merchant_payments(deployment):
    d = deployment
    paid = _paid(d, 500)
    body = {"payment_id": paid["id"], "amount_minor": 100}
    by_buyer = d.api.post("/v1/refunds", d.world.buyer.key, body, idem=str(uuid.uuid4()))
    assert by_buyer.status_code == 403 and by_buyer.json()["error"]["code"] == "not_payee"
    sent = d.api.ok(d.pay(d.world.other_buyer, 100, str(uuid.uuid4())))
    body = {"payment_id": sent["id"], "amount_minor": 100}
    p2p = d.api.post("/v1/refunds", d.world.other_buyer.key, body, idem=str(uuid.uuid4()))
    assert p2p.status_code == 409 and p2p.json()["error"]["code"] == "payment_not_refundable"
    assert two_store.unfinished(d.platform) == 0


def _settlement_account(d: Deployment) -> str:
    def read(unit: Any) -> str:
        found = movement.holders(unit, [d.world.merchant.id])
        return found[(d.world.merchant.id, "settlement")].account_id

    return d.platform.run(read, write=False)


def test_a_settlement_wallet_too_low_is_refused_as_on_sql(deployment):
    """The merchant's money gone (moved out here by hand, as a payout would): the cluster
    refuses the hold, ``402 insufficient_funds`` as on SQL; the payment and the balances are
    as they were, the refund stays ``failed``, and the retry gets the same answer."""
    d = deployment
    paid = _paid(d, 2_000)
    buyer, settlement, _ = d.balances()
    account = _settlement_account(d)
    elsewhere = fee_account(paid["id"])
    drain = NewTransfer(f"test.drain.{uuid.uuid4().hex}", account, elsewhere, settlement, "PHP", 1)
    assert all(o.ok for o in d.ledger.create_transfers([drain]))
    try:
        key = str(uuid.uuid4())
        low = _refund(d, paid["id"], None, key)
        assert low.status_code == 402, low.text
        assert low.json()["error"]["code"] == "insufficient_funds"
        assert d.balances()[:2] == (buyer, 0)
        payment = _payment(d, paid["id"])
        assert payment["status"] == "succeeded" and payment["refunded_minor"] == 0
        again = _refund(d, paid["id"], None, key)
        assert again.status_code == 402 and again.json() == low.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        failed = d.platform.run(
            lambda u: list(
                u.conn.execute(
                    select(refunds.c.status).where(refunds.c.payment_id == paid["id"])
                ).scalars()
            ),
            write=False,
        )
        assert failed == ["failed"]
        assert two_store.unfinished(d.platform) == 0
    finally:
        back = NewTransfer(
            f"test.undrain.{uuid.uuid4().hex}", elsewhere, account, settlement, "PHP", 1
        )
        assert all(o.ok for o in d.ledger.create_transfers([back]))
    # with the money back, a new refund of the same payment goes through
    assert d.api.ok(_refund(d, paid["id"], None))["status"] == "succeeded"


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_refund_moves_the_money_once(deployment, crash_after, step):
    """The README's table for a refund: the process dies after ``step``; recovery (or the
    retry) finishes it; the buyer gets the refund once, the merchant and the fees account
    give it once, the payment counts it once, and each event is in the outbox once."""
    d = deployment
    paid = _paid(d, 8_000)
    fee = paid["fee_minor"]
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _refund(d, paid["id"], 5_000, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_refund(d, paid["id"], 5_000, key))
    assert answer["status"] == "succeeded"
    back = answer["fee_returned_minor"]
    assert back == fee_returned(fee, 8_000, 0, 5_000)
    moved = (buyer + 5_000, settlement - (5_000 - back))
    assert d.balances()[:2] == moved
    replay = _refund(d, paid["id"], 5_000, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[:2] == moved
    payment = _payment(d, paid["id"])
    assert payment["refunded_minor"] == 5_000
    assert payment["status"] == "partially_refunded"
    assert _announced(d, "refund.succeeded", answer["id"]) == 1
    assert _payment_events(d, "payment.partially_refunded", paid["id"]) == 1


def test_a_refund_being_booked_holds_back_the_next_one(deployment, crash_after):
    """Left ``reserving`` by a crash, a refund keeps the payment's next refund out (``409
    refund_pending``: the fee share is a cumulative floor over the refunds, so they go one
    after another); once recovery finishes it, the next one goes through."""
    d = deployment
    paid = _paid(d, 6_000)
    crash_after("A")
    _dies(d, lambda: _refund(d, paid["id"], 1_000))
    crash_after(None)
    waiting = _refund(d, paid["id"], 1_000)
    assert waiting.status_code == 409, waiting.text
    assert waiting.json()["error"]["code"] == "refund_pending"
    assert two_store.recover(d.platform, older_than_s=0) == 1
    rest = d.api.ok(_refund(d, paid["id"], None))
    assert rest["amount_minor"] == 5_000
    first = d.api.ok(d.api.get(f"/v1/payments/{paid['id']}/refunds", d.world.merchant.key))
    assert sum(r["fee_returned_minor"] for r in first["data"]) == paid["fee_minor"]
    assert _payment(d, paid["id"])["status"] == "refunded"


def test_verify_checks_every_refund_against_its_transfers(deployment):
    d = deployment
    paid = _paid(d, 4_000)
    refund = d.api.ok(_refund(d, paid["id"], 4_000))
    assert two_store.verify(d.db, d.ledger) == []
    assert verify_cluster(d.ledger).ok

    def legs(unit: Any, value: str | None = None) -> str:
        where = two_store_payments.c.payment_id == refund["id"]
        if value is not None:
            unit.conn.execute(two_store_payments.update().where(where).values(legs=value))
        return str(unit.conn.execute(select(two_store_payments.c.legs).where(where)).scalar_one())

    real = d.platform.run(legs)
    back = refund["fee_returned_minor"]
    forged = real.replace(f'"amount": {back}', f'"amount": {back + 1}')
    d.platform.run(lambda u: legs(u, forged))
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1, problems
        assert refund["id"] in problems[0] and ".fee" in problems[0]
        assert f"moved {back}, not {back + 1}" in problems[0]
    finally:
        d.platform.run(lambda u: legs(u, real))
    assert two_store.verify(d.db, d.ledger) == []


# -- held for review (``two_store.judged``, as a payment's) ------------------------------------

#: Every refund held for review: one refund in a week, against any share of the sales.
REFUNDS_REVIEWED = """
[[rule]]
id = "refund_spike"
version = 1
decision = "review"
[rule.params]
window_days = 7
min_refunds = 1
ratio_percent = 0
"""


def _reviewing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rules on from here (the payment refunded is made before, without them)."""
    rules = tmp_path / "refund_rules.toml"
    rules.write_text(REFUNDS_REVIEWED)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(rules))


def _held_refund(d: Deployment, refund: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The refund's alert, and what its hold holds in the cluster (the buyer's wallet)."""
    alert = test_payments._alert_of(d, refund["transfer_ids"][0])
    hold = d.ledger.lookup_transfers([alert["hold_id"]])[alert["hold_id"]]
    assert alert["hold_id"] in refund["transfer_ids"] and hold.timeout_seconds == 0
    return alert, hold.amount


@pytest.mark.parametrize("decision", ["release", "return"])
def test_a_refund_held_for_review_is_held_in_the_cluster_then_decided(
    deployment, tmp_path, monkeypatch, decision
):
    """Succeeded and held, as on SQL: the answer, ``GET`` and the buyer's "held for review"
    figure say so; the hold (the buyer's wallet → ``op.risk.holds``, no timeout) is booked in
    the post chain; a release leaves the buyer the refund, a return pays it back to the
    merchant's settlement wallet (the leg it paid: the fee share stays the buyer's, as on
    SQL); verify checks the hold against its alert throughout."""
    d = deployment
    paid = _paid(d, 9_000)
    buyer, settlement, _ = d.balances()
    _reviewing(tmp_path, monkeypatch)
    key = str(uuid.uuid4())
    refund = d.api.ok(_refund(d, paid["id"], 4_000, key))
    back = refund["fee_returned_minor"]
    assert (refund["status"], refund["under_review"]) == ("succeeded", True)
    alert, held = _held_refund(d, refund)
    # the settlement wallet's leg is held, as on SQL (the fee share from op.fees is not)
    assert (alert["rule"], alert["kind"], held) == ("refund_spike", "refund", 4_000 - back)
    assert test_payments._wallet(d, d.world.buyer) == (buyer + 4_000, 4_000 - back)
    assert test_payments._held_shown(d, d.world.buyer) == 4_000 - back
    got = d.api.ok(d.api.get(f"/v1/refunds/{refund['id']}", d.world.merchant.key))
    assert got["under_review"] is True
    assert _refund(d, paid["id"], 4_000, key).json() == refund
    assert two_store.verify(d.db, d.ledger) == []
    test_payments._decide(d, alert["id"], decision)
    after = (
        (buyer + 4_000, settlement - (4_000 - back))
        if decision == "release"
        else (buyer + back, settlement)
    )
    assert d.balances()[:2] == after
    assert test_payments._held_shown(d, d.world.buyer) == 0
    got = d.api.ok(d.api.get(f"/v1/refunds/{refund['id']}", d.world.merchant.key))
    assert got["under_review"] is False
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_a_refund_held_for_review_holds_it_once(
    deployment, crash_after, tmp_path, monkeypatch, step
):
    d = deployment
    paid = _paid(d, 6_000)
    buyer, settlement, _ = d.balances()
    _reviewing(tmp_path, monkeypatch)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _refund(d, paid["id"], 2_500, key))
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    answer = d.api.ok(_refund(d, paid["id"], 2_500, key))
    assert (answer["status"], answer["under_review"]) == ("succeeded", True)
    back = answer["fee_returned_minor"]
    held = (buyer + 2_500, 2_500 - back)
    assert test_payments._wallet(d, d.world.buyer) == held  # moved once, held once
    alert, _ = _held_refund(d, answer)  # one alert
    test_payments._decide(d, alert["id"], "release")
    assert d.balances()[:2] == (buyer + 2_500, settlement - (2_500 - back))
    assert _payment(d, paid["id"])["refunded_minor"] == 2_500
    assert two_store.verify(d.db, d.ledger) == []
