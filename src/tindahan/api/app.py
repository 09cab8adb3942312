"""The FastAPI application: routers, error handling, body limits, rate limits, OpenAPI.

``create_app(platform)`` builds it; ``tindahan serve`` runs it under uvicorn (see
``tindahan.cli.serve``), each worker process building its own from the environment.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tindahan import limits
from tindahan.api import (
    access,
    commerce,
    credit,
    delivery,
    errors,
    inbound,
    insights,
    lending,
    metrics,
    notifications,
    onboarding,
    parties,
    payments,
    payouts,
    qr,
    rails,
    ratelimit,
    risk,
    ussd,
)
from tindahan.api.deps import RateLimitedError, rate_limited_body
from tindahan.api.description import DESCRIPTION
from tindahan.api.failover import Failover
from tindahan.api.hardening import DuplicateKeys, HardenedAPI, install_docs
from tindahan.api.metrics import Measure
from tindahan.api.origin import ClientOrigin
from tindahan.api.schemas import Error
from tindahan.observe import traces
from tindahan.services.platform import groupcommit
from tindahan.services.platform import health as health_service
from tindahan.services.unit import Platform

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Error, "description": text}
    for status, text in (
        (400, "Invalid request"),
        (401, "Missing, invalid or revoked API key"),
        (402, "The payment cannot be made (funds, limits, frozen wallet)"),
        (403, "The key lacks the scope or role"),
        (404, "No such object (or not yours)"),
        (409, "Conflicting state, or an idempotency key reused with another request"),
        (413, "Body too large"),
        (429, "Rate limited; see Retry-After"),
    )
}


#: Where a photo is uploaded: ``POST /v1/products/{id}/photos`` and the merchant's product
#: page's ``POST /m/products/{id}/photos``.
PHOTO_UPLOADS = re.compile(r"/(?:v1|m)/products/[A-Za-z0-9_]{1,40}/photos")
#: Where the buyer's "Scan QR" sends a photo of a code (``web.scan``).
SCAN_UPLOAD = "/b/scan"
#: The console's onboarding form and the API's onboarding carry two ID images.
ONBOARDING = ("/op/onboard", "/v1/onboardings")


class BodyLimit:
    """Refuse bodies over ``limits.MAX_REQUEST_BODY_BYTES`` with 413, before reading them
    into memory: by Content-Length when sent, and by counting a streamed body."""

    def __init__(self, app: ASGIApp, max_bytes: int = limits.MAX_REQUEST_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _bound(self, scope: Scope) -> int:
        """ISO 20022 messages from the clearing switch (a PESONet batch) are larger than
        JSON requests, and a photo upload (the API's or the product page's) carries a
        photo: each has its own bound, still checked before reading."""
        if scope.get("path") == inbound.MESSAGES_PATH:
            return limits.MAX_RAIL_MESSAGE_BYTES
        if scope.get("method") == "POST" and PHOTO_UPLOADS.fullmatch(scope.get("path", "")):
            return limits.PHOTO_UPLOAD_BODY_MAX_BYTES
        if scope.get("method") == "POST" and scope.get("path") == SCAN_UPLOAD:
            return limits.QR_IMAGE_UPLOAD_BODY_MAX_BYTES
        if scope.get("method") == "POST" and scope.get("path") in ONBOARDING:
            return limits.ONBOARDING_BODY_MAX_BYTES
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        bound = self._bound(scope)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > bound):
            if scope.get("path", "").startswith("/v1"):
                await _too_large(scope, receive, send, bound)
                return

            async def refused() -> Message:  # a page answers 413 in the reader's language
                raise HTTPException(413)

            await self.app(scope, refused, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > bound:
                    # An HTTPException passes through FastAPI's body parsing (anything else
                    # becomes a 400 there) to the 413 handler in ``errors``.
                    raise HTTPException(413)
            return message

        await self.app(scope, counted, send)


async def _too_large(scope: Scope, receive: Receive, send: Send, bound: int) -> None:
    content = errors.body(
        "invalid_request_error", "body_too_large", f"the body is over {bound} bytes"
    )
    await JSONResponse(content, status_code=413, headers={"Connection": "close"})(
        scope, receive, send
    )


def create_app(platform: Platform, *, processes: int = 1, group_commit: str = "off") -> FastAPI:
    """The API app; ``group_commit`` is the default for ``TINDAHAN_GROUP_COMMIT`` when the
    environment does not set it (``auto`` in ``tindahan serve``'s workers, ``off`` here)."""
    app = HardenedAPI(
        title="Tindahan API",
        version="1",
        description=DESCRIPTION,
        responses=ERROR_RESPONSES,
        docs_url=None,  # served from the package by ``install_docs``, not from a CDN
        redoc_url=None,
    )
    bind(app, platform, processes=processes, group_commit=group_commit)
    errors.install(app)

    @app.exception_handler(RateLimitedError)
    async def rate_limited(_request: Request, exc: RateLimitedError) -> JSONResponse:
        return JSONResponse(
            rate_limited_body(), status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )

    for module in (
        parties,
        onboarding,
        payments,
        payouts,
        access,
        qr,
        commerce,
        delivery,
        credit,
        lending,
        insights,
        rails,
        risk,
        inbound,
        ussd,
        metrics,
        notifications,
    ):
        app.include_router(module.router)

    @app.get(
        "/health",
        tags=["meta"],
        summary="Liveness: the process answers",
        description="200 while the process serves requests; it does not touch the database "
        "(see `/ready`).",
    )
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["meta"],
        summary="Readiness: database reachable and migrated, a worker alive",
        responses={503: {"description": "Not ready; `reason` says why, `checks` each part"}},
    )
    def ready(request: Request) -> JSONResponse:
        found = health_service.readiness(request.app.state.platform)
        body: dict[str, Any] = {"status": "ready" if found.ready else "not ready"}
        if not found.ready:
            body["reason"] = found.reason
        body["checks"] = found.checks
        return JSONResponse(body, status_code=200 if found.ready else 503)

    @app.get("/", tags=["meta"], include_in_schema=False)
    def root() -> dict[str, str]:
        return {"name": "Tindahan API", "docs": "/docs", "openapi": "/openapi.json"}

    install_docs(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    # Innermost: the clearing switch's door, answered without the router (api/inbound.py).
    app.add_middleware(inbound.RailsDoor)
    # Then: a request that met a database failover is run again from the routes down.
    # (The pool is looked up when a failover happens: the OpenAPI document is built without one.)
    app.add_middleware(Failover, discard=lambda: app.state.platform.db.discard_connections())
    app.add_middleware(ClientOrigin)  # the risk gate's device and IP (api/origin.py)
    app.add_middleware(DuplicateKeys)
    app.add_middleware(BodyLimit)  # outside: a body is bounded before anything reads it
    app.add_middleware(Measure)  # outermost: every answer is counted, refusals included
    traces.instrument(app, lambda: platform.db.engine)  # when OTEL_EXPORTER_OTLP_ENDPOINT is set
    return app


def bind(
    app: FastAPI, platform: Platform, *, processes: int = 1, group_commit: str = "off"
) -> None:
    """Everything the app holds for one platform, on ``app.state``: the platform itself, a
    fresh rate limiter and the group committer (both read from the environment now). The
    routes, handlers and middleware hold none of it: they read ``app.state`` per request.

    ``create_app`` calls it once. The tests bind one app per worker to each test's platform
    (tests/apps.py): FastAPI builds an included router's routes on an app's first request
    that reaches it, about 0.8 s of CPU for this app's routes, which every test paid when
    each built its own app. Tracing's SQL hooks (``traces.instrument``) stay on the engine
    the app was created with, so a traced app is not rebound."""
    app.state.platform = platform
    #: Payments grouped into shared transactions when TINDAHAN_GROUP_COMMIT=on (README,
    #: "Group commit"); None when off.
    app.state.committer = groupcommit.from_environment(platform, default=group_commit)
    app.state.rate_limiter = ratelimit.from_environment(
        limits.RATE_LIMIT_PER_SECOND, limits.RATE_LIMIT_BURST, processes
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with its 422 replaced by our 400 (validation errors are 400s)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    _exact_bounds(schema)
    app.openapi_schema = schema
    return schema


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _exact_bounds(node: Any) -> None:
    """FastAPI's OpenAPI model keeps numeric bounds as binary floating point, which turns
    ``limits.MAX_AMOUNT_MINOR`` (2**63 - 1) into 2**63. Every bound in this API is a whole
    number, so put them back as exact integers."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and not isinstance(value, int):
                exact = int(value)
                node[key] = limits.MAX_AMOUNT_MINOR if exact == 2**63 else exact
            else:
                _exact_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _exact_bounds(item)
