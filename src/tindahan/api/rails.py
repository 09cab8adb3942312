"""The bank rails API: the participants directory, parties' bank accounts and the transfers
to them (issue 19). A bank transfer is created here (the money held); the worker sends it
to the clearing switch and applies its answers (``tindahan.worker.rails``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

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
    platform,
    read,
)
from tindahan.api.schemas import Page
from tindahan.services.payments import two_store
from tindahan.services.rails import bank_accounts, participants, quotes, transfers
from tindahan.services.rails import cluster as rails_cluster

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


@router.post("/bank_transfers", response_model=s.BankTransfer, tags=["bank transfers"])
def create_bank_transfer(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.BankTransferCreate
) -> JSONResponse:
    """Send money from the main wallet to a registered bank account: InstaPay up to
    ₱50,000 to a member bank, else PESONet at its next cut-off. The amount is held at once
    and leaves with the next worker round; the status follows the clearing house's answer."""
    new = transfers.NewBankTransfer(payload.bank_account_id, payload.amount_minor, payload.currency)
    made = platform(request)
    if not two_store.applies(made):
        return idempotent(request, who, key, payload, lambda u: transfers.create(u, who, new))
    return idempotent(  # a TigerBeetle ledger: the two-store order (``rails.cluster``)
        request,
        who,
        key,
        payload,
        lambda u: transfers.create(u, who, new),
        through=lambda scope, k, fp, _work, render, refuse: rails_cluster.create(
            made, who, new, scope, k, fp, render, refuse
        ),
    )


@router.get("/bank_transfers", response_model=Page[s.BankTransfer], tags=["bank transfers"])
def list_bank_transfers(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
) -> Any:
    return read(request, lambda u: transfers.list_transfers(u, who, limit, starting_after))


@router.get("/bank_transfers/quote", response_model=s.BankTransferQuote, tags=["bank transfers"])
def quote_bank_transfer(
    request: Request,
    who: CallerDep,
    bank_account_id: Annotated[str, Query(max_length=limits.ID_MAX_LENGTH)],
    amount_minor: Annotated[int, Query(ge=1, le=limits.MAX_AMOUNT_MINOR)],
    kind: Annotated[Literal["send", "payout"], Query()] = "send",
) -> Any:
    """What a transfer would be, before it is made: its rail, the operator's fee for that rail
    and kind (``send`` from a main wallet, ``payout`` of a merchant's sales), the total that
    leaves the wallet, and a PESONet transfer's cut-off. Nothing is held."""
    return read(request, lambda u: quotes.quote(u, who, bank_account_id, amount_minor, kind))


@router.get("/bank_transfers/{transfer_id}", response_model=s.BankTransfer, tags=["bank transfers"])
def get_bank_transfer(request: Request, who: CallerDep, transfer_id: PathId) -> Any:
    return read(request, lambda u: transfers.get(u, who, transfer_id))
