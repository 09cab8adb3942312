"""Surviving a database failover inside one request (README "Operating it").

``Failover`` sits just outside the routes. When a request fails because the database
failed over (``store.failover.is_failover``), it throws the pool's connections away and,
where ``store.failover.decide`` says it is safe (a read, or a route that runs under an
Idempotency-Key called with one), runs the whole request again with its body replayed,
backing off, for up to ``limits.FAILOVER_RETRY_WINDOW_MS``. Otherwise it answers 503 with
``Retry-After`` and the error object: ``database_failover`` for a request that may move
money and carries no key (it is never run again here: whether it took effect before the
connection broke is for the caller to find out), ``database_unavailable`` when the window
ran out (retry under the same key: it moves money at most once).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tindahan import limits
from tindahan.api import errors
from tindahan.store.failover import Action, decide, is_failover

log = logging.getLogger("tindahan.api.failover")

IDEMPOTENCY_HEADER = b"idempotency-key"

MESSAGES = {
    "database_failover": "the database is switching to its standby; this request was not "
    "run again because it may move money and carries no Idempotency-Key: check whether it "
    "took effect before sending it again",
    "database_unavailable": "the database is switching to its standby; send the same request "
    "again with the same Idempotency-Key after Retry-After seconds",
}


def takes_idempotency_key(route: Any) -> bool:
    """Whether the matched route reads an ``Idempotency-Key`` header (every such route runs
    its use case through ``deps.once``: key and effect commit together)."""
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    stack = [dependant]
    while stack:
        current = stack.pop()
        for param in current.header_params:
            if (param.alias or param.name).lower() == "idempotency-key":
                return True
        stack.extend(current.dependencies)
    return False


class Failover:
    def __init__(
        self,
        app: ASGIApp,
        discard: Callable[[], None],
        sleep_ms: Callable[[int], Awaitable[None]] | None = None,
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.app = app
        self.discard = discard  # throws the pool's connections away
        self.sleep_ms = sleep_ms or _sleep_ms
        self.clock_ns = clock_ns

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        heard: list[Message] = []  # the body as the app read it, replayed on a retry
        started = False
        began = self.clock_ns()
        keyed_header = IDEMPOTENCY_HEADER in dict(scope.get("headers") or [])

        tried: dict[str, Any] = dict(scope)

        async def send_once(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                # the matched route, for what names the request as its answer starts (the
                # trace's span name in ``api.metrics``)
                scope.update(tried)
            await send(message)

        attempt = 0
        while True:
            tried = dict(scope)
            try:
                await self.app(tried, _replaying(heard, receive), send_once)
                scope.update(tried)  # the matched route, for the metrics around this
                return
            except Exception as exc:
                if not is_failover(exc):
                    scope.update(tried)
                    raise
                self.discard()
                decision = decide(
                    method=scope["method"],
                    keyed=keyed_header and takes_idempotency_key(tried.get("route")),
                    answer_started=started,
                    attempt=attempt,
                    elapsed_ms=(self.clock_ns() - began) // 1_000_000,
                )
                log.warning(
                    "database failover met on %s %s (attempt %d): %s",
                    scope["method"],
                    tried.get("route") and getattr(tried["route"], "path", None),
                    attempt + 1,
                    decision.action.value,
                )
                if decision.action is Action.RAISE:
                    raise
                if decision.action is Action.REFUSE:
                    scope.update(tried)
                    await refuse(decision.code or "database_failover", scope, send_once)
                    return
                await self.sleep_ms(decision.wait_ms)
                attempt += 1


async def _sleep_ms(ms: int) -> None:
    await asyncio.sleep(ms / 1000)


def _replaying(heard: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives what an earlier run already read, then reads on (and
    records what it reads, for a later run)."""
    replay = list(heard)

    async def listen() -> Message:
        if replay:
            return replay.pop(0)
        message = await receive()
        heard.append(message)
        return message

    return listen


#: Where a face that is not the API (the web pages) leaves its own way of saying it: an
#: ``async (Request, code) -> Response`` on ``app.state``, used for paths outside ``/v1``.
PAGE_HOOK = "failover_page"
API_PATHS = ("/v1/", "/metrics")


async def refuse(code: str, scope: Scope, send: Send) -> None:
    headers = {"Retry-After": str(limits.FAILOVER_RETRY_AFTER_S)}

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    app = scope.get("app")
    page = getattr(getattr(app, "state", None), PAGE_HOOK, None)
    path = str(scope.get("path", ""))
    if page is not None and path != "/v1" and not path.startswith(API_PATHS):
        response: Response = await page(Request(scope), code)
        response.headers["Retry-After"] = headers["Retry-After"]
        await response(scope, nothing, send)
        return
    content = errors.body("api_error", code, MESSAGES[code])
    await JSONResponse(content, status_code=503, headers=headers)(scope, nothing, send)
