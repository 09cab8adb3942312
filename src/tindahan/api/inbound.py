"""Money arriving from other banks (issue 19, item 5): the door the clearing switch knocks
on, and the inbound transfers' resources.

``POST /v1/rails/messages`` is not for API keys: the clearing switch (or a real connector)
posts ISO 20022 XML to it, signed as the switch's own traffic is
(``Tindahan-Signature: t=…,v1=…``, HMAC-SHA256 of ``t.body`` under
``TINDAHAN_RAILS_SECRET``; unsigned, stale or wrong: 401). A pacs.008 is answered at once
with its pacs.002 (``application/xml``); a camt.056 (a recall) is taken (202) for the
operator to decide, or answered at once with a camt.029 when the transfer is not ours; a
message that does not read is a 400 naming the problem (nothing credited); a body over
``limits.MAX_RAIL_MESSAGE_BYTES`` is a 413 before it is read (``api.app.BodyLimit``).
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from tindahan import limits
from tindahan.api import rails_schemas as s
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PathId,
    idempotent,
    platform,
    read,
)
from tindahan.api.errors import body, refusal_response
from tindahan.api.schemas import Page
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.rails import MessageError
from tindahan.services.payments import two_store
from tindahan.services.rails import inbound, incoming, recall_cluster, recalls
from tindahan.webhooks.signature import SignatureError, verify

router = APIRouter(prefix="/v1")
SECRET_ENV = "TINDAHAN_RAILS_SECRET"  # noqa: S105 (the variable's name, not a secret)
HEADER = "Tindahan-Signature"
MESSAGES_PATH = "/v1/rails/messages"
XML = "application/xml"
SIGNATURE_MAX = 512  # characters of the signature header; longer is a 400 (the route's)


@router.post(
    "/rails/messages",
    tags=["rails"],
    summary="ISO 20022 messages from the clearing switch (signed; not for API keys)",
    responses={
        200: {"content": {XML: {}}, "description": "The pacs.002 answer."},
        202: {"description": "A camt.056 recall, taken for the operator to decide."},
        503: {"description": "No clearing switch is configured (no TINDAHAN_RAILS_SECRET)."},
    },
    openapi_extra={
        "requestBody": {"required": True, "content": {XML: {"schema": {"type": "string"}}}}
    },
)
async def rails_message(
    request: Request,
    signature: Annotated[str | None, Header(alias=HEADER, max_length=SIGNATURE_MAX)] = None,
) -> Response:
    """A pacs.008 from another bank: each transaction credited once (by UETR and
    EndToEndId) or rejected with its ISO reason; the answer is the pacs.002. A camt.056
    recall: 202, pending for the operator (``/v1/inbound_recalls``)."""
    return await answer_message(request, signature)


async def answer_message(request: Request, signature: str | None) -> Response:
    """What the door answers (the route's body, and ``RailsDoor``'s)."""
    secret = os.environ.get(SECRET_ENV, "")
    data = await request.body()
    if not secret:
        return _error(503, "rails_not_configured", "no clearing switch is configured")
    try:
        verify(secret, signature or "", data, int(time.time()))
    except SignatureError as exc:
        return _error(401, "signature_invalid", f"signature: {exc}")
    try:
        answer = await run_in_threadpool(incoming.receive, platform(request), data)
    except MessageError as exc:
        return _error(400, "message_invalid", f"FF01 {exc}")
    except RefusalError as exc:
        refused = refusal_response(exc)
        return JSONResponse(refused.body, status_code=refused.status_code)
    except LedgerUnavailableError as exc:  # the cluster's answer not final yet: send it again
        response = _error(503, "ledger_unavailable", str(exc))
        response.headers["Retry-After"] = str(limits.LEDGER_RETRY_AFTER_S)
        return response
    if answer is None:  # a recall waits for the operator; the camt.029 follows
        return Response(status_code=202)
    return Response(answer, media_type=XML)


class RailsDoor:
    """``POST /v1/rails/messages`` answered without the router, by ``answer_message`` as
    the route would: FastAPI's matching walks every router included before this one, and
    its request handling wraps each call again, which cost more server CPU than the
    credit's own statements (README, "Speed of inbound transfers"). It sits innermost, inside
    every middleware of the app (metrics, the body bound, failover), and names the route
    in the scope as routing would. Anything else goes on to the routes, and so does a
    request whose signature header is missing or too long (the route's own answers: 401,
    or 400 from its validation)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.route = next(r for r in router.routes if getattr(r, "path", None) == MESSAGES_PATH)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MESSAGES_PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        signature = request.headers.get(HEADER)
        if signature is None or len(signature) > SIGNATURE_MAX:
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route
        try:
            response = await answer_message(request, signature)
        except HTTPException as exc:  # the body bound's 413, answered as the app's handler does
            response = await request.app.exception_handlers[HTTPException](request, exc)
        await response(scope, receive, send)


def _error(status: int, code: str, message: str) -> JSONResponse:
    kind = "authentication_error" if status == 401 else "invalid_request_error"
    return JSONResponse(body(kind, code, message), status_code=status)


@router.get("/inbound_transfers", response_model=Page[s.InboundTransfer], tags=["bank transfers"])
def list_inbound_transfers(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
) -> Any:
    """Money other banks sent to your wallets: credited, rejected (with the reason) or
    returned after a recall. The operator sees every one."""
    return read(request, lambda u: inbound.list_transfers(u, who, limit, starting_after))


@router.get(
    "/inbound_transfers/{transfer_id}", response_model=s.InboundTransfer, tags=["bank transfers"]
)
def get_inbound_transfer(request: Request, who: CallerDep, transfer_id: PathId) -> Any:
    return read(request, lambda u: inbound.get(u, who, transfer_id))


@router.get("/inbound_recalls", response_model=Page[s.InboundRecall], tags=["bank transfers"])
def list_inbound_recalls(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    status: Annotated[
        Literal["pending", "accepted", "rejected"] | None, Query(description="Only these.")
    ] = None,
) -> Any:
    """Operator: banks' recalls (camt.056) of money they sent to wallets, oldest first."""
    return read(
        request, lambda u: recalls.list_recalls(u, who, limit, starting_after, status=status)
    )


@router.get("/inbound_recalls/{recall_id}", response_model=s.InboundRecall, tags=["bank transfers"])
def get_inbound_recall(request: Request, who: CallerDep, recall_id: PathId) -> Any:
    return read(request, lambda u: recalls.get(u, who, recall_id))


@router.post(
    "/inbound_recalls/{recall_id}/decide",
    response_model=s.InboundRecall,
    tags=["bank transfers"],
    summary="Accept or reject a recall (operator)",
)
def decide_inbound_recall(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    recall_id: PathId,
    payload: s.RecallDecision,
) -> JSONResponse:
    """Accept: the money goes back to the sending bank (pacs.004) if the wallet still has
    it, else the recall is rejected AM04; reject: kept, with the reason (camt.029)."""
    made = platform(request)
    decision, reason = payload.decision, payload.reason
    if not two_store.applies(made):
        return idempotent(
            request,
            who,
            key,
            payload,
            lambda u: recalls.decide(u, who, recall_id, decision, reason),
        )
    return idempotent(  # a TigerBeetle ledger: the two-store order (``recall_cluster``)
        request,
        who,
        key,
        payload,
        lambda u: recalls.decide(u, who, recall_id, decision, reason),
        through=lambda scope, k, fp, _work, render, refuse: recall_cluster.decide(
            made, who, recall_id, decision, reason, scope, k, fp, render, refuse
        ),
    )
