"""Credit assessments over HTTP: ``POST /v1/credit/assessments`` scores a merchant now.

A merchant's key assesses itself (``merchant_id`` may be left out); the operator names the
merchant. Anyone else's merchant is 404. The decision is the same as ``tindahan credit score
--merchant``: a probability of default (a decimal string), score points and reason codes in
words, or ``insufficient_history`` with its reasons; each is stored and can be read back.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tindahan.api.deps import CallerDep, IdempotencyKey, PathId, idempotent, read
from tindahan.api.schemas import ObjectId
from tindahan.api.schemas import Request as Body
from tindahan.services.credit import assessments as credit

router = APIRouter(prefix="/v1")


class AssessmentCreate(Body):
    merchant_id: ObjectId | None = None


class Reason(BaseModel):
    code: str
    points_lost: int | None
    text: str


class Assessment(BaseModel):
    id: str
    object: Literal["credit_assessment"]
    merchant_id: str
    decision: Literal["scored", "insufficient_history"]
    model_version: str | None
    probability_of_default: str | None
    score: int | None
    reasons: list[Reason]
    features: dict[str, float | None]
    as_of: str
    created: str


@router.post("/credit/assessments", response_model=Assessment, tags=["credit"])
def create_assessment(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: AssessmentCreate
) -> JSONResponse:
    """Score a merchant from their own sales history, with the reasons."""
    merchant_id = payload.merchant_id
    return idempotent(request, who, key, payload, lambda u: credit.assess(u, who, merchant_id))


@router.get("/credit/assessments/{assessment_id}", response_model=Assessment, tags=["credit"])
def get_assessment(request: Request, who: CallerDep, assessment_id: PathId) -> Any:
    return read(request, lambda u: credit.get(u, who, assessment_id))
