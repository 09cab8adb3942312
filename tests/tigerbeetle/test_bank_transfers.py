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
from tindahan.ledger.model import Account
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.platform.chart import rail_account
from tindahan.services.rails import participants, transfers
from tindahan.store.payment_tables import wallet_usage

pytestmark = pytest.mark.xdist_group("tigerbeetle")

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
