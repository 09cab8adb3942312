"""Every failure as the error object of DESIGN.md: ``{"error": {type, code, message, param}}``.

Refusals from the rules map to a status by category; FastAPI's validation errors (malformed
JSON, wrong types, unknown or missing fields) become 400s with a specific code and the
offending field as ``param``; a ledger store that does not answer within its bound (a
TigerBeetle cluster without a quorum) is a 503 ``ledger_unavailable`` with Retry-After;
anything unexpected is a 500 with no detail (the traceback goes to the server log, never to
the caller).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.services.platform.idempotency import Response

log = logging.getLogger("tindahan.api")

STATUS = {
    Category.INVALID: 400,
    Category.AUTHENTICATION: 401,
    Category.REFUSED: 402,
    Category.PERMISSION: 403,
    Category.NOT_FOUND: 404,
    Category.CONFLICT: 409,
    Category.IDEMPOTENCY: 409,
}
_HTTP_CODES = {
    404: ("invalid_request_error", "route_missing", "no such route"),
    405: ("invalid_request_error", "method_not_allowed", "this route does not take that method"),
    413: ("invalid_request_error", "body_too_large", "the request body is too large"),
    415: ("invalid_request_error", "content_type_invalid", "send JSON (application/json)"),
}


LEDGER_UNAVAILABLE = (
    "the ledger did not answer in time; send the same request again with the same "
    "Idempotency-Key after Retry-After seconds (it moves money at most once)"
)


def body(kind: str, code: str, message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"type": kind, "code": code, "message": message, "param": param}}


def refusal_response(refusal: RefusalError) -> Response:
    return Response(
        STATUS[refusal.category],
        body(refusal.category.value, refusal.code, refusal.message, refusal.param),
    )


def error_json(
    status: int, content: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(content, status_code=status, headers=headers)


def _param(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _validation_code(error: dict[str, Any], param: str | None) -> tuple[str, str]:
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "json_invalid", "the body is not valid JSON"
    if kind == "missing":
        return "parameter_missing", f"{param} is required"
    if kind == "extra_forbidden":
        return "parameter_unknown", f"{param} is not a field of this request"
    if param and param.split(".")[-1] == "amount_minor":
        return "amount_invalid", "amount_minor is a positive whole number of minor units (centavos)"
    if kind == "model_attributes_type" or kind == "model_type" or kind == "dict_type":
        return "body_invalid", "the body must be a JSON object"
    return "parameter_invalid", f"{param or 'the request'}: {error.get('msg', 'invalid')}"


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> str:
    """Every method some route of this path takes, for ``Allow``: Starlette names only the
    first matching route's, and here GET and POST of one path are often two routes. Each
    method is asked of the router as a request would be (routers included by FastAPI keep
    their routes to themselves)."""
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    ]
    return ", ".join(allowed)


def headers_of(request: Request, exc: HTTPException) -> dict[str, str] | None:
    """The exception's headers; for a 405, ``Allow`` with every method of the path."""
    headers = getattr(exc, "headers", None)
    if exc.status_code != 405:
        return headers
    return {**(headers or {}), "Allow": allowed_methods(request)}


def install(app: FastAPI) -> None:
    @app.exception_handler(RefusalError)
    async def refused(_request: Request, exc: RefusalError) -> JSONResponse:
        response = refusal_response(exc)
        return error_json(response.status_code, response.body)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        param = _param(tuple(first.get("loc", ())))
        code, message = _validation_code(first, param)
        if code == "json_invalid":
            param = None
        if (param or "").lower() == "idempotency-key":
            param = "Idempotency-Key"
            if first.get("type") == "missing" or first.get("input") in ("", None):
                code = "idempotency_key_missing"
                message = "every POST needs an Idempotency-Key header (any unique string, a UUID)"
            else:
                code = "idempotency_key_invalid"
                message = "the Idempotency-Key header is 1 to 255 characters"
        return error_json(400, body("invalid_request_error", code, message, param))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        kind, code, message = _HTTP_CODES.get(
            exc.status_code, ("invalid_request_error", "request_invalid", str(exc.detail))
        )
        return error_json(exc.status_code, body(kind, code, message), headers_of(request, exc))

    @app.exception_handler(LedgerUnavailableError)
    async def ledger_unavailable(request: Request, exc: LedgerUnavailableError) -> JSONResponse:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
        return error_json(
            503,
            body("api_error", "ledger_unavailable", LEDGER_UNAVAILABLE),
            {"Retry-After": str(limits.LEDGER_RETRY_AFTER_S)},
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_json(
            500, body("api_error", "internal_error", "something went wrong on our side")
        )
