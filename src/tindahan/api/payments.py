"""Payments, payment requests, refunds, cash-in/out and fundings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tindahan import limits
from tindahan.api import schemas as s
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PartyFilter,
    PathId,
    QueryId,
    idempotent,
    platform,
    read,
)
from tindahan.kernel.callers import Caller
from tindahan.services.payments import cash, payments, refunds, requests, sends, two_store
from tindahan.services.platform import groupcommit
from tindahan.services.platform.idempotency import Response
from tindahan.services.unit import Unit, new_id

router = APIRouter(prefix="/v1")
Id = PathId


@router.post("/payments", response_model=s.Payment, tags=["payments"], summary="Pay someone")
def create_payment(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.PaymentCreate
) -> JSONResponse:
    """Pay a merchant (a merchant payment, with the merchant discount) or a person (P2P)."""
    new = payments.NewPayment(**payload.model_dump())
    made = platform(request)
    if two_store.applies(made):  # the ledger on TigerBeetle: the two-store write order
        return idempotent(
            request,
            who,
            key,
            payload,
            lambda u: payments.pay(u, who, new),
            through=lambda scope, k, fp, _work, render, refuse: two_store.pay(
                made, who, new, scope, k, fp, render, refuse
            ),
        )
    # The id chosen now, so the group this payment may join can lock its fee shard first.
    payment_id = new_id("pay")
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: payments.pay(u, who, new, payment_id=payment_id),
        grouped=True,
        locks=payments.group_locks(who, new, payment_id),
    )


@router.get("/payments", response_model=s.Page[s.Payment], tags=["payments"])
def list_payments(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    kind: Literal["p2p", "merchant", "cash_in", "cash_out", "funding"] | None = None,
    party_id: PartyFilter = None,
) -> Any:
    """Newest first."""
    return read(
        request, lambda u: payments.list_payments(u, who, limit, starting_after, kind, party_id)
    )


@router.get("/payments/{payment_id}", response_model=s.Payment, tags=["payments"])
def get_payment(request: Request, who: CallerDep, payment_id: Id) -> Any:
    return read(request, lambda u: payments.get(u, who, payment_id))


@router.get(
    "/payments/{payment_id}/transfers", response_model=s.Page[s.LedgerTransfer], tags=["payments"]
)
def payment_transfers(request: Request, who: CallerDep, payment_id: Id) -> Any:
    """The ledger transfers behind a payment and its refunds."""
    return read(request, lambda u: payments.transfers(u, who, payment_id))


@router.get("/payments/{payment_id}/refunds", response_model=s.Page[s.Refund], tags=["refunds"])
def payment_refunds(
    request: Request,
    who: CallerDep,
    payment_id: Id,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
) -> Any:
    return read(request, lambda u: refunds.list_refunds(u, who, payment_id, limit, starting_after))


@router.post("/payment_requests", response_model=s.PaymentRequest, tags=["payment requests"])
def create_request(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.PaymentRequestCreate
) -> JSONResponse:
    """A merchant asks for an amount; share the id with the buyer as a link or QR."""
    fields = payload.model_dump()
    return idempotent(request, who, key, payload, lambda u: requests.create(u, who, **fields))


@router.get("/payment_requests", response_model=s.Page[s.PaymentRequest], tags=["payment requests"])
def list_requests(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    merchant_id: QueryId = None,
) -> Any:
    return read(
        request, lambda u: requests.list_requests(u, who, limit, starting_after, merchant_id)
    )


@router.get(
    "/payment_requests/{request_id}", response_model=s.PaymentRequest, tags=["payment requests"]
)
def get_request(request: Request, who: CallerDep, request_id: Id) -> Any:
    return read(request, lambda u: requests.get(u, who, request_id))


@router.post(
    "/payment_requests/{request_id}/pay", response_model=s.Payment, tags=["payment requests"]
)
def pay_request(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    request_id: Id,
    payload: s.PaymentRequestPay,
) -> JSONResponse:
    """Pay a request, exactly once."""
    payer_id = payload.payer_id
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: requests.pay(u, who, request_id, payer_id),
        reserve=lambda u, ledger: requests.reserve(u, ledger, who, request_id, payer_id),
    )


@router.post(
    "/payment_requests/{request_id}/cancel",
    response_model=s.PaymentRequest,
    tags=["payment requests"],
)
def cancel_request(
    request: Request, who: CallerDep, key: IdempotencyKey, request_id: Id, payload: s.Empty
) -> JSONResponse:
    return idempotent(request, who, key, payload, lambda u: requests.cancel(u, who, request_id))


@router.post(
    "/refunds", response_model=s.Refund, tags=["refunds"], summary="Refund a merchant payment"
)
def create_refund(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.RefundCreate
) -> JSONResponse:
    """Full (leave out amount_minor) or partial; never above what is left of the payment."""
    args = (payload.payment_id, payload.amount_minor, payload.reason)
    return _cash(
        request,
        who,
        key,
        payload,
        lambda u: refunds.create(u, who, *args),
        lambda made, *step: refunds.create_on_cluster(made, who, *args, *step),
        locks=refunds.group_locks(payload.payment_id),
    )


@router.get("/refunds/{refund_id}", response_model=s.Refund, tags=["refunds"])
def get_refund(request: Request, who: CallerDep, refund_id: Id) -> Any:
    return read(request, lambda u: refunds.get(u, who, refund_id))


@router.post(
    "/mobile_transfers",
    response_model=s.Payment,
    tags=["payments"],
    summary="Send money to a mobile number",
)
def create_mobile_transfer(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.MobileTransferCreate
) -> JSONResponse:
    """Send from the caller's main wallet to the customer whose registered mobile number is
    given: a payment of kind `p2p`, no fee, the KYC tiers' limits on both sides, judged by
    the risk rules (`under_review` when held). Refusals: `recipient_not_found` (404, no
    wallet has this number), `recipient_is_sender` (400), `recipient_is_business` (402: pay
    a store by its QR code), `phone_invalid` (400), `limit_exceeded`, `insufficient_funds`.
    Announced as `mobile_transfer.succeeded` to both parties."""
    new = sends.MobileSend(**payload.model_dump())
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: sends.send_to_mobile(u, who, new),
        reserve=lambda u, ledger: sends.reserve_mobile(u, ledger, who, new),
    )


@router.post("/cash_ins", response_model=s.Payment, tags=["cash"], summary="Cash-in at an agent")
def create_cash_in(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.CashInCreate
) -> JSONResponse:
    """The agent took cash from the customer: e-money moves from the agent's float."""
    args = (payload.customer_id, payload.amount_minor, payload.currency, payload.agent_id)
    return _cash(
        request,
        who,
        key,
        payload,
        lambda u: cash.cash_in(u, who, *args),
        lambda made, *step: cash.cash_in_on_cluster(made, who, *args, *step),
    )


@router.post("/cash_outs", response_model=s.Payment, tags=["cash"], summary="Ask for a cash-out")
def create_cash_out(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.CashOutCreate
) -> JSONResponse:
    """Holds the amount until the agent confirms handing over the cash."""
    args = (payload.agent_id, payload.amount_minor, payload.currency, payload.customer_id)
    return _cash(
        request,
        who,
        key,
        payload,
        lambda u: cash.cash_out(u, who, *args),
        lambda made, *step: cash.cash_out_on_cluster(made, who, *args, *step),
        locks=cash.cash_out_locks(who, payload.agent_id, payload.customer_id),
    )


@router.post("/cash_outs/{payment_id}/confirm", response_model=s.Payment, tags=["cash"])
def confirm_cash_out(
    request: Request, who: CallerDep, key: IdempotencyKey, payment_id: Id, payload: s.Empty
) -> JSONResponse:
    """The agent handed over the cash."""
    return _cash(
        request,
        who,
        key,
        payload,
        lambda u: cash.confirm(u, who, payment_id),
        lambda made, *step: cash.confirm_on_cluster(made, who, payment_id, *step),
    )


@router.post("/cash_outs/{payment_id}/cancel", response_model=s.Payment, tags=["cash"])
def cancel_cash_out(
    request: Request, who: CallerDep, key: IdempotencyKey, payment_id: Id, payload: s.Empty
) -> JSONResponse:
    return _cash(
        request,
        who,
        key,
        payload,
        lambda u: cash.cancel(u, who, payment_id),
        lambda made, *step: cash.cancel_on_cluster(made, who, payment_id, *step),
    )


@router.post(
    "/fundings", response_model=s.Payment, tags=["cash"], summary="Fund a wallet (operator)"
)
def create_funding(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.FundingCreate
) -> JSONResponse:
    """Book money received in the operator's bank account into a wallet (e.g. agent float)."""
    args = (payload.wallet_id, payload.amount_minor, payload.currency, payload.reference)
    return _cash(
        request,
        who,
        key,
        payload,
        lambda u: cash.fund(u, who, *args),
        lambda made, *step: cash.fund_on_cluster(made, who, *args, *step),
    )


def _cash(
    request: Request,
    who: Caller,
    key: str,
    payload: BaseModel,
    work: Callable[[Unit], Mapping[str, Any]],
    on_cluster: Callable[..., Response],
    locks: groupcommit.Locks | None = None,
) -> JSONResponse:
    """A cash movement (or a refund) once per key: ``work`` on the SQL ledger, or on a
    TigerBeetle ledger ``on_cluster(platform, scope, key, fingerprint, render, refuse)`` in
    the two-store write order (``payments.two_store``). With ``locks`` (what it will lock)
    the SQL ledger's run may join a group (``services.platform.groupcommit``); the
    two-store order is never grouped, as for payments."""
    made = platform(request)
    if not two_store.applies(made):
        grouped = locks is not None
        return idempotent(request, who, key, payload, work, grouped=grouped, locks=locks)
    return idempotent(
        request,
        who,
        key,
        payload,
        work,
        through=lambda scope, k, fp, _work, render, refuse: on_cluster(
            made, scope, k, fp, render, refuse
        ),
    )
