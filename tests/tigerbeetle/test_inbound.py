"""Inbound credits from another bank on a real TigerBeetle cluster (issue 22): another
bank's pacs.008 credited through the two-store order (record ``inbound``), answered only
once the order has ended; a crash after each step, the clearing house's redelivery and
recovery, a duplicate under way answered 503, a hold past its deadline rejected, and what
a credit from abroad (both legs held and posted together), each step crashed.

The deployment is ``test_payments``'s; the messages are ``tests.rails.test_inbound``'s.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select

from tests.lending.conftest import OPERATOR
from tests.rails.test_inbound import answers, pacs008
from tests.rails.test_inbound_screening import pacs008 as screened_pacs008
from tests.rails.test_inbound_screening import watched
from tests.rails.test_recalls import Port
from tests.rails.test_recalls import camt056 as recall_message
from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _dies
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.rails import xml as rails_xml
from tindahan.services.ledger import movement
from tindahan.services.payments import fx, two_store
from tindahan.services.platform.chart import rail_account
from tindahan.services.rails import inbound, incoming, recalls
from tindahan.services.risk import holds as risk_holds
from tindahan.store.payment_tables import events, wallet_usage
from tindahan.store.rails_tables import inbound_review_returns, inbound_transfers
from tindahan.store.risk_tables import risk_alerts
from tindahan.webhooks.signature import sign

pytestmark = pytest.mark.xdist_group("tigerbeetle-b")

#: The payments module's fixtures: its deployment (one per module that uses it) and crashes.
deployment = test_payments.deployment
crash_after = test_payments.crash_after
#: The screening tests' watch list ("Maria Santos"…), the rules off.
watched = watched


def _wallet(d: Deployment) -> int:
    (account,) = d.accounts((d.world.other_buyer, "main"))
    assert account.credits_pending == 0
    return account.balance_posted


def _incoming(d: Deployment) -> int:
    def read(unit: Any) -> int:
        who = d.world.other_buyer.id
        main = movement.holders(unit, [who])[(who, "main")]
        rows = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == main.account_id, wallet_usage.c.direction == "in"
            )
        )
        return sum(rows.scalars())

    return d.platform.run(read, write=False)


def _received(d: Deployment, wallet_id: str) -> int:
    """``inbound_transfer.received`` events about credits to this wallet."""
    rows = d.platform.run(
        lambda u: list(
            u.conn.execute(
                select(events.c.data).where(events.c.type == "inbound_transfer.received")
            )
        ),
        write=False,
    )
    return sum(json.loads(data)["data"]["wallet_id"] == wallet_id for (data,) in rows)


def test_a_credit_books_in_the_cluster_and_a_duplicate_gets_the_same_answer(deployment):
    d = deployment
    wallet = d.world.other_buyer.wallets["main"]
    before, events_before = _wallet(d), _received(d, wallet)
    message = pacs008((wallet, 12_345, "PHP"))
    first = inbound.receive(d.platform, message)
    assert answers(first) == [("ACSC", None)]
    assert _wallet(d) == before + 12_345
    assert inbound.receive(d.platform, message) == first  # byte for byte, moved once
    assert _wallet(d) == before + 12_345
    assert _received(d, wallet) == events_before + 1
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_is_finished_by_the_redelivery(deployment, crash_after, step):
    d = deployment
    wallet = d.world.other_buyer.wallets["main"]
    before, incoming, events_before = _wallet(d), _incoming(d), _received(d, wallet)
    message = pacs008((wallet, 2_500, "PHP"))
    crash_after(step)
    with pytest.raises(test_payments.Crash):
        inbound.receive(d.platform, message)
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    # the bank had no answer: the clearing house delivers the message again
    assert answers(inbound.receive(d.platform, message)) == [("ACSC", None)]
    assert _wallet(d) == before + 2_500
    assert _incoming(d) == incoming + 2_500
    assert _received(d, wallet) == events_before + 1


def test_a_duplicate_while_the_first_is_under_way_is_answered_later(deployment, crash_after):
    d = deployment
    wallet = d.world.other_buyer.wallets["main"]
    before = _wallet(d)
    message = pacs008((wallet, 700, "PHP"))
    crash_after("A")  # the first delivery's request is still at work (or died just now)
    with pytest.raises(test_payments.Crash):
        inbound.receive(d.platform, message)
    crash_after(None)
    with pytest.raises(LedgerUnavailableError):  # the door's 503: not a status yet
        inbound.receive(d.platform, message)
    assert _wallet(d) == before
    two_store.recover(d.platform, older_than_s=0)
    assert answers(inbound.receive(d.platform, message)) == [("ACSC", None)]
    assert _wallet(d) == before + 700


def test_a_credit_whose_hold_is_too_late_is_rejected_with_nothing_moved(
    deployment, crash_after, monkeypatch
):
    d = deployment
    wallet = d.world.other_buyer.wallets["main"]
    before, incoming = _wallet(d), _incoming(d)
    monkeypatch.setattr(two_store, "RESERVATION_TIMEOUT_S", 0)  # its deadline at once
    message = pacs008((wallet, 900, "PHP"))
    crash_after("A")
    with pytest.raises(test_payments.Crash):
        inbound.receive(d.platform, message)
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert answers(inbound.receive(d.platform, message)) == [("RJCT", "NARR")]
    assert (_wallet(d), _incoming(d)) == (before, incoming)
    assert two_store.verify(d.db, d.ledger) == []


def _posted_pending(d: Deployment, account_id: str) -> tuple[int, int]:
    found = d.ledger.lookup_accounts([account_id]).get(account_id)
    return (0, 0) if found is None else (found.balance_posted, found.credits_pending)


def _posted(d: Deployment, *account_ids: str) -> list[int]:
    found = d.ledger.lookup_accounts(list(account_ids))
    assert all(found[i].debits_pending == found[i].credits_pending == 0 for i in account_ids)
    return [found[i].balance_posted for i in account_ids]


#: A credit from abroad moves these: the foreign clearing account, the FX liquidity in that
#: currency and in pesos.
_FX_ACCOUNTS = ("op.rail.instapay.USD", "op.fx.USD", "op.fx.PHP")


def _credited(d: Deployment, message: bytes) -> int:
    (item,) = rails_xml.read(message).transactions
    return _credited_to(d, item.uetr)


def _credited_to(d: Deployment, uetr: str | None) -> int:
    """The pesos a credit (by its UETR) put in the wallet."""
    query = select(inbound_transfers.c.credited_minor).where(inbound_transfers.c.uetr == uetr)
    return int(d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def _dollar_rate(d: Deployment) -> None:
    """The operator's USD rate for the day: 58.25, less 1.50 % for a customer."""
    d.platform.run(lambda u: fx.put_rate(u, OPERATOR, "USD", "58.25", 150))


def test_a_credit_from_abroad_books_both_legs_in_the_cluster_once(deployment):
    """US$100.00 into a peso wallet: the dollars into the FX liquidity on the USD ledger and
    the pesos out of it into the wallet, held together and posted together; the duplicate
    gets the same answer and moves nothing; verify and the per-ledger sums clean."""
    d = deployment
    _dollar_rate(d)
    wallet = d.world.other_buyer.wallets["main"]
    before, fx_before = _wallet(d), _posted(d, *_FX_ACCOUNTS)
    message = pacs008((wallet, 100_00, "USD"))
    first = inbound.receive(d.platform, message)
    assert answers(first) == [("ACSC", None)]
    pesos = _credited(d, message)
    assert pesos == 5_737_62  # 100.00 USD at 58.25 less 1.50 % = 57.37625 (DOWN), as on SQL
    assert _wallet(d) == before + pesos
    rail, usd, php = fx_before
    assert _posted(d, *_FX_ACCOUNTS) == [rail - 100_00, usd + 100_00, php - pesos]
    assert inbound.receive(d.platform, message) == first  # byte for byte, moved once
    assert _wallet(d) == before + pesos
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []
    totals = {t.ledger: t for t in d.ledger.totals()}
    assert all(t.debits_posted == t.credits_posted for t in totals.values())


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_a_credit_from_abroad_is_finished_once(deployment, crash_after, step):
    d = deployment
    _dollar_rate(d)
    wallet = d.world.other_buyer.wallets["main"]
    before, incoming, fx_before = _wallet(d), _incoming(d), _posted(d, *_FX_ACCOUNTS)
    message = pacs008((wallet, 20_00, "USD"))
    crash_after(step)
    with pytest.raises(test_payments.Crash):
        inbound.receive(d.platform, message)
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    assert answers(inbound.receive(d.platform, message)) == [("ACSC", None)]
    pesos = _credited(d, message)
    assert _wallet(d) == before + pesos
    assert _incoming(d) == incoming + pesos
    rail, usd, php = fx_before
    assert _posted(d, *_FX_ACCOUNTS) == [rail - 20_00, usd + 20_00, php - pesos]


def test_the_door_answers_503_for_a_credit_under_way(deployment, crash_after, monkeypatch):
    """Through the API: the signed door answers a duplicate under way ``503`` with
    ``Retry-After``, and the pacs.002 once it is done."""
    d = deployment
    monkeypatch.setenv("TINDAHAN_RAILS_SECRET", "s3cret")
    wallet = d.world.other_buyer.wallets["main"]
    message = pacs008((wallet, 333, "PHP"))

    def post() -> Any:
        signature = sign("s3cret", int(time.time()), message)
        headers = {"Tindahan-Signature": signature, "Content-Type": "application/xml"}
        return d.api.http.post("/v1/rails/messages", content=message, headers=headers)

    crash_after("A")
    _dies(d, post)
    crash_after(None)
    busy = post()
    assert busy.status_code == 503 and busy.headers["Retry-After"], busy.text
    two_store.recover(d.platform, older_than_s=0)
    done = post()
    assert done.status_code == 200 and answers(done.content) == [("ACSC", None)]


# -- a recall's money sent back (``rails.recall_cluster``, record ``recall``) -----------------


def _recalled(d: Deployment, amount: int, case: str, currency: str = "PHP") -> tuple[str, Any]:
    """A credit to the other buyer, then a bank's camt.056 for it: the pending recall's id."""
    message = pacs008((d.world.other_buyer.wallets["main"], amount, currency))
    assert answers(inbound.receive(d.platform, message)) == [("ACSC", None)]
    parsed = rails_xml.read(message)
    sent = {"message_id": parsed.message_id, "item": parsed.transactions[0]}
    assert incoming.receive(d.platform, recall_message(sent, case)) is None
    listed = d.api.ok(
        d.api.get("/v1/inbound_recalls", d.world.operator, params={"status": "pending"})
    )
    (recall,) = [r for r in listed["data"] if r["case_id"] == case]
    return recall["id"], sent["item"]


def _decide(d: Deployment, recall_id: str, key: str, decision: str = "accept") -> Any:
    path = f"/v1/inbound_recalls/{recall_id}/decide"
    return d.api.post(path, d.world.operator, {"decision": decision}, idem=key)


def _clearing(d: Deployment) -> int:
    account = rail_account("instapay")
    return d.ledger.lookup_accounts([account])[account].balance_posted


def _events(d: Deployment, event_type: str, recall_or_transfer: str) -> int:
    rows = d.platform.run(
        lambda u: list(u.conn.execute(select(events.c.data).where(events.c.type == event_type))),
        write=False,
    )
    return sum(recall_or_transfer in data for (data,) in rows)


def test_an_accepted_recall_sends_the_money_back_once(deployment):
    d = deployment
    recall_id, item = _recalled(d, 4_200, f"CASE-{uuid.uuid4().hex[:8]}")
    before, clearing = _wallet(d), _clearing(d)
    key = str(uuid.uuid4())
    decided = d.api.ok(_decide(d, recall_id, key))
    assert (decided["status"], decided["rejection"]) == ("accepted", None)
    assert (_wallet(d), _clearing(d)) == (before - 4_200, clearing + 4_200)
    replay = _decide(d, recall_id, key)
    assert replay.json() == decided and replay.headers["Idempotent-Replayed"] == "true"
    again = _decide(d, recall_id, str(uuid.uuid4()))
    assert again.status_code == 409 and again.json()["error"]["code"] == "recall_decided"
    port = Port()
    assert recalls.dispatch(d.platform, port) == 1 and recalls.dispatch(d.platform, port) == 0
    returned = rails_xml.read(port.sent[0])
    assert [(t.uetr, t.amount_minor) for t in returned.transactions] == [(item.uetr, 4_200)]
    assert _wallet(d) == before - 4_200
    assert _events(d, "inbound_transfer.returned", item.uetr) == 1
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_send_back_moves_it_once(deployment, crash_after, step):
    d = deployment
    recall_id, item = _recalled(d, 1_100, f"CASE-{uuid.uuid4().hex[:8]}")
    before = _wallet(d)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _decide(d, recall_id, key))
    crash_after(None)
    if step != "C":  # still pending: nothing is sent to the bank before the money is back
        assert recalls.dispatch(d.platform, Port()) == 0
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    decided = d.api.ok(_decide(d, recall_id, key))
    assert decided["status"] == "accepted"
    assert _wallet(d) == before - 1_100
    assert recalls.dispatch(d.platform, Port()) == 1
    assert _events(d, "inbound_transfer.returned", item.uetr) == 1
    assert two_store.verify(d.db, d.ledger) == []


def test_a_send_back_the_cluster_refuses_rejects_the_recall_with_nothing_moved(
    deployment, crash_after
):
    """A crash after A, then the money spent from under it (straight in the cluster, as a
    racing payment would): the hold is refused, the recall ``rejected`` ``AM04``, answered so;
    and an accept with the money already gone is rejected so in A."""
    d = deployment
    recall_id, _ = _recalled(d, 800, f"CASE-{uuid.uuid4().hex[:8]}")
    key = str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: _decide(d, recall_id, key))
    crash_after(None)
    (wallet,) = d.accounts((d.world.other_buyer, "main"))
    (away,) = d.accounts((d.world.buyer, "main"))
    drained = wallet.balance_posted - wallet.debits_pending
    _shift(d, wallet.id, away.id, drained)
    try:
        two_store.recover(d.platform, older_than_s=0)
        late_id, _ = _recalled(d, 300, f"CASE-{uuid.uuid4().hex[:8]}")
        _shift(d, wallet.id, away.id, 300)  # that credit spent too
        gone = d.api.ok(_decide(d, late_id, str(uuid.uuid4())))
        assert (gone["status"], gone["rejection"]["code"]) == ("rejected", "AM04")
    finally:
        _shift(d, away.id, wallet.id, drained + 300)
    before = _wallet(d)
    decided = d.api.ok(_decide(d, recall_id, key))
    assert (decided["status"], decided["rejection"]["code"]) == ("rejected", "AM04")
    assert _wallet(d) == before
    assert recalls.dispatch(d.platform, Port()) == 2  # two camt.029s, no pacs.004
    assert two_store.verify(d.db, d.ledger) == []


def test_a_recalled_credit_from_abroad_goes_back_through_the_fx_liquidity_once(deployment):
    """US$30.00 credited, then recalled and accepted: the pesos credited out of the wallet
    into the PHP liquidity and the dollars from the USD liquidity to the foreign clearing
    account, held and posted together, the credit's own figures; the replay; one pacs.004
    for the dollars; verify and the per-ledger sums clean."""
    d = deployment
    _dollar_rate(d)
    recall_id, item = _recalled(d, 30_00, f"CASE-{uuid.uuid4().hex[:8]}", "USD")
    pesos = _credited_to(d, item.uetr)
    before, (rail, usd, php) = _wallet(d), _posted(d, *_FX_ACCOUNTS)
    key = str(uuid.uuid4())
    decided = d.api.ok(_decide(d, recall_id, key))
    assert (decided["status"], decided["rejection"]) == ("accepted", None)
    assert _wallet(d) == before - pesos
    assert _posted(d, *_FX_ACCOUNTS) == [rail + 30_00, usd - 30_00, php + pesos]
    replay = _decide(d, recall_id, key)
    assert replay.json() == decided and replay.headers["Idempotent-Replayed"] == "true"
    port = Port()
    assert recalls.dispatch(d.platform, port) == 1
    returned = rails_xml.read(port.sent[0])
    assert [(t.uetr, t.amount_minor, t.currency) for t in returned.transactions] == [
        (item.uetr, 30_00, "USD")
    ]
    assert _events(d, "inbound_transfer.returned", item.uetr) == 1
    assert two_store.unfinished(d.platform) == 0
    assert two_store.verify(d.db, d.ledger) == []
    totals = d.ledger.totals()
    assert {t.ledger for t in totals} >= {"PHP", "USD"}
    assert all(t.debits_posted == t.credits_posted for t in totals)


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_sending_back_a_credit_from_abroad_moves_it_once(deployment, crash_after, step):
    d = deployment
    _dollar_rate(d)
    recall_id, item = _recalled(d, 7_00, f"CASE-{uuid.uuid4().hex[:8]}", "USD")
    pesos = _credited_to(d, item.uetr)
    before, (rail, usd, php) = _wallet(d), _posted(d, *_FX_ACCOUNTS)
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _decide(d, recall_id, key))
    crash_after(None)
    if step != "C":  # still pending: nothing is sent to the bank before the money is back
        assert recalls.dispatch(d.platform, Port()) == 0
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    assert d.api.ok(_decide(d, recall_id, key))["status"] == "accepted"
    assert _wallet(d) == before - pesos
    assert _posted(d, *_FX_ACCOUNTS) == [rail + 7_00, usd - 7_00, php + pesos]
    assert recalls.dispatch(d.platform, Port()) == 1
    assert _events(d, "inbound_transfer.returned", item.uetr) == 1


def _shift(d: Deployment, debit: str, credit: str, amount: int) -> None:
    moved = d.ledger.create_transfers(
        [NewTransfer(f"test.shift.{uuid.uuid4().hex}", debit, credit, amount, "PHP", 1)]
    )
    assert all(o.ok for o in moved), moved


# --- a credit the name screening holds for review ----------------------------------------------
def _held(d: Deployment) -> tuple[int, int]:
    """The wallet's (posted, held for review: its pending debits) in the cluster."""
    (account,) = d.accounts((d.world.other_buyer, "main"))
    return account.balance_posted, account.debits_pending


def _open_alerts(d: Deployment) -> list[dict[str, Any]]:
    query = select(risk_alerts).where(risk_alerts.c.status == "open")
    return [
        dict(r) for r in d.platform.run(lambda u: u.conn.execute(query).mappings(), write=False)
    ]


def _listed(d: Deployment, amount: int) -> bytes:
    """A credit to the other buyer from a sender on the watch list (``watched``)."""
    return screened_pacs008(d.world.other_buyer.wallets["main"], amount, "SANTOS, MA.")


@pytest.mark.usefixtures("watched")
def test_a_credit_held_for_review_is_credited_held_and_released_in_the_cluster(deployment):
    """Accepted (``ACSC``) and held, as on SQL: the review's hold (the wallet →
    ``op.risk.holds``, pending, no timeout) booked with the post chain, its alert stored in A;
    the analyst's release voids it in the cluster; verify clean throughout."""
    d = deployment
    (posted, held), holds_before = _held(d), _posted_pending(d, "op.risk.holds")
    message = _listed(d, 1_500_00)
    assert answers(inbound.receive(d.platform, message)) == [("ACSC", None)]
    assert _held(d) == (posted + 1_500_00, held + 1_500_00)
    (alert,) = _open_alerts(d)
    assert (alert["rule"], alert["amount_minor"], alert["kind"]) == (
        "name_screening",
        1_500_00,
        "bank_in",
    )
    hold = d.ledger.lookup_transfers([alert["hold_id"]])[alert["hold_id"]]
    assert hold.timeout_seconds == 0 and hold.amount == 1_500_00
    assert _posted_pending(d, "op.risk.holds") == (holds_before[0], holds_before[1] + 1_500_00)
    assert two_store.verify(d.db, d.ledger) == []
    assert inbound.receive(d.platform, message) == inbound.receive(d.platform, message)
    d.platform.run(lambda u: risk_holds.decide(u, OPERATOR, alert["id"], "release", "namesake"))
    assert _held(d) == (posted + 1_500_00, held)
    assert _posted_pending(d, "op.risk.holds") == holds_before
    assert _open_alerts(d) == []
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("watched")
def test_a_credit_held_for_review_is_returned_to_the_senders_bank_from_the_cluster(deployment):
    """The analyst returns it: the hold posted and paid back to the rail's clearing account in
    one chain in the cluster, the transfer ``returned`` with its pacs.004 queued; verify
    knows the returned hold's post."""
    d = deployment
    (posted, held), rail = _held(d), _posted(d, "op.rail.instapay")
    assert answers(inbound.receive(d.platform, _listed(d, 800_00))) == [("ACSC", None)]
    assert _posted(d, "op.rail.instapay") == [rail[0] - 800_00]
    (alert,) = _open_alerts(d)
    d.platform.run(lambda u: risk_holds.decide(u, OPERATOR, alert["id"], "return", "listed"))
    assert _held(d) == (posted, held)
    assert _posted(d, "op.rail.instapay") == rail
    query = select(inbound_transfers.c.status).where(
        inbound_transfers.c.transfer_id == alert["transfer_id"]
    )
    assert d.platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False) == "returned"
    queued = select(inbound_review_returns.c.hold_id)
    assert alert["hold_id"] in d.platform.run(
        lambda u: list(u.conn.execute(queued).scalars()), write=False
    )
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("watched")
@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_in_a_credit_held_for_review_holds_it_once(deployment, crash_after, step):
    d = deployment
    posted, held = _held(d)
    message = _listed(d, 300_00)
    crash_after(step)
    with pytest.raises(test_payments.Crash):
        inbound.receive(d.platform, message)
    crash_after(None)
    two_store.recover(d.platform, older_than_s=0)
    assert two_store.unfinished(d.platform) == 0
    assert answers(inbound.receive(d.platform, message)) == [("ACSC", None)]
    assert _held(d) == (posted + 300_00, held + 300_00)  # credited once, held once
    (alert,) = _open_alerts(d)  # one alert (a crash inside A rolled the first back)
    d.platform.run(lambda u: risk_holds.decide(u, OPERATOR, alert["id"], "release", None))
    assert _held(d) == (posted + 300_00, held)
    assert two_store.verify(d.db, d.ledger) == []


@pytest.mark.usefixtures("watched")
def test_a_credit_held_for_review_given_up_at_its_deadline_closes_its_alert(
    deployment, crash_after, monkeypatch
):
    """Rejected (``NARR``) with nothing moved: the alert A stored holds nothing, so it is
    closed (with no hold to release or return)."""
    d = deployment
    before = _held(d)
    monkeypatch.setattr(two_store, "RESERVATION_TIMEOUT_S", 0)
    message = _listed(d, 400_00)
    crash_after("A")
    with pytest.raises(test_payments.Crash):
        inbound.receive(d.platform, message)
    crash_after(None)
    assert len(_open_alerts(d)) == 1
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert answers(inbound.receive(d.platform, message)) == [("RJCT", "NARR")]
    assert _held(d) == before and _open_alerts(d) == []
    assert two_store.verify(d.db, d.ledger) == []
