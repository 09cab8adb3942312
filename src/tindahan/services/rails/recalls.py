"""Recalls of inbound transfers: a bank's camt.056, the operator's decision, the camt.029.

1. ``receive``: each transaction of a camt.056 names an inbound transfer we credited (by
   UETR and EndToEndId). It becomes a *pending* recall for the operator, once per case
   (UNIQUE ``inbound_transfer_id, case_id``: the same request delivered twice is one
   recall), announced to the wallet's owner (``inbound_transfer.recall_received``). A
   recall of a transfer we never credited cannot wait for anyone: it is answered at once,
   camt.029 ``RJCR NOOR``.
2. ``decide`` (operator): *accept* sends the money back — only while the wallet still has it
   (available balance, holds counted, at least what was credited: ``rails.inbound.
   may_recall``; else the recall is rejected ``AM04``, or ``ARDT`` when already returned) —
   as one ledger movement from the wallet to the rail's clearing account (code
   ``INBOUND_RETURN``; from abroad, back through the FX liquidity to the foreign clearing
   account, the operator carrying the rate's move), the inbound transfer becomes
   ``returned``; *reject* keeps the money and names the reason (``CUST``, ``LEGL``...).
   The wallet's ledger row is locked first (PostgreSQL ``FOR UPDATE``), so a payment from
   the wallet racing the decision cannot spend the money being returned.
3. ``dispatch``: each decided recall not yet sent goes to the clearing house through the
   ``RailPort``: the pacs.004 (an accepted one, reason ``FOCR``) and the camt.029 (``CNCL``
   with ``ACCR``, or ``RJCR`` with the reason); marked sent after the port took them. So
   does each inbound credit an analyst returned after a review (``services.risk.holds``):
   its pacs.004, reason ``MS03`` (none given), with no camt.029 (no bank asked).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.payments.model import TransferCode
from tindahan.rails import (
    ClearingSystem,
    Message,
    PaymentReturn,
    RecallAnswer,
    Transaction,
)
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference
from tindahan.rails.inbound import RECALL_REJECTIONS, InboundStatus, RecallStatus, may_recall
from tindahan.rails.port import RailPort
from tindahan.rails.reasons import reason_words
from tindahan.services.ledger import movement
from tindahan.services.platform.chart import fx_account, rail_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.rails import inbound
from tindahan.services.rails.transfers import CLEARING_HOUSE_BIC, our_bic
from tindahan.services.unit import Platform, Unit, iso, ledger_id, new_id
from tindahan.store.rails_tables import (
    inbound_recalls,
    inbound_review_returns,
    inbound_transfers,
)
from tindahan.store.tables import accounts

log = logging.getLogger(__name__)
RETURN_REASON = "FOCR"  # following a cancellation request (ExternalReturnReason1Code)


def view(row: Any, transfer: Any) -> dict[str, Any]:
    code, rejection = row["reason_code"], row["rejection_code"]
    return {
        "id": row["id"],
        "object": "inbound_recall",
        "inbound_transfer_id": row["inbound_transfer_id"],
        "party_id": transfer["party_id"],
        "uetr": transfer["uetr"],
        "amount_minor": transfer["amount_minor"],
        "currency": transfer["currency"],
        "case_id": row["case_id"],
        "bank": row["assigner_agent"],
        "reason": None
        if code is None
        else {"code": code, "en": reason_words(code), "fil": reason_words(code, "fil")},
        "status": row["status"],
        "rejection": None
        if rejection is None
        else {"code": rejection, "en": RECALL_REJECTIONS.get(rejection, rejection)},
        "received": iso(row["received_at_ns"]),
        "decided": iso(row["decided_at_ns"]),
        "sent": iso(row["sent_at_ns"]),
    }


# --- 1. receive ------------------------------------------------------------------------------
def receive(platform: Platform, message: Message) -> bytes | None:
    """Record each recall of a camt.056; the camt.029 for those we cannot place, or None."""
    unknown: list[Transaction] = []
    for item in message.transactions:
        if not platform.run(partial(_record, message=message, item=item)):
            unknown.append(item)
    if not unknown:
        return None
    first = unknown[0]
    return rails_xml.camt029(
        message_id=new_reference("C"),
        created_at=datetime.fromtimestamp(platform.now() / 10**9, UTC),
        assigner=our_bic(),
        assignee=first.debtor_agent or CLEARING_HOUSE_BIC,
        case_id=first.reference or message.message_id,
        answers=[
            RecallAnswer(
                item.original_message_id or "NOTPROVIDED",
                item.uetr or "",
                item.end_to_end_id or "NOTPROVIDED",
                accepted=False,
                reason="NOOR",
            )
            for item in unknown
        ],
    )


def _record(unit: Unit, message: Message, item: Transaction) -> bool:
    """A pending recall of a credited transfer (once per case); False when not ours."""
    transfer = (
        unit.conn.execute(
            select(inbound_transfers).where(
                inbound_transfers.c.uetr == item.uetr,
                inbound_transfers.c.end_to_end_id == item.end_to_end_id,
            )
        )
        .mappings()
        .first()
    )
    if transfer is None or transfer["status"] == InboundStatus.REJECTED:
        log.warning("a recall of a transfer we never credited (UETR %s)", item.uetr)
        return False
    case_id = item.reference or message.message_id
    seen = unit.conn.execute(
        select(inbound_recalls.c.id).where(
            inbound_recalls.c.inbound_transfer_id == transfer["id"],
            inbound_recalls.c.case_id == case_id,
        )
    ).first()
    if seen is not None:
        return True
    row = {
        "id": new_id("rcl"),
        "inbound_transfer_id": transfer["id"],
        "case_id": case_id,
        "message_id": message.message_id,
        "assigner_agent": item.debtor_agent,
        "reason_code": item.reason,
        "status": RecallStatus.PENDING.value,
        "rejection_code": None,
        "return_id": None,
        "received_at_ns": unit.now(),
        "decided_at_ns": None,
        "sent_at_ns": None,
    }
    unit.conn.execute(inbound_recalls.insert(), row)
    emit(unit, "inbound_transfer.recall_received", view(row, transfer), (transfer["party_id"],))
    return True


# --- 2. decide -------------------------------------------------------------------------------
def _rows(unit: Unit, recall_id: str, *, lock: bool = False) -> tuple[Any, Any]:
    query = select(inbound_recalls).where(inbound_recalls.c.id == recall_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        raise not_found("inbound_recall", "id")
    transfer = (
        unit.conn.execute(
            select(inbound_transfers).where(inbound_transfers.c.id == row["inbound_transfer_id"])
        )
        .mappings()
        .one()
    )
    return row, transfer


def decide(
    unit: Unit, caller: Caller, recall_id: str, decision: object, reason: object = None
) -> dict[str, Any]:
    """The operator accepts (the money goes back, if it is still there) or rejects."""
    row, transfer = undecided(unit, caller, recall_id, decision, reason)
    if decision == "reject":
        return finish(unit, row, transfer, str(reason or "CUST"))
    available = _available(unit, transfer)
    why_not = may_recall(
        InboundStatus(transfer["status"]), available, transfer["credited_minor"] or 0
    )
    if why_not is not None:
        return finish(unit, row, transfer, why_not)
    movement.book(unit, send_back_legs(unit, transfer, row["id"]))
    return returned(unit, row, transfer)


def undecided(
    unit: Unit, caller: Caller, recall_id: str, decision: object, reason: object
) -> tuple[Any, Any]:
    """A decision's checks (either ledger): the operator, the decision and reason, the
    recall still ``pending`` (its row locked); the recall and its inbound transfer."""
    caller.require_operator()
    if decision not in ("accept", "reject"):
        raise invalid("decision_invalid", "decision is accept or reject", "decision")
    if reason is not None and reason not in RECALL_REJECTIONS:
        known = ", ".join(sorted(RECALL_REJECTIONS))
        raise invalid("reason_invalid", f"a rejection's reason is one of {known}", "reason")
    row, transfer = _rows(unit, recall_id, lock=True)
    if row["status"] != RecallStatus.PENDING:
        raise conflict("recall_decided", f"this recall was already {row['status']}", "id")
    return row, transfer


def returned(unit: Unit, row: Any, transfer: Any) -> dict[str, Any]:
    """The money is back with the sending bank's clearing account: the inbound transfer
    ``returned``, the recall ``accepted`` (its pacs.004 and camt.029 then sent)."""
    unit.conn.execute(
        update(inbound_transfers)
        .where(inbound_transfers.c.id == transfer["id"])
        .values(status=InboundStatus.RETURNED.value, returned_at_ns=unit.now())
    )
    returned = dict(transfer, status=InboundStatus.RETURNED.value, returned_at_ns=unit.now())
    emit(unit, "inbound_transfer.returned", inbound.view(returned), (transfer["party_id"],))
    return finish(unit, row, transfer, None)


def _available(unit: Unit, transfer: Any) -> int:
    """The wallet's balance less its holds, its ledger row locked (PostgreSQL)."""
    account_id = _wallet(unit, transfer).account_id
    query = select(
        accounts.c.credits_posted, accounts.c.debits_posted, accounts.c.debits_pending
    ).where(accounts.c.id == account_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    found = unit.conn.execute(query).one()
    return int(found.credits_posted - found.debits_posted - found.debits_pending)


def _wallet(unit: Unit, transfer: Any) -> movement.Holder:
    found = movement.holders(unit, (transfer["party_id"],)).values()
    return next(holder for holder in found if holder.wallet_id == transfer["wallet_id"])


def send_back_legs(unit: Unit, transfer: Any, recall_id: str) -> list[NewTransfer]:
    """The money going back: the wallet → the rail's clearing account (from abroad, through
    the FX liquidity: two legs, linked)."""
    wallet = _wallet(unit, transfer)
    rail, currency = transfer["rail"], transfer["currency"]
    names = {
        "inbound_transfer": transfer["id"],
        "uetr": transfer["uetr"],
        "end_to_end_id": transfer["end_to_end_id"],
    }
    converted = transfer["mid_rate"] is not None
    back = NewTransfer(
        ledger_id(recall_id),
        wallet.account_id,
        fx_account(wallet.currency) if converted else rail_account(rail, currency),
        transfer["credited_minor"],
        wallet.currency,
        TransferCode.INBOUND_RETURN,
        TransferFlags.LINKED if converted else TransferFlags.NONE,
        metadata=names,
    )
    legs = [back]
    if converted:  # the foreign amount leaves the FX liquidity for the foreign clearing account
        legs.append(
            NewTransfer(
                ledger_id(recall_id, "fx"),
                fx_account(currency),
                rail_account(rail, currency),
                transfer["amount_minor"],
                currency,
                TransferCode.FX_OUT,
                metadata=names,
            )
        )
    return legs


def wallet_of(unit: Unit, transfer: Any) -> movement.Holder:
    return _wallet(unit, transfer)


def rows(unit: Unit, recall_id: str) -> tuple[Any, Any]:
    return _rows(unit, recall_id)


def finish(unit: Unit, row: Any, transfer: Any, rejection: str | None) -> dict[str, Any]:
    values = {
        "status": (RecallStatus.REJECTED if rejection else RecallStatus.ACCEPTED).value,
        "rejection_code": rejection,
        "return_id": None if rejection else new_reference("R"),
        "decided_at_ns": unit.now(),
    }
    unit.conn.execute(
        update(inbound_recalls).where(inbound_recalls.c.id == row["id"]).values(**values)
    )
    decided = view(dict(row, **values), transfer)
    if rejection is not None:
        emit(unit, "inbound_transfer.recall_rejected", decided, (transfer["party_id"],))
    return decided


# --- reading ---------------------------------------------------------------------------------
def get(unit: Unit, caller: Caller, recall_id: str) -> dict[str, Any]:
    caller.require_operator()
    return view(*_rows(unit, recall_id))


def list_recalls(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    """The recalls, oldest first (``status`` ``pending``: what waits for a decision)."""
    caller.require_operator()
    query = (
        select(inbound_recalls, inbound_transfers)
        .join(inbound_transfers, inbound_transfers.c.id == inbound_recalls.c.inbound_transfer_id)
        .order_by(inbound_recalls.c.id)
        .limit(limit + 1)
    )
    if status is not None:
        if status not in tuple(RecallStatus):
            raise invalid("status_invalid", "status is pending, accepted or rejected", "status")
        query = query.where(inbound_recalls.c.status == status)
    if starting_after:
        query = query.where(inbound_recalls.c.id > starting_after)
    rows = unit.conn.execute(query).all()
    found = []
    for row in rows[:limit]:
        recall = {c.name: row[i] for i, c in enumerate(inbound_recalls.columns)}
        offset = len(inbound_recalls.columns)
        transfer = {c.name: row[offset + i] for i, c in enumerate(inbound_transfers.columns)}
        found.append(view(recall, transfer))
    return page(found, len(rows) > limit)


# --- 3. dispatch -----------------------------------------------------------------------------
def dispatch(platform: Platform, port: RailPort) -> int:
    """Send each decided recall's pacs.004 (accepted) and camt.029; returns how many."""

    def unsent(unit: Unit) -> list[str]:
        query = (
            select(inbound_recalls.c.id)
            .where(inbound_recalls.c.status != RecallStatus.PENDING.value)
            .where(inbound_recalls.c.sent_at_ns.is_(None))
            .order_by(inbound_recalls.c.id)
        )
        return list(unit.conn.execute(query).scalars())

    sent = 0
    for recall_id in platform.run(unsent, write=False):
        for data in platform.run(partial(messages, recall_id=recall_id), write=False):
            port.send(data)
        platform.run(partial(_mark_sent, recall_id=recall_id))
        sent += 1
    return sent + _dispatch_review_returns(platform, port)


# --- returns after a review ------------------------------------------------------------------
def _dispatch_review_returns(platform: Platform, port: RailPort) -> int:
    """Send the pacs.004 of each inbound credit an analyst returned after a review
    (``services.risk.holds``), once; returns how many."""

    def unsent(unit: Unit) -> list[str]:
        r = inbound_review_returns.c
        query = select(r.inbound_transfer_id).where(r.sent_at_ns.is_(None))
        return list(unit.conn.execute(query.order_by(r.inbound_transfer_id)).scalars())

    sent = 0
    for transfer_id in platform.run(unsent, write=False):
        port.send(platform.run(partial(review_return, transfer_id=transfer_id), write=False))
        platform.run(partial(_mark_review_return_sent, transfer_id=transfer_id))
        sent += 1
    return sent


def review_return(unit: Unit, transfer_id: str) -> bytes:
    """The pacs.004 sending an inbound credit back to the sender's bank after a review: the
    amount as it came (in its currency), the reason ``MS03`` (none given)."""
    r, t = inbound_review_returns, inbound_transfers
    query = select(r, t).join(t, t.c.id == r.c.inbound_transfer_id)
    row = unit.conn.execute(query.where(r.c.inbound_transfer_id == transfer_id)).one()._mapping
    moment = datetime.fromtimestamp(row[r.c.decided_at_ns] / 10**9, UTC)
    back = PaymentReturn(
        row[t.c.message_id],
        row[t.c.uetr],
        row[t.c.end_to_end_id],
        row[t.c.amount_minor],
        row[t.c.currency],
        row[r.c.reason_code],
    )
    return rails_xml.pacs004(
        message_id=row[r.c.return_id],
        created_at=moment,
        settlement_date=moment.date(),
        clearing_system=ClearingSystem(row[t.c.rail].upper()),
        returns=[back],
    )


def _mark_review_return_sent(unit: Unit, transfer_id: str) -> None:
    unit.conn.execute(
        update(inbound_review_returns)
        .where(inbound_review_returns.c.inbound_transfer_id == transfer_id)
        .values(sent_at_ns=unit.now())
    )


def messages(unit: Unit, recall_id: str) -> list[bytes]:
    """A decided recall's messages, in the order they go: the pacs.004, then the camt.029."""
    row, transfer = _rows(unit, recall_id)
    moment = datetime.fromtimestamp((row["decided_at_ns"] or unit.now()) / 10**9, UTC)
    accepted = row["status"] == RecallStatus.ACCEPTED
    found: list[bytes] = []
    if accepted:
        back = PaymentReturn(
            transfer["message_id"],
            transfer["uetr"],
            transfer["end_to_end_id"],
            transfer["amount_minor"],
            transfer["currency"],
            RETURN_REASON,
        )
        found.append(
            rails_xml.pacs004(
                message_id=row["return_id"],
                created_at=moment,
                settlement_date=moment.date(),
                clearing_system=ClearingSystem(transfer["rail"].upper()),
                returns=[back],
            )
        )
    answer = RecallAnswer(
        transfer["message_id"],
        transfer["uetr"],
        transfer["end_to_end_id"],
        accepted=accepted,
        reason=row["rejection_code"],
    )
    found.append(
        rails_xml.camt029(
            message_id="C" + row["id"].removeprefix("rcl_")[:34],
            created_at=moment,
            assigner=our_bic(),
            assignee=row["assigner_agent"] or CLEARING_HOUSE_BIC,
            case_id=row["case_id"],
            answers=[answer],
        )
    )
    return found


def _mark_sent(unit: Unit, recall_id: str) -> None:
    unit.conn.execute(
        update(inbound_recalls)
        .where(inbound_recalls.c.id == recall_id)
        .values(sent_at_ns=unit.now())
    )
