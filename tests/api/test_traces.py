"""OpenTelemetry traces (issue 23, item 6): with tracing on, a request gives a server span
named by its route, a span per unit of work and one per SQL statement, with no personal
data in any attribute; with it off (the default), nothing is traced."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tindahan.api.app import create_app
from tindahan.observe import traces


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    traces.configure(exporter=memory)
    try:
        yield memory
    finally:
        traces.reset()


def test_requests_units_and_statements_are_traced_without_personal_data(
    platform, shared_server, operator_key, spans
):
    phone, id_number = "+639175550123", "PSN-7777-8888-9999"
    with shared_server.serving(create_app(platform)) as base:
        headers = {"Authorization": f"Bearer {operator_key}"}
        made = httpx.post(
            base + "/v1/parties",
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            json={"kind": "customer", "name": "Rosa", "phone": phone, "id_number": id_number},
        )
        assert made.status_code == 200, made.text
        assert httpx.get(base + "/v1/payments", headers=headers).status_code == 200
        assert httpx.get(base + "/health").status_code == 200  # not traced

    finished = spans.get_finished_spans()
    server = [s for s in finished if s.kind.name == "SERVER"]
    assert {s.name for s in server} == {"POST /v1/parties", "GET /v1/payments"}
    units = [s for s in finished if s.name.startswith("tindahan.")]
    assert units and all("tindahan.write" in s.attributes for s in units)
    statements = [
        str(value)
        for s in finished
        for key, value in (s.attributes or {}).items()
        if key in ("db.statement", "db.query.text")
    ]
    assert any("INSERT INTO parties" in text for text in statements), statements[:5]
    every = " ".join(str(v) for s in finished for v in (s.attributes or {}).values())
    assert phone not in every and "9175550123" not in every and id_number not in every
    assert "Rosa" not in every


def test_tracing_is_off_by_default(monkeypatch):
    monkeypatch.delenv(traces.ENDPOINT_ENV, raising=False)
    assert traces.configure() is None and not traces.active()
    assert type(traces.tracer()).__name__ == "NoOpTracer"
