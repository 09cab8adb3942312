"""``GET /metrics``: Prometheus text for an operator's key, or on a separate private port.

Requests are counted and timed by ``Measure``, an ASGI middleware around the whole app
(API and pages), labelled by route template; the database's figures (``services.platform.
gauges``) are read when scraped. A key that is not the operator's is refused like any
other operator-only resource (401 without a key, 403 ``operator_only`` with another), so
the figures of every merchant together never reach one merchant. ``metrics_app`` is the
same page without a key, for ``tindahan serve --metrics-port`` on a private network.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tindahan.api.deps import CallerDep
from tindahan.observe import logs, traces
from tindahan.observe.metrics import Metrics, metrics, render
from tindahan.services.platform import gauges
from tindahan.services.unit import Platform

router = APIRouter()
NS = 1_000_000_000
access = logging.getLogger("tindahan.access")


class Measure:
    """Every HTTP request counted and timed (by method, route template and status) and
    logged as one ``request`` line: its id (the caller's ``X-Request-Id`` when it looks like
    one, else new; sent back in the answer's header and carried by every line logged while
    it runs), the route, the API key's id (never the key), the status and the duration."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter_ns()
        status = 500  # what the client sees if the app raises before answering
        asked = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        rid = logs.request_id(asked)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Routed by now, and the request's span still open (it ends with the body).
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                traces.name_request(scope["method"], route)
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        with logs.bind_request(request_id=rid):
            try:
                await self.app(scope, receive, sending)
            finally:
                self._record(scope, status, time.perf_counter_ns() - started)

    @staticmethod
    def _record(scope: Scope, status: int, elapsed_ns: int) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        method = scope["method"]
        counted, timed = _children(metrics(), method, route, status)
        counted.inc()
        timed.observe(elapsed_ns / NS)
        access.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed_ns / 1_000_000, 2),
                "key_id": scope.get("state", {}).get("key_id"),
            },
        )


@functools.lru_cache(maxsize=1024)
def _children(found: Metrics, method: str, route: str, status: int) -> tuple[Any, Any]:
    """The request counter's and the latency histogram's children for these labels.

    prometheus-client's ``labels()`` takes a lock and checks every value on each call; its
    children live as long as the metric, so each is looked up once per label set (the
    bound keeps an odd method name from growing this beyond prometheus's own table)."""
    return found.requests.labels(method, route, str(status)), found.latency.labels(method, route)


class FromDatabase:
    """The database's figures as metric families, read when scraped (cached briefly)."""

    def __init__(self, platform: Platform) -> None:
        self.cached = gauges.Cached(platform)

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        figures = self.cached.get()
        paid = GaugeMetricFamily(
            "tindahan_payments", "Payments by kind and status.", labels=["kind", "status"]
        )
        for (kind, status), count in sorted(figures.payments.items()):
            paid.add_metric([kind, status], count)
        lent = GaugeMetricFamily("tindahan_loans", "Loans by status.", labels=["status"])
        for status, count in sorted(figures.loans.items()):
            lent.add_metric([status], count)
        queued = GaugeMetricFamily(
            "tindahan_webhook_deliveries", "Webhook deliveries by status.", labels=["status"]
        )
        for status, count in sorted(figures.deliveries.items()):
            queued.add_metric([status], count)
        yield paid
        yield lent
        yield queued
        yield GaugeMetricFamily(
            "tindahan_ledger_transfers", "Transfers in the ledger.", value=figures.transfers
        )
        yield GaugeMetricFamily(
            "tindahan_ledger_unsealed_transfers",
            "Transfers not yet sealed into a hash-chained block.",
            value=figures.unsealed,
        )
        yield GaugeMetricFamily(
            "tindahan_outbox_lag_seconds",
            "How long the oldest due webhook delivery has waited.",
            value=figures.outbox_lag_ns / NS,
        )
        if figures.worker_silence_ns is not None:
            yield GaugeMetricFamily(
                "tindahan_worker_silence_seconds",
                "Seconds since any background worker finished a round.",
                value=figures.worker_silence_ns / NS,
            )
        if figures.ledger_down_ns is not None:
            yield GaugeMetricFamily(
                "tindahan_ledger_unreachable_seconds",
                "Seconds a background worker has found the TigerBeetle cluster silent "
                "(0 while it answers).",
                value=figures.ledger_down_ns / NS,
            )
        pool = self.cached.platform.db.engine.pool
        checked_out = getattr(pool, "checkedout", None)
        if callable(checked_out):
            yield GaugeMetricFamily(
                "tindahan_db_pool_connections_in_use",
                "Database connections lent out by this process's pool.",
                value=checked_out(),
            )


async def page(platform: Platform) -> Response:
    body, content_type = await run_in_threadpool(render, [_collector(platform)])
    return Response(body, media_type=content_type)


_COLLECTORS: dict[int, FromDatabase] = {}


def _collector(platform: Platform) -> FromDatabase:
    found = _COLLECTORS.get(id(platform))
    if found is None or found.cached.platform is not platform:
        found = _COLLECTORS[id(platform)] = FromDatabase(platform)
    return found


@router.get(
    "/metrics",
    tags=["meta"],
    summary="Prometheus metrics (operator key)",
    description="Prometheus text format 0.0.4: requests by route and status, latency "
    "histograms, payments by kind and status, loans, ledger transfers (and those not yet "
    "sealed), webhook deliveries and the outbox's lag, worker rounds and jobs, database "
    "pool use. Only counts and durations: nothing personal.",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics_page(request: Request, caller: CallerDep) -> Response:
    caller.require_operator()
    return await page(request.app.state.platform)


def metrics_app(platform: Platform) -> FastAPI:
    """``/metrics`` alone, without a key: for ``serve --metrics-port`` on a private network."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/metrics")
    async def open_page() -> Response:
        return await page(platform)

    return app
