"""Webhook endpoints and their delivery log; API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.api import schemas as s
from tindahan.api.deps import CallerDep, Cursor, IdempotencyKey, Limit, PathId, idempotent, read
from tindahan.services.platform import keys, webhooks

router = APIRouter(prefix="/v1")
Id = PathId


@router.post("/webhook_endpoints", response_model=s.WebhookEndpointWithSecret, tags=["webhooks"])
def create_endpoint(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.WebhookEndpointCreate
) -> JSONResponse:
    """Subscribe a URL to events; the signing secret is in this response only."""
    events = list(payload.enabled_events)
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: webhooks.create_endpoint(u, who, payload.url, events, payload.party_id),
        shown_once=("secret",),
    )


@router.get("/webhook_endpoints", response_model=s.Page[s.WebhookEndpoint], tags=["webhooks"])
def list_endpoints(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: webhooks.list_endpoints(u, who))


@router.get("/webhook_endpoints/{endpoint_id}", response_model=s.WebhookEndpoint, tags=["webhooks"])
def get_endpoint(request: Request, who: CallerDep, endpoint_id: Id) -> Any:
    return read(request, lambda u: webhooks.get_endpoint(u, who, endpoint_id))


@router.post(
    "/webhook_endpoints/{endpoint_id}", response_model=s.WebhookEndpoint, tags=["webhooks"]
)
def update_endpoint(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    endpoint_id: Id,
    payload: s.WebhookEndpointUpdate,
) -> JSONResponse:
    """Enable or disable an endpoint (disabled: deliveries wait)."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: webhooks.set_endpoint_status(u, who, endpoint_id, payload.status),
    )


@router.get(
    "/webhook_endpoints/{endpoint_id}/deliveries",
    response_model=s.Page[s.WebhookDelivery],
    tags=["webhooks"],
)
def list_deliveries(
    request: Request,
    who: CallerDep,
    endpoint_id: Id,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
) -> Any:
    """The delivery log: every event sent to this endpoint, its attempts and last answer."""
    return read(
        request, lambda u: webhooks.list_deliveries(u, who, endpoint_id, limit, starting_after)
    )


@router.post("/api_keys", response_model=s.ApiKeyWithSecret, tags=["api keys"])
def create_key(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.ApiKeyCreate
) -> JSONResponse:
    """A new key; its secret is in this response only. A party's key makes keys for itself."""
    wanted = ",".join(payload.scopes) if payload.scopes is not None else None

    def work(u: Any) -> dict[str, Any]:
        view, secret = keys.create_for(u, who, party_id=payload.party_id, scopes=wanted)
        return {**view, "secret": secret}

    return idempotent(request, who, key, payload, work, shown_once=("secret",))


@router.get("/api_keys", response_model=s.Page[s.ApiKey], tags=["api keys"])
def list_keys(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: keys.list_keys(u, who))


@router.post("/api_keys/{key_id}/revoke", response_model=s.ApiKey, tags=["api keys"])
def revoke_key(
    request: Request, who: CallerDep, key: IdempotencyKey, key_id: Id, payload: s.Empty
) -> JSONResponse:
    return idempotent(request, who, key, payload, lambda u: keys.revoke(u, who, key_id))
