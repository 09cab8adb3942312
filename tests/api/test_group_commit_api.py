"""Group commit over HTTP on real PostgreSQL: many requests at once through one server's
committer (``services.platform.groupcommit``), released together by a barrier.

* 64 requests with one Idempotency-Key move money once and all answer the same payment;
* a wallet drained by 50 payments at once never goes below zero, and every refusal is
  ``insufficient_funds``;
* refunds, cash-outs and order payments sent at once are decided in groups too, each
  refusal alone;
* a group whose backend is terminated before its COMMIT (``pg_terminate_backend``) leaves
  every request committed once or refused, never both, and a retry with the same key
  answers the same.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest

from tindahan.api.app import create_app
from tindahan.services.ledger.verify import verify
from tindahan.services.platform import groupcommit
from tindahan.services.unit import Platform

pytestmark = pytest.mark.postgres

WINDOW_US = 5_000


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def committer(platform: Platform) -> groupcommit.Committer:
    return groupcommit.Committer(platform, WINDOW_US, 64)


@pytest.fixture
def app(platform, committer) -> Any:
    made = create_app(platform)
    made.state.committer = committer
    return made


@pytest.fixture
def server(app, shared_server) -> Iterator[str]:
    with shared_server.serving(app) as base_url:
        yield base_url


def _at_once(base_url: str, count: int, request: Any) -> list[httpx.Response]:
    """``request(client, n)`` on ``count`` threads at once, each with its own client."""
    barrier = threading.Barrier(count)
    clients = [httpx.Client(base_url=base_url, timeout=60) for _ in range(count)]

    def one(n: int) -> httpx.Response:
        barrier.wait()
        return request(clients[n], n)

    try:
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(one, range(count)))
    finally:
        for client in clients:
            client.close()


def _pay(world, key: str, amount_minor: int) -> Any:
    body = {"payee_id": world.merchant.id, "amount_minor": amount_minor, "currency": "PHP"}
    headers = {"Authorization": f"Bearer {world.buyer.key}", "Idempotency-Key": key}
    return lambda client, _n: client.post("/v1/payments", json=body, headers=headers)


def test_64_requests_with_one_key_move_money_once(world, server, committer, platform):
    before = world.balance(world.buyer)
    answers = _at_once(server, 64, _pay(world, str(uuid.uuid4()), 1_234))
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") != "true" for a in answers) == 1
    assert world.balance(world.buyer) == before - 1_234
    assert committer.members > committer.groups  # grouped, not one by one
    assert verify(platform.db).ok


def test_a_wallet_drained_at_once_never_goes_negative(world, server, platform):
    balance = world.balance(world.buyer)
    share = balance // 10  # ten fit, forty are refused
    answers = _at_once(
        server,
        50,
        lambda client, n: _pay(world, f"drain-{n}-{uuid.uuid4()}", share)(client, n),
    )
    paid = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(paid) == 10
    assert {a.json()["error"]["code"] for a in refused} == {"insufficient_funds"}
    assert world.balance(world.buyer) == balance - 10 * share >= 0
    assert verify(platform.db).ok


def test_refunds_cash_outs_and_order_payments_join_the_committer(
    world, server, committer, platform
):
    """Sent at once over HTTP, a refund, a refund above what is left, a cash-out, one above
    the balance and two payments of one order are each decided in a group (none alone,
    none split), and a refused one fails alone."""
    api, merchant, buyer = world.api, world.merchant, world.buyer
    paid = api.ok(_pay(world, str(uuid.uuid4()), 20_000)(api.http, 0))
    store = api.ok(api.post("/v1/storefronts", merchant.key, {"slug": "gc-shop", "name": "GC"}))
    product = api.ok(
        api.post(
            f"/v1/storefronts/{store['id']}/products",
            merchant.key,
            {"title": "Ube halaya 350 g", "price_minor": 15_000, "stock": 5},
        )
    )
    lines = [{"product_id": product["id"], "quantity": 1}]
    order = api.ok(
        api.post("/v1/orders", buyer.key, {"storefront_id": store["id"], "lines": lines})
    )
    sent = [
        ("/v1/refunds", merchant, {"payment_id": paid["id"], "amount_minor": 5_000}),
        ("/v1/refunds", merchant, {"payment_id": paid["id"], "amount_minor": 25_000}),
        ("/v1/cash_outs", buyer, {"agent_id": world.agent.id, "amount_minor": 2_500}),
        ("/v1/cash_outs", buyer, {"agent_id": world.agent.id, "amount_minor": 990_000}),
        (f"/v1/orders/{order['id']}/pay", buyer, {}),
        (f"/v1/orders/{order['id']}/pay", buyer, {}),
    ]
    for _, _, body in sent[2:4]:
        body["currency"] = "PHP"
    members, split = committer.members, committer.split

    def one(client: httpx.Client, n: int) -> httpx.Response:
        path, who, body = sent[n]
        headers = {"Authorization": f"Bearer {who.key}", "Idempotency-Key": str(uuid.uuid4())}
        return client.post(path, json=body, headers=headers)

    answers = _at_once(server, len(sent), one)
    codes = [(a.status_code, a.json().get("error", {}).get("code")) for a in answers]
    assert codes[:4] == [
        (200, None),
        (400, "refund_exceeds_payment"),
        (200, None),
        (402, "insufficient_funds"),
    ]
    assert sorted(codes[4:]) == [(200, None), (409, "order_transition_invalid")]
    assert committer.members - members == len(sent) and committer.split == split
    assert verify(platform.db).ok


class Terminating(groupcommit.Committer):
    """Ends its own backend from another connection once, right before the group's COMMIT."""

    def __init__(self, platform: Platform, admin: str) -> None:
        super().__init__(platform, WINDOW_US, 64)
        self.admin = admin
        self.terminated = 0

    def _together(self, conn, group, later):
        decided = super()._together(conn, group, later)
        if not self.terminated and len(group) > 1:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            with psycopg.connect(self.admin, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            self.terminated = len(group)
        return decided


def test_a_group_whose_backend_dies_decides_each_request_once(
    world, platform, app, server, postgres_url
):
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    committer = Terminating(platform, admin)
    app.state.committer = committer
    balance = world.balance(world.buyer)
    share = balance // 8  # eight fit: of 12 some are refused
    keys = [f"dying-{n}-{uuid.uuid4()}" for n in range(12)]
    first = _at_once(server, 12, lambda c, n: _pay(world, keys[n], share)(c, n))
    again = _at_once(server, 12, lambda c, n: _pay(world, keys[n], share)(c, n))
    assert committer.terminated > 1 and committer.split >= 1
    paid = [a for a in first if a.status_code == 200]
    assert {a.json()["error"]["code"] for a in first if a.status_code != 200} <= {
        "insufficient_funds"
    }
    assert len(paid) == 8
    assert world.balance(world.buyer) == balance - 8 * share
    for one, two in zip(first, again, strict=True):
        assert (two.status_code, two.json()) == (one.status_code, one.json())
        assert two.headers.get("idempotent-replayed") == "true"
    assert verify(platform.db).ok
