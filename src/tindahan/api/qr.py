"""QR Ph: a merchant's static code (JSON and a printable SVG poster), the dynamic codes of a
payment request and of an order, and paying a scanned code."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from tindahan.api import commerce_schemas as c
from tindahan.api import rails_schemas as r
from tindahan.api import schemas as s
from tindahan.api.deps import CallerDep, IdempotencyKey, PathId, idempotent, platform, read
from tindahan.services.commerce import escrow_cluster
from tindahan.services.payments import two_store
from tindahan.services.qr import codes as qrcodes
from tindahan.services.qr import interbank
from tindahan.services.qr import pay as qrpay
from tindahan.services.rails import cluster as rails_cluster

router = APIRouter(prefix="/v1")
Id = PathId


@router.get("/parties/{party_id}/qr", response_model=s.QrCode, tags=["qr"])
def merchant_qr(request: Request, who: CallerDep, party_id: Id) -> Any:
    """The merchant's static QR Ph code: the buyer's app asks for the amount."""
    return read(request, lambda u: qrpay.merchant_code(u, who, party_id))


@router.get(
    "/parties/{party_id}/qr.svg",
    tags=["qr"],
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "A printable poster"}},
)
def merchant_poster(request: Request, who: CallerDep, party_id: Id) -> Response:
    """The static code as a printable SVG poster, the merchant's name under it and its
    seven-digit merchant code (for paying by USSD from any phone) under that."""
    code = read(request, lambda u: qrpay.merchant_code(u, who, party_id))
    name = read(request, lambda u: qrpay.merchant_name(u, who, party_id))
    short = read(request, lambda u: qrpay.merchant_short_code(u, who, party_id))
    note = f"Merchant code {short}" if short else None
    return Response(qrcodes.svg(code["payload"], name, note=note), media_type="image/svg+xml")


@router.get("/payment_requests/{request_id}/qr", response_model=s.QrCode, tags=["qr"])
def request_qr(request: Request, who: CallerDep, request_id: Id) -> Any:
    """A dynamic code for a payment request: amount and one-time reference inside."""
    return read(request, lambda u: qrpay.request_code(u, who, request_id))


@router.post("/qr/payments", response_model=s.Payment, tags=["qr"], summary="Pay a scanned QR")
def pay_qr(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.QrPaymentCreate
) -> JSONResponse:
    """Pay a merchant's QR Ph code: static (give amount_minor) or dynamic (the code's
    amount, paid once). Codes of other institutions are refused with ``qr_off_us``: a
    merchant's code of another bank or e-wallet is paid with ``POST /v1/qr/bank_transfers``."""
    args = (payload.payload, payload.amount_minor, payload.payer_id)
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: qrpay.pay(u, who, *args),
        reserve=lambda u, ledger: qrpay.reserve(u, ledger, who, *args),
    )


@router.post(
    "/qr/bank_transfers/quote",
    response_model=r.QrInterbankQuote,
    tags=["qr"],
    summary="What paying another institution's QR would cost",
)
def quote_interbank_qr(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.QrPaymentCreate
) -> JSONResponse:
    """What paying another bank's or e-wallet's QR Ph merchant code would be, before it is
    paid: the merchant's printed name, its bank, the amount, the InstaPay fee and the total.
    Nothing is held (a POST only because a scanned payload does not belong in a URL; like
    every POST it takes an Idempotency-Key, and the same key answers the same quote)."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: interbank.quote(u, who, payload.payload, payload.amount_minor, payload.payer_id),
    )


@router.post(
    "/qr/bank_transfers",
    response_model=r.BankTransfer,
    tags=["qr"],
    summary="Pay another institution's QR",
)
def pay_interbank_qr(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.QrPaymentCreate
) -> JSONResponse:
    """Pay a QR Ph merchant code of another bank or e-wallet: an InstaPay credit transfer
    from the main wallet to the merchant's account at the acquirer the code names (at most
    ₱50,000.00: ``qr_over_instapay_cap`` above; QR Ph merchant payments ride InstaPay only).
    The amount and the InstaPay send fee are held at once; the worker sends the pacs.008 and
    the status follows the clearing house's answer, as ``POST /v1/bank_transfers``. Our own
    codes are refused with ``qr_on_us`` (``POST /v1/qr/payments`` pays them)."""
    args = (payload.payload, payload.amount_minor, payload.payer_id)
    made = platform(request)
    if not two_store.applies(made):
        return idempotent(request, who, key, payload, lambda u: interbank.pay(u, who, *args))
    return idempotent(  # a TigerBeetle ledger: the outbound transfers' order (``rails.cluster``)
        request,
        who,
        key,
        payload,
        lambda u: interbank.pay(u, who, *args),
        through=lambda scope, k, fp, _work, render, refuse: rails_cluster.start(
            made, lambda u: interbank.checked(u, who, *args), scope, k, fp, render, refuse
        ),
    )


@router.get("/orders/{order_id}/qr", response_model=s.QrCode, tags=["qr"])
def order_qr(request: Request, who: CallerDep, order_id: Id) -> Any:
    """A dynamic code for an unpaid order: its total, and the order as reference."""
    return read(request, lambda u: qrpay.order_code(u, who, order_id))


@router.post("/qr/order_payments", response_model=c.Order, tags=["qr"])
def pay_order_qr(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.QrOrderPaymentCreate
) -> JSONResponse:
    """Pay an order's scanned code: the money goes into the order's escrow."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: qrpay.pay_order(u, who, payload.payload),
        reserve=lambda u, _: qrpay.reserve_order(u, who, payload.payload),
        record=escrow_cluster.RECORD,
    )
