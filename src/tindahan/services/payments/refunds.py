"""Refunds of merchant payments: full or partial, never above what was paid.

A refund of R from a payment of A with merchant discount F gives the buyer R: the merchant's
settlement wallet pays R minus the fee share, and the operator's fees account returns the
fee share (``payments.fees.fee_returned``: cumulative floor, so all refunds together return
exactly F when they reach A). Both legs are one linked batch.

Refunds of one payment are serialized by a row lock on the payment (PostgreSQL ``FOR
UPDATE``; SQLite writers are serialized anyway), and the database refuses a
``refunded_minor`` above the amount as a second guard.

On a TigerBeetle ledger a refund goes through the two-store order (``create_on_cluster``,
``two_store.run``, its place's ``record`` ``refund``): the same legs, the settlement
wallet's held first; the refund is written ``pending`` in A with its payment left as it
was, and only C adds it to the payment (``_settled``); a refusal leaves it ``failed`` and
the payment untouched (``_failed``: refunds count against no running total). Importing this
module registers that ``Record`` (the worker, which runs recovery, imports it). A refund the
risk rules hold for review is held there as a payment is (``two_store.judged``: the review's
hold on the buyer's wallet in the post chain, the settlement wallet's leg as on SQL; the
refund ``succeeded`` and ``under_review``; the analyst's release voids it, a return pays it
back to the settlement wallet).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid, not_found, refused
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments import parties as rules
from tindahan.payments.fees import fee_returned
from tindahan.payments.model import (
    PartyStatus,
    PaymentKind,
    PaymentStatus,
    TransferCode,
    WalletKind,
    status_after_refunds,
)
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.payments.payments import payment_row, payment_view, set_status
from tindahan.services.platform import groupcommit, idempotency
from tindahan.services.platform.chart import fee_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.risk import holds
from tindahan.services.unit import Platform, Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import payments, refunds

REFUNDABLE = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)
#: A refund's place in the two-store order (``two_store_payments.record``).
RECORD = "refund"


@dataclass(frozen=True, slots=True)
class _Refund:
    """A refund as decided before anything is written (both ledgers book these legs)."""

    payment: dict[str, Any]
    row: dict[str, Any]
    transfers: list[NewTransfer]


def _plan(
    unit: Unit,
    caller: Caller,
    payment_id: str,
    amount_minor: int | None,
    reason: str | None,
) -> _Refund:
    """The checks, the fee share given back and the legs; the refund's row (``succeeded``),
    not written yet."""
    caller.require("payments:write")
    try:
        payment = payment_row(unit, caller, payment_id, lock=True)
    except RefusalError as missing:
        missing.param = "payment_id"
        raise
    if not caller.reaches(payment["payee_id"]):
        message = "only the merchant who was paid may refund"
        raise RefusalError(Category.PERMISSION, "not_payee", message, "payment_id")
    if payment["kind"] != PaymentKind.MERCHANT:
        raise conflict(
            "payment_not_refundable", "only merchant payments are refunded", "payment_id"
        )
    if payment["status"] not in REFUNDABLE:
        message = f"the payment is {payment['status']}"
        raise conflict("payment_not_refundable", message, "payment_id")
    remaining = payment["amount_minor"] - payment["refunded_minor"]
    if amount_minor is None:
        amount_minor = remaining
    amount_minor, currency = movement.amount(amount_minor, payment["currency"])
    if amount_minor > remaining:
        message = f"at most {remaining} of this payment is left to refund"
        raise invalid("refund_exceeds_payment", message, "amount_minor")
    if reason is not None:
        reason = rules.text(reason, "reason", limits.DESCRIPTION_MAX_LENGTH, required=False)
    found = movement.holders(unit, (payment["payer_id"], payment["payee_id"]))
    settlement = found[(payment["payee_id"], WalletKind.SETTLEMENT)]
    buyer = found[(payment["payer_id"], WalletKind.MAIN)]
    movement.require_active(settlement, "merchant")
    if buyer.party_status == PartyStatus.CLOSED:
        raise refused("wallet_closed", "the buyer's wallet is closed", "payment_id")
    fee_back = fee_returned(
        payment["fee_minor"], payment["amount_minor"], payment["refunded_minor"], amount_minor
    )
    refund_id = new_id("re")
    transfers = _transfers(
        refund_id, payment_id, settlement, buyer, amount_minor, currency, fee_back
    )
    row = {
        "id": refund_id,
        "payment_id": payment_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "fee_returned_minor": fee_back,
        "reason": reason,
        "status": "succeeded",
        "transfer_ids": movement.encode_ids([t.id for t in transfers]),
        "created_at_ns": unit.now(),
    }
    return _Refund(payment, row, transfers)


def create(
    unit: Unit, caller: Caller, payment_id: str, amount_minor: int | None, reason: str | None
) -> dict[str, Any]:
    """A refund on the SQL ledger: one transaction, done at once."""
    r = _plan(unit, caller, payment_id, amount_minor, reason)
    payment, row, transfers = r.payment, r.row, r.transfers
    movement.insert_row(unit, refunds, row)
    refunded = payment["refunded_minor"] + row["amount_minor"]
    status = status_after_refunds(payment["amount_minor"], refunded)
    set_status(
        unit,
        payment_id,
        status,
        refunded_minor=refunded,
        fee_returned_minor=payment["fee_returned_minor"] + row["fee_returned_minor"],
    )
    parties = (payment["payer_id"], payment["payee_id"])
    low = refused(
        "insufficient_funds", "the merchant's settlement wallet is too low", "amount_minor"
    )
    movement.book(unit, transfers, {"exceeds_credits": low})  # see ``services.ledger.movement``
    # the events after booking: the risk gate has decided whether the refund is held, and
    # the refund's view says so (``under_review``) as the API's does
    view = reviewed(unit, [refund_view(row)])[0]
    emit(unit, "refund.succeeded", view, parties)
    updated = payment_view(payment_row(unit, caller, payment_id))
    emit(unit, f"payment.{status.value}", updated, parties)
    return view


def group_locks(payment_id: str) -> groupcommit.Locks:
    """What ``create`` will lock, for its group to lock first and in order
    (``services.platform.groupcommit``): the payment's row (and so its payer's and payee's
    wallets, read from it under that lock) and the fee shard its fee share comes back from.
    An unknown payment, or another merchant's, is locked for nothing and refused as alone."""
    return groupcommit.Locks(accounts=(fee_account(payment_id),), payments=(payment_id,))


def create_on_cluster(
    platform: Platform,
    caller: Caller,
    payment_id: str,
    amount_minor: int | None,
    reason: str | None,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[dict[str, Any]], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/refunds`` on a TigerBeetle ledger: the two-store order (``two_store.run``).
    A: the SQL path's checks under the payment's row lock, and no other refund of this
    payment still being booked (``409 refund_pending``: the fee share given back is a
    cumulative floor over the payment's refunds, so they are booked one after another, as
    the SQL path's lock makes them); the refund ``pending``, the payment untouched. Then
    the hold (the settlement wallet's leg, or the fee's when that is all), the post chain
    (the post, the fee given back from ``op.fees``), and C: the refund ``succeeded``,
    added to the payment, ``refund.succeeded`` and ``payment.<status>``. Too little in the
    settlement wallet: ``402 insufficient_funds``, as on SQL (the refund stays, ``failed``)."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], list[NewTransfer]]:
        r = _plan(unit, caller, payment_id, amount_minor, reason)
        pending = unit.conn.execute(
            select(refunds.c.id).where(
                refunds.c.payment_id == payment_id, refunds.c.status == "pending"
            )
        ).first()
        if pending is not None:
            message = f"refund {pending[0]} of this payment is still being booked; try again"
            raise conflict("refund_pending", message, "payment_id")
        legs = two_store.judged(unit, r.transfers)
        held = [t.id for t in two_store.holds(legs)]
        row = {**r.row, "status": "pending", "transfer_ids": movement.encode_ids(held)}
        movement.insert_row(unit, refunds, row)
        return reviewed(unit, [refund_view(row)])[0], legs

    return two_store.run(platform, scope, key, fingerprint, reserve, render, render_refusal, RECORD)


def _transfers(
    refund_id: str,
    payment_id: str,
    settlement: movement.Holder,
    buyer: movement.Holder,
    amount_minor: int,
    currency: str,
    fee_back: int,
) -> list[NewTransfer]:
    meta = {"payment": payment_id, "refund": refund_id}
    legs = []
    if amount_minor - fee_back:
        legs.append(
            NewTransfer(
                ledger_id(refund_id),
                settlement.account_id,
                buyer.account_id,
                amount_minor - fee_back,
                currency,
                TransferCode.REFUND,
                metadata=meta,
            )
        )
    if fee_back:
        legs.append(
            NewTransfer(
                ledger_id(refund_id, "fee"),
                fee_account(payment_id),
                buyer.account_id,
                fee_back,
                currency,
                TransferCode.REFUND_FEE_RETURN,
                metadata=meta,
            )
        )
    return movement.linked(legs)


def reviewed(unit: Unit, views: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The refunds with ``under_review``: is the refund's money held for a risk review now?"""
    held = holds.under_review(unit, [t for v in views for t in v["transfer_ids"]])
    return [{**v, "under_review": not held.isdisjoint(v["transfer_ids"])} for v in views]


def refund_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "refund",
        "payment_id": row["payment_id"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "fee_returned_minor": row["fee_returned_minor"],
        "reason": row["reason"],
        "status": row["status"],
        "transfer_ids": movement.decode_ids(row["transfer_ids"]),
        "created": iso(row["created_at_ns"]),
    }


def get(unit: Unit, caller: Caller, refund_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = unit.conn.execute(select(refunds).where(refunds.c.id == refund_id)).mappings().first()
    if row is None:
        raise not_found("refund", "id")
    try:
        payment_row(unit, caller, row["payment_id"])
    except RefusalError:
        raise not_found("refund", "id") from None
    return reviewed(unit, [refund_view(row)])[0]


def list_refunds(
    unit: Unit, caller: Caller, payment_id: str, limit: int, starting_after: str | None
) -> dict[str, Any]:
    caller.require("payments:read")
    payment_row(unit, caller, payment_id)
    query = select(refunds).where(refunds.c.payment_id == payment_id).order_by(refunds.c.id)
    if starting_after:
        query = query.where(refunds.c.id > starting_after)
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page(reviewed(unit, [refund_view(r) for r in found[:limit]]), len(found) > limit)


# -- the refund's record in the two-store order ------------------------------------------


def _row(unit: Unit, refund_id: str) -> dict[str, Any]:
    found = unit.conn.execute(select(refunds).where(refunds.c.id == refund_id)).mappings()
    return dict(found.one())


def _view(unit: Unit, refund_id: str) -> dict[str, Any]:
    return reviewed(unit, [refund_view(_row(unit, refund_id))])[0]


def _settled(unit: Unit, refund_id: str, transfer_ids: list[str]) -> None:
    """C: ``succeeded`` with its transfers, added to its payment (the payment's row locked,
    as the SQL path's refund locks it), ``refund.succeeded`` and ``payment.<status>``, as
    the SQL path announces them."""
    unit.conn.execute(
        update(refunds)
        .where(refunds.c.id == refund_id)
        .values(status="succeeded", transfer_ids=movement.encode_ids(transfer_ids))
    )
    refund = _row(unit, refund_id)
    query = select(payments).where(payments.c.id == refund["payment_id"])
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    payment = dict(unit.conn.execute(query).mappings().one())
    refunded = payment["refunded_minor"] + refund["amount_minor"]
    status = status_after_refunds(payment["amount_minor"], refunded)
    set_status(
        unit,
        payment["id"],
        status,
        refunded_minor=refunded,
        fee_returned_minor=payment["fee_returned_minor"] + refund["fee_returned_minor"],
    )
    parties = (payment["payer_id"], payment["payee_id"])
    emit(unit, "refund.succeeded", _view(unit, refund_id), parties)
    updated = unit.conn.execute(select(payments).where(payments.c.id == payment["id"]))
    emit(unit, f"payment.{status.value}", payment_view(updated.mappings().one()), parties)


def _failed(
    unit: Unit, refund_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """Refused by the cluster (or its hold gone): ``failed``; the payment was left as it was
    and a refund counts against no running total, so nothing else to give back."""
    unit.conn.execute(update(refunds).where(refunds.c.id == refund_id).values(status="failed"))


two_store.RECORDS[RECORD] = two_store.Record(_view, _settled, _failed)
