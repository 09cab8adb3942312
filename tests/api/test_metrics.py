"""`GET /metrics` (issue 23, item 4): Prometheus text an operator's key may read, parsed by
prometheus-client's own parser; labelled by route template; nothing personal in it."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tindahan import limits
from tindahan.services.platform import health


def _families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    return {
        family.name: [(sample.labels, sample.value) for sample in family.samples]
        for family in text_string_to_metric_families(text)
    }


def _scrape(world) -> tuple[str, dict[str, list[tuple[dict[str, str], float]]]]:
    answer = httpx.get(
        world.api.http.base_url.join("/metrics"),
        headers={"Authorization": f"Bearer {world.operator}"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text, _families(answer.text)


def _count(found, family: str, **labels: str) -> float:
    return sum(value for got, value in found[family] if labels.items() <= got.items())


def test_the_operator_reads_metrics_and_others_are_refused(world, platform, monkeypatch):
    monkeypatch.setattr(limits, "METRICS_DB_CACHE_S", 0)  # each scrape reads the database
    api = world.api
    route = "/v1/payments/{payment_id}"
    _, before = _scrape(world)  # counters are per process: compare, never assume zero
    for _ in range(3):
        missing = api.get("/v1/payments/pay_000000000000000000000000", world.operator)
        assert missing.status_code == 404
    body = {"payee_id": world.merchant.id, "amount_minor": 1234, "currency": "PHP"}
    assert api.ok(api.post("/v1/payments", world.buyer.key, body))["status"] == "succeeded"
    health.beat(platform, "host:1", platform.now(), ok=True)

    text, found = _scrape(world)
    requests = "tindahan_http_requests"
    seen = _count(found, requests, method="GET", route=route, status="404")
    assert seen - _count(before, requests, method="GET", route=route, status="404") == 3
    assert all("pay_0000" not in labels["route"] for labels, _ in found[requests])
    assert "tindahan_http_request_duration_seconds" in found
    for family in (
        "tindahan_payments",
        "tindahan_ledger_transfers",
        "tindahan_ledger_unsealed_transfers",
        "tindahan_webhook_deliveries",
        "tindahan_outbox_lag_seconds",
        "tindahan_worker_silence_seconds",
    ):
        assert family in found, family
    assert found["tindahan_ledger_transfers"][0][1] > 0  # the world's fundings
    assert _count(found, "tindahan_payments", kind="merchant", status="succeeded") == 1
    # Nothing personal: no key, no phone number, no party id.
    for secret in (world.operator, world.merchant.key, world.buyer.key):
        assert secret not in text
    assert "+639" not in text and world.buyer.id not in text

    no_key = httpx.get(api.http.base_url.join("/metrics"))
    assert no_key.status_code == 401
    merchant = httpx.get(
        api.http.base_url.join("/metrics"),
        headers={"Authorization": f"Bearer {world.merchant.key}"},
    )
    assert merchant.status_code == 403
    assert merchant.json()["error"]["code"] == "operator_only"
