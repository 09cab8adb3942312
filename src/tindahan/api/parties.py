"""Parties, wallets and statements; KYC tiers and fee settings (operator)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.api import schemas as s
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PathId,
    QueryId,
    idempotent,
    read,
    timestamp_ns,
)
from tindahan.services.payments import wallets
from tindahan.services.platform import fees, parties, tiers

router = APIRouter(prefix="/v1")
PartyId = PathId
TierName = Annotated[str, Path(max_length=limits.TIER_NAME_MAX_LENGTH)]


@router.post(
    "/parties", response_model=s.Party, tags=["parties"], summary="Create a party (operator)"
)
def create_party(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.PartyCreate
) -> JSONResponse:
    """Onboard a customer, merchant or agent; their wallets open with them."""
    new = parties.NewParty(**payload.model_dump())
    return idempotent(request, who, key, payload, lambda u: parties.create(u, who, new))


@router.get("/parties", response_model=s.Page[s.Party], tags=["parties"])
def list_parties(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    kind: Annotated[
        str | None,
        Query(max_length=16, description="Only this kind: customer, merchant or agent."),
    ] = None,
    name: Annotated[
        str | None,
        Query(
            max_length=limits.NAME_MAX_LENGTH,
            description="Only parties whose name contains this (any case).",
        ),
    ] = None,
) -> Any:
    """Parties by id, optionally filtered (a merchant's or customer's key sees only itself)."""
    return read(
        request,
        lambda u: parties.list_parties(
            u, who, limit, starting_after, kind=kind, name_contains=name
        ),
    )


@router.get("/parties/{party_id}", response_model=s.Party, tags=["parties"])
def get_party(request: Request, who: CallerDep, party_id: PartyId) -> Any:
    return read(request, lambda u: parties.get(u, who, party_id))


@router.post(
    "/parties/{party_id}",
    response_model=s.Party,
    tags=["parties"],
    summary="Update a party (operator)",
)
def update_party(
    request: Request, who: CallerDep, key: IdempotencyKey, party_id: PartyId, payload: s.PartyUpdate
) -> JSONResponse:
    """Freeze, unfreeze or close a party, or move it to another KYC tier."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: parties.update_party(u, who, party_id, payload.status, payload.tier),
    )


@router.get("/wallets", response_model=s.Page[s.Wallet], tags=["wallets"])
def list_wallets(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    party_id: QueryId = None,
) -> Any:
    return read(request, lambda u: wallets.list_wallets(u, who, limit, starting_after, party_id))


@router.get("/wallets/{wallet_id}", response_model=s.Wallet, tags=["wallets"])
def get_wallet(request: Request, who: CallerDep, wallet_id: PartyId) -> Any:
    return read(request, lambda u: wallets.get(u, who, wallet_id))


@router.get(
    "/wallets/{wallet_id}/transactions",
    response_model=s.Page[s.StatementEntry],
    tags=["wallets"],
    summary="A wallet's statement",
)
def statement(
    request: Request,
    who: CallerDep,
    wallet_id: PartyId,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    created_gte: Annotated[datetime | None, Query(description="ISO 8601; inclusive")] = None,
    created_lt: Annotated[datetime | None, Query(description="ISO 8601; exclusive")] = None,
) -> Any:
    """Ledger entries on the wallet, newest first."""
    gte, lt = timestamp_ns(created_gte, "created_gte"), timestamp_ns(created_lt, "created_lt")
    return read(
        request, lambda u: wallets.statement(u, who, wallet_id, limit, starting_after, gte, lt)
    )


@router.get("/kyc_tiers", response_model=s.Page[s.KycTier], tags=["settings"])
def list_tiers(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: tiers.list_tiers(u, who))


@router.post(
    "/kyc_tiers/{name}",
    response_model=s.KycTier,
    tags=["settings"],
    summary="Set a KYC tier (operator)",
)
def put_tier(
    request: Request, who: CallerDep, key: IdempotencyKey, name: TierName, payload: s.KycTierUpdate
) -> JSONResponse:
    """Create or replace a tier's limits; a limit left out means no limit."""
    figures = payload.model_dump()
    return idempotent(request, who, key, payload, lambda u: tiers.put_tier(u, who, name, figures))


@router.get("/fee_settings", response_model=s.FeeSettings, tags=["settings"])
def get_fees(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: fees.fees_view(u, who))


@router.post(
    "/fee_settings",
    response_model=s.FeeSettings,
    tags=["settings"],
    summary="Change fees (operator)",
)
def put_fees(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.FeeSettingsUpdate
) -> JSONResponse:
    values = payload.model_dump(exclude_none=True)
    return idempotent(request, who, key, payload, lambda u: fees.put_fee_settings(u, who, values))
