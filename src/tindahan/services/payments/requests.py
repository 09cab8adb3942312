"""Payment requests: a merchant asks for an amount with its own reference; a buyer pays it
exactly once.

A request's id is an unguessable bearer reference (120 random bits), shown to the buyer as
a link or a QR code: any customer key may pay it, which is the point of a request. Reading
it stays private: its merchant, the operator, and after payment its payer.

"Exactly once" is held twice: the request row is locked while it is paid (PostgreSQL
``FOR UPDATE``; SQLite serializes writers) and moved to ``paid``, and the database allows
one payment per request (UNIQUE ``payments.request_id``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import PartyKind, RequestStatus
from tindahan.services.ledger import movement
from tindahan.services.payments import payments as payment_service
from tindahan.services.payments import two_store
from tindahan.services.payments.payments import NewPayment, payer_of
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import shortrefs
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.payment_tables import parties, payment_requests, payments


def create(
    unit: Unit,
    caller: Caller,
    *,
    amount_minor: int,
    currency: str,
    merchant_id: str | None = None,
    reference: str | None = None,
    description: str | None = None,
    expires_in_seconds: int | None = None,
) -> dict[str, Any]:
    caller.require("payments:write")
    merchant_id = payer_of(caller, merchant_id, "merchant_id")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise invalid("not_a_merchant", "only merchants request payments", "merchant_id")
    amount_minor, currency = movement.amount(amount_minor, currency)
    lifetime = (
        limits.PAYMENT_REQUEST_MAX_SECONDS if expires_in_seconds is None else expires_in_seconds
    )
    if isinstance(lifetime, bool) or not 60 <= lifetime <= limits.PAYMENT_REQUEST_MAX_SECONDS:
        message = f"expires_in_seconds is 60 to {limits.PAYMENT_REQUEST_MAX_SECONDS}"
        raise invalid("parameter_invalid", message, "expires_in_seconds")
    now = unit.now()
    row = {
        "id": new_id("preq"),
        "merchant_id": merchant_id,
        "amount_minor": amount_minor,
        "currency": currency,
        "reference": movement.optional_text(reference, "reference", limits.REFERENCE_MAX_LENGTH),
        "description": movement.optional_text(
            description, "description", limits.DESCRIPTION_MAX_LENGTH
        ),
        "status": RequestStatus.OPEN.value,
        "expires_at_ns": now + lifetime * 10**9,
        "payment_id": None,
        "created_at_ns": now,
    }
    row["short_ref"] = shortrefs.insert(unit, payment_requests, row)
    return view({**row, "merchant_name": merchant["name"]}, now)


def view(row: Any, now: int) -> dict[str, Any]:
    """The API's object; ``row`` carries its merchant's ``merchant_name`` (``_named``)."""
    status = row["status"]
    if status == RequestStatus.OPEN and row["expires_at_ns"] <= now:
        status = RequestStatus.EXPIRED.value
    return {
        "id": row["id"],
        "short_ref": row["short_ref"],
        "object": "payment_request",
        "merchant_id": row["merchant_id"],
        "merchant_name": row["merchant_name"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "reference": row["reference"],
        "description": row["description"],
        "status": status,
        "payment_id": row["payment_id"],
        "expires_at": iso(row["expires_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def _named() -> Any:
    """Requests with their merchant's name beside them, in one query (lists included)."""
    return select(payment_requests, parties.c.name.label("merchant_name")).join(
        parties, parties.c.id == payment_requests.c.merchant_id
    )


def _row(unit: Unit, request_id: str, *, lock: bool = False) -> dict[str, Any]:
    query = _named().where(payment_requests.c.id == request_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update(of=payment_requests)
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        raise not_found("payment request", "id")
    return dict(row)


def peek(unit: Unit, request_id: str) -> dict[str, Any] | None:
    """A request by id, for matching a scanned code to it (no view leaves this module)."""
    row = (
        unit.conn.execute(select(payment_requests).where(payment_requests.c.id == request_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None


def _payer(unit: Unit, row: dict[str, Any]) -> str | None:
    if not row["payment_id"]:
        return None
    return unit.conn.execute(
        select(payments.c.payer_id).where(payments.c.id == row["payment_id"])
    ).scalar_one_or_none()


def get(unit: Unit, caller: Caller, request_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = _row(unit, request_id)
    if not caller.reaches(row["merchant_id"], _payer(unit, row)):
        raise not_found("payment request", "id")
    return view(row, unit.now())


def pay(unit: Unit, caller: Caller, request_id: str, payer_id: str | None) -> PaymentView:
    """Pay a request; returns the payment."""
    caller.require("payments:write")
    row = _payable(unit, request_id)
    payment = payment_service.pay(unit, caller, _payment_of(row, payer_id), request_id=request_id)
    _announce(unit, _mark_paid(unit, row, payment["id"]), payment["payer_id"])
    return payment


def reserve(
    unit: Unit, ledger: LedgerPort, caller: Caller, request_id: str, payer_id: str | None
) -> tuple[PaymentView, list[NewTransfer]]:
    """Paying a request on a TigerBeetle ledger: its part of the two-store order's A
    (``two_store.run``). The same checks as ``pay`` under the request's row lock, the
    payment reserved as any payment is, and the request marked ``paid`` by it in this same
    A: a second payer is refused ``payment_request_paid`` while the first is still in
    flight, as on the SQL ledger. Decided so (not ``paid`` only at C): a request left open
    until C could be paid twice. C announces ``payment_request.paid``; a payment that fails
    instead (the cluster refuses it, its hold expires) opens the request again for another
    try (``_settled`` / ``_failed``, followers of the payment's record)."""
    caller.require("payments:write")
    row = _payable(unit, request_id)
    new = _payment_of(row, payer_id)
    view, legs = two_store.reserve_payment(unit, ledger, caller, new, request_id=request_id)
    _mark_paid(unit, row, view["id"])
    return view, legs


def _payable(unit: Unit, request_id: str) -> dict[str, Any]:
    """The request under its row lock, refused unless it is open and in time."""
    row = _row(unit, request_id, lock=True)
    if row["status"] == RequestStatus.PAID:
        raise conflict("payment_request_paid", "this request has already been paid", "id")
    if row["status"] == RequestStatus.CANCELED:
        raise conflict("payment_request_canceled", "the merchant canceled this request", "id")
    if row["expires_at_ns"] <= unit.now():
        raise conflict("payment_request_expired", "this request has expired", "id")
    return row


def _payment_of(row: dict[str, Any], payer_id: str | None) -> NewPayment:
    return NewPayment(
        row["merchant_id"],
        row["amount_minor"],
        row["currency"],
        payer_id=payer_id,
        reference=row["reference"],
        description=row["description"],
    )


def _mark_paid(unit: Unit, row: dict[str, Any], payment_id: str) -> dict[str, Any]:
    unit.conn.execute(
        update(payment_requests)
        .where(payment_requests.c.id == row["id"])
        .values(status=RequestStatus.PAID.value, payment_id=payment_id)
    )
    return {**row, "status": RequestStatus.PAID.value, "payment_id": payment_id}


def _announce(unit: Unit, row: dict[str, Any], payer_id: str | None) -> None:
    paid = view(row, unit.now())
    parties = [p for p in (row["merchant_id"], payer_id) if p is not None]
    emit(unit, "payment_request.paid", paid, parties)


def _settled(unit: Unit, payment: Mapping[str, Any]) -> None:
    """A request's payment settled on the cluster (its C): the request's event."""
    if payment["request_id"]:
        _announce(unit, _row(unit, payment["request_id"]), payment["payer_id"])


def _failed(unit: Unit, payment: Mapping[str, Any]) -> None:
    """A request's payment failed on the cluster: the request open again, and the failed
    payment no longer its payment (``payments.request_id`` is unique: one payment per
    request, the one that succeeds)."""
    request_id = payment["request_id"]
    if not request_id:
        return
    unit.conn.execute(
        update(payments).where(payments.c.id == payment["id"]).values(request_id=None)
    )
    unit.conn.execute(
        update(payment_requests)
        .where(
            payment_requests.c.id == request_id,
            payment_requests.c.payment_id == payment["id"],
        )
        .values(status=RequestStatus.OPEN.value, payment_id=None)
    )


two_store.FOLLOWERS.append(two_store.Follower(_settled, _failed))


def cancel(unit: Unit, caller: Caller, request_id: str) -> dict[str, Any]:
    caller.require("payments:write")
    row = _row(unit, request_id, lock=True)
    if not caller.reaches(row["merchant_id"]):
        raise not_found("payment request", "id")
    if row["status"] != RequestStatus.OPEN:
        raise conflict("payment_request_closed", f"the request is {row['status']}", "id")
    unit.conn.execute(
        update(payment_requests)
        .where(payment_requests.c.id == request_id)
        .values(status=RequestStatus.CANCELED.value)
    )
    return view({**row, "status": RequestStatus.CANCELED.value}, unit.now())


def list_requests(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None, merchant_id: str | None
) -> dict[str, Any]:
    caller.require("payments:read")
    query = _named().order_by(payment_requests.c.id.desc())
    if merchant_id is not None and not caller.reaches(merchant_id):
        raise not_found("party", "merchant_id")
    who = caller.party_id or merchant_id
    if who:
        query = query.where(payment_requests.c.merchant_id == who)
    if starting_after:
        query = query.where(payment_requests.c.id < starting_after)
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    now = unit.now()
    return page([view(r, now) for r in found[:limit]], len(found) > limit)


def for_payer(unit: Unit, caller: Caller, request_id: str) -> dict[str, Any]:
    """A request as the customer holding its id sees it before paying (the web's "pay this"
    page): the id is a bearer reference any customer may pay, so its merchant's name, amount,
    description and status are theirs to see. Which payment paid it stays private: only its
    merchant, its payer (the receipt) and the operator get ``payment_id``."""
    caller.require("payments:write")
    row = _row(unit, request_id)
    found = view(row, unit.now())
    if not caller.reaches(row["merchant_id"], _payer(unit, row)):
        found["payment_id"] = None
    return found
