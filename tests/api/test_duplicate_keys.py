"""Issue 17, item 5: a JSON body that gives a key twice is refused and changes nothing.

Parsers disagree on which copy wins, so a body checked by one reader as ₱1.00 could be
booked by another as ₱1,000.00: the API refuses such a body before any route reads it."""

from __future__ import annotations

import uuid

import pytest

from tindahan.api.hardening import duplicate_key


def test_a_repeated_amount_is_refused_and_moves_no_money(world) -> None:
    before = world.balance(world.buyer)
    body = (
        f'{{"payee_id": "{world.merchant.id}", "amount_minor": 100, '
        f'"amount_minor": 100000, "currency": "PHP"}}'
    )
    headers = {
        "Authorization": f"Bearer {world.buyer.key}",
        "Idempotency-Key": str(uuid.uuid4()),
        "Content-Type": "application/json",
    }
    answer = world.api.http.post("/v1/payments", content=body, headers=headers)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": "invalid_request_error",
        "code": "json_duplicate_key",
        "message": "the key 'amount_minor' appears twice in one JSON object; send it once",
        "param": "amount_minor",
    }
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert world.balance(world.buyer) == before
    # The same body without the repeat goes through.
    fixed = body.replace('"amount_minor": 100000, ', "")
    headers["Idempotency-Key"] = str(uuid.uuid4())
    assert world.api.http.post("/v1/payments", content=fixed, headers=headers).status_code == 200
    assert world.balance(world.buyer) == before - 100


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"a": 1, "a": 1}', "a"),
        (b'{"outer": {"x": 1, "y": 2, "x": 3}}', "x"),
        (b'[{"k": 1}, {"k": 2, "k": 2}]', "k"),
        (b'{"a": 1, "b": {"a": 2}}', None),  # the same name in two objects is fine
        (b"not json", None),  # left to FastAPI's own "not valid JSON"
    ],
)
def test_duplicate_key_finds_repeats_at_any_depth(raw: bytes, key: str | None) -> None:
    assert duplicate_key(raw) == key
