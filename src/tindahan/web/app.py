"""The whole application: the API (``tindahan.api``) plus the pages, in one FastAPI app.

The pages live at ``/`` and below, the API under ``/v1``. Errors are answered in the form
the caller reads: JSON error objects for the API (its own handlers, untouched), a page for
a browser — "not found" for anything not the viewer's (the same 404 a wrong id gets, so ids
cannot be probed), a sign-in redirect for a page that needs one, a plain "something went
wrong" (the traceback goes to the log only).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from tindahan.api.app import bind as bind_api
from tindahan.api.app import create_app as create_api
from tindahan.api.errors import allowed_methods
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.unit import Platform
from tindahan.web import i18n, render, routes, session
from tindahan.web.i18n import _
from tindahan.web.messages import refusal_text

log = logging.getLogger("tindahan.web")
STATIC = Path(__file__).parent / "static"
#: Paths that belong to the API and keep its JSON errors.
API_PREFIXES = (
    "/v1/",
    "/v1",
    "/openapi.json",
    "/docs",
    "/redoc",
    "/health",
    "/ready",
    "/metrics",
    "/ussd",
)

Handler = Callable[[Request, Any], Awaitable[Response]]


class Assets(StaticFiles):
    """The stylesheet, the script and the icon. Pages link them with ``?v=<ASSET_VERSION>``,
    so a phone may keep them for a year without asking again (on a slow connection each
    revalidation is a round trip of its own); a new version is a new address."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def create_app(platform: Platform, *, processes: int = 1, group_commit: str = "off") -> FastAPI:
    app = create_api(platform, processes=processes, group_commit=group_commit)
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", None) != "/"]
    app.mount("/static", Assets(directory=STATIC), name="static")
    for module in routes.MODULES:
        app.include_router(module.router)
    _install_errors(app)
    app.state.failover_page = _failover_page  # api.failover.PAGE_HOOK

    app.add_middleware(Language)
    return app


def bind(
    app: FastAPI, platform: Platform, *, processes: int = 1, group_commit: str = "off"
) -> None:
    """The app made by ``create_app`` bound to another platform (``api.app.bind``), its
    CSRF key, derived from the platform's vault on first use, forgotten with the old one."""
    bind_api(app, platform, processes=processes, group_commit=group_commit)
    app.state.csrf_key = None


class Language:
    """Every request runs in the reader's language (``i18n.choose``: the cookie, then
    Accept-Language). A plain ASGI middleware: Starlette's ``@app.middleware("http")`` runs
    each request in a task of its own with the body passed through streams, which cost about
    0.8 ms of CPU on every request, API calls included (README, "Speed of inbound
    transfers")."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        asked = HTTPConnection(scope)
        chosen = i18n.choose(asked.cookies.get(session.LANG), asked.headers.get("accept-language"))
        with i18n.using(chosen):
            await self.app(scope, receive, send)


def is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/v1" or path.startswith(API_PREFIXES)


def _install_errors(app: FastAPI) -> None:
    api_handlers: dict[Any, Handler] = dict(app.exception_handlers)

    def either(kind: Any, web: Handler) -> None:
        api = api_handlers.get(kind)

        async def handler(request: Request, exc: Any) -> Response:
            if is_api(request) and api is not None:
                return await api(request, exc)
            with i18n.using(
                i18n.choose(
                    request.cookies.get(session.LANG), request.headers.get("accept-language")
                )
            ):
                return await web(request, exc)

        app.add_exception_handler(kind, handler)

    either(RefusalError, _refused)
    either(HTTPException, _http_error)
    either(RequestValidationError, _bad_request)
    either(Exception, _unexpected)
    app.add_exception_handler(session.SignInRequiredError, _sign_in)  # type: ignore[arg-type]
    app.add_exception_handler(session.WrongRoleError, _wrong_role)  # type: ignore[arg-type]
    app.add_exception_handler(session.CsrfError, _csrf)  # type: ignore[arg-type]


async def error_page(request: Request, status: int, title: str, text: str) -> Response:
    await session.current(request)  # the frame shows who is signed in, even on a 404
    return render.page(request, "error.html", status, title=title, text=text)


async def _refused(request: Request, exc: RefusalError) -> Response:
    if exc.category is Category.NOT_FOUND:
        return await not_found(request)
    return await error_page(request, 400, _("That could not be done"), refusal_text(exc))


async def not_found(request: Request) -> Response:
    text = _("There is no such page, or it is not yours to see.")
    return await error_page(request, 404, _("Not found"), text)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return await not_found(request)
    if exc.status_code == 405:
        page = await error_page(request, 405, _("Not allowed"), _("This page does not take that."))
        page.headers["Allow"] = allowed_methods(request)
        return page
    if exc.status_code == 413:
        return await error_page(request, 413, _("Too much"), _("What was sent is too large."))
    return await error_page(request, exc.status_code, _("That could not be done"), str(exc.detail))


async def _bad_request(request: Request, _exc: RequestValidationError) -> Response:
    return await error_page(
        request, 400, _("That could not be done"), _("Part of the address is not valid.")
    )


async def _unexpected(request: Request, _exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    text = _("Something went wrong on our side. Nothing was changed; please try again.")
    return await error_page(request, 500, _("Sorry"), text)


async def _failover_page(request: Request, code: str) -> Response:
    """A page met a database failover (``api.failover``): said without touching the
    database again (no session lookup, no badge), in the reader's language, as a 503."""
    if code == "database_failover":  # a form that may have moved money: never sent again
        text = _(
            "The system is switching to its backup database. What you sent may or may not "
            "have been saved: check before sending it again."
        )
    else:
        text = _("The system is switching to its backup database. Please try again shortly.")
    if not hasattr(request.state, "viewer"):
        request.state.viewer = None
    title = _("Please try again shortly")
    return render.page(
        request, "error.html", 503, unread_count=0, pin_needed=False, title=title, text=text
    )


async def _sign_in(_request: Request, exc: session.SignInRequiredError) -> Response:
    return RedirectResponse(session.signin_url(exc.next_path), status_code=303)


async def _wrong_role(request: Request, _exc: session.WrongRoleError) -> Response:
    return await not_found(request)


async def _csrf(request: Request, _exc: session.CsrfError) -> Response:
    text = _(
        "This form did not come from this page, or it has expired. Nothing was done. "
        "Go back, reload the page and try again."
    )
    return await error_page(request, 403, _("Form refused"), text)
