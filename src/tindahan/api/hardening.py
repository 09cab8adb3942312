"""What every HTTP answer carries, and the requests refused before any route sees them.

* **Security headers on every response** (the API's JSON, ``/openapi.json``, ``/docs``, the
  pages, errors): ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
  ``Referrer-Policy: no-referrer``, and a Content-Security-Policy: ``default-src 'none'``
  for anything that is not a page (JSON is never a document to run), a policy for ``/docs``
  that allows this site's scripts and styles only. A header a page already set (its own CSP,
  ``same-origin`` referrers) is kept. ``Strict-Transport-Security`` is sent when the request
  came over HTTPS, or when the operator says a TLS proxy stands in front
  (``TINDAHAN_BEHIND_TLS_PROXY=1``): HSTS over plain HTTP would be ignored by browsers, and
  sent by a test host it would pin a name to HTTPS for a year.
* **The docs page is served from the package**: Swagger UI 5's files (Apache-2.0) come from
  the ``fastapi-offline`` package, which bundles them with their licence and follows
  Swagger UI's releases; only its files are used, not its app class. So ``/docs`` works on a
  bank network with no internet, and no third party's CDN runs script on our origin.
* **Duplicate keys in a JSON body are refused** (400 ``json_duplicate_key``): parsers
  disagree on which copy wins (the first, the last), so ``{"amount_minor": 100,
  "amount_minor": 100000}`` could be checked as one amount and booked as another.
(405 answers name every method of the path in ``Allow``: ``errors.allowed_methods``.)
"""

from __future__ import annotations

import json
import os
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tindahan.api import errors

PROXY_ENV = "TINDAHAN_BEHIND_TLS_PROXY"
DOCS_ASSETS = "/docs/assets"
_HERE = os.path.dirname(__file__)
SWAGGER_UI = str(files("fastapi_offline") / "static")

JSON_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
#: Swagger UI sets style attributes from its script, hence 'unsafe-inline' for styles only;
#: no inline script runs (``docs/init.js`` starts it).
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
_BASE = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}


def behind_tls_proxy() -> bool:
    return os.environ.get(PROXY_ENV) == "1"


class SecurityHeaders:
    """Adds the headers above to every response that does not set them itself.

    The headers a response may get are worked out once, here, as bytes (four sets: the docs
    page or not, HSTS or not): per request only the response's own header names are looked
    at (issue 18: this runs on every request)."""

    def __init__(self, app: ASGIApp, *, tls_proxy: bool | None = None) -> None:
        self.app = app
        self.tls_proxy = behind_tls_proxy() if tls_proxy is None else tls_proxy
        self._wanted = {
            (docs, hsts): _wanted(docs, hsts) for docs in (False, True) for hsts in (False, True)
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope.get("path", "") == "/docs"
        wanted = self._wanted[docs, self.tls_proxy or scope.get("scheme") == "https"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                is_page = not docs and _is_html(headers)
                for name, value in wanted:
                    if name in present or (is_page and name == CSP_HEADER):
                        continue  # a page sets its own policy (``web.render``)
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


CSP_HEADER = b"content-security-policy"


def _wanted(docs: bool, hsts: bool) -> tuple[tuple[bytes, bytes], ...]:
    """The headers ``SecurityHeaders`` adds, in the order it adds them."""
    wanted = dict(_BASE)
    wanted[CSP_HEADER] = DOCS_CSP.encode() if docs else JSON_CSP.encode()
    if hsts:
        wanted[b"strict-transport-security"] = HSTS.encode()
    return tuple(wanted.items())


def _is_html(headers: list[tuple[bytes, bytes]]) -> bool:
    return any(n.lower() == b"content-type" and b"text/html" in v for n, v in headers)


# --- duplicate keys ----------------------------------------------------------------------------
class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKeyError(key)
        seen[key] = value
    return seen


def duplicate_key(raw: bytes) -> str | None:
    """The first key given twice in one JSON object of ``raw`` (at any depth), or None
    (also for a body that is not JSON at all: FastAPI's own parsing reports that)."""
    try:
        json.loads(raw, object_pairs_hook=_no_duplicates)
    except DuplicateKeyError as found:
        return found.key
    except ValueError:
        return None
    return None


class DuplicateKeys:
    """Reads a JSON request body (its size already bounded by ``BodyLimit``, which sits
    outside this), refuses it if an object repeats a key, else hands it on unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        body = b""
        try:
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
        except HTTPException as too_large:  # raised by ``BodyLimit``'s counting
            content = errors.body(
                "invalid_request_error", "body_too_large", "the body is too large"
            )
            await JSONResponse(content, status_code=too_large.status_code)(scope, receive, send)
            return
        key = duplicate_key(body)
        if key is not None:
            text = f"the key {key!r} appears twice in one JSON object; send it once"
            content = errors.body("invalid_request_error", "json_duplicate_key", text, key)
            await JSONResponse(content, status_code=400)(scope, receive, send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"content-type":
            return b"json" in value.lower()
    return False


# --- the docs page -----------------------------------------------------------------------------
DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tindahan API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<link rel="icon" href="{assets}/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/init.js"></script>
</body></html>
"""


class _DocsAssets(StaticFiles):
    """Swagger UI's files from the package, and our ``init.js`` beside them."""

    async def get_response(self, path: str, scope: Scope) -> Any:
        if path == "init.js":
            return await StaticFiles(directory=os.path.join(_HERE, "docs")).get_response(
                path, scope
            )
        return await super().get_response(path, scope)


class HardenedAPI(FastAPI):
    """FastAPI with ``SecurityHeaders`` outside everything, even the handler of unexpected
    errors (Starlette puts that outside every middleware added the usual way)."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def install_docs(app: FastAPI) -> None:
    """``/docs`` from the package (the app is built with ``docs_url=None``)."""
    app.mount(DOCS_ASSETS, _DocsAssets(directory=SWAGGER_UI), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(assets=DOCS_ASSETS))
