"""An analyst's decisions on alerts: the queue, and releasing or returning held money.

A review put the money in a ledger hold (``services.ledger.risk_gate``): a pending transfer
from the receiving account to ``op.risk.holds``. The analyst then

* **releases** it — the hold is voided; the receiver can spend the money;
* **returns** it — the hold is posted (the money moves to ``op.risk.holds``) and, linked in
  the same batch, paid back to the account it came from.

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

from sqlalchemy import func, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, not_found, refused
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.payments.model import TransferCode
from tindahan.services.ledger import movement
from tindahan.services.ledger.risk_gate import HOLDS_ACCOUNT
from tindahan.services.platform import audit
from tindahan.services.platform.events import emit
from tindahan.services.unit import Unit, iso
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


def held_from(unit: Unit, account_id: str) -> int:
    """What is held for review now in this (wallet's) account."""
    open_holds = select(risk_alerts.c.hold_id).where(
        risk_alerts.c.status == "open", risk_alerts.c.hold_id.is_not(None)
    )
    query = select(func.coalesce(func.sum(transfers.c.amount), 0)).where(
        transfers.c.debit_account_id == account_id, transfers.c.id.in_(open_holds)
    )
    return int(unit.conn.execute(query).scalar_one())


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
    """What a hold holds (the pending transfer's amount)."""
    query = select(transfers.c.amount).where(transfers.c.id == hold_id)
    return int(unit.conn.execute(query).scalar_one())


def settle(unit: Unit, caller: Caller, alert: dict[str, Any], decision: str) -> str:
    """Release (void) or return (post, and pay back) the hold of this open alert, and mark
    every open alert on it; the caller checks four eyes and writes the audit entry."""
    hold_id: str = alert["hold_id"]
    if decision == "release":
        movement.book(unit, [_void(hold_id)])
    else:
        held = held_minor(unit, hold_id)
        movement.book(unit, movement.linked([_post(hold_id), _payback(alert, held)]))
    status = "released" if decision == "release" else "returned"
    _set(unit, hold_id, status=status, decided_by=caller.key_id, decided_at_ns=unit.now())
    data = review_event(alert, status, held_minor(unit, hold_id), unit.now())
    emit(unit, f"review.{status}", data, (alert["party_id"], alert["counterparty"]))
    return hold_id


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
