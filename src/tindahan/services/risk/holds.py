"""An analyst's decisions on alerts: the queue, and releasing or returning held money.

A review put the money in a ledger hold (``services.ledger.risk_gate``): a pending transfer
from the receiving account to ``op.risk.holds``. The analyst then

* **releases** it — the hold is voided; the receiver can spend the money;
* **returns** it — the hold is posted (the money moves to ``op.risk.holds``) and, linked in
  the same batch, paid back to the account it came from. An inbound bank transfer's credit
  goes back to the sender's bank: the transfer is marked returned and its pacs.004 queued
  (``inbound_review_returns``, sent by the worker's rails round). A loan's disbursement
  returned cancels the loan, its fee reversed in the same batch
  (``services.lending.loans.cancel_returned``).

Either above ``limits.RISK_FOUR_EYES_MINOR`` needs four eyes: one operator ``approve``s, and
a *different* operator decides. Every step is one transaction and one audit-log entry;
deciding an alert decides every open alert on the same hold. Operators only.

Settling a hold announces it, in the same transaction, to both sides of the movement:
``review.released`` or ``review.returned`` (``review_event``), naming the movement's ledger
transfer (a payment's, an order's or a refund's ``transfer_ids``) and what was held —
never the rule, which the customer does not read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, or_, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, not_found, refused
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import TransferCode
from tindahan.rails.identifiers import new_reference
from tindahan.rails.inbound import InboundStatus
from tindahan.risk.movement import Kind
from tindahan.services.ledger import cluster_booking, movement
from tindahan.services.ledger.risk_gate import HOLDS_ACCOUNT
from tindahan.services.lending import loans as lending_loans
from tindahan.services.platform import audit
from tindahan.services.platform.chart import fx_account, rail_account
from tindahan.services.platform.events import emit
from tindahan.services.unit import Unit, iso
from tindahan.store.rails_tables import inbound_review_returns, inbound_transfers
from tindahan.store.risk_tables import risk_alerts
from tindahan.store.tables import transfers

DECISIONS = ("release", "return")


def queue(unit: Unit, caller: Caller, status: str = "open") -> list[dict[str, Any]]:
    """Alerts by status, blocks and reviews before reports, newest first."""
    caller.require_operator()
    rows = unit.conn.execute(
        select(risk_alerts)
        .where(risk_alerts.c.status == status)
        .order_by(risk_alerts.c.created_at_ns.desc(), risk_alerts.c.id)
        .limit(limits.RISK_ALERTS_PAGE)
    ).mappings()
    severity = {"block": 0, "review": 1, "allow": 2}
    found = [dict(row) for row in rows]
    return sorted(found, key=lambda row: severity[row["decision"]])


def under_review(unit: Unit, transfer_ids: list[str]) -> set[str]:
    """Of these movements (their principal transfers), those whose money is held for review
    now — for the payer's and the payee's own views, which say so in words, never the rule."""
    if not transfer_ids:
        return set()
    query = select(risk_alerts.c.transfer_id).where(
        risk_alerts.c.transfer_id.in_(sorted(set(transfer_ids))),
        risk_alerts.c.status == "open",
        risk_alerts.c.hold_id.is_not(None),
    )
    return {str(t) for t in unit.conn.execute(query).scalars()}


def held_from(unit: Unit, account_id: str, party_id: str) -> int:
    """What is held for review now in this (wallet's) account, the party's."""
    ledger = unit.platform.ledger
    if ledger is not None:
        return _held_in_the_cluster(unit, ledger, account_id, party_id)
    open_holds = select(risk_alerts.c.hold_id).where(
        risk_alerts.c.status == "open", risk_alerts.c.hold_id.is_not(None)
    )
    query = select(func.coalesce(func.sum(transfers.c.amount), 0)).where(
        transfers.c.debit_account_id == account_id, transfers.c.id.in_(open_holds)
    )
    return int(unit.conn.execute(query).scalar_one())


def _held_in_the_cluster(unit: Unit, ledger: LedgerPort, account_id: str, party_id: str) -> int:
    """``held_from`` on a TigerBeetle ledger (issue 22): the holds are the cluster's, not in
    the SQL ``transfers``. The party's open alerts that hold money (the party is one side of
    each movement: ``party_id`` or ``counterparty``) name the holds; each one, its void and
    its post are looked up in one request, and a hold counts while it debits this account
    and neither is booked — as the available balance counts it (a decision whose
    transaction died after the cluster leaves the alert open, the money no longer held)."""
    query = select(risk_alerts.c.hold_id).where(
        risk_alerts.c.status == "open",
        risk_alerts.c.hold_id.is_not(None),
        or_(risk_alerts.c.party_id == party_id, risk_alerts.c.counterparty == party_id),
    )
    hold_ids = sorted({str(h) for h in unit.conn.execute(query).scalars()})
    if not hold_ids:
        return 0
    wanted = [i for h in hold_ids for i in (h, *decision_ids(h))]
    found = ledger.lookup_transfers(wanted)
    held = 0
    for hold_id in hold_ids:
        hold = found.get(hold_id)
        if hold is None or hold.debit_account_id != account_id:
            continue  # still being booked, or another account's
        if not any(i in found for i in decision_ids(hold_id)):
            held += int(hold.amount)
    return held


def _alert(unit: Unit, alert_id: str) -> dict[str, Any]:
    row = (
        unit.conn.execute(select(risk_alerts).where(risk_alerts.c.id == alert_id))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("alert", "alert_id")
    return dict(row)


def _open_hold(unit: Unit, alert_id: str) -> dict[str, Any]:
    alert = _alert(unit, alert_id)
    if alert["hold_id"] is None:
        raise conflict("alert_without_hold", "this alert holds no money", "alert_id")
    if alert["status"] != "open":
        raise conflict("alert_decided", f"this alert is already {alert['status']}", "alert_id")
    return alert


def _close(unit: Unit, caller: Caller, alert_id: str, note: str | None) -> dict[str, Any]:
    alert = _alert(unit, alert_id)
    if alert["hold_id"] is not None:
        message = "this alert holds money: release or return it"
        raise conflict("alert_holds_money", message, "decision")
    if alert["status"] != "open":
        raise conflict("alert_decided", f"this alert is already {alert['status']}", "alert_id")
    unit.conn.execute(
        update(risk_alerts)
        .where(risk_alerts.c.id == alert_id, risk_alerts.c.status == "open")
        .values(status="closed", decided_by=caller.key_id, decided_at_ns=unit.now())
    )
    audit.record(unit, caller.key_id, "risk.close", "risk_alert", alert_id, note)
    return _alert(unit, alert_id)


def approve(unit: Unit, caller: Caller, alert_id: str, note: str | None = None) -> dict[str, Any]:
    """The first pair of eyes on a large hold."""
    caller.require_operator()
    alert = _open_hold(unit, alert_id)
    _set(unit, alert["hold_id"], approved_by=caller.key_id)
    audit.record(unit, caller.key_id, "risk.approve", "risk_alert", alert_id, note)
    return _alert(unit, alert_id)


def decide(
    unit: Unit, caller: Caller, alert_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    """Release or return the money an alert holds; ``close`` an alert that holds none (a
    refused movement's, kept for the analyst: nothing moved, so there is nothing to settle —
    closing says it was looked at)."""
    caller.require_operator()
    if decision == "close":
        return _close(unit, caller, alert_id, note)
    if decision not in DECISIONS:
        raise refused("decision_invalid", "the decision is release, return or close", "decision")
    alert = _open_hold(unit, alert_id)
    if alert["amount_minor"] > limits.RISK_FOUR_EYES_MINOR:
        if alert["approved_by"] is None:
            raise refused(
                "four_eyes_required", "another operator must approve this first", "alert_id"
            )
        if alert["approved_by"] == caller.key_id:
            raise refused("four_eyes_required", "the approver cannot also decide", "alert_id")
    hold_id = settle(unit, caller, alert, decision)
    audit.record(
        unit,
        caller.key_id,
        f"risk.{decision}",
        "risk_alert",
        alert_id,
        note,
        {"hold_id": hold_id, "amount_minor": alert["amount_minor"]},
    )
    return _alert(unit, alert_id)


def held_minor(unit: Unit, hold_id: str) -> int:
    """What a hold holds (the pending transfer's amount; on a TigerBeetle ledger, read from
    the cluster: 0 while the movement that books it is still under way)."""
    ledger = unit.platform.ledger
    if ledger is not None:
        found = ledger.lookup_transfers([hold_id]).get(hold_id)
        return 0 if found is None or found.amount is None else int(found.amount)
    query = select(transfers.c.amount).where(transfers.c.id == hold_id)
    return int(unit.conn.execute(query).scalar_one())


def settle(unit: Unit, caller: Caller, alert: dict[str, Any], decision: str) -> str:
    """Release (void) or return (post, and pay back) the hold of this open alert, and mark
    every open alert on it; the caller checks four eyes and writes the audit entry.

    On a TigerBeetle ledger (issue 22: an inbound credit, a payment, a send, a cash-in, a
    funding or a refund held for review) the same legs are booked in the cluster from inside this
    transaction (``cluster_booking.book_within``: derived ids, their names first), before
    the decision commits: a crash between the two leaves the alert open with its legs in the
    cluster, and the analyst's same decision again books nothing twice (``exists``) and
    commits it. The other decision is refused first (``in_the_cluster``). A hold whose
    movement is still being booked is refused ``hold_not_booked``."""
    hold_id: str = alert["hold_id"]
    ledger = unit.platform.ledger
    if ledger is not None:
        in_the_cluster(ledger, hold_id, decision)
    if decision == "release":
        legs = [_void(hold_id)]
    else:
        held = held_minor(unit, hold_id)
        inbound = _inbound_credit(unit, alert)
        back = _payback(alert, held)
        legs = [_post(hold_id), back]
        if inbound is not None:
            legs.extend(_to_the_senders_bank(unit, inbound, hold_id))
        # a loan's disbursement returned: the loan is cancelled, its fee reversed
        legs.extend(lending_loans.cancel_returned(unit, caller, alert["transfer_id"], [back.id]))
    if ledger is None:
        movement.book(unit, movement.linked(legs))
    else:
        cluster_booking.book_within(unit, ledger, legs)
    status = "released" if decision == "release" else "returned"
    _set(unit, hold_id, status=status, decided_by=caller.key_id, decided_at_ns=unit.now())
    data = review_event(alert, status, held_minor(unit, hold_id), unit.now())
    emit(unit, f"review.{status}", data, (alert["party_id"], alert["counterparty"]))
    return hold_id


def decision_ids(hold_id: str) -> tuple[str, str]:
    """The ids of a hold's release (its void) and of its return (its post)."""
    return _void(hold_id).id, _post(hold_id).id


def in_the_cluster(ledger: LedgerPort, hold_id: str, decision: str) -> None:
    """Before a decision books on a TigerBeetle ledger: the hold, its void and its post
    looked up in one request. Not booked yet: ``hold_not_booked``. Already decided the
    *other* way in the cluster — a decision whose transaction died after the cluster booked
    it (the alert still open) — refused ``alert_decided_in_ledger`` (409), naming the
    decision the ledger holds, with nothing changed.

    Why refused and not finished as the ledger has it: the money already moved as the
    first decision said (released: the receiver's to spend; returned: paid back to the
    sender), and the cluster cannot undo either, so this analyst's decision cannot be
    carried out; recording the other one under this analyst's name, note and audit entry
    would say they decided what they did not. The refusal tells them what the ledger
    holds; making that decision records it (it books nothing twice: ``exists``)."""
    void, post = decision_ids(hold_id)
    found = ledger.lookup_transfers([hold_id, void, post])
    if hold_id not in found:
        message = "the held money is still being booked; try again in a moment"
        raise conflict("hold_not_booked", message, "alert_id")
    other, done = (post, "return") if decision == "release" else (void, "release")
    if other in found:
        message = (
            f"the ledger already holds a {done} of this money, from a decision that did not "
            f"finish: it cannot be undone; {done} it to record that decision"
        )
        raise conflict("alert_decided_in_ledger", message, "decision")


#: The pacs.004's return reason for an inbound credit returned after a review: "no reason
#: given" — the reason (a name on a list, a rule) is not the sender's bank's to read, as the
#: ``ACSC`` that accepted the credit did not say it would be reviewed.
REVIEW_RETURN_REASON = "MS03"


def _inbound_credit(unit: Unit, alert: dict[str, Any]) -> Any | None:
    """The inbound bank transfer this alert's movement credited, if it is one (still
    credited: a recall accepted before would have taken the money out of the wallet)."""
    if alert["kind"] != Kind.BANK_IN.value:
        return None
    query = select(inbound_transfers).where(
        inbound_transfers.c.transfer_id == alert["transfer_id"],
        inbound_transfers.c.status == InboundStatus.CREDITED.value,
    )
    return unit.conn.execute(query).mappings().first()


def _to_the_senders_bank(unit: Unit, inbound: Any, hold_id: str) -> list[NewTransfer]:
    """An inbound credit's return goes back to the sender's bank, as a recall's does: the
    payback lands on the rail's clearing account (or, from abroad, the FX liquidity, and this
    leg carries the foreign amount on to the foreign clearing account); the transfer is
    marked returned and its pacs.004 queued for the worker's round (``services.rails.
    recalls.dispatch``). The legs to add to the payback's batch."""
    now = unit.now()
    unit.conn.execute(
        update(inbound_transfers)
        .where(inbound_transfers.c.id == inbound["id"])
        .values(status=InboundStatus.RETURNED.value, returned_at_ns=now)
    )
    row = {
        "inbound_transfer_id": inbound["id"],
        "hold_id": hold_id,
        "return_id": new_reference("R"),
        "reason_code": REVIEW_RETURN_REASON,
        "decided_at_ns": now,
        "sent_at_ns": None,
    }
    unit.conn.execute(insert(inbound_review_returns), row)
    if inbound["mid_rate"] is None:
        return []
    rail, currency = inbound["rail"], inbound["currency"]
    return [
        NewTransfer(
            id=f"{hold_id}.fx"[:80],
            debit_account_id=fx_account(currency),
            credit_account_id=rail_account(rail, currency),
            amount=inbound["amount_minor"],
            ledger=currency,
            code=TransferCode.FX_OUT,
            metadata={"inbound_transfer": inbound["id"], "uetr": inbound["uetr"]},
        )
    ]


def review_event(alert: dict[str, Any], status: str, held: int, now: int) -> dict[str, Any]:
    """The payload of ``review.released`` / ``review.returned``."""
    return {
        "object": "review",
        "id": alert["hold_id"],
        "transfer_id": alert["transfer_id"],
        "kind": alert["kind"],
        "amount_minor": held,
        "currency": alert["currency"],
        "status": status,
        "decided": iso(now),
    }


def _set(unit: Unit, hold_id: str, **values: Any) -> None:
    unit.conn.execute(
        update(risk_alerts)
        .where(risk_alerts.c.hold_id == hold_id, risk_alerts.c.status == "open")
        .values(**values)
    )


def _void(hold_id: str) -> NewTransfer:
    return NewTransfer(
        id=f"{hold_id}.void"[:80], pending_id=hold_id, flags=TransferFlags.VOID_PENDING
    )


def _post(hold_id: str) -> NewTransfer:
    return NewTransfer(
        id=f"{hold_id}.post"[:80], pending_id=hold_id, flags=TransferFlags.POST_PENDING
    )


def _payback(alert: dict[str, Any], amount: int) -> NewTransfer:
    return NewTransfer(
        id=f"{alert['hold_id']}.back"[:80],
        debit_account_id=HOLDS_ACCOUNT,
        credit_account_id=alert["sender_account_id"],
        amount=amount,
        ledger=alert["currency"],
        code=TransferCode.RISK_RETURN,
        metadata={"risk_return": alert["transfer_id"]},
    )
