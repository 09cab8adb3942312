"""What every route shares: the platform, the caller (with rate limiting), idempotent POSTs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.api.errors import body, refusal_response
from tindahan.api.schemas import ID_PATTERN
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.payments import two_store
from tindahan.services.platform import groupcommit, idempotency, keys
from tindahan.services.unit import Platform, Unit

bearer = HTTPBearer(auto_error=False, description="Your API key: tk_live_… or tk_test_…")


class RateLimitedError(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("rate limited")
        self.retry_after = retry_after


def platform(request: Request) -> Platform:
    return request.app.state.platform  # type: ignore[no-any-return]


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """Async on purpose: a sync dependency costs every request a second trip through the
    thread pool. A remembered key is answered on the event loop; only a key not seen in
    the last few seconds goes to the database, in the pool."""
    secret = credentials.credentials if credentials else None
    who = keys.remembered(secret)
    if who is None:
        who = await run_in_threadpool(keys.authenticate, platform(request), secret)
    request.state.key_id = who.key_id  # for the request's log line (``api.metrics``)
    wait = request.app.state.rate_limiter.take(who.key_id)
    if wait:
        raise RateLimitedError(wait)
    return who


CallerDep = Annotated[Caller, Depends(caller)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=limits.IDEMPOTENCY_KEY_MAX_LENGTH,
        description="Any unique string (a UUID): a retry with the same key and body returns "
        "the first response and moves no more money.",
    ),
]
#: An object id in a path (``pay_…``, ``wal_…``): a prefix and 24 characters, with room.
PathId = Annotated[str, Path(max_length=40, pattern=ID_PATTERN)]
#: An id in a query string (``party_id``, ``merchant_id``), or nothing.
QueryId = Annotated[str | None, Query(max_length=40, pattern=ID_PATTERN)]
PartyFilter = Annotated[
    str | None, Query(max_length=40, pattern=ID_PATTERN, description="Operator keys only.")
]
Limit = Annotated[int, Query(ge=1, le=limits.MAX_PAGE_SIZE, description="Page size.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=80,
        pattern=ID_PATTERN,
        description="The id of the last object of the previous page.",
    ),
]


def read(request: Request, work: Callable[[Unit], Any]) -> Any:
    return platform(request).run(work, write=False)


def idempotent(
    request: Request,
    who: Caller,
    key: str,
    payload: BaseModel | None,
    work: Callable[[Unit], Mapping[str, Any]],
    *,
    shown_once: tuple[str, ...] = (),
    grouped: bool = False,
    locks: groupcommit.Locks | None = None,
    through: Callable[..., idempotency.Response] | None = None,
    reserve: two_store.Reserve[Any] | None = None,
    record: str = "payment",
) -> JSONResponse:
    """Run a POST's use case once per ``Idempotency-Key`` (``services.platform.idempotency``).

    ``grouped``: a money movement the process's committer may commit together with others
    (``services.platform.groupcommit``) when group commit is on; the same answers either way.
    ``locks``: what it will lock, for its group to lock first and in order.

    ``shown_once`` names response fields (a new key's or endpoint's secret) that go to the
    first caller only: the stored response has them as null, so no secret rests in the
    idempotency table and a replay does not show it again.

    ``through`` replaces the run (same arguments as ``idempotency.run`` after the platform):
    a payment on a TigerBeetle ledger commits in several steps (``payments.two_store``).

    ``reserve``: the use case's part of transaction A on a TigerBeetle ledger (the payment
    row and the legs to book): there the key runs through ``two_store.run`` with it, so a
    route that pays gains the cluster path by naming its reserve, not by a copy; on the SQL
    ledger it is ignored and ``work`` runs as always; ``record``: whose record the reserved
    view is (``two_store.RECORDS``; an order's escrow movement's for the orders' routes).
    """
    made = platform(request)
    if through is None and reserve is not None and two_store.applies(made):
        through = _on_cluster(made, reserve, record)
    sent = payload.model_dump(mode="json", exclude_unset=True) if payload is not None else None
    fingerprint = idempotency.request_hash(request.method, request.url.path, sent)
    committer: groupcommit.Committer | None = getattr(request.app.state, "committer", None)
    if grouped and committer is not None:
        run: Callable[..., idempotency.Response] = partial(committer.submit, locks=locks)
    else:
        run = _alone(made)
    if through is not None:  # a use case that runs the key itself (``payments.two_store``)
        run = through
    try:
        response = run(
            who.scope,
            key,
            fingerprint,
            work,
            lambda result: idempotency.Response(200, dict(result), hidden=shown_once),
            refusal_response,
        )
    except RefusalError as refusal:  # the key itself was refused (reused with another body)
        response = refusal_response(refusal)
    headers = {"Idempotent-Replayed": "true"} if response.replayed else None
    return JSONResponse(response.body, status_code=response.status_code, headers=headers)


def _on_cluster(
    made: Platform, reserve: two_store.Reserve[Any], record: str = "payment"
) -> Callable[..., idempotency.Response]:
    """``idempotency.run``'s place taken by the two-store order with the use case's A."""

    def run(
        scope: str,
        key: str,
        fingerprint: str,
        _work: Any,
        render: Callable[[Any], idempotency.Response],
        refuse: Callable[[RefusalError], idempotency.Response],
    ) -> idempotency.Response:
        return two_store.run(made, scope, key, fingerprint, reserve, render, refuse, record)

    return run


def _alone(made: Platform) -> Callable[..., idempotency.Response]:
    def run(*args: Any) -> idempotency.Response:
        return idempotency.run(made, *args)

    return run


def timestamp_ns(value: datetime | None, param: str) -> int | None:
    """An ISO 8601 time as integer ns since the epoch (a time without zone means UTC),
    within what the database's 64-bit timestamps hold (1970 to 2262)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - datetime(1970, 1, 1, tzinfo=UTC)
    ns = (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if not 0 <= ns <= limits.MAX_AMOUNT_MINOR:  # the same signed 64-bit bound
        message = f"{param} must fall between 1970-01-01 and 2262-04-11"
        raise RefusalError(Category.INVALID, "parameter_invalid", message, param)
    return ns


def rate_limited_body() -> dict[str, Any]:
    return body("rate_limit_error", "rate_limited", "too many requests for this API key; slow down")
