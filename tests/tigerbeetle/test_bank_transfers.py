"""Outbound bank transfers on a real TigerBeetle cluster (issue 22): held in the cluster
with no timeout (``rails.cluster``), sent only once held, posted on ACSC, voided on RJCT, a
pacs.004 credited back; a crash after each step of the request and of each answer,
recovery, the refusal for want of money, and ``ledger verify``.

The deployment is ``test_payments``'s; the buyer sends from its main wallet to its own
account at BDO (InstaPay), the operator's InstaPay send fee ₱10.00.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.rails.fake_rail import FakeRail
from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _announced, _dies
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.ledger.model import Account, NewTransfer
from tindahan.payments.model import TransferCode
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.payouts import bank_cluster, banks, daily
from tindahan.services.platform import idempotency
from tindahan.services.platform.chart import rail_account
from tindahan.services.rails import participants, transfers
from tindahan.store.payment_tables import two_store_payments, wallet_usage

pytestmark = pytest.mark.xdist_group("tigerbeetle-a")

FEE = 1_000
#: The payments module's fixtures: its deployment (one per module that uses it) and crashes.
deployment = test_payments.deployment
crash_after = test_payments.crash_after


@pytest.fixture(scope="module")
def banked(deployment: Deployment) -> tuple[Deployment, str]:
    """The directory seeded, the send fee set, the buyer's own account at BDO."""
    d = deployment
    participants.ensure_seeded(d.platform)
    d.api.ok(d.api.post("/v1/fee_settings", d.world.operator, {"instapay_send_fee_minor": FEE}))
    body = {"bank": "bdo", "account_number": "0012-3456-7890", "account_name": "Juan Cruz"}
    account = d.api.ok(d.api.post("/v1/bank_accounts", d.world.buyer.key, body))
    return d, account["id"]


def _send(d: Deployment, account: str, amount: int, key: str) -> Any:
    body = {"bank_account_id": account, "amount_minor": amount, "currency": "PHP"}
    return d.api.post("/v1/bank_transfers", d.world.buyer.key, body, idem=key)


def _buyer(d: Deployment) -> Account:
    return d.accounts((d.world.buyer, "main"))[0]


def _clearing(d: Deployment) -> int:
    account = rail_account("instapay")
    return d.ledger.lookup_accounts([account])[account].balance_posted


def _outgoing(d: Deployment) -> int:
    def read(unit: Any) -> int:
        main = movement.holders(unit, [d.world.buyer.id])[(d.world.buyer.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == main.account_id, wallet_usage.c.direction == "out"
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def _get(d: Deployment, transfer_id: str) -> dict[str, Any]:
    return d.api.ok(d.api.get(f"/v1/bank_transfers/{transfer_id}", d.world.buyer.key))


def test_a_transfer_is_held_sent_and_settled_once(banked):
    d, account = banked
    rail = FakeRail()
    before, clearing = _buyer(d), _clearing(d)
    key = str(uuid.uuid4())
    made = d.api.ok(_send(d, account, 20_000, key))
    assert made["status"] == "pending" and made["fee_minor"] == FEE
    held = _buyer(d)
    assert held.debits_pending == before.debits_pending + 20_000 + FEE
    hold = d.ledger.lookup_transfers([made_id := f"{made['id'].replace('_', '.')}"])
    assert hold[made_id].timeout_seconds == 0  # never expires: only the answer releases it
    assert transfers.dispatch(d.platform, rail) == 1
    assert transfers.dispatch(d.platform, rail) == 0
    got = transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    assert got.applied == [made["uetr"]]
    again = transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    assert again.ignored == [made["uetr"]]  # a duplicate changes nothing
    assert _get(d, made["id"])["status"] == "settled"
    after = _buyer(d)
    assert after.balance_posted == before.balance_posted - 20_000 - FEE
    assert after.debits_pending == before.debits_pending
    assert _clearing(d) == clearing + 20_000
    replay = _send(d, account, 20_000, key)
    assert replay.json() == made and replay.headers["Idempotent-Replayed"] == "true"
    assert _announced(d, "bank_transfer.succeeded", made["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def test_a_rejection_voids_the_hold_and_the_fee_and_gives_the_totals_back(banked):
    d, account = banked
    rail = FakeRail()
    before, outgoing = _buyer(d), _outgoing(d)
    made = d.api.ok(_send(d, account, 5_000, str(uuid.uuid4())))
    assert _outgoing(d) == outgoing + 2 * 5_000  # its day and its month
    transfers.dispatch(d.platform, rail)
    transfers.receive(d.platform, rail.status(made["uetr"], "RJCT", "AC04"))
    shown = _get(d, made["id"])
    assert shown["status"] == "rejected" and shown["reason"]["code"] == "AC04"
    assert shown["fee_refunded_minor"] == FEE
    after = _buyer(d)
    assert (after.balance_posted, after.debits_pending) == (
        before.balance_posted,
        before.debits_pending,
    )
    assert _outgoing(d) == outgoing
    late = transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    assert late.ignored == [made["uetr"]] and _buyer(d).balance_posted == before.balance_posted
    assert _announced(d, "bank_transfer.failed", made["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def test_a_return_after_settlement_is_credited_back_once(banked):
    d, account = banked
    rail = FakeRail()
    before = _buyer(d)
    made = d.api.ok(_send(d, account, 7_000, str(uuid.uuid4())))
    transfers.dispatch(d.platform, rail)
    transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    returned = rail.returned(made["uetr"], 7_000, "FOCR")
    assert transfers.receive(d.platform, returned).applied == [made["uetr"]]
    assert transfers.receive(d.platform, returned).ignored == [made["uetr"]]
    shown = _get(d, made["id"])
    assert shown["status"] == "returned" and shown["returned_minor"] == 7_000
    assert shown["fee_refunded_minor"] == FEE  # FOCR: not the sender's wrong details
    assert _buyer(d).balance_posted == before.balance_posted
    assert _announced(d, "bank_transfer.returned", made["id"]) == 1


def test_a_transfer_the_wallet_cannot_cover_is_refused_and_never_sent(banked):
    d, account = banked
    rail = FakeRail()
    before, outgoing = _buyer(d), _outgoing(d)
    # within the tier's limits, beyond the balance (the fee included)
    amount = before.balance_posted - before.debits_pending - FEE + 1
    refused = _send(d, account, amount, str(uuid.uuid4()))
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"
    assert transfers.dispatch(d.platform, rail) == 0
    assert _outgoing(d) == outgoing and _buyer(d).debits_pending == before.debits_pending


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["request"])
def test_a_crash_in_a_request_holds_the_money_once_and_sends_it_once(banked, crash_after, step):
    d, account = banked
    rail = FakeRail()
    before = _buyer(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _send(d, account, 3_000, key))
    crash_after(None)
    if step == "A":  # its hold is not in the cluster yet: nothing may leave
        assert transfers.dispatch(d.platform, rail) == 0
    two_store.recover(d.platform, older_than_s=0)
    made = d.api.ok(_send(d, account, 3_000, key))
    assert made["status"] == "pending"
    assert _buyer(d).debits_pending == before.debits_pending + 3_000 + FEE
    assert transfers.dispatch(d.platform, rail) == 1
    assert transfers.dispatch(d.platform, rail) == 0
    transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    after = _buyer(d)
    assert after.balance_posted == before.balance_posted - 3_000 - FEE
    assert after.debits_pending == before.debits_pending


@pytest.mark.parametrize(
    "answer, step",
    [("ACSC", s) for s in two_store.CASH_OUT_STEPS["confirm"]]
    + [("RJCT", s) for s in two_store.CASH_OUT_STEPS["cancel"]],
)
def test_a_crash_in_an_answer_moves_the_money_once(banked, crash_after, answer, step):
    d, account = banked
    rail = FakeRail()
    before = _buyer(d)
    made = d.api.ok(_send(d, account, 2_000, str(uuid.uuid4())))
    transfers.dispatch(d.platform, rail)
    crash_after(step)
    with pytest.raises(test_payments.Crash):
        transfers.receive(d.platform, rail.status(made["uetr"], answer, "AC03"))
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    # the clearing house delivers its answer again: nothing moves twice
    transfers.receive(d.platform, rail.status(made["uetr"], answer, "AC03"))
    after = _buyer(d)
    assert after.debits_pending == before.debits_pending
    settled = answer == "ACSC"
    spent = 2_000 + FEE if settled else 0
    assert after.balance_posted == before.balance_posted - spent
    assert _get(d, made["id"])["status"] == ("settled" if settled else "rejected")
    event = "bank_transfer.succeeded" if settled else "bank_transfer.failed"
    assert _announced(d, event, made["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


# -- payouts to a bank account: one movement (``payouts.bank_cluster``) -----------------------

PAYOUT_FEE = 1_500


@pytest.fixture(scope="module")
def merchant_banked(banked: tuple[Deployment, str]) -> tuple[Deployment, str]:
    """The merchant's own account at BDO, ₱15.00 InstaPay payout fee, ₱5,000 of sales."""
    d, _ = banked
    fees = {"instapay_payout_fee_minor": PAYOUT_FEE}
    d.api.ok(d.api.post("/v1/fee_settings", d.world.operator, fees))
    body = {"bank": "bdo", "account_number": "0099-8877-6655", "account_name": "Tindahan ni Aling"}
    account = d.api.ok(d.api.post("/v1/bank_accounts", d.world.merchant.key, body))
    d.world.fund(d.world.merchant, 500_000, "settlement")
    return d, account["id"]


def _withdraw(d: Deployment, account: str, amount: int, key: str) -> idempotency.Response:
    """The web form's call (``forms.submit``'s renders) made straight to the service."""
    merchant = Caller("test", d.world.merchant.id, frozenset(DEFAULT_SCOPES))
    new = banks.NewBankPayout(account, amount)
    fingerprint = idempotency.request_hash("POST", "/m/withdraw/bank", [account, amount])
    return bank_cluster.create(
        d.platform,
        merchant,
        new,
        merchant.scope,
        "web:" + key,
        fingerprint,
        lambda view: idempotency.Response(200, dict(view)),
        lambda refusal: idempotency.Response(400, {"error": {"code": refusal.code}}),
    )


def _merchant(d: Deployment) -> tuple[Account, Account]:
    m = d.world.merchant
    settlement, main = d.accounts((m, "settlement"), (m, "main"))
    return settlement, main


def _payout_of(d: Deployment, payout_id: str) -> dict[str, Any]:
    return d.api.ok(d.api.get(f"/v1/payouts/{payout_id}", d.world.merchant.key))


def test_a_withdrawal_to_a_bank_is_one_movement_sent_and_settled_once(merchant_banked):
    d, account = merchant_banked
    rail = FakeRail()
    (settlement, main), clearing = _merchant(d), _clearing(d)
    key = str(uuid.uuid4())
    made = _withdraw(d, account, 20_000, key)
    assert made.status_code == 200, made.body
    view = made.body
    assert view["object"] == "bank_transfer" and view["status"] == "pending"
    assert view["amount_minor"] == 20_000 and view["fee_minor"] == PAYOUT_FEE
    payout_id = view["payout"]["id"]
    paid = _payout_of(d, payout_id)
    assert paid["status"] == "succeeded" and paid["amount_minor"] == 20_000 + PAYOUT_FEE
    assert view["payout"]["status"] == "succeeded"  # the answer as of B, not A's pending
    # one batch booked the payout and held the transfer: sales down, main holding it all
    s, m = _merchant(d)
    assert s.balance_posted == settlement.balance_posted - 20_000 - PAYOUT_FEE
    assert m.balance_posted == main.balance_posted + 20_000 + PAYOUT_FEE
    assert m.debits_pending == main.debits_pending + 20_000 + PAYOUT_FEE
    assert _withdraw(d, account, 20_000, key).body == view  # the resend moves nothing
    assert transfers.dispatch(d.platform, rail) == 1
    transfers.receive(d.platform, rail.status(view["uetr"], "ACSC"))
    assert _get_as(d, view["id"])["status"] == "settled"
    s, m = _merchant(d)
    assert (m.balance_posted, m.debits_pending) == (main.balance_posted, main.debits_pending)
    assert s.balance_posted == settlement.balance_posted - 20_000 - PAYOUT_FEE
    assert _clearing(d) == clearing + 20_000
    settled = _withdraw(d, account, 20_000, key).body  # the resend: the current state
    assert (settled["status"], settled["payout"]) == ("settled", view["payout"])
    assert _announced(d, "payout.succeeded", payout_id) == 1
    assert _announced(d, "bank_transfer.succeeded", view["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []
    # verify compares the payout's leg too: a forged amount is named
    where = two_store_payments.c.payment_id == view["id"]

    def legs(unit: Any, text: str | None = None) -> str:
        if text is not None:
            unit.conn.execute(two_store_payments.update().where(where).values(legs=text))
        return str(unit.conn.execute(select(two_store_payments.c.legs).where(where)).scalar_one())

    real = d.platform.run(legs)
    paid_out = f'"amount": {20_000 + PAYOUT_FEE}'
    assert paid_out in real
    d.platform.run(
        lambda u: legs(u, real.replace(paid_out, f'"amount": {20_000 + PAYOUT_FEE + 1}'))
    )
    try:
        problems = two_store.verify(d.db, d.ledger)
        assert len(problems) == 1 and f"not {20_000 + PAYOUT_FEE + 1}" in problems[0], problems
    finally:
        d.platform.run(lambda u: legs(u, real))


def test_a_rejected_or_returned_withdrawal_leaves_the_money_in_the_main_wallet(merchant_banked):
    d, account = merchant_banked
    rail = FakeRail()
    settlement, main = _merchant(d)
    rejected = _withdraw(d, account, 4_000, str(uuid.uuid4())).body
    returned = _withdraw(d, account, 6_000, str(uuid.uuid4())).body
    assert transfers.dispatch(d.platform, rail) == 2
    transfers.receive(d.platform, rail.status(rejected["uetr"], "RJCT", "AC04"))
    transfers.receive(d.platform, rail.status(returned["uetr"], "ACSC"))
    transfers.receive(d.platform, rail.returned(returned["uetr"], 6_000, "FOCR"))
    assert _get_as(d, rejected["id"])["status"] == "rejected"
    assert _get_as(d, returned["id"])["status"] == "returned"
    for made in (rejected, returned):  # the payout stays made: as on the SQL ledger
        assert _payout_of(d, made["payout"]["id"])["status"] == "succeeded"
    s, m = _merchant(d)
    # the rejection voided the fee's hold; the return (FOCR) gave its fee back with it
    out = 10_000 + 2 * PAYOUT_FEE
    assert s.balance_posted == settlement.balance_posted - out
    assert m.balance_posted == main.balance_posted + out
    assert m.debits_pending == main.debits_pending
    assert _announced(d, "bank_transfer.failed", rejected["id"]) == 1
    assert _announced(d, "bank_transfer.returned", returned["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.parametrize("step", two_store.CASH_OUT_STEPS["request"])
def test_a_crash_in_a_withdrawal_to_a_bank_pays_out_and_holds_once(
    merchant_banked, crash_after, step
):
    d, account = merchant_banked
    rail = FakeRail()
    settlement, main = _merchant(d)
    key = str(uuid.uuid4())
    crash_after(step)
    with pytest.raises(test_payments.Crash):
        _withdraw(d, account, 3_000, key)
    crash_after(None)
    if step == "A":  # nothing in the cluster yet: nothing may leave
        assert transfers.dispatch(d.platform, rail) == 0
    two_store.recover(d.platform, older_than_s=0)
    made = _withdraw(d, account, 3_000, key).body
    assert made["status"] == "pending"
    assert made["payout"] == _payout_of(d, made["payout"]["id"])  # succeeded, as GET says
    assert made["payout"]["status"] == "succeeded"
    assert transfers.dispatch(d.platform, rail) == 1
    assert transfers.dispatch(d.platform, rail) == 0
    transfers.receive(d.platform, rail.status(made["uetr"], "ACSC"))
    s, m = _merchant(d)
    assert s.balance_posted == settlement.balance_posted - 3_000 - PAYOUT_FEE
    assert (m.balance_posted, m.debits_pending) == (main.balance_posted, main.debits_pending)
    assert _announced(d, "payout.succeeded", made["payout"]["id"]) == 1
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []


def test_a_withdrawal_the_cluster_refuses_makes_neither_payout_nor_transfer(
    merchant_banked, crash_after
):
    """A crash after A, then the sales spent from under it (straight in the cluster, as a
    racing movement would): recovery's batch is refused whole — the payout ``failed``, the
    transfer ``rejected`` and never sent, the running totals back."""
    d, account = merchant_banked
    rail = FakeRail()
    settlement, main = _merchant(d)
    totals = _outgoing_of(d, d.world.merchant)
    key = str(uuid.uuid4())
    crash_after("A")
    with pytest.raises(test_payments.Crash):
        _withdraw(d, account, 2_000, key)
    crash_after(None)
    drain = settlement.balance_posted - settlement.debits_pending
    away, back = (f"test.drain.{uuid.uuid4().hex}", f"test.undrain.{uuid.uuid4().hex}")
    _move(d, away, settlement.id, main.id, drain)
    try:
        two_store.recover(d.platform, older_than_s=0)
    finally:
        _move(d, back, main.id, settlement.id, drain)
    refused = _withdraw(d, account, 2_000, key)
    assert refused.status_code == 400 and refused.body["error"]["code"] == "insufficient_funds"
    assert transfers.dispatch(d.platform, rail) == 0
    assert [(a.balance_posted, a.debits_pending) for a in _merchant(d)] == [
        (settlement.balance_posted, settlement.debits_pending),
        (main.balance_posted, main.debits_pending),
    ]
    assert _outgoing_of(d, d.world.merchant) == totals
    listed = d.api.ok(d.api.get("/v1/payouts", d.world.merchant.key, params={"limit": 1}))
    failed = listed["data"][0]
    assert failed["status"] == "failed" and failed["failure"]["code"] == "insufficient_funds"
    assert _announced(d, "payout.failed", failed["id"]) == 1
    assert two_store.verify(d.db, d.ledger) == []


def test_the_daily_payout_to_a_bank_books_on_the_cluster_once(merchant_banked, crash_after):
    d, account = merchant_banked
    rail = FakeRail()
    body = {
        "enabled": True,
        "time_of_day": "00:00",
        "keep_minor": 0,
        "destination": "bank_account",
        "bank_account_id": account,
    }
    d.api.ok(d.api.post("/v1/payout_settings", d.world.merchant.key, body))
    due = d.api.ok(d.api.get("/v1/payouts/available", d.world.merchant.key))["available_minor"]
    settlement, main = _merchant(d)
    at = d.platform.now() + 2 * 24 * 3600 * 10**9
    crash_after("holds")
    with pytest.raises(test_payments.Crash):
        daily.run_due(d.platform, at)
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert daily.run_due(d.platform, at).paid == 0  # the day is done: once
    s, m = _merchant(d)
    assert s.balance_posted == settlement.balance_posted - due
    assert m.debits_pending == main.debits_pending + due  # the transfer and its fee, held
    assert transfers.dispatch(d.platform, rail) == 1
    body["enabled"] = False
    d.api.ok(d.api.post("/v1/payout_settings", d.world.merchant.key, body))
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []


def _get_as(d: Deployment, transfer_id: str) -> dict[str, Any]:
    return d.api.ok(d.api.get(f"/v1/bank_transfers/{transfer_id}", d.world.merchant.key))


def _outgoing_of(d: Deployment, party: Any) -> tuple[int, int]:
    """A party's main wallet's running totals, out and in."""

    def read(unit: Any) -> tuple[int, int]:
        main = movement.holders(unit, [party.id])[(party.id, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.direction, wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == main.account_id
            )
        )
        found = list(rows)
        out = sum(t for direction, t in found if direction == "out")
        return out, sum(t for direction, t in found if direction == "in")

    return d.platform.run(read, write=False)


def _move(d: Deployment, transfer_id: str, debit: str, credit: str, amount: int) -> None:
    moved = d.ledger.create_transfers(
        [NewTransfer(transfer_id, debit, credit, amount, "PHP", TransferCode.PAYOUT)]
    )
    assert all(o.ok for o in moved), moved
