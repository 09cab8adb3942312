"""Pages from Jinja2 templates, with the request's language, viewer and CSRF token.

Every page is rendered with the same context: ``viewer`` (or None), ``csrf_token``, ``lang``,
``path``, ``unread_count`` (the header's notification badge: ``web.notifications``),
``pin_needed`` (whether a paying form shows the PIN box: ``web.pin``), and
``new_key()`` for the idempotency key a form that moves money carries in a hidden field.
Responses carry a strict Content-Security-Policy (scripts, styles and images from this site
only; inline SVG is markup, not script) and are never cached when someone is signed in.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from tindahan.services.platform import notifications, pins, shortrefs
from tindahan.services.platform.logins import Viewer
from tindahan.web import i18n, session

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
#: Bump when app.css or app.js change, so phones do not keep a stale copy.
ASSET_VERSION = "5"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tindahan.web", "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        money=i18n.money,
        number=i18n.number,
        percent=i18n.percent,
        when=i18n.when,
        day=i18n.day,
        clock=i18n.clock,
        ref=shortrefs.shown,
    )
    env.globals.update(
        new_key=lambda: str(uuid.uuid4()),
        asset_version=ASSET_VERSION,
        languages=i18n.NAMES,
    )
    return env


ENV = _environment()


def _unread(request: Request, viewer: Viewer | None) -> int:
    if viewer is None or viewer.operator:
        return 0
    caller = viewer.caller
    return int(
        session.platform(request).run(
            lambda unit: notifications.unread_count(unit, caller), write=False
        )
    )


def page(
    request: Request,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    context.setdefault("values", {})
    context.setdefault("errors", {})
    if "unread_count" not in context:  # the header's badge (``web.notifications``)
        context["unread_count"] = _unread(request, viewer)
    if "pin_needed" not in context:
        context["pin_needed"] = (
            viewer is not None
            and not viewer.operator
            and pins.needed(session.platform(request), viewer)
        )
    html = ENV.get_template(template).render(
        request=request,
        viewer=viewer,
        csrf_token=session.csrf_token(request),
        lang=i18n.language(),
        path=request.url.path,
        query=request.url.query,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    secure(response, signed_in=viewer is not None)
    session.remember_anon(request, response)
    return response


def secure(response: Any, *, signed_in: bool) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    # The same address is another page in another language or for another person.
    response.headers["Vary"] = "Accept-Language, Cookie"
    if signed_in:
        response.headers["Cache-Control"] = "no-store"
