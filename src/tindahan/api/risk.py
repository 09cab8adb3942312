"""Risk over HTTP, for the operator's analysts: the alert queue, cases (assign, note,
approve, decide), the rules' modes and the name-screening hits (confirm or clear).

Operator keys only, with the ``risk:read`` / ``risk:write`` scopes: a merchant's or a
customer's key is refused (403 ``operator_only``) before anything is read, so nothing here
says whether a case exists. Every POST takes an ``Idempotency-Key``: a retried decision
moves the money once. The rules themselves are a reviewed file; only their mode switches.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from tindahan import limits
from tindahan.api.deps import CallerDep, Cursor, IdempotencyKey, PathId, idempotent, read
from tindahan.api.schemas import ID_PATTERN, ObjectId
from tindahan.api.schemas import Request as Body
from tindahan.services.platform import screening
from tindahan.services.risk import cases, rules

router = APIRouter(prefix="/v1/risk")
Note = Annotated[str, Field(min_length=1, max_length=limits.AUDIT_NOTE_MAX_LENGTH)]
RuleId = Annotated[str, Path(max_length=32, pattern=ID_PATTERN)]
AlertId = Annotated[str, Path(max_length=200, description="The alert's id (``ra.…``).")]
CaseLimit = Annotated[int, Query(ge=1, le=limits.RISK_ALERTS_PAGE, description="Page size.")]


class Assign(Body):
    assignee: ObjectId | None = Field(
        None, description="An operator's staff login (``lgn_…``); none: the caller."
    )


class NoteCreate(Body):
    body: Note


class Approval(Body):
    note: Note | None = None


class Decision(Body):
    decision: Literal["release", "return", "freeze", "report"]
    note: Note | None = None


class ModeChange(Body):
    mode: Literal["on", "shadow", "off"]
    note: Note | None = None


class Alert(BaseModel):
    id: str
    object: Literal["risk_alert"]
    case_id: str | None
    party_id: str
    counterparty_id: str
    transfer_id: str
    kind: str
    amount_minor: int
    currency: str
    rule: str
    rule_version: int
    decision: Literal["allow", "review", "block"]
    shadow: bool
    evidence: dict[str, Any]
    explanation: str
    hold_id: str | None
    status: Literal["open", "released", "returned", "closed"]
    decided_by: str | None
    decided: str | None
    created: str


class CaseNote(BaseModel):
    id: str
    author: str
    body: str
    created: str


class CaseSummary(BaseModel):
    id: str
    object: Literal["risk_case"]
    party_id: str
    status: Literal["open", "in_review", "closed"]
    assignee: str | None
    decision: Literal["release", "return", "freeze", "report"] | None
    approved_by: str | None
    approved_minor: int | None
    decided_by: str | None
    decided: str | None
    created: str
    updated: str
    held_minor: int
    alert_count: int
    four_eyes_minor: int


class Case(CaseSummary):
    alerts: list[Alert]
    notes: list[CaseNote]
    four_eyes: bool


class Rule(BaseModel):
    id: str
    object: Literal["risk_rule"]
    version: int
    mode: Literal["on", "shadow", "off"]
    file_mode: Literal["on", "shadow", "off"]
    decision: Literal["allow", "review", "block"]
    live: bool
    changed_by: str | None
    changed: str | None


class AlertDecision(Body):
    decision: Literal["release", "return", "close"]
    note: Note | None = None


class HitDecision(Body):
    decision: Literal["confirm", "clear"]
    note: Note | None = None


class ScreeningHit(BaseModel):
    id: str
    object: Literal["screening_hit"]
    party_id: str
    subject: Literal["party", "bank_account"]
    bank_account_id: str | None = Field(
        description="The bank account whose holder's name was screened (subject bank_account)."
    )
    list: str = Field(description="The list the entry is on: ``un`` or the watch list's file.")
    entry_ref: str
    matched_name: str = Field(description="The list's name or alias that matched.")
    score: int = Field(ge=0, le=100)
    status: Literal["open", "confirmed", "cleared"]
    decided_by: str | None
    decided: str | None
    created: str


class ScreeningHitList(BaseModel):
    object: Literal["list"]
    data: list[ScreeningHit]
    has_more: bool


class AlertList(BaseModel):
    object: Literal["list"]
    data: list[Alert]
    has_more: bool


class CaseList(BaseModel):
    object: Literal["list"]
    data: list[CaseSummary]
    has_more: bool


class RuleList(BaseModel):
    object: Literal["list"]
    data: list[Rule]
    has_more: bool
    gate_on: bool


@router.get("/alerts", response_model=AlertList, tags=["risk"])
def list_alerts(
    request: Request,
    who: CallerDep,
    status: Literal["open", "released", "returned", "closed"] = "open",
) -> Any:
    """The queue: reviews before reports, newest first (at most ``RISK_ALERTS_PAGE``)."""
    return read(request, lambda u: cases.list_alerts(u, who, status))


@router.post("/alerts/{alert_id}/approve", response_model=Alert, tags=["risk"])
def approve_alert(
    request: Request, who: CallerDep, key: IdempotencyKey, alert_id: AlertId, payload: Approval
) -> JSONResponse:
    """The first of four eyes on one alert's hold (above ``four_eyes_minor``)."""
    return idempotent(
        request, who, key, payload, lambda u: cases.approve_alert(u, who, alert_id, payload.note)
    )


@router.post("/alerts/{alert_id}/decide", response_model=Alert, tags=["risk"])
def decide_alert(
    request: Request, who: CallerDep, key: IdempotencyKey, alert_id: AlertId, payload: AlertDecision
) -> JSONResponse:
    """One alert on its own: ``release`` or ``return`` its hold (how the money of a case closed
    by ``freeze`` or ``report`` is settled; four eyes as for a case), or ``close`` an alert that
    holds nothing — a refused movement's (``alert_holds_money`` otherwise)."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: cases.decide_alert(u, who, alert_id, payload.decision, payload.note),
    )


@router.get("/cases", response_model=CaseList, tags=["risk"])
def list_cases(
    request: Request,
    who: CallerDep,
    status: Literal["active", "open", "in_review", "closed"] = "active",
    limit: CaseLimit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
) -> Any:
    """Cases, the most recently active first; ``active`` is open and in review."""
    return read(request, lambda u: cases.list_cases(u, who, status, limit, starting_after))


@router.get("/cases/{case_id}", response_model=Case, tags=["risk"])
def get_case(request: Request, who: CallerDep, case_id: PathId) -> Any:
    """A case with its evidence (the movements, the rule and version, the values that
    tripped it), its notes, and what it holds now."""
    return read(request, lambda u: cases.get(u, who, case_id))


@router.post("/cases/{case_id}/assign", response_model=Case, tags=["risk"])
def assign_case(
    request: Request, who: CallerDep, key: IdempotencyKey, case_id: PathId, payload: Assign
) -> JSONResponse:
    return idempotent(
        request, who, key, payload, lambda u: cases.assign(u, who, case_id, payload.assignee)
    )


@router.post("/cases/{case_id}/notes", response_model=Case, tags=["risk"])
def add_note(
    request: Request, who: CallerDep, key: IdempotencyKey, case_id: PathId, payload: NoteCreate
) -> JSONResponse:
    """Notes are only ever added: author and time are kept."""
    return idempotent(
        request, who, key, payload, lambda u: cases.note(u, who, case_id, payload.body)
    )


@router.post("/cases/{case_id}/approve", response_model=Case, tags=["risk"])
def approve_case(
    request: Request, who: CallerDep, key: IdempotencyKey, case_id: PathId, payload: Approval
) -> JSONResponse:
    """The first of four eyes: covers releasing what the case holds now."""
    return idempotent(
        request, who, key, payload, lambda u: cases.approve(u, who, case_id, payload.note)
    )


@router.post("/cases/{case_id}/decide", response_model=Case, tags=["risk"])
def decide_case(
    request: Request, who: CallerDep, key: IdempotencyKey, case_id: PathId, payload: Decision
) -> JSONResponse:
    """Close the case: ``release`` (above ``four_eyes_minor`` another operator approves
    first), ``return`` to the sender, ``freeze`` the party, or ``report`` (an STR row)."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: cases.decide(u, who, case_id, payload.decision, payload.note),
    )


@router.get("/rules", response_model=RuleList, tags=["risk"])
def list_rules(request: Request, who: CallerDep) -> Any:
    """The rule set's rules with their versions and modes (the operator's switch over the
    file's)."""
    return read(request, lambda u: rules.list_rules(u, who))


@router.post("/rules/{rule_id}/mode", response_model=Rule, tags=["risk"])
def set_rule_mode(
    request: Request, who: CallerDep, key: IdempotencyKey, rule_id: RuleId, payload: ModeChange
) -> JSONResponse:
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: rules.set_mode(u, who, rule_id, payload.mode, payload.note),
    )


@router.get("/screening", response_model=ScreeningHitList, tags=["risk"])
def list_screening_hits(
    request: Request,
    who: CallerDep,
    status: Literal["open", "confirmed", "cleared"] = "open",
) -> Any:
    """Name-screening hits, the highest score first: a party's own name, or the holder of a
    bank account it registered (the counterparty of its bank transfers)."""
    return read(request, lambda u: screening.list_hit_views(u, who, status))


@router.post("/screening/{hit_id}/decide", response_model=ScreeningHit, tags=["risk"])
def decide_screening_hit(
    request: Request, who: CallerDep, key: IdempotencyKey, hit_id: PathId, payload: HitDecision
) -> JSONResponse:
    """``confirm``: the party is frozen (its own name) or the bank account blocked (its
    holder's); ``clear``: not the same person. Once per hit (``hit_decided`` after)."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: screening.decide_hit_view(u, who, hit_id, payload.decision, payload.note),
    )
