"""JSON log lines (issue 23, item 5): one object a line, each request's line with its id,
route, key id, status and duration; and no phone number, ID number, PIN, API key or webhook
secret in any line, whatever the requests carried."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from tindahan.observe import logs


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logs.configure("json", stream)
    try:
        yield stream
    finally:
        logging.getLogger("tindahan").removeHandler(handler)


def _parsed(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_each_request_is_one_json_line_and_nothing_personal_is_logged(world, lines):
    api = world.api
    phone, id_number, pin = "+639171112233", "PSN-1234-5678-9012", "739164"
    made = api.ok(
        api.post(
            "/v1/parties",
            world.operator,
            {"kind": "customer", "name": "Rosa", "phone": phone, "id_number": id_number},
        )
    )
    minted = api.ok(api.post("/v1/api_keys", world.operator, {"party_id": made["id"]}))
    hook = api.ok(
        api.post(
            "/v1/webhook_endpoints",
            world.merchant.key,
            {"url": "https://example.com/hooks", "enabled_events": ["payment.succeeded"]},
        )
    )
    asked = httpx.get(
        api.http.base_url.join("/v1/payments"),
        headers={"Authorization": f"Bearer {minted['secret']}", "X-Request-Id": "trace-42"},
    )
    assert asked.status_code == 200 and asked.headers["x-request-id"] == "trace-42"
    refused = api.get("/v1/payments", minted["secret"] + "x")  # a refused key
    assert refused.status_code == 401 and len(refused.headers["x-request-id"]) == 32
    api.post(  # refused for funds: its error is logged nowhere with the amounts' owner
        "/v1/payments",
        world.buyer.key,
        {"payee_id": made["id"], "amount_minor": 10**9, "currency": "PHP"},
    )
    httpx.post(  # a feature phone's session carrying a phone number and a PIN
        api.http.base_url.join("/ussd"),
        data={"sessionId": "s-1", "serviceCode": "*143#", "phoneNumber": phone, "text": f"1*{pin}"},
    )
    bad_id = httpx.get(api.http.base_url.join("/health"), headers={"X-Request-Id": "x y" * 40})
    assert bad_id.headers["x-request-id"] != "x y" * 40  # not taken: a new one

    parsed = _parsed(lines)
    requests = [line for line in parsed if line.get("event") == "request"]
    mine = [line for line in requests if line.get("request_id") == "trace-42"]
    assert len(mine) == 1
    assert mine[0]["route"] == "/v1/payments" and mine[0]["status"] == 200
    assert mine[0]["method"] == "GET" and mine[0]["key_id"] == minted["id"]
    assert isinstance(mine[0]["duration_ms"], float) and mine[0]["level"] == "info"
    assert "timestamp" in mine[0]
    assert {line["route"] for line in requests} >= {"/v1/parties", "/ussd", "/health"}
    assert any(line["status"] == 401 and line["key_id"] is None for line in requests)

    text = lines.getvalue()
    for secret in (
        world.operator,
        world.buyer.key,
        minted["secret"],
        hook["secret"],
        phone,
        "9171112233",
        id_number,
        pin,
    ):
        assert secret not in text, secret


def test_redaction_masks_secrets_by_field_and_by_shape():
    event = {
        "event": "paid 09171234567 with tk_live_abcdefghijkl, account 001234567890",
        "pin": "123456",
        "phone": "+639171234567",
        "note": "whsec_abcdefghijklmnop and +63 917 123 4567",
        "amount_minor": 12345,
    }
    out = logs.redact(None, "info", dict(event))
    assert out["pin"] == out["phone"] == logs.MASK
    assert "09171234567" not in out["event"] and "tk_live_" not in out["event"]
    assert "001234567890" not in out["event"]
    assert out["note"] == f"{logs.MASK} and {logs.MASK}"
    assert out["amount_minor"] == 12345  # numbers that are not personal stay
    assert logs.request_id("abc-123") == "abc-123"
    assert logs.request_id("bad id with spaces") != "bad id with spaces"
