"""Pay by QR: each merchant's static QR Ph code, a dynamic code per payment request, and
paying a scanned code through the payments service (limits, idempotency, fees and all).

Tindahan writes person-to-merchant codes (GUID ``ph.ppmi.p2m``, template 28): sub-id 01 is
the acquirer id (``TINDAHAN_QR_ACQUIRER_ID``, default ``TNDHPHM1XXX`` — set it to the BIC
your institution was assigned), sub-id 03 the merchant's party id. A dynamic code adds the
amount (54) and, as its reference label (62.05), the payment request's id without its
``preq_`` prefix (62 sub-fields hold at most 25 characters). An order's dynamic code (the
checkout page's "pay by QR") carries ``O`` and the order's id without ``ord_``: 25
characters, never confused with a request's 24; it is paid through ``POST
/v1/qr/order_payments``, into the order's escrow like any order payment.

Reading a code: a QR Ph P2M code whose acquirer is ours is *on-us* and paid here; a code from
another institution (another acquirer, a P2P InstaPay code, another country's scheme) is
refused here with ``qr_off_us``: another institution's P2M code is paid as an InstaPay
transfer by ``services.qr.interbank`` (``POST /v1/qr/bank_transfers``).
Names longer than EMVCo's 25 characters and cities over 15 are cut to fit on the code; the
payment itself names the merchant by id, never by the printed name.
"""

from __future__ import annotations

import os
from typing import Any

from tindahan import qr
from tindahan.commerce.orders import OrderStatus
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, conflict, invalid, refused
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import PartyKind
from tindahan.services.commerce import escrow, escrow_cluster
from tindahan.services.commerce import orders as order_service
from tindahan.services.commerce.views import OrderView
from tindahan.services.payments import payments as payment_service
from tindahan.services.payments import requests as request_service
from tindahan.services.payments import two_store
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Unit

ACQUIRER_ENV = "TINDAHAN_QR_ACQUIRER_ID"
DEFAULT_ACQUIRER = "TNDHPHM1XXX"
TEMPLATE_ID = "28"
REQUEST_PREFIX = "preq_"
ORDER_PREFIX, ORDER_MARK = "ord_", "O"


def acquirer() -> str:
    return os.environ.get(ACQUIRER_ENV) or DEFAULT_ACQUIRER


def _description(
    merchant: Any, amount_minor: int | None, reference: str | None
) -> qr.QrDescription:
    return qr.QrDescription(
        accounts=(
            qr.AccountTemplate(
                TEMPLATE_ID, "ph.ppmi.p2m", {"01": acquirer(), "03": merchant["id"]}
            ),
        ),
        mcc=merchant["mcc"],
        name=merchant["name"][:25].strip(),
        city=(merchant["city"] or "Philippines")[:15].strip(),
        amount_minor=amount_minor,
        additional=qr.AdditionalData(guid="ph.ppmi.qrph", reference_label=reference)
        if reference
        else None,
    )


def _view(
    payload: str,
    kind: str,
    merchant_id: str,
    request_id: str | None,
    order_id: str | None = None,
) -> dict[str, Any]:
    return {
        "object": "qr_code",
        "kind": kind,
        "merchant_id": merchant_id,
        "payment_request_id": request_id,
        "order_id": order_id,
        "payload": payload,
    }


def merchant_code(unit: Unit, caller: Caller, merchant_id: str) -> dict[str, Any]:
    """The merchant's static code (the one printed and taped to the counter)."""
    caller.require("parties:read")
    merchant = party_row(unit, caller, merchant_id)
    if merchant["kind"] != PartyKind.MERCHANT:
        raise invalid("not_a_merchant", "only merchants have a payment QR code", "id")
    return _view(qr.encode(_description(merchant, None, None)), "static", merchant_id, None)


def merchant_short_code(unit: Unit, caller: Caller, merchant_id: str) -> str | None:
    """The merchant's seven-digit code (``ussd.codes``), printed on its poster under the
    name: a buyer without a camera or data pays the same merchant by USSD."""
    caller.require("parties:read")
    code = party_row(unit, caller, merchant_id)["short_code"]
    return str(code) if code else None


def merchant_name(unit: Unit, caller: Caller, merchant_id: str) -> str:
    caller.require("parties:read")
    return str(party_row(unit, caller, merchant_id)["name"])


def request_code(unit: Unit, caller: Caller, request_id: str) -> dict[str, Any]:
    """A dynamic code for a payment request: its amount and a one-time reference."""
    found = request_service.get(unit, caller, request_id)
    merchant = party_row(unit, _operator(caller), found["merchant_id"])
    reference = request_id.removeprefix(REQUEST_PREFIX)
    payload = qr.encode(_description(merchant, found["amount_minor"], reference))
    return _view(payload, "dynamic", merchant["id"], request_id)


def order_code(unit: Unit, caller: Caller, order_id: str) -> dict[str, Any]:
    """A dynamic code for an unpaid order (PHP wallets): its total and its reference."""
    found = order_service.get(unit, caller, order_id)
    if found["status"] != OrderStatus.PENDING_PAYMENT:
        raise conflict("order_not_payable", f"the order is {found['status']}", "id")
    merchant = party_row(unit, _operator(caller), found["merchant_id"])
    reference = ORDER_MARK + order_id.removeprefix(ORDER_PREFIX)
    payload = qr.encode(_description(merchant, found["total_minor"], reference))
    return _view(payload, "dynamic", merchant["id"], None, order_id)


def _operator(caller: Caller) -> Caller:
    """The merchant behind a request the caller may read is readable for this purpose."""
    return Caller(caller.key_id, None, caller.scopes)


def pay(
    unit: Unit, caller: Caller, payload: str, amount_minor: int | None, payer_id: str | None
) -> PaymentView:
    """Pay a scanned code; returns the payment."""
    target = _target(unit, caller, payload, amount_minor, payer_id)
    if isinstance(target, str):
        return request_service.pay(unit, caller, target, payer_id)
    return payment_service.pay(unit, caller, target)


def reserve(
    unit: Unit,
    ledger: LedgerPort,
    caller: Caller,
    payload: str,
    amount_minor: int | None,
    payer_id: str | None,
) -> tuple[PaymentView, list[NewTransfer]]:
    """``pay`` on a TigerBeetle ledger: the same code read the same way, then the payment's
    (or the request's) part of the two-store order's A (``two_store.run`` runs the rest)."""
    target = _target(unit, caller, payload, amount_minor, payer_id)
    if isinstance(target, str):
        return request_service.reserve(unit, ledger, caller, target, payer_id)
    return two_store.reserve_payment(unit, ledger, caller, target)


def _target(
    unit: Unit, caller: Caller, payload: str, amount_minor: int | None, payer_id: str | None
) -> payment_service.NewPayment | str:
    """What a scanned code pays: a merchant payment (a static code and its typed amount) or
    a payment request's id (a dynamic code)."""
    caller.require("payments:write")
    summary = _on_us(payload)
    if _order_reference(summary):
        message = "this code pays an online order: use POST /v1/qr/order_payments"
        raise invalid("qr_is_order", message, "payload")
    merchant_id = summary.merchant_id or ""
    if summary.amount_minor is None:
        if amount_minor is None:
            raise invalid(
                "amount_required", "a static code needs the amount to pay", "amount_minor"
            )
        return payment_service.NewPayment(merchant_id, amount_minor, "PHP", payer_id=payer_id)
    if amount_minor is not None and amount_minor != summary.amount_minor:
        raise invalid(
            "amount_mismatch", "this code fixes the amount; leave amount_minor out", "amount_minor"
        )
    if not summary.reference:
        raise invalid("qr_invalid", "a dynamic code needs its reference (62.05)", "payload")
    request_id = REQUEST_PREFIX + summary.reference
    found = request_service.peek(unit, request_id)
    if (
        found is None
        or found["merchant_id"] != merchant_id
        or found["amount_minor"] != summary.amount_minor
    ):
        raise invalid("qr_invalid", "this code does not match a payment request here", "payload")
    return request_id


def describe(unit: Unit, caller: Caller, payload: str) -> dict[str, Any]:
    """What a scanned code would pay, before it is paid: the merchant (its name on record,
    and the name printed on the code), the amount (None for a static code: the payer types
    it) and the request or order it settles. A code that is not one of ours is refused as
    ``pay`` refuses it."""
    summary = _on_us(payload)
    try:
        merchant = party_row(unit, _operator(caller), summary.merchant_id or "")
    except RefusalError:
        raise invalid("qr_invalid", "this code names no merchant here", "payload") from None
    if merchant["kind"] != PartyKind.MERCHANT:
        raise invalid("qr_invalid", "this code names no merchant here", "payload")
    order_id = _order_reference(summary)
    dynamic = summary.amount_minor is not None and summary.reference and not order_id
    return {
        "object": "qr_scan",
        "merchant_id": merchant["id"],
        "merchant_name": merchant["name"],
        "printed_name": summary.name,
        "amount_minor": summary.amount_minor,
        "currency": "PHP",
        "payment_request_id": REQUEST_PREFIX + (summary.reference or "") if dynamic else None,
        "order_id": order_id,
        "payload": payload,
    }


def _on_us(payload: str) -> qr.QrPhSummary:
    try:
        tree, _warnings = qr.decode(payload)
        summary = qr.summarize(tree)
    except qr.QrError as exc:
        raise invalid("qr_invalid", f"not a payable QR code: {exc}", "payload") from None
    if summary.kind != "p2m" or (summary.acquirer or "").upper() != acquirer().upper():
        raise refused(
            "qr_off_us",
            "this code belongs to another institution: pay a merchant's code with "
            "POST /v1/qr/bank_transfers (an InstaPay transfer)",
            "payload",
        )
    if summary.currency != qr.PHP_NUMERIC:
        raise invalid("qr_invalid", "this code is not in pesos (currency 608)", "payload")
    return summary


def _order_reference(summary: qr.QrPhSummary) -> str | None:
    ref = summary.reference or ""
    if ref.startswith(ORDER_MARK) and len(ref) == 25:
        return ORDER_PREFIX + ref.removeprefix(ORDER_MARK)
    return None


def pay_order(unit: Unit, caller: Caller, payload: str) -> OrderView:
    """Pay an order's scanned dynamic code: into its escrow, as ``POST /orders/{id}/pay``."""
    return escrow.pay(unit, caller, _order_of(unit, caller, payload), None)


def reserve_order(
    unit: Unit, caller: Caller, payload: str
) -> tuple[dict[str, Any], list[NewTransfer]]:
    """``pay_order``'s A on a TigerBeetle ledger: the code read as ``pay_order`` reads it,
    then the order's payment into escrow through the two-store order (``escrow_cluster``)."""
    return escrow_cluster.reserve_pay(unit, caller, _order_of(unit, caller, payload), None)


def _order_of(unit: Unit, caller: Caller, payload: str) -> str:
    """The order a scanned dynamic code pays, checked against the order's merchant and total."""
    caller.require("orders:write")
    summary = _on_us(payload)
    order_id = _order_reference(summary)
    if order_id is None or summary.amount_minor is None:
        raise invalid("qr_invalid", "this code is not an order's payment code", "payload")
    found = order_service.get(unit, caller, order_id)
    if (found["merchant_id"], found["total_minor"]) != (summary.merchant_id, summary.amount_minor):
        raise invalid("qr_invalid", "this code does not match the order", "payload")
    return order_id
