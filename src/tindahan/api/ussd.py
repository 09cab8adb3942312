"""``POST /ussd``: the callback a USSD aggregator calls at every step of a session (issue 24).

The contract outside checks rely on: a form-encoded body with ``sessionId``, ``serviceCode``,
``phoneNumber`` (E.164) and ``text`` (every input so far joined by ``*``; empty on the first
step); the answer is ``text/plain``, ``CON …`` to go on or ``END …`` to finish, at most 182
characters. A body that is not that form (a field missing or sent twice) is a 400 whose
text is still an ``END`` screen, so an aggregator relays it to the phone as it is.

Which service codes are served: ``TINDAHAN_USSD_CODES`` (comma-separated, default
``*143#``); another code is answered ``END`` with a refusal. When the operator sets
``TINDAHAN_USSD_SECRET``, a request must carry ``Tindahan-Signature: t=…,v1=…`` (HMAC-SHA256
of ``t.body`` under the secret, the scheme of the webhooks and the clearing switch), else
401; aggregators that cannot sign are put behind the operator's own allow-listed proxy,
which signs. Left out of the OpenAPI document: it is not for API keys.

Two lanes of threads: a step that may hash a PIN (``channel.hashes``: Argon2id, hundreds of
milliseconds of CPU) runs under its own limiter of ``limits.USSD_PIN_LANE_THREADS``
threads per process; every other step under the default one. Without it, a burst of PIN
steps waiting for the hashing threads (``logins``) held every thread of the default pool and
the menu steps of every other session queued behind them (``make bench-ussd``).
"""

from __future__ import annotations

import asyncio
import os
import time
import weakref
from typing import Annotated
from urllib.parse import parse_qs

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, Header, Request, Response

from tindahan import limits
from tindahan.api.deps import platform
from tindahan.services.ussd import channel
from tindahan.ussd import catalog
from tindahan.webhooks.signature import SignatureError, verify

router = APIRouter()
PATH = "/ussd"
SECRET_ENV = "TINDAHAN_USSD_SECRET"  # noqa: S105 (the variable's name, not a secret)
CODES_ENV = "TINDAHAN_USSD_CODES"
DEFAULT_CODES = "*143#"
HEADER = "Tindahan-Signature"
FIELDS = ("sessionId", "serviceCode", "phoneNumber", "text")
PLAIN = "text/plain; charset=utf-8"


def service_codes() -> frozenset[str]:
    raw = os.environ.get(CODES_ENV, DEFAULT_CODES)
    return frozenset(code.strip() for code in raw.split(",") if code.strip())


_PIN_LANES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def _pin_lane() -> CapacityLimiter:
    """The PIN steps' limiter, one per event loop (a limiter belongs to its loop)."""
    loop = asyncio.get_running_loop()
    lane = _PIN_LANES.get(loop)
    if lane is None:
        lane = _PIN_LANES[loop] = CapacityLimiter(limits.USSD_PIN_LANE_THREADS)
    return lane


def _plain(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type=PLAIN)


@router.post(PATH, include_in_schema=False)
async def ussd(
    request: Request,
    signature: Annotated[str | None, Header(alias=HEADER, max_length=512)] = None,
) -> Response:
    data = await request.body()
    secret = os.environ.get(SECRET_ENV, "")
    if secret:
        try:
            verify(secret, signature or "", data, int(time.time()))
        except SignatureError:
            return _plain(catalog.screen("Not allowed.", end=True), 401)
    try:
        form = parse_qs(data.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(data))
    except (UnicodeDecodeError, ValueError):
        form = {}
    if any(len(form.get(name, ())) != 1 for name in FIELDS):
        return _plain(catalog.screen("The request could not be read.", end=True), 400)
    dial = channel.Dial(*(form[name][0] for name in FIELDS))
    lane = _pin_lane() if channel.hashes(dial.text) else None
    screen = await anyio.to_thread.run_sync(
        channel.answer, platform(request), dial, service_codes(), limiter=lane
    )
    return _plain(screen)
