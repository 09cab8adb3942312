"""Who is at the browser, and proof that a form came from our own page.

Cookies (all ``HttpOnly`` and ``SameSite=Lax``, path ``/``, ``Secure`` as below):

* ``tdh_session``: the session secret from ``services.platform.logins.sign_in`` (only its
  SHA-256 is stored).

``Secure`` follows how the request came: over HTTPS (directly, or through a TLS proxy whose
address ``serve --forwarded-allow-ips`` trusts, so its ``X-Forwarded-Proto`` counts), or to a
loopback address (browsers keep ``Secure`` cookies on ``http://127.0.0.1`` and
``http://localhost``, secure contexts, so ``make run`` works). Plain HTTP to any other
address — a phone in the shop signing in to ``http://192.168.1.20:8000`` — gets cookies
without the flag, since a browser would drop a ``Secure`` one and every form would be
refused; ``serve`` warns loudly when it listens there. ``TINDAHAN_WEB_INSECURE_COOKIES=1``
drops the flag everywhere (a plain-HTTP test client such as httpx).
* ``tdh_anon``: a random id for a browser that has not signed in, so that the sign-in form,
  the cart and the language switch carry a CSRF token too (login CSRF).
* ``tdh_lang``: ``en`` or ``fil``; ``tdh_cart``: the cart (``web.cart``).

CSRF: every POST to a page needs ``csrf_token`` = HMAC-SHA256 (under a key derived from the
data key, so every server process agrees) of the session's secret hash, or of the anonymous
id. Another site cannot read it, so it cannot forge a form; after sign-in the token changes.
A POST whose ``Origin`` names another host is refused as well. ``SameSite=Lax`` keeps the
session cookie off cross-site POSTs in the first place; the token is the second lock.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import secrets
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from tindahan import limits
from tindahan.services.platform import logins
from tindahan.services.platform.logins import Viewer
from tindahan.services.unit import Platform

SESSION = "tdh_session"
ANON = "tdh_anon"
LANG = "tdh_lang"
#: Marks a browser its owner has signed in from: strangers' wrong tries on the number do not
#: slow it (``services.platform.throttles``). Only its SHA-256 is stored.
DEVICE = "tdh_device"
CSRF_FIELD = "csrf_token"
INSECURE_ENV = "TINDAHAN_WEB_INSECURE_COOKIES"


class SignInRequiredError(Exception):
    """The page needs a signed-in person (of a kind): the handler redirects to sign-in."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class WrongRoleError(Exception):
    """Signed in, but this part of the site is for someone else (a buyer on /m)."""

    def __init__(self, needed: str) -> None:
        super().__init__(needed)
        self.needed = needed


class CsrfError(Exception):
    """A POST without our token (or from another origin): refused, nothing done."""


def platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


def _csrf_key(request: Request) -> bytes:
    key: bytes | None = getattr(request.app.state, "csrf_key", None)
    if key is None:
        key = hmac.new(platform(request).vault.key, b"tindahan web csrf v1", "sha256").digest()
        request.app.state.csrf_key = key
    return key


def anon_id(request: Request) -> str:
    """The browser's anonymous id: from its cookie, or a new one (set on the response by
    ``remember_anon``)."""
    found = request.cookies.get(ANON, "")
    if 20 <= len(found) <= 64 and found.replace("-", "").replace("_", "").isalnum():
        return found
    made: str | None = getattr(request.state, "new_anon", None)
    if made is None:
        made = secrets.token_urlsafe(24)
        request.state.new_anon = made
    return made


def _basis(request: Request) -> str:
    secret = request.cookies.get(SESSION)
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if secret and viewer is not None:
        return "s:" + hashlib.sha256(secret.encode()).hexdigest()
    return "a:" + anon_id(request)


def csrf_token(request: Request) -> str:
    return hmac.new(_csrf_key(request), _basis(request).encode(), "sha256").hexdigest()


def secure_transport(request: Request) -> bool:
    """HTTPS (as the trusted proxy reported it), or a loopback host: ``Secure`` holds."""
    if request.url.scheme == "https":
        return True
    host = (request.url.hostname or "").strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cookie_options(request: Request) -> dict[str, object]:
    secure = os.environ.get(INSECURE_ENV) != "1" and secure_transport(request)
    return {"httponly": True, "secure": secure, "samesite": "lax", "path": "/"}


def remember_anon(request: Request, response: Response) -> None:
    made = getattr(request.state, "new_anon", None)
    if made:
        options = cookie_options(request)
        response.set_cookie(ANON, made, max_age=30 * 86_400, **options)  # type: ignore[arg-type]


def set_session(request: Request, response: Response, secret: str) -> None:
    response.set_cookie(SESSION, secret, **cookie_options(request))  # type: ignore[arg-type]


def set_device(request: Request, response: Response, secret: str) -> None:
    options = cookie_options(request)
    response.set_cookie(DEVICE, secret, max_age=limits.SIGNIN_DEVICE_SECONDS, **options)  # type: ignore[arg-type]


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(SESSION, **cookie_options(request))  # type: ignore[arg-type]


async def current(request: Request) -> Viewer | None:
    """The signed-in person, looked up once per request (a session row read, rarely a
    touch of its ``last_seen``)."""
    if hasattr(request.state, "viewer"):
        return request.state.viewer  # type: ignore[no-any-return]
    secret = request.cookies.get(SESSION)
    found = None
    if secret and len(secret) <= 128:
        found = await run_in_threadpool(logins.viewer, platform(request), secret)
    request.state.viewer = found
    return found


async def check_csrf(request: Request) -> None:
    """Router dependency: every POST carries our token and comes from our origin."""
    if request.method != "POST":
        return
    await current(request)  # the token's basis depends on who is signed in
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise CsrfError("origin")
    form = await request.form()  # parsed once; the route reads the same parsed form
    sent = form.get(CSRF_FIELD)
    if not isinstance(sent, str) or not hmac.compare_digest(sent, csrf_token(request)):
        raise CsrfError("token")


def _next(request: Request) -> str:
    path = request.url.path
    if request.url.query and request.method == "GET":
        path += "?" + request.url.query
    return path


def _needs(kind: str | None):  # type: ignore[no-untyped-def]
    async def dependency(request: Request) -> Viewer:
        viewer = await current(request)
        if viewer is None or (kind is not None and viewer.kind != kind):
            # A refused upload's parsed form (its spooled files) is closed now: the route
            # that would close it never runs.
            await request.close()
        if viewer is None:
            raise SignInRequiredError(_next(request))
        if kind is not None and viewer.kind != kind:
            raise WrongRoleError(kind)
        return viewer

    return dependency


SignedIn = Annotated[Viewer, Depends(_needs(None))]
Merchant = Annotated[Viewer, Depends(_needs("merchant"))]
Customer = Annotated[Viewer, Depends(_needs("customer"))]
Operator = Annotated[Viewer, Depends(_needs("operator"))]
MaybeViewer = Annotated[Viewer | None, Depends(current)]


def signin_url(next_path: str) -> str:
    return "/signin?next=" + quote(next_path, safe="/")


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site (``/m/orders``), never ``//evil`` or ``https://…``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ord(c) < 32 for c in value) or len(value) > 500:
        return default
    return value


#: Where each kind of person lands after signing in.
HOMES = {"merchant": "/m", "customer": "/b", "operator": "/op", "agent": "/b"}


def home_of(viewer: Viewer | None) -> str:
    return HOMES.get(viewer.kind, "/") if viewer else "/"
