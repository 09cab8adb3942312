"""OpenTelemetry traces, exported over OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

Off by default: no provider, a no-op tracer, nothing exported and next to nothing spent.
When the endpoint is set, each server process (uvicorn's workers build their own app)
gets a ``TracerProvider`` with a batching OTLP/HTTP exporter (the standard
``OTEL_EXPORTER_OTLP_*`` variables configure it; ``OTEL_SERVICE_NAME`` names the service,
``tindahan`` by default), and three kinds of span:

* one per HTTP request (opentelemetry-instrumentation-asgi; ``/health``, ``/ready`` and
  ``/metrics`` left out), named by route template;
* one per unit of work (``Platform.run``: a service's transaction), named by the use case;
* one per database statement (opentelemetry-instrumentation-sqlalchemy), which records the
  SQL text with its placeholders, never the bound values, so no amount, phone or name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

ENDPOINT_ENV = "OTEL_EXPORTER_OTLP_ENDPOINT"
SERVICE_ENV = "OTEL_SERVICE_NAME"
UNTRACED_URLS = "/health,/ready,/metrics"

_provider: Any = None


def enabled() -> bool:
    return bool(os.environ.get(ENDPOINT_ENV, "").strip())


def configure(exporter: Any = None) -> Any:
    """The process's provider: made on first call (with ``exporter``, or OTLP from the
    environment), or None when tracing is off."""
    global _provider
    if _provider is not None:
        return _provider
    if exporter is None and not enabled():
        return None
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = os.environ.get(SERVICE_ENV, "").strip() or "tindahan"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    _provider = provider
    return provider


def reset() -> None:
    """Tracing off again (tests): the provider is flushed and forgotten."""
    global _provider
    if _provider is not None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().uninstrument()  # one instrumentation per process: undo it
        _provider.shutdown()
    _provider = None


def active() -> bool:
    return _provider is not None


def tracer() -> Any:
    """Tindahan's own tracer: the provider's, or a no-op one while tracing is off."""
    from opentelemetry import trace

    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer("tindahan")


def instrument(app: Any, engine_of: Callable[[], Any]) -> None:
    """Trace ``app``'s requests and the statements of ``engine_of()``, when tracing is on.

    The requests' middleware is the ASGI one, added like any other: the FastAPI
    instrumentor expects Starlette's own outermost error middleware, which the API wraps
    in its security headers (``api.hardening``), and skips such an app."""
    provider = configure()
    if provider is None:
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    app.add_middleware(
        OpenTelemetryMiddleware,
        excluded_urls=UNTRACED_URLS,
        default_span_details=_span_details(app),
        tracer_provider=provider,
    )
    # It declares sqlalchemy < 2.1; the event hooks it uses are the same in 2.1 (tested).
    SQLAlchemyInstrumentor().instrument(
        engine=engine_of(), tracer_provider=provider, skip_dep_check=True
    )


def _span_details(_app: Any) -> Any:
    """A request's span starts named by its method only (never its path: ids would make
    every name unique); ``name_request`` renames it once routing has found the template."""

    def details(scope: Any) -> tuple[str, dict[str, str]]:
        return str(scope.get("method", "HTTP")), {}

    return details


def name_request(method: str, route: str) -> None:
    """Name the current request's span by its route template (from ``api.metrics``)."""
    if _provider is None:
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.route", route)
