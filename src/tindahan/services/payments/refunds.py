"""Refunds of merchant payments: full or partial, never above what was paid.

A refund of R from a payment of A with merchant discount F gives the buyer R: the merchant's
settlement wallet pays R minus the fee share, and the operator's fees account returns the
fee share (``payments.fees.fee_returned``: cumulative floor, so all refunds together return
exactly F when they reach A). Both legs are one linked batch.

Refunds of one payment are serialized by a row lock on the payment (PostgreSQL ``FOR
UPDATE``; SQLite writers are serialized anyway), and the database refuses a
``refunded_minor`` above the amount as a second guard.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid, not_found, refused
from tindahan.ledger.model import NewTransfer
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
from tindahan.services.payments.payments import payment_row, payment_view, set_status
from tindahan.services.platform.chart import fee_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.risk import holds
from tindahan.services.unit import Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import refunds

REFUNDABLE = (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED)


def create(
    unit: Unit, caller: Caller, payment_id: str, amount_minor: int | None, reason: str | None
) -> dict[str, Any]:
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
    now = unit.now()
    row = {
        "id": refund_id,
        "payment_id": payment_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "fee_returned_minor": fee_back,
        "reason": reason,
        "status": "succeeded",
        "transfer_ids": movement.encode_ids([t.id for t in transfers]),
        "created_at_ns": now,
    }
    movement.insert_row(unit, refunds, row)
    refunded = payment["refunded_minor"] + amount_minor
    status = status_after_refunds(payment["amount_minor"], refunded)
    set_status(
        unit,
        payment_id,
        status,
        refunded_minor=refunded,
        fee_returned_minor=payment["fee_returned_minor"] + fee_back,
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
