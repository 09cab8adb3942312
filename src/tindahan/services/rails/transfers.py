"""Outbound credit transfers: a wallet's money to a bank account, through InstaPay or PESONet.

One transfer, four use cases, each its own transaction:
1. ``create``: route (``rails.directory.route``), hold the amount on the ledger — a pending
   transfer from the wallet to the rail's clearing account (``op.rail.instapay`` or
   ``op.rail.pesonet``), counted against the wallet's daily and monthly limits — and record
   the transfer with its UETR and EndToEndId. Nothing has left yet.
2. ``dispatch``: build each unsent transfer's pacs.008 (the account number is decrypted only
   here, into the message) and hand it to the ``RailPort``; marked sent after the port took
   it. A crash in between sends it again with the same UETR, which the clearing house
   answers as a duplicate: nothing moves twice.
3. ``receive``: a pacs.002 posts the hold (``ACSC``/``ACCC``) or voids it (``RJCT``, limits
   given back, reason kept); a pacs.004 after settlement credits the money back from the
   clearing account. What each answer does is ``rails.transfers``' rule, decided under the
   transfer's row lock: a duplicated or late answer, or one for a transfer we never sent,
   changes nothing (and is counted as ignored).
4. ``ask``: a transfer unanswered past its rail's time-out gets a pacs.028; an immediate
   answer is received as in 3.

PESONet transfers wait for their batch's cut-off (``rails.batches``) and leave together as
one pacs.008 with many transactions; each is then answered, settled or rejected alone.

The fee (``rails.fees``: flat, per rail and kind, the operator's settings) is a second
pending leg in the same linked batch as the hold, from the wallet to the operator's fees
(``op.fees.NN``, code ``BANK_TRANSFER_FEE``): posted with the transfer when it settles,
voided with it when it is rejected (so the person pays nothing for a transfer that never
left), and given back after a return (code ``BANK_FEE_REFUND``) unless the return's reason
is the sender's wrong account. The tier's outgoing limits count the amount sent, not the fee
(the fee does not leave for another party); the balance must cover both.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.payments.model import TransferCode, WalletKind
from tindahan.rails import ClearingSystem, CreditTransfer, MessageType, Party, StatusQuery
from tindahan.rails import xml as rails_xml
from tindahan.rails.batches import cutoff_after
from tindahan.rails.directory import route
from tindahan.rails.fees import FeeKind, fee_refunded, setting_key
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.rails.model import Transaction
from tindahan.rails.port import RailPort
from tindahan.rails.reasons import reason_words, status_words
from tindahan.rails.transfers import Action, TransferStatus, may_return, on_status
from tindahan.services.ledger import movement
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.payments import two_store
from tindahan.services.platform.chart import fee_account, rail_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.fees import fee_settings
from tindahan.services.platform.listing import page
from tindahan.services.rails import bank_accounts, participants
from tindahan.services.unit import Platform, Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import two_store_payments
from tindahan.store.rails_tables import bank_transfers

log = logging.getLogger(__name__)
#: Our own BIC, the debtor agent and instructing agent of every pacs.008 we send (the QR
#: acquirer id's institution by default).
BIC_ENV = "TINDAHAN_RAILS_BIC"
DEFAULT_BIC = "TNDHPHM1XXX"
#: The instructed agent of a PESONet batch (many creditor banks): the clearing house, PCHC.
#: Its BIC is not published with the schemes' rules; this one is our placeholder.
CLEARING_HOUSE_BIC = "PCHCPHM1XXX"
ANSWER_SECONDS = {
    ClearingSystem.INSTAPAY.value.lower(): limits.INSTAPAY_ANSWER_SECONDS,
    ClearingSystem.PESONET.value.lower(): limits.PESONET_ANSWER_SECONDS,
}


def our_bic() -> str:
    return os.environ.get(BIC_ENV, DEFAULT_BIC)


@dataclass(frozen=True)
class NewBankTransfer:
    bank_account_id: object
    amount_minor: object
    currency: object = "PHP"
    party_id: str | None = None  # an operator names the party; a party's key is itself
    kind: FeeKind = FeeKind.SEND  # which fee applies (a payout's, from ``payouts.banks``)


@dataclass
class Receipt:
    """What one received message did: transfers changed, and answers that changed nothing."""

    message_type: str
    applied: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def view(row: Any) -> dict[str, Any]:
    code = row["reason_code"]
    return {
        "id": row["id"],
        "object": "bank_transfer",
        "party_id": row["party_id"],
        "wallet_id": row["wallet_id"],
        "bank_account_id": row["bank_account_id"],
        # paying another institution's QR Ph code: its acquirer (no bank account then)
        "participant_code": row["participant_code"],
        "rail": row["rail"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "uetr": row["uetr"],
        "end_to_end_id": row["end_to_end_id"],
        "status": row["status"],
        "reason": None
        if code is None
        else {"code": code, "en": reason_words(code), "fil": reason_words(code, "fil")},
        "returned_minor": row["returned_minor"],
        "kind": row["kind"],
        "fee_minor": row["fee_minor"],
        "fee_refunded_minor": row["fee_refunded_minor"],
        "total_minor": row["amount_minor"] + row["fee_minor"],
        "created": iso(row["created_at_ns"]),
        "sent": iso(row["sent_at_ns"]),
        "finished": iso(row["finished_at_ns"]),
    }


# --- 1. create -------------------------------------------------------------------------------
def create(unit: Unit, caller: Caller, new: NewBankTransfer) -> dict[str, Any]:
    """Hold the money and record the transfer; ``dispatch`` sends it."""
    return start(unit, *check(unit, caller, new))


def check(
    unit: Unit, caller: Caller, new: NewBankTransfer
) -> tuple[movement.Holder, bank_accounts.Destination, int, str, FeeKind]:
    """The request's checks (either ledger): the wallet, the account, the amount."""
    caller.require("payments:write")
    if not isinstance(new.bank_account_id, str):
        raise invalid("parameter_invalid", "bank_account_id is an id", "bank_account_id")
    target = bank_accounts.destination(unit, caller, new.bank_account_id)
    if new.party_id not in (None, target.party_id):
        raise not_found("bank_account", "bank_account_id")
    amount_minor, currency = movement.amount(new.amount_minor, new.currency)
    wallet = movement.holders(unit, (target.party_id,))[(target.party_id, WalletKind.MAIN)]
    return wallet, target, amount_minor, currency, new.kind


def fee_for(unit: Unit, amount_minor: int, target: bank_accounts.Destination, kind: FeeKind) -> int:
    """The fee a transfer of ``amount_minor`` to ``target`` pays now (its rail's, its kind's)."""
    return fee_settings(unit)[setting_key(route(amount_minor, target.bank), kind)]


def start(
    unit: Unit,
    wallet: movement.Holder,
    target: bank_accounts.Destination,
    amount_minor: int,
    currency: str,
    kind: FeeKind = FeeKind.SEND,
) -> dict[str, Any]:
    """Route, hold and record (for ``create`` and for payouts to a bank account)."""
    row, legs = plan(unit, wallet, target, amount_minor, currency, kind)
    movement.book(unit, movement.linked(legs))
    unit.conn.execute(insert(bank_transfers).values(**row))
    return view(row)


def plan(
    unit: Unit,
    wallet: movement.Holder,
    target: bank_accounts.Destination,
    amount_minor: int,
    currency: str,
    kind: FeeKind = FeeKind.SEND,
) -> tuple[dict[str, Any], list[NewTransfer]]:
    """Route, check the tier's outgoing limits (raised) and build the row and the legs (the
    amount's hold and the fee's, both pending, not linked yet): ``start`` books them on the
    SQL ledger, ``cluster.create`` through the two-store order."""
    rail = route(amount_minor, target.bank).value.lower()
    movement.require_active(wallet, "wallet")
    transfer_id = new_id("btr")
    fee = fee_for(unit, amount_minor, target, kind)
    hold = NewTransfer(
        ledger_id(transfer_id),
        wallet.account_id,
        rail_account(rail),
        amount_minor,
        currency,
        TransferCode.BANK_TRANSFER,
        TransferFlags.PENDING,
        metadata={"bank_transfer": transfer_id, "rail": rail},
    )
    legs = [hold]
    if fee:
        legs.append(
            NewTransfer(
                ledger_id(transfer_id, "fee"),
                wallet.account_id,
                fee_account(transfer_id),
                fee,
                currency,
                TransferCode.BANK_TRANSFER_FEE,
                TransferFlags.PENDING,
                metadata={"bank_transfer": transfer_id, "rail": rail},
            )
        )
    movement.precheck(wallet, amount_minor, currency)
    movement.limit_outgoing(unit, wallet, amount_minor, currency)
    sealed = target.id is None  # a QR Ph merchant's account: kept on the transfer, sealed
    row = {
        "id": transfer_id,
        "party_id": wallet.party_id,
        "wallet_id": wallet.wallet_id,
        "bank_account_id": target.id,
        "participant_code": target.bank.code if sealed else None,
        "creditor_number_cipher": unit.vault.seal(target.account_number, _number(transfer_id))
        if sealed
        else None,
        "creditor_name_cipher": unit.vault.seal(target.account_name, _name(transfer_id))
        if sealed
        else None,
        "rail": rail,
        "amount_minor": amount_minor,
        "currency": currency,
        "uetr": new_uetr(),
        "end_to_end_id": new_reference("TDH"),
        "message_id": new_reference("M"),
        "hold_id": hold.id,
        "status": TransferStatus.PENDING.value,
        "reason_code": None,
        "returned_minor": 0,
        "kind": kind.value,
        "fee_minor": fee,
        "fee_refunded_minor": 0,
        "created_at_ns": unit.now(),
        "sent_at_ns": None,
        "asked_at_ns": None,
        "finished_at_ns": None,
    }
    return row, legs


def _row(unit: Unit, transfer_id: str, *, lock: bool = False) -> Any:
    query = select(bank_transfers).where(bank_transfers.c.id == transfer_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    return unit.conn.execute(query).mappings().first()


def get(unit: Unit, caller: Caller, transfer_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = _row(unit, transfer_id)
    if row is None or not caller.reaches(row["party_id"]):
        raise not_found("bank_transfer", "id")
    return view(row)


def list_transfers(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None = None
) -> dict[str, Any]:
    caller.require("payments:read")
    query = select(bank_transfers).order_by(bank_transfers.c.id).limit(limit + 1)
    if not caller.operator:
        query = query.where(bank_transfers.c.party_id == caller.party_id)
    if starting_after:
        query = query.where(bank_transfers.c.id > starting_after)
    rows = unit.conn.execute(query).mappings().all()
    return page([view(row) for row in rows[:limit]], len(rows) > limit)


def status_text(status: str) -> dict[str, str]:
    """A transfer's status in words for people (the pages, the CLI)."""
    words = {
        "pending": ("on its way", "papunta pa"),
        "settled": ("arrived", "dumating na"),
        "rejected": ("rejected", status_words("RJCT", "fil")),
        "returned": ("returned to the wallet", "ibinalik sa wallet"),
    }[status]
    return {"en": words[0], "fil": words[1]}


# --- 2. dispatch -----------------------------------------------------------------------------
def dispatch(platform: Platform, port: RailPort) -> int:
    """Send what is due: each InstaPay transfer at once, PESONet ones as one batch once their
    cut-off has passed (``rails.batches``); returns how many transfers were handed over."""
    now = platform.now()
    due, holidays = platform.run(_unsent, write=False)
    instapay = [row["id"] for row in due if row["rail"] == "instapay"]
    pesonet = [
        row["id"]
        for row in due
        if row["rail"] == "pesonet" and cutoff_after(row["created_at_ns"], holidays) <= now
    ]
    for transfer_id in instapay:
        _send(platform, port, [transfer_id])
    if pesonet:
        _send(platform, port, pesonet[: limits.MAX_RAIL_TRANSACTIONS])
    return len(instapay) + min(len(pesonet), limits.MAX_RAIL_TRANSACTIONS)


def _unsent(unit: Unit) -> tuple[list[Any], frozenset[Any]]:
    query = (
        select(bank_transfers.c.id, bank_transfers.c.rail, bank_transfers.c.created_at_ns)
        .where(bank_transfers.c.sent_at_ns.is_(None))
        .where(bank_transfers.c.status == TransferStatus.PENDING.value)
        .order_by(bank_transfers.c.id)
        .limit(limits.RAIL_SWEEP_BATCH)
    )
    if unit.platform.ledger is not None:
        # on a TigerBeetle ledger, only once its hold is in the cluster (``held``): money
        # never leaves at the clearing house before it is held here
        query = query.where(held_in_cluster(bank_transfers.c.id))
    rows = unit.conn.execute(query).mappings().all()
    return list(rows), holiday_set(unit)


def held_in_cluster(transfer_id: Any) -> Any:
    """The transfer's place in the two-store order is ``held`` (its hold booked)."""
    return (
        select(two_store_payments.c.payment_id)
        .where(
            two_store_payments.c.payment_id == transfer_id,
            two_store_payments.c.state == "held",
        )
        .exists()
    )


def _send(platform: Platform, port: RailPort, transfer_ids: list[str]) -> None:
    """One pacs.008 for these transfers (a PESONet batch shares one message id)."""
    message = platform.run(partial(_message, transfer_ids=transfer_ids))
    port.send(message)
    platform.run(partial(_mark_sent, transfer_ids=transfer_ids))


def _message(unit: Unit, transfer_ids: list[str]) -> bytes:
    rows = [_row(unit, transfer_id) for transfer_id in transfer_ids]
    message_id = rows[0]["message_id"] if len(rows) == 1 else new_reference("PSN")
    if len(rows) > 1:
        unit.conn.execute(
            update(bank_transfers)
            .where(bank_transfers.c.id.in_(transfer_ids))
            .values(message_id=message_id)
        )
    items = [_credit_transfer(unit, row) for row in rows]
    moment = datetime.fromtimestamp(unit.now() / 10**9, UTC)
    return rails_xml.pacs008(
        message_id=message_id,
        created_at=moment,
        settlement_date=moment.date(),
        clearing_system=ClearingSystem(rows[0]["rail"].upper()),
        instructing_agent=our_bic(),
        instructed_agent=items[0].creditor_agent if len(items) == 1 else CLEARING_HOUSE_BIC,
        transfers=items,
    )


def _number(transfer_id: str) -> str:
    return f"qr_creditor_number:{transfer_id}"


def _name(transfer_id: str) -> str:
    return f"qr_creditor_name:{transfer_id}"


def creditor(unit: Unit, row: Any) -> bank_accounts.Destination:
    """Whom a transfer pays, opened: its registered bank account, or the QR Ph merchant's
    account kept on the transfer."""
    if row["bank_account_id"] is not None:
        return bank_accounts.opened(unit, row["bank_account_id"])
    return bank_accounts.Destination(
        id=None,
        party_id=row["party_id"],
        bank=participants.find(unit, row["participant_code"]),
        account_number=unit.vault.open(row["creditor_number_cipher"], _number(row["id"])),
        account_name=unit.vault.open(row["creditor_name_cipher"], _name(row["id"])),
    )


def creditor_of(unit: Unit, caller: Caller, transfer_id: str) -> bank_accounts.Destination:
    """The creditor of a transfer the caller may read (the pages show whom it paid)."""
    get(unit, caller, transfer_id)
    return creditor(unit, _row(unit, transfer_id))


def _credit_transfer(unit: Unit, row: Any) -> CreditTransfer:
    target = creditor(unit, row)
    wallet = _wallet(unit, row)
    return CreditTransfer(
        uetr=row["uetr"],
        end_to_end_id=row["end_to_end_id"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        debtor=Party(wallet.party_name, row["wallet_id"]),
        debtor_agent=our_bic(),
        creditor=Party(target.account_name, target.account_number),
        creditor_agent=target.bank.bic,
    )


def _wallet(unit: Unit, row: Any) -> movement.Holder:
    """The wallet the transfer's money left, by its id: a payout to a bank account leaves
    from the settlement wallet, so the party's main wallet is not it."""
    found = movement.holders(unit, (row["party_id"],)).values()
    return next(holder for holder in found if holder.wallet_id == row["wallet_id"])


def _mark_sent(unit: Unit, transfer_ids: list[str]) -> None:
    unit.conn.execute(
        update(bank_transfers)
        .where(bank_transfers.c.id.in_(transfer_ids))
        .values(sent_at_ns=unit.now())
    )


def _mark(unit: Unit, transfer_id: str, column: str) -> None:
    unit.conn.execute(
        update(bank_transfers)
        .where(bank_transfers.c.id == transfer_id)
        .values({column: unit.now()})
    )


# --- 3. receive ------------------------------------------------------------------------------
def receive(platform: Platform, data: bytes) -> Receipt:
    """Apply a pacs.002 or pacs.004 (``MessageError`` if it is not a valid one of them)."""
    message = rails_xml.read(data)
    if message.message_type not in (MessageType.PACS_002, MessageType.PACS_004):
        raise invalid(
            "message_unexpected",
            f"a clearing house answers with pacs.002 or pacs.004, not {message.message_type}",
            "message",
        )
    receipt = Receipt(message.message_type.value)
    returning = message.message_type is MessageType.PACS_004
    for item in message.transactions:
        applied = platform.run(partial(_answer, item=item, returning=returning))
        (receipt.applied if applied else receipt.ignored).append(item.uetr or "?")
        if applied and platform.ledger is not None:  # the rest of the two-store order
            two_store.step("A")
            two_store.advance(platform, applied)
    return receipt


def _find(unit: Unit, item: Transaction) -> Any:
    """The transfer an answer is about, by UETR (or EndToEndId), locked; None if not ours."""
    if item.uetr is not None:
        condition = bank_transfers.c.uetr == item.uetr
    elif item.end_to_end_id is not None:
        condition = bank_transfers.c.end_to_end_id == item.end_to_end_id
    else:
        return None
    query = select(bank_transfers.c.id).where(condition)
    found = unit.conn.execute(query).scalar_one_or_none()
    return None if found is None else _row(unit, found, lock=True)


def _answer(unit: Unit, item: Transaction, *, returning: bool) -> str | None:
    """Apply one answer; the transfer's id if it changed anything."""
    row = _find(unit, item)
    if row is None:
        log.warning("an answer for a transfer we never sent (UETR %s) changed nothing", item.uetr)
        return None
    current = TransferStatus(row["status"])
    if returning:
        return row["id"] if _return(unit, row, current, item) else None
    action = on_status(current, item.status or "")
    on_cluster = unit.platform.ledger is not None
    if action is Action.POST:
        legs = two_store.legs_of(unit, row["id"]) if on_cluster else []
        if on_cluster and not two_store.confirm(unit, row["id"], legs):
            return None  # answered already: the order is on its way
        if not on_cluster:
            _settle(unit, row)
    elif action is Action.VOID:
        reason = item.reason or "NARR"
        if on_cluster:
            if not two_store.release(unit, row["id"], "rejected"):
                return None
            _keep_reason(unit, row["id"], reason)
        else:
            _reject(unit, row, reason)
    elif action is Action.NOTHING and item.status:
        log.info("late or duplicated %s for %s changed nothing", item.status, row["id"])
    return row["id"] if action in (Action.POST, Action.VOID) else None


def _keep_reason(unit: Unit, transfer_id: str, reason: str) -> None:
    """A rejection's reason, kept while the cluster voids the hold (``cluster.failed``)."""
    unit.conn.execute(
        update(bank_transfers).where(bank_transfers.c.id == transfer_id).values(reason_code=reason)
    )


def finish(unit: Unit, row: Any, status: TransferStatus, event: str, **values: Any) -> None:
    unit.conn.execute(
        update(bank_transfers)
        .where(bank_transfers.c.id == row["id"])
        .values(status=status.value, finished_at_ns=unit.now(), **values)
    )
    emit(unit, event, view(_row(unit, row["id"])), (row["party_id"],))


def _ends(row: Any, end: str, flags: TransferFlags) -> list[NewTransfer]:
    """Post or void the hold and, when there is one, the fee's hold with it (one batch)."""
    legs = [NewTransfer(ledger_id(row["id"], end), pending_id=row["hold_id"], flags=flags)]
    if row["fee_minor"]:
        fee_hold = ledger_id(row["id"], "fee")
        legs.append(NewTransfer(ledger_id(row["id"], "fee", end), pending_id=fee_hold, flags=flags))
    return movement.linked(legs)


def _settle(unit: Unit, row: Any) -> None:
    movement.book(unit, _ends(row, "post", TransferFlags.POST_PENDING))
    finish(unit, row, TransferStatus.SETTLED, "bank_transfer.succeeded")


def _reject(unit: Unit, row: Any, reason: str) -> None:
    movement.book(unit, _ends(row, "void", TransferFlags.VOID_PENDING))
    wallet = _wallet(unit, row)
    movement.release_outgoing(unit, wallet, row["amount_minor"], row["created_at_ns"])
    finish(
        unit,
        row,
        TransferStatus.REJECTED,
        "bank_transfer.failed",
        reason_code=reason,
        fee_refunded_minor=fee_refunded(row["fee_minor"], returned=False, reason=reason),
    )


def _return(unit: Unit, row: Any, current: TransferStatus, item: Transaction) -> bool:
    amount = item.amount_minor or 0
    why_not = may_return(current, amount, row["amount_minor"])
    if why_not is not None or item.currency != row["currency"]:
        log.warning("a return for %s changed nothing: %s", row["id"], why_not or "currency")
        return False
    wallet = _wallet(unit, row)
    back = NewTransfer(
        ledger_id(row["id"], "return"),
        rail_account(row["rail"]),
        wallet.account_id,
        amount,
        row["currency"],
        TransferCode.BANK_RETURN,
        metadata={"bank_transfer": row["id"]},
    )
    reason = item.reason or "NARR"
    fee_back = fee_refunded(row["fee_minor"], returned=True, reason=reason)
    legs = [back]
    if fee_back:
        legs.append(
            NewTransfer(
                ledger_id(row["id"], "fee", "back"),
                fee_account(row["id"]),
                wallet.account_id,
                fee_back,
                row["currency"],
                TransferCode.BANK_FEE_REFUND,
                metadata={"bank_transfer": row["id"]},
            )
        )
    if unit.platform.ledger is not None:
        two_store.book_within(unit, unit.platform.ledger, legs)
    else:
        movement.book(unit, movement.linked(legs))
    finish(
        unit,
        row,
        TransferStatus.RETURNED,
        "bank_transfer.returned",
        reason_code=reason,
        returned_minor=amount,
        fee_refunded_minor=fee_back,
    )
    return True


# --- 4. ask ----------------------------------------------------------------------------------
def ask(platform: Platform, port: RailPort) -> Receipt:
    """A pacs.028 for each sent transfer unanswered past its rail's time-out."""
    now = platform.now()

    def overdue(unit: Unit) -> list[Any]:
        rows = (
            unit.conn.execute(
                select(bank_transfers)
                .where(bank_transfers.c.status == TransferStatus.PENDING.value)
                .where(bank_transfers.c.sent_at_ns.is_not(None))
                .order_by(bank_transfers.c.sent_at_ns)
                .limit(limits.RAIL_SWEEP_BATCH)
            )
            .mappings()
            .all()
        )
        return [
            row
            for row in rows
            if (row["asked_at_ns"] or row["sent_at_ns"]) + ANSWER_SECONDS[row["rail"]] * 10**9
            <= now
        ]

    receipt = Receipt(MessageType.PACS_028.value)
    for row in platform.run(overdue, write=False):
        query = StatusQuery(row["message_id"], row["uetr"], row["end_to_end_id"])
        moment = datetime.fromtimestamp(now / 10**9, UTC)
        request = rails_xml.pacs028(
            message_id=new_reference("Q"), created_at=moment, queries=[query]
        )
        platform.run(partial(_mark, transfer_id=row["id"], column="asked_at_ns"))
        answer = port.request_status(request)
        if answer is not None:
            got = receive(platform, answer)
            receipt.applied += got.applied
            receipt.ignored += got.ignored
    return receipt
