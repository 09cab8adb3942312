"""Onboarding a merchant or a cash agent through the API, as the console does (issue 21).

An e-money issuer's developer does in one call what the console's onboarding form does
(``services.platform.onboarding``): the party with its business profile and KYC tier, the ID
images the operator checked (private, sealed), and its web sign-in, in one transaction (a
duplicate phone or a refused image leaves nothing). Operator keys only (``parties:write``;
reading the ID images, ``parties:read``), each POST once per ``Idempotency-Key``.

The first PIN: the developer may send one (its app asked the merchant for it); otherwise one
is made and answered once as ``first_pin`` — a replay of the same key answers null there
(the stored response holds no secret), as a new API key's secret is shown once. The QR
poster to print is ``GET /v1/parties/{id}/qr.svg``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.api import schemas as s
from tindahan.api.deps import CallerDep, IdempotencyKey, PathId, idempotent, read
from tindahan.kernel.refusals import invalid
from tindahan.services.platform import onboarding, parties

router = APIRouter(prefix="/v1")

ImageFile = Annotated[
    UploadFile | None,
    File(description="JPEG, PNG or WebP, at most 5 MB; kept private, sealed, re-encoded."),
]
Text = Annotated[str | None, Form(max_length=limits.NAME_MAX_LENGTH)]


class Document(BaseModel):
    kind: Literal["id_front", "id_back"]
    name: str = Field(description="Its name for GET /v1/parties/{id}/documents/{name}.")
    width: int
    height: int


class DocumentList(BaseModel):
    object: Literal["list"]
    data: list[Document]


class Login(BaseModel):
    id: str
    object: Literal["login"]
    party_id: str | None
    operator: bool
    name: str | None
    phone_last4: str | None
    created: str


class Onboarded(s.Party):
    login: Login
    documents: list[Document]
    first_pin: str | None = Field(
        description="The PIN made for the first sign-in, shown once (null on a replay, or "
        "when the request sent its own pin)."
    )


class _Sent(BaseModel):
    """What an onboarding's idempotency fingerprint covers: the fields and the files' hashes
    (never the PIN itself: its hash)."""

    fields: dict[str, str | None]
    files: dict[str, str]


async def _documents(sent: dict[str, UploadFile | None]) -> tuple[list[Any], dict[str, str]]:
    found, hashes = [], {}
    for kind, upload in sent.items():
        if upload is None:
            continue
        data = await upload.read(limits.PHOTO_MAX_BYTES + 1)
        if not data:
            raise invalid("file_empty", "the file is empty", kind)
        hashes[kind] = hashlib.sha256(data).hexdigest()
        found.append(await run_in_threadpool(onboarding.prepare_document, kind, data))
    return found, hashes


@router.post(
    "/onboardings",
    response_model=Onboarded,
    tags=["parties"],
    summary="Onboard a merchant or cash agent (operator)",
)
async def onboard(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    kind: Annotated[Literal["merchant", "agent"], Form()],
    name: Annotated[str, Form(max_length=limits.NAME_MAX_LENGTH)],
    phone: Annotated[str, Form(max_length=32, description="Their mobile: it signs in.")],
    id_front: Annotated[UploadFile, File(description="The ID's front: JPEG, PNG or WebP.")],
    id_back: ImageFile = None,
    tier: Annotated[str | None, Form(max_length=limits.TIER_NAME_MAX_LENGTH)] = None,
    id_number: Annotated[str | None, Form(max_length=40)] = None,
    mcc: Annotated[
        str | None, Form(max_length=4, description="Merchants: the category code.")
    ] = None,
    city: Annotated[str | None, Form(max_length=limits.CITY_MAX_LENGTH)] = None,
    province: Annotated[str | None, Form(max_length=limits.CITY_MAX_LENGTH)] = None,
    pin: Annotated[
        str | None,
        Form(max_length=64, description="Their first PIN; omitted: one is made, shown once."),
    ] = None,
) -> JSONResponse:
    """The party with its business profile and KYC tier, its checked ID images (private)
    and its web sign-in, in one transaction: a refusal leaves nothing behind."""
    who.require_operator()
    documents, hashes = await _documents({"id_front": id_front, "id_back": id_back})
    fields = {
        "kind": kind,
        "name": name,
        "phone": phone,
        "tier": tier,
        "id_number": id_number,
        "mcc": mcc,
        "city": city,
        "province": province,
        "pin_sha256": hashlib.sha256(pin.encode()).hexdigest() if pin else None,
    }
    new = parties.NewParty(
        kind=kind,
        name=name,
        phone=phone,
        id_number=id_number,
        tier=tier,
        mcc=mcc,
        city=city,
        province=province,
    )
    first = pin or onboarding.first_pin()

    def work(unit: Any) -> dict[str, Any]:
        made = onboarding.onboard(unit, who, new, documents, first)
        return {**made, "first_pin": None if pin else first}

    return await run_in_threadpool(
        idempotent,
        request,
        who,
        key,
        _Sent(fields=fields, files=hashes),
        work,
        shown_once=("first_pin",),
    )


@router.get("/parties/{party_id}/documents", response_model=DocumentList, tags=["parties"])
def list_documents(request: Request, who: CallerDep, party_id: PathId) -> Any:
    """The ID images checked at the party's onboarding (operator keys)."""
    found = read(request, lambda u: onboarding.documents(u, who, party_id))
    return {"object": "list", "data": found}


@router.get(
    "/parties/{party_id}/documents/{name}",
    tags=["parties"],
    response_class=Response,
    responses={200: {"content": {"image/webp": {}}, "description": "The ID image (WebP)"}},
)
def document(
    request: Request,
    who: CallerDep,
    party_id: PathId,
    name: Annotated[str, Path(max_length=80)],
) -> Response:
    """One ID image, opened for the operator; never cached."""
    data = read(request, lambda u: onboarding.document_image(u, who, party_id, name))
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/webp", headers=headers)
