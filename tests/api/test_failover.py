"""``api.failover.Failover``: a request that met a database failover is run again only
where that is safe, else answered 503 with Retry-After; no cluster needed (the routes raise
the errors a failover raises)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request
from psycopg import errors as pg
from sqlalchemy.exc import OperationalError

from tests import aio
from tindahan import limits
from tindahan.api.app import create_app
from tindahan.api.deps import IdempotencyKey
from tindahan.api.failover import Failover
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.vault import Vault


class Flaky:
    """Fails the first ``failures`` calls as a demoted primary would, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0
        self.bodies: list[Any] = []

    def __call__(self, body: Any = None) -> dict[str, int]:
        self.calls += 1
        self.bodies.append(body)
        if self.calls <= self.failures:
            orig = pg.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction")
            raise OperationalError("INSERT …", None, orig)
        return {"calls": self.calls}


class Client:
    """Requests straight into the ASGI app (Starlette's TestClient warns under our httpx)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.request(method, path, **kwargs)

        return aio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now_ns = 0

    def __call__(self) -> int:
        return self.now_ns

    async def sleep(self, ms: int) -> None:
        self.now_ns += ms * 1_000_000


def _client(flaky: Flaky, discarded: list[int]) -> Client:
    app = FastAPI()

    @app.get("/read")
    def read() -> dict[str, int]:
        return flaky()

    @app.post("/pay")
    async def pay(request: Request, key: IdempotencyKey) -> dict[str, int]:
        return flaky(await request.json())

    @app.post("/sign")
    async def sign(request: Request) -> dict[str, int]:
        return flaky(await request.json())

    clock = Clock()
    app.add_middleware(
        Failover, discard=lambda: discarded.append(1), sleep_ms=clock.sleep, clock_ns=clock
    )
    return Client(app)


def test_a_read_is_run_again_on_fresh_connections() -> None:
    flaky, discarded = Flaky(failures=2), list[int]()
    answer = _client(flaky, discarded).get("/read")
    assert (answer.status_code, answer.json()) == (200, {"calls": 3})
    assert len(discarded) == 2  # the pool thrown away after each failure


def test_a_keyed_payment_is_run_again_with_its_body() -> None:
    flaky, discarded = Flaky(failures=1), list[int]()
    answer = _client(flaky, discarded).post(
        "/pay", json={"amount_minor": 100}, headers={"Idempotency-Key": "k-1"}
    )
    assert answer.status_code == 200
    assert flaky.bodies == [{"amount_minor": 100}, {"amount_minor": 100}]


def test_a_money_movement_without_a_key_is_not_run_again() -> None:
    flaky, discarded = Flaky(failures=1), list[int]()
    client = _client(flaky, discarded)
    for path, headers in (("/sign", {"Idempotency-Key": "k"}), ("/pay", {})):
        flaky.calls = 0
        answer = client.post(path, json={"amount_minor": 100}, headers=headers)
        if path == "/pay":  # no key: FastAPI refuses it before the route runs
            assert answer.status_code == 422 and flaky.calls == 0
            continue
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == str(limits.FAILOVER_RETRY_AFTER_S)
        assert answer.json()["error"]["code"] == "database_failover"
        assert flaky.calls == 1  # the route that ignores keys ran once, not again


def test_a_failover_longer_than_the_window_says_retry_under_the_key() -> None:
    flaky, discarded = Flaky(failures=10**6), list[int]()
    answer = _client(flaky, discarded).post(
        "/pay", json={"amount_minor": 100}, headers={"Idempotency-Key": "k-2"}
    )
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "database_unavailable"
    assert 2 < flaky.calls < 100  # bounded by the window, not by luck


def test_other_errors_pass_through_untouched() -> None:
    app = FastAPI()

    @app.get("/boom")
    def boom() -> None:
        raise ValueError("a bug, not a failover")

    discarded: list[int] = []
    app.add_middleware(Failover, discard=lambda: discarded.append(1))
    answer = Client(app).get("/boom")
    assert answer.status_code == 500 and discarded == []


def test_the_app_runs_every_route_under_it(vault: Vault) -> None:
    with connect("sqlite:///:memory:") as db:  # building the app touches no table
        app = create_app(Platform(db, vault))
    assert any(getattr(m.cls, "__name__", None) == "Failover" for m in app.user_middleware)
