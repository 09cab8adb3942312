"""Payments between wallets: P2P sends and merchant payments, and reading them back.

``pay`` decides the kind from the payee: paying a merchant is a merchant payment (into the
merchant's settlement wallet, with the merchant discount booked to the operator's fees in
the same linked batch); paying anyone else is a P2P send, main wallet to main wallet.

Ledger transfers for payment ``pay_x`` are ``pay.x`` (the payment) and ``pay.x.fee`` (the
merchant discount, from the merchant's settlement to ``op.fees``); they are listed on the
payment (``transfer_ids``) and readable through ``transfers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.money import Money
from tindahan.payments.fees import merchant_discount
from tindahan.payments.model import (
    PartyKind,
    PaymentKind,
    PaymentStatus,
    TransferCode,
    WalletKind,
)
from tindahan.services.ledger import movement
from tindahan.services.ledger.movement import Holder
from tindahan.services.ledger.transfers import AppliedBatch
from tindahan.services.payments import settlement
from tindahan.services.payments.views import LedgerTransferView, PaymentView
from tindahan.services.platform import groupcommit, shortrefs
from tindahan.services.platform.chart import fee_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.fees import fee_settings
from tindahan.services.platform.listing import page
from tindahan.services.risk import holds
from tindahan.services.unit import Unit, iso, ledger_id, new_id
from tindahan.store import deferred
from tindahan.store import ledger as ledger_rows
from tindahan.store.payment_tables import payments, refunds

LINKED = TransferFlags.LINKED


@dataclass(frozen=True)
class NewPayment:
    payee_id: str
    amount_minor: int
    currency: str
    payer_id: str | None = None  # the operator names the payer; a party pays as itself
    reference: str | None = None
    description: str | None = None


def payer_of(caller: Caller, payer_id: str | None, param: str = "payer_id") -> str:
    """Who pays: the caller's own party, or whoever an operator key names."""
    if caller.operator:
        if not payer_id:
            raise invalid("parameter_missing", f"an operator key must give {param}", param)
        return payer_id
    if payer_id not in (None, caller.party_id):
        raise not_found("party", param)
    assert caller.party_id is not None
    return caller.party_id


@dataclass(frozen=True)
class Planned:
    """A payment checked and priced, before anything is written: its parties' wallets, its
    kind, fee and ledger legs (the same for either ledger store)."""

    payment_id: str
    kind: PaymentKind
    source: Holder
    destination: Holder
    amount_minor: int
    currency: str
    fee_minor: int
    transfers: list[NewTransfer]
    reference: str | None
    description: str | None


def plan(unit: Unit, caller: Caller, new: NewPayment, payment_id: str | None = None) -> Planned:
    """Who pays whom, the fee and the legs; the per-transaction checks. Writes nothing but
    what the loan set-aside records (rolled back with the caller's transaction).
    ``payment_id``: one chosen beforehand (``group_locks`` named its fee shard)."""
    caller.require("payments:write")
    amount_minor, currency = movement.amount(new.amount_minor, new.currency)
    payer_id = payer_of(caller, new.payer_id)
    if payer_id == new.payee_id:
        raise invalid("payee_is_payer", "a wallet cannot pay itself", "payee_id")
    found = movement.holders(unit, (payer_id, new.payee_id))
    source = found.get((payer_id, WalletKind.MAIN))
    if source is None:
        raise not_found("party", "payer_id")
    payee_main = found.get((new.payee_id, WalletKind.MAIN))
    if payee_main is None:
        raise not_found("payee", "payee_id")
    movement.require_active(source, "payer")
    movement.require_active(payee_main, "payee")
    reference = movement.optional_text(new.reference, "reference", limits.REFERENCE_MAX_LENGTH)
    description = movement.optional_text(
        new.description, "description", limits.DESCRIPTION_MAX_LENGTH
    )
    payment_id = payment_id or new_id("pay")
    if payee_main.party_kind == PartyKind.MERCHANT:
        destination = found[(new.payee_id, WalletKind.SETTLEMENT)]
        bps = fee_settings(unit)["merchant_discount_bps"]
        fee = merchant_discount(Money(amount_minor, currency), bps).amount_minor
        kind = PaymentKind.MERCHANT
        # The sale's own transfers, then the loan set-aside if the merchant repays from
        # sales: the one step every sale to a settlement wallet goes through.
        sale = settlement.Sale(
            new.payee_id,
            destination.account_id,
            amount_minor,
            amount_minor - fee,
            ledger_id(payment_id),
            payment_id=payment_id,
            may_set_aside=destination.sets_aside,
        )
        transfers = settlement.credit_sale(
            unit,
            sale,
            _merchant_transfers(payment_id, source, destination, amount_minor, currency, fee),
        )
    else:
        destination, fee, kind = payee_main, 0, PaymentKind.P2P
        transfers = [
            _transfer(
                ledger_id(payment_id),
                source,
                destination.account_id,
                amount_minor,
                currency,
                TransferCode.P2P,
                payment_id,
            )
        ]
    movement.precheck(source, amount_minor, currency)
    movement.precheck(destination, amount_minor, currency)
    return Planned(
        payment_id,
        kind,
        source,
        destination,
        amount_minor,
        currency,
        fee,
        transfers,
        reference,
        description,
    )


def pay(
    unit: Unit,
    caller: Caller,
    new: NewPayment,
    request_id: str | None = None,
    payment_id: str | None = None,
) -> PaymentView:
    p = plan(unit, caller, new, payment_id)
    source, destination = p.source, p.destination
    row = new_row(
        unit,
        p.payment_id,
        p.kind,
        PaymentStatus.SUCCEEDED,
        source,
        destination,
        p.amount_minor,
        p.currency,
        [t.id for t in p.transfers],
        fee_minor=p.fee_minor,
        request_id=request_id,
        reference=p.reference,
        description=p.description,
    )
    if deferred.of(unit.conn) is None:  # the row with the payer's usage (``_with_usage``)
        _with_usage(unit, source, p.amount_minor, p.currency, row)
        movement.limit_incoming(unit, destination, p.amount_minor, p.currency)
    else:
        movement.limit_outgoing(unit, source, p.amount_minor, p.currency)
        movement.limit_incoming(unit, destination, p.amount_minor, p.currency)
        write_row(unit, row)
    applied = movement.book(unit, p.transfers)  # see ``services.ledger.movement``
    movement.check_balance(destination, applied, p.currency)
    # The event after booking: the risk gate has decided by then whether the money is held,
    # and the event's payment says so (``under_review``) as the API's does.
    view: PaymentView = {**payment_view(row), "under_review": held(applied)}
    emit(unit, "payment.succeeded", view, (source.party_id, destination.party_id))
    return view


def group_locks(caller: Caller, new: NewPayment, payment_id: str) -> groupcommit.Locks:
    """What ``pay`` with ``payment_id`` will lock, for its group to lock first and in order
    (``services.platform.groupcommit``): the payer's and the payee's wallets, and the fee
    shard a merchant payment's discount goes to. Declaring more than it locks is harmless;
    an unknown or refused party is simply found locking nothing."""
    payer = new.payer_id if caller.operator else caller.party_id
    parties = tuple(p for p in (payer, new.payee_id) if p)
    return groupcommit.Locks(parties, (fee_account(payment_id),), batched=True)


def _transfer(
    tid: str,
    source: Holder,
    credit_account_id: str,
    amount_minor: int,
    currency: str,
    code: int,
    payment_id: str,
    flags: TransferFlags = TransferFlags.NONE,
    **extra: str,
) -> NewTransfer:
    return NewTransfer(
        tid,
        source.account_id,
        credit_account_id,
        amount_minor,
        currency,
        code,
        flags,
        metadata=movement.metadata(payment_id, **extra),
    )


def _merchant_transfers(
    payment_id: str,
    source: Holder,
    settlement: Holder,
    amount_minor: int,
    currency: str,
    fee: int,
) -> list[NewTransfer]:
    main = _transfer(
        ledger_id(payment_id),
        source,
        settlement.account_id,
        amount_minor,
        currency,
        TransferCode.MERCHANT_PAYMENT,
        payment_id,
        LINKED if fee else TransferFlags.NONE,
    )
    if not fee:
        return [main]
    discount = _transfer(
        ledger_id(payment_id, "fee"),
        settlement,
        fee_account(payment_id),
        fee,
        currency,
        TransferCode.MERCHANT_DISCOUNT,
        payment_id,
    )
    return [main, discount]


def _with_usage(
    unit: Unit, source: Holder, amount_minor: int, currency: str, row: dict[str, Any]
) -> None:
    """The payer's tier checks and usage (``movement.limit_outgoing``) and the payment's row,
    in one statement on PostgreSQL (``movement.limit_outgoing_claimed``: the row's insert a
    CTE of the usage's upsert; issue 18, one round trip of a payment's eight). Its short
    reference drawn first; taken, a new one is drawn as ``shortrefs.insert`` does."""
    columns = tuple(row)
    values = {**row, "short_ref": shortrefs.new()}
    claim = shortrefs.claim(payments, columns)
    if movement.limit_outgoing_claimed(unit, source, amount_minor, currency, claim, values):
        row["short_ref"] = values["short_ref"]
    else:
        row["short_ref"] = shortrefs.insert(unit, payments, row)


def record(
    unit: Unit,
    payment_id: str,
    kind: PaymentKind,
    status: PaymentStatus,
    source: Holder | None,
    destination: Holder,
    amount_minor: int,
    currency: str,
    transfer_ids: list[str],
    *,
    fee_minor: int = 0,
    commission_minor: int = 0,
    request_id: str | None = None,
    reference: str | None = None,
    description: str | None = None,
    expires_at_ns: int | None = None,
) -> dict[str, Any]:
    row = new_row(
        unit,
        payment_id,
        kind,
        status,
        source,
        destination,
        amount_minor,
        currency,
        transfer_ids,
        fee_minor=fee_minor,
        commission_minor=commission_minor,
        request_id=request_id,
        reference=reference,
        description=description,
        expires_at_ns=expires_at_ns,
    )
    write_row(unit, row)
    return row


def new_row(
    unit: Unit,
    payment_id: str,
    kind: PaymentKind,
    status: PaymentStatus,
    source: Holder | None,
    destination: Holder,
    amount_minor: int,
    currency: str,
    transfer_ids: list[str],
    *,
    fee_minor: int = 0,
    commission_minor: int = 0,
    request_id: str | None = None,
    reference: str | None = None,
    description: str | None = None,
    expires_at_ns: int | None = None,
) -> dict[str, Any]:
    """A payment's row, not written yet and without its short reference (``write_row``)."""
    now = unit.now()
    return {
        "id": payment_id,
        "kind": kind.value,
        "status": status.value,
        "payer_id": source.party_id if source else None,
        "payee_id": destination.party_id,
        "source_wallet_id": source.wallet_id if source else None,
        "destination_wallet_id": destination.wallet_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "fee_minor": fee_minor,
        "commission_minor": commission_minor,
        "refunded_minor": 0,
        "fee_returned_minor": 0,
        "request_id": request_id,
        "reference": reference,
        "description": description,
        "transfer_ids": movement.encode_ids(transfer_ids),
        "expires_at_ns": expires_at_ns,
        "created_at_ns": now,
        "updated_at_ns": now,
    }


def write_row(unit: Unit, row: dict[str, Any]) -> None:
    """Write ``new_row``'s row with a new short reference (set in ``row``)."""
    later = deferred.of(unit.conn)
    if later is not None:  # written with the group's other payments (``store.deferred``)
        row["short_ref"] = shortrefs.new()
        later.add(deferred.PAYMENTS, row)
    else:
        row["short_ref"] = shortrefs.insert(unit, payments, row)


def payment_view(row: Any) -> PaymentView:
    return {
        "id": row["id"],
        "short_ref": row["short_ref"],
        "object": "payment",
        "kind": row["kind"],
        "status": row["status"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "fee_minor": row["fee_minor"],
        "net_minor": row["amount_minor"] - row["fee_minor"],
        "commission_minor": row["commission_minor"],
        "refunded_minor": row["refunded_minor"],
        "payer_id": row["payer_id"],
        "payee_id": row["payee_id"],
        "source_wallet_id": row["source_wallet_id"],
        "destination_wallet_id": row["destination_wallet_id"],
        "request_id": row["request_id"],
        "reference": row["reference"],
        "description": row["description"],
        "transfer_ids": movement.decode_ids(row["transfer_ids"]),
        "expires_at": iso(row["expires_at_ns"]),
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }


def payment_row(
    unit: Unit, caller: Caller, payment_id: str, *, lock: bool = False
) -> dict[str, Any]:
    """The payment if the caller is its payer or payee (or the operator); else 404."""
    query = select(payments).where(payments.c.id == payment_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None or not caller.reaches(row["payer_id"], row["payee_id"]):
        raise not_found("payment", "id")
    return dict(row)


def held(applied: AppliedBatch) -> bool:
    """Is the money of a movement just booked held for a risk review? Exactly when its batch,
    as booked, carries the gate's hold leg (``risk_gate.judge`` adds it and writes the alert
    ``holds.under_review`` reads, in this transaction): the movement's transfer ids are new,
    so no other alert names them. ``reviewed``'s answer without its read (a round trip on
    PostgreSQL, on every payment)."""
    return any(
        o.transfer is not None and o.transfer.code == TransferCode.RISK_HOLD
        for o in applied.outcomes
    )


def reviewed(unit: Unit, views: list[PaymentView]) -> list[PaymentView]:
    """The views with ``under_review``: is the payment's money held for a risk review now?
    (Copies: a view already emitted in an event stays as it was.)"""
    held = holds.under_review(unit, [t for v in views for t in v["transfer_ids"]])
    return [{**v, "under_review": not held.isdisjoint(v["transfer_ids"])} for v in views]


def get(unit: Unit, caller: Caller, payment_id: str) -> PaymentView:
    caller.require("payments:read")
    return reviewed(unit, [payment_view(payment_row(unit, caller, payment_id))])[0]


def list_payments(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None,
    kind: str | None = None,
    party_id: str | None = None,
) -> dict[str, Any]:
    """Newest first; the cursor is the last payment id of the previous page."""
    caller.require("payments:read")
    query = select(payments).order_by(payments.c.created_at_ns.desc(), payments.c.id.desc())
    if party_id is not None and not caller.reaches(party_id):
        raise not_found("party", "party_id")
    who = caller.party_id or party_id
    if who:
        query = query.where(or_(payments.c.payer_id == who, payments.c.payee_id == who))
    if kind:
        query = query.where(payments.c.kind == kind)
    if starting_after:
        cursor = payment_row(unit, caller, starting_after)
        query = query.where(
            or_(
                payments.c.created_at_ns < cursor["created_at_ns"],
                (payments.c.created_at_ns == cursor["created_at_ns"])
                & (payments.c.id < cursor["id"]),
            )
        )
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page(reviewed(unit, [payment_view(r) for r in found[:limit]]), len(found) > limit)


def transfers(unit: Unit, caller: Caller, payment_id: str) -> dict[str, Any]:
    """The ledger transfers behind a payment (and its refunds), in booking order."""
    caller.require("payments:read")
    row = payment_row(unit, caller, payment_id)
    ids = movement.decode_ids(row["transfer_ids"]) + refund_transfer_ids(unit, payment_id)
    ledger = unit.platform.ledger
    # On a TigerBeetle deployment the cluster holds what was booked since the switch; what
    # is not there (booked before it) is read from the SQL tables, as everywhere else.
    found = {} if ledger is None else ledger.lookup_transfers(ids)
    missing = [i for i in ids if i not in found]
    if missing:
        found.update(ledger_rows.load_transfers(unit.conn, missing))
    ordered = sorted(found.values(), key=lambda t: t.timestamp)
    return page([transfer_view(t) for t in ordered], False)


def refund_transfer_ids(unit: Unit, payment_id: str) -> list[str]:
    found = unit.conn.execute(
        select(refunds.c.transfer_ids).where(refunds.c.payment_id == payment_id)
    ).scalars()
    return [tid for text in found for tid in movement.decode_ids(text)]


def transfer_view(t: Any) -> LedgerTransferView:
    return {
        "id": t.id,
        "object": "ledger_transfer",
        "debit_account_id": t.debit_account_id,
        "credit_account_id": t.credit_account_id,
        "amount_minor": t.amount,
        "currency": t.ledger,
        "code": int(t.code),
        "flags": [(f.name or "").lower() for f in TransferFlags if f and f in t.flags],
        "pending_id": t.pending_id,
        "timestamp": t.timestamp,
        "created": iso(t.created_at_ns),
    }


def set_status(unit: Unit, payment_id: str, status: PaymentStatus, **values: Any) -> None:
    unit.conn.execute(
        update(payments)
        .where(payments.c.id == payment_id)
        .values(status=status.value, updated_at_ns=unit.now(), **values)
    )
