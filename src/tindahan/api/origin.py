"""Where each request came from, handed to the risk gate (velocity per device and per IP).

``ClientOrigin`` wraps the whole app (API and web pages): the client's IP address is the
ASGI scope's client, which uvicorn has already rewritten from ``X-Forwarded-For`` when the
connection is from a proxy ``serve --forwarded-allow-ips`` trusts (so a caller cannot pick
its own address); the device is the API's ``Tindahan-Device-Id`` header when sent, else the
web session's device cookie (``tdh_device``, the one ``signin_devices`` knows). A header
that is not 8 to 128 characters of letters, digits and ``-_.:`` is refused with 400
``invalid_device_id`` before anything runs: a bad id must not silently count as none. The
raw values live only for the request (``risk_gate.client_origin``); the gate keeps keyed
hashes.
"""

from __future__ import annotations

import re
from http.cookies import CookieError, SimpleCookie

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from tindahan.api import errors
from tindahan.services.ledger.risk_gate import client_origin

DEVICE_HEADER = b"tindahan-device-id"
DEVICE_COOKIE = "tdh_device"  # tindahan.web.session.DEVICE (the API imports no web module)
_DEVICE_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")


class ClientOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        asked = headers.get(DEVICE_HEADER)
        device: str | None = None
        if asked is not None:
            device = asked.decode("latin-1").strip()
            if not _DEVICE_ID.fullmatch(device):
                content = errors.body(
                    "invalid_request_error",
                    "invalid_device_id",
                    "Tindahan-Device-Id must be 8 to 128 letters, digits or -_.:",
                    "Tindahan-Device-Id",
                )
                await JSONResponse(content, status_code=400)(scope, receive, send)
                return
        else:
            device = _cookie(headers.get(b"cookie"))
        client = scope.get("client")
        ip = client[0] if client else None
        with client_origin(device, ip):
            await self.app(scope, receive, send)


def _cookie(raw: bytes | None) -> str | None:
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except CookieError:  # a malformed Cookie header: no device, as a browser without one
        return None
    morsel = jar.get(DEVICE_COOKIE)
    return morsel.value if morsel is not None and morsel.value else None
