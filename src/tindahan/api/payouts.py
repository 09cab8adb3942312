"""Payouts over HTTP: a merchant's sales from its settlement wallet to its main wallet, what
is available to pay out (and why not more), and the automatic daily payout's settings.

A merchant's key reaches its own payouts and settings only (anyone else's are 404); the
operator's key names the merchant (``merchant_id``). Every POST takes an
``Idempotency-Key``: a retried payout moves the money once.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tindahan import limits
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PathId,
    QueryId,
    idempotent,
    platform,
    read,
)
from tindahan.api.schemas import ObjectId, Page
from tindahan.api.schemas import Request as Body
from tindahan.services.payments import two_store
from tindahan.services.payouts import cluster, payouts, settings

router = APIRouter(prefix="/v1")
Minor = Annotated[int, Field(strict=True, gt=0, le=limits.MAX_AMOUNT_MINOR)]


class PayoutCreate(Body):
    amount_minor: Minor = Field(examples=[50_000])
    currency: Annotated[str, Field(min_length=3, max_length=3)] = "PHP"
    merchant_id: ObjectId | None = Field(None, description="Operator keys only.")
    destination: Literal["wallet"] = Field(
        "wallet", description="The merchant's main wallet (bank accounts come with the rails)."
    )
    description: Annotated[str, Field(max_length=limits.DESCRIPTION_MAX_LENGTH)] | None = None


class SettingsUpdate(Body):
    enabled: bool
    time_of_day: Annotated[str, Field(min_length=5, max_length=5, examples=["21:00"])] = "21:00"
    keep_minor: Annotated[int, Field(strict=True, ge=0, le=limits.MAX_AMOUNT_MINOR)] = 0
    destination: Literal["wallet", "bank_account"] = "wallet"
    bank_account_id: ObjectId | None = Field(
        None, description="With destination bank_account: one of the merchant's bank accounts."
    )
    merchant_id: ObjectId | None = Field(None, description="Operator keys only.")


class Failure(BaseModel):
    code: str
    message: str


class Payout(BaseModel):
    id: str
    object: Literal["payout"]
    merchant_id: str
    amount_minor: int
    currency: str
    destination: Literal["wallet"]
    source_wallet_id: str
    destination_wallet_id: str
    status: Literal["succeeded", "failed", "pending"]
    automatic: bool
    transfer_id: str | None
    failure: Failure | None
    description: str | None
    created: str


class Availability(BaseModel):
    object: Literal["payout_availability"]
    merchant_id: str
    currency: str
    available_minor: int
    settlement_balance_minor: int
    pending_out_minor: int
    refund_hold_minor: int
    loan_hold_minor: int
    refund_window_days: int


class PayoutSettings(BaseModel):
    object: Literal["payout_settings"]
    merchant_id: str
    enabled: bool
    time_of_day: str
    timezone: str
    keep_minor: int
    currency: str
    destination: Literal["wallet", "bank_account"]
    bank_account_id: str | None
    updated: str | None


@router.post("/payouts", response_model=Payout, tags=["payouts"])
def create_payout(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: PayoutCreate
) -> JSONResponse:
    """Pay out from the settlement wallet to the main wallet, at once. Refused (402
    ``payout_exceeds_available``) above what is available: see ``GET /v1/payouts/available``."""
    new = payouts.NewPayout(**payload.model_dump())
    made = platform(request)
    if not two_store.applies(made):
        return idempotent(request, who, key, payload, lambda u: payouts.create(u, who, new))
    return idempotent(  # a TigerBeetle ledger: the two-store order (``payouts.cluster``)
        request,
        who,
        key,
        payload,
        lambda u: payouts.create(u, who, new),
        through=lambda scope, k, fp, _work, render, refuse: cluster.create(
            made, who, new, scope, k, fp, render, refuse
        ),
    )


@router.get("/payouts", response_model=Page[Payout], tags=["payouts"])
def list_payouts(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    merchant_id: QueryId = None,
) -> Any:
    """Newest first."""
    return read(request, lambda u: payouts.list_payouts(u, who, limit, starting_after, merchant_id))


@router.get("/payouts/available", response_model=Availability, tags=["payouts"])
def payout_availability(request: Request, who: CallerDep, merchant_id: QueryId = None) -> Any:
    """What may be paid out now: the settlement balance less pending debits, less what the
    refunds of the last days' sales and the loan's next installment need."""
    return read(request, lambda u: payouts.available(u, who, merchant_id))


@router.get("/payouts/{payout_id}", response_model=Payout, tags=["payouts"])
def get_payout(request: Request, who: CallerDep, payout_id: PathId) -> Any:
    return read(request, lambda u: payouts.get(u, who, payout_id))


@router.get("/payout_settings", response_model=PayoutSettings, tags=["payouts"])
def get_settings(request: Request, who: CallerDep, merchant_id: QueryId = None) -> Any:
    return read(request, lambda u: settings.get(u, who, merchant_id))


@router.post("/payout_settings", response_model=PayoutSettings, tags=["payouts"])
def update_settings(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: SettingsUpdate
) -> JSONResponse:
    """The automatic daily payout: on or off, its time of day (Manila, ``HH:MM``), the
    balance to leave in the settlement wallet, the destination (the main wallet, or a bank
    account: the payout then goes on from the main wallet as a bank transfer)."""
    new = settings.NewSettings(**payload.model_dump())
    return idempotent(request, who, key, payload, lambda u: settings.update_settings(u, who, new))
