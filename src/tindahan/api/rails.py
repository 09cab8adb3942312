"""The bank rails API: the participants directory and parties' bank accounts (issue 19)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.api import rails_schemas as s
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PartyFilter,
    PathId,
    idempotent,
    read,
)
from tindahan.api.schemas import Page
from tindahan.services.rails import bank_accounts, participants

router = APIRouter(prefix="/v1")
ParticipantCode = Annotated[
    str, Path(max_length=limits.PARTICIPANT_CODE_MAX_LENGTH, pattern=r"^[A-Za-z0-9_]+$")
]


@router.get("/rails/participants", response_model=Page[s.Participant], tags=["rails"])
def list_participants(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    active: Annotated[bool, Query(description="Only the ones we route to.")] = False,
) -> Any:
    """The banks and e-money issuers a transfer can reach, with their memberships."""
    return read(
        request,
        lambda u: participants.list_participants(u, who, limit, starting_after, active_only=active),
    )


@router.get("/rails/participants/{code}", response_model=s.Participant, tags=["rails"])
def get_participant(request: Request, who: CallerDep, code: ParticipantCode) -> Any:
    return read(request, lambda u: participants.get(u, who, code))


@router.post(
    "/rails/participants",
    response_model=s.Participant,
    tags=["rails"],
    summary="Add a participant (operator)",
)
def create_participant(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.ParticipantCreate
) -> JSONResponse:
    new = participants.NewParticipant(**payload.model_dump())
    return idempotent(request, who, key, payload, lambda u: participants.create(u, who, new))


@router.post(
    "/rails/participants/{code}",
    response_model=s.Participant,
    tags=["rails"],
    summary="Change a participant (operator)",
)
def update_participant(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    code: ParticipantCode,
    payload: s.ParticipantUpdate,
) -> JSONResponse:
    """Change a participant's BIC, name, memberships, or stop routing to it (active false)."""
    fields = payload.model_dump(exclude_none=True)
    return idempotent(
        request, who, key, payload, lambda u: participants.change(u, who, code, fields)
    )


@router.post("/bank_accounts", response_model=s.BankAccount, tags=["bank accounts"])
def register_bank_account(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.BankAccountCreate
) -> JSONResponse:
    """Register a bank account to send money to; the number is kept encrypted, shown masked."""
    new = bank_accounts.NewBankAccount(**payload.model_dump())
    return idempotent(request, who, key, payload, lambda u: bank_accounts.register(u, who, new))


@router.get("/bank_accounts", response_model=Page[s.BankAccount], tags=["bank accounts"])
def list_bank_accounts(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    party_id: PartyFilter = None,
    include_removed: bool = False,
) -> Any:
    return read(
        request,
        lambda u: bank_accounts.list_accounts(
            u, who, limit, starting_after, party_id=party_id, include_removed=include_removed
        ),
    )


@router.get("/bank_accounts/{account_id}", response_model=s.BankAccount, tags=["bank accounts"])
def get_bank_account(request: Request, who: CallerDep, account_id: PathId) -> Any:
    return read(request, lambda u: bank_accounts.get(u, who, account_id))


@router.post(
    "/bank_accounts/{account_id}/remove", response_model=s.BankAccount, tags=["bank accounts"]
)
def remove_bank_account(
    request: Request, who: CallerDep, key: IdempotencyKey, account_id: PathId
) -> JSONResponse:
    """Stop sending to this account (it is kept, marked removed, for the transfers it got)."""
    return idempotent(request, who, key, None, lambda u: bank_accounts.remove(u, who, account_id))
