"""Idempotency keys through the HTTP API (DESIGN.md invariant 5), on SQLite and PostgreSQL.

A retried POST (same ``Idempotency-Key``, same request) answers the first response with
``Idempotent-Replayed: true`` and moves no more money; the same key with another request is
a 409; keys are per party; a refusal is stored like a success (Stripe); and all of this
holds when the retries arrive at the same moment from many threads against the live server.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import func, select

from tindahan import limits
from tindahan.services.ledger.verify import verify
from tindahan.store.payment_tables import payments
from tindahan.store.tables import transfers

THREADS = 8


# --- helpers -----------------------------------------------------------------------------
def counts(platform) -> tuple[int, int]:
    """(ledger transfers, payments) rows in the database."""
    with platform.db.engine.connect() as conn:
        booked = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        made = conn.execute(select(func.count()).select_from(payments)).scalar_one()
    return booked, made


def replayed(response: httpx.Response) -> bool:
    return response.headers.get("Idempotent-Replayed") == "true"


def merchant_payment(world, amount_minor: int = 12_345, **extra: Any) -> dict[str, Any]:
    return {
        "payee_id": world.merchant.id,
        "amount_minor": amount_minor,
        "currency": "PHP",
        **extra,
    }


def post(client: httpx.Client, path: str, api_key: str, body: Any, idem: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": idem}
    return client.post(path, headers=headers, json=body)


def concurrently(
    base_url: str, calls: list[Callable[[httpx.Client], httpx.Response]]
) -> list[httpx.Response]:
    """Run each call from its own thread and connection, all released at once."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            client.get("/health")  # connect first, so the barrier releases requests, not dials
            barrier.wait(timeout=60)
            return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


# --- retries -------------------------------------------------------------------------------
def test_retry_returns_the_first_response_and_moves_money_once(world, platform):
    api, key = world.api, f"order-{uuid.uuid4()}"
    booked_before, made_before = counts(platform)
    first = api.post("/v1/payments", world.buyer.key, merchant_payment(world), idem=key)
    assert first.status_code == 200, first.text
    assert not replayed(first)
    for _ in range(3):
        again = api.post("/v1/payments", world.buyer.key, merchant_payment(world), idem=key)
        assert again.status_code == 200, again.text
        assert replayed(again)
        assert again.json() == first.json()
    assert world.balance(world.buyer) == 1_000_000 - 12_345
    assert world.balance(world.merchant, "settlement") == 12_345 - first.json()["fee_minor"]
    assert counts(platform) == (booked_before + 2, made_before + 1)  # payment + fee, once
    listed = api.ok(api.get("/v1/payments", world.buyer.key, kind="merchant"))["data"]
    assert [p["id"] for p in listed] == [first.json()["id"]]
    assert verify(platform.db).ok


def test_key_order_and_whitespace_do_not_matter(world, platform):
    api, key = world.api, f"order-{uuid.uuid4()}"
    payee = world.other_buyer.id
    compact = f'{{"payee_id":"{payee}","amount_minor":5000,"currency":"PHP"}}'.encode()
    spread = (
        f'{{\n  "currency" : "PHP",\n\t"amount_minor":   5000 ,\r\n  "payee_id": "{payee}"\n}}\n'
    ).encode()
    headers = {"Content-Type": "application/json"}
    first = api.post("/v1/payments", world.buyer.key, content=compact, headers=headers, idem=key)
    assert first.status_code == 200, first.text
    again = api.post("/v1/payments", world.buyer.key, content=spread, headers=headers, idem=key)
    assert again.status_code == 200, again.text
    assert replayed(again)
    assert again.json()["id"] == first.json()["id"]
    assert world.balance(world.buyer) == 1_000_000 - 5_000
    assert world.balance(world.other_buyer) == 1_000_000 + 5_000
    assert verify(platform.db).ok


def test_same_key_with_another_request_is_refused_and_the_first_still_replays(world, platform):
    api, key = world.api, f"order-{uuid.uuid4()}"
    first = api.ok(api.post("/v1/payments", world.buyer.key, merchant_payment(world), idem=key))
    state = counts(platform), world.balance(world.buyer)
    others = [
        merchant_payment(world, 12_346),
        merchant_payment(world, reference="OR-2"),
        {"payee_id": world.other_buyer.id, "amount_minor": 12_345, "currency": "PHP"},
    ]
    for other in others:
        refused = api.post("/v1/payments", world.buyer.key, other, idem=key)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert (error["type"], error["code"], error["param"]) == (
            "idempotency_error",
            "idempotency_key_reused",
            "Idempotency-Key",
        )
    again = api.post("/v1/payments", world.buyer.key, merchant_payment(world), idem=key)
    assert replayed(again) and again.json() == first
    assert (counts(platform), world.balance(world.buyer)) == state


def test_a_refusal_is_stored_and_replayed_even_after_the_cause_is_gone(world, platform):
    """Stripe's rule (services/idempotency.py): a retry gets the first answer, refusals too."""
    api, key = world.api, f"order-{uuid.uuid4()}"
    body = merchant_payment(world, 1_500_000)  # the buyer holds 1,000,000
    first = api.post("/v1/payments", world.buyer.key, body, idem=key)
    assert first.status_code == 402, first.text
    assert error_code(first) == "insufficient_funds"
    world.fund(world.buyer, 1_000_000)
    state = counts(platform)
    again = api.post("/v1/payments", world.buyer.key, body, idem=key)
    assert again.status_code == 402, again.text
    assert replayed(again)
    assert again.json() == first.json()
    assert counts(platform) == state
    assert world.balance(world.buyer) == 2_000_000
    fresh = api.post("/v1/payments", world.buyer.key, body)  # a new key is a new request
    assert fresh.status_code == 200, fresh.text
    assert world.balance(world.buyer) == 500_000


def test_a_request_that_failed_validation_is_not_stored(world):
    """As Stripe: nothing ran, so nothing is stored; the fixed request may reuse the key."""
    api, key = world.api, f"order-{uuid.uuid4()}"
    bad = api.post("/v1/payments", world.buyer.key, merchant_payment(world, 12.5), idem=key)
    assert bad.status_code == 400 and error_code(bad) == "amount_invalid", bad.text
    good = api.post("/v1/payments", world.buyer.key, merchant_payment(world, 1_250), idem=key)
    assert good.status_code == 200, good.text
    assert not replayed(good)
    assert world.balance(world.buyer) == 1_000_000 - 1_250


def test_keys_are_scoped_per_party(world, platform):
    api, key = world.api, "shared-key-1"
    body = merchant_payment(world, 2_000)
    mine = api.post("/v1/payments", world.buyer.key, body, idem=key)
    theirs = api.post("/v1/payments", world.other_buyer.key, body, idem=key)
    for response in (mine, theirs):
        assert response.status_code == 200, response.text
        assert not replayed(response)
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["payer_id"] == world.buyer.id
    assert theirs.json()["payer_id"] == world.other_buyer.id
    # another body under the same key is not a reuse either: it is another party's key
    asked = {"amount_minor": 3_000, "currency": "PHP"}
    other = api.post("/v1/payment_requests", world.merchant.key, asked, idem=key)
    assert other.status_code == 200, other.text
    # the operator has its own namespace too
    funding = {"wallet_id": world.buyer.wallets["main"], "amount_minor": 700, "currency": "PHP"}
    operator = api.post("/v1/fundings", world.operator, funding, idem=key)
    assert operator.status_code == 200, operator.text
    assert world.balance(world.buyer) == 1_000_000 - 2_000 + 700
    assert world.balance(world.other_buyer) == 1_000_000 - 2_000
    # and each party still gets its own first answer back
    again = api.post("/v1/payments", world.other_buyer.key, body, idem=key)
    assert replayed(again) and again.json() == theirs.json()
    assert verify(platform.db).ok


def test_a_key_is_forgotten_after_its_time_to_live(world, clock):
    api, key = world.api, f"order-{uuid.uuid4()}"
    body = merchant_payment(world, 1_000)
    first = api.ok(api.post("/v1/payments", world.buyer.key, body, idem=key))
    clock.advance(limits.IDEMPOTENCY_TTL_SECONDS - 1)
    within = api.post("/v1/payments", world.buyer.key, body, idem=key)
    assert replayed(within) and within.json() == first
    assert world.balance(world.buyer) == 999_000
    clock.advance(2)
    after = api.post("/v1/payments", world.buyer.key, body, idem=key)
    assert after.status_code == 200, after.text
    assert not replayed(after)
    assert after.json()["id"] != first["id"]
    assert world.balance(world.buyer) == 998_000


# --- races against the live server ---------------------------------------------------------
def test_same_key_sent_at_once_from_many_threads_moves_money_once(world, platform, server):
    key = f"order-{uuid.uuid4()}"
    body = merchant_payment(world, 10_000)
    booked_before, made_before = counts(platform)
    responses = concurrently(
        server,
        [lambda c: post(c, "/v1/payments", world.buyer.key, body, key) for _ in range(THREADS)],
    )
    assert [r.status_code for r in responses] == [200] * THREADS, [r.text for r in responses]
    assert len({r.text for r in responses}) == 1  # byte for byte the same answer
    assert len({r.json()["id"] for r in responses}) == 1
    assert sum(not replayed(r) for r in responses) == 1  # one ran, the rest were replays
    assert world.balance(world.buyer) == 1_000_000 - 10_000
    assert world.balance(world.merchant, "settlement") == 10_000 - 100
    assert counts(platform) == (booked_before + 2, made_before + 1)
    assert verify(platform.db).ok


def test_same_key_refused_at_once_from_many_threads_is_one_stored_refusal(world, platform, server):
    key = f"order-{uuid.uuid4()}"
    body = merchant_payment(world, 2_000_000)  # more than the buyer holds
    state = counts(platform)
    responses = concurrently(
        server,
        [lambda c: post(c, "/v1/payments", world.buyer.key, body, key) for _ in range(THREADS)],
    )
    assert [r.status_code for r in responses] == [402] * THREADS, [r.text for r in responses]
    assert {error_code(r) for r in responses} == {"insufficient_funds"}
    assert len({r.text for r in responses}) == 1
    assert counts(platform) == state
    world.fund(world.buyer, 2_000_000)
    again = world.api.post("/v1/payments", world.buyer.key, body, idem=key)
    assert again.status_code == 402 and replayed(again), again.text
    assert world.balance(world.buyer) == 3_000_000


def test_same_key_with_different_bodies_at_once_moves_money_once(world, platform, server):
    key = f"order-{uuid.uuid4()}"
    amounts = [1_000 + i for i in range(THREADS)]
    responses = concurrently(
        server,
        [
            lambda c, a=a: post(c, "/v1/payments", world.buyer.key, merchant_payment(world, a), key)
            for a in amounts
        ],
    )
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1, [r.text for r in responses]
    lost = [r for r in responses if r.status_code != 200]
    assert {(r.status_code, error_code(r)) for r in lost} == {(409, "idempotency_key_reused")}
    assert world.balance(world.buyer) == 1_000_000 - won[0].json()["amount_minor"]
    assert verify(platform.db).ok


def test_many_keys_paying_one_request_at_once_pay_it_exactly_once(world, platform, server):
    api = world.api
    request = api.ok(
        api.post(
            "/v1/payment_requests",
            world.merchant.key,
            {"amount_minor": 25_000, "currency": "PHP", "reference": "ORDER-99"},
        )
    )
    path = f"/v1/payment_requests/{request['id']}/pay"
    payers = [world.buyer, world.other_buyer] * (THREADS // 2)
    booked_before, made_before = counts(platform)
    responses = concurrently(
        server,
        [lambda c, p=p: post(c, path, p.key, {}, f"pay-{uuid.uuid4()}") for p in payers],
    )
    won = [r for r in responses if r.status_code == 200]
    assert len(won) == 1, [r.text for r in responses]
    lost = [r for r in responses if r.status_code != 200]
    assert {(r.status_code, error_code(r)) for r in lost} == {(409, "payment_request_paid")}
    payment = won[0].json()
    assert payment["request_id"] == request["id"] and payment["amount_minor"] == 25_000
    debited = 2_000_000 - world.balance(world.buyer) - world.balance(world.other_buyer)
    assert debited == 25_000
    assert world.balance(world.merchant, "settlement") == 25_000 - payment["fee_minor"]
    assert counts(platform) == (booked_before + 2, made_before + 1)
    paid = api.ok(api.get(f"/v1/payment_requests/{request['id']}", world.merchant.key))
    assert (paid["status"], paid["payment_id"]) == ("paid", payment["id"])
    assert verify(platform.db).ok
