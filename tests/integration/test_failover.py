"""The failover path against the real PostgreSQL server, with no cluster: a multi-host URL
whose first host is dead, the server ending every session (as a primary that goes away
does), and a database that takes no writes for a moment (as while the standby is promoted,
``target_session_attrs=read-write`` finds no host). A keyed request comes through once, run
again on fresh connections; the whole drill with pg_auto_failover is ``make drill-failover``.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select

from tests import aio
from tindahan.api.app import create_app
from tindahan.services.platform import chart, keys
from tindahan.services.unit import Platform
from tindahan.store.database import Database, connect
from tindahan.store.payment_tables import parties
from tindahan.store.vault import Vault

READ_ONLY_FOR_S = 1.5


@pytest.fixture
def vault() -> Vault:
    return Vault(b"k" * 32)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


def _multi_host(db: Database) -> str:
    url = db.url
    user = url.username or "postgres"
    secret = f":{url.password}" if url.password else ""
    hosts = f"127.0.0.1:{_dead_port()},{url.host}:{url.port or 5432}"
    return f"postgresql://{user}{secret}@{hosts}/{url.database}?target_session_attrs=read-write"


def _admin(db: Database) -> psycopg.Connection[Any]:
    url = db.url.set(drivername="postgresql", database="postgres")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _end_sessions(admin: psycopg.Connection[Any], name: str) -> int:
    rows = admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()",
        (name,),
    ).fetchall()
    return len(rows)


def _post(app: Any, path: str, key: str, body: dict[str, Any], idem: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idem}
            return await client.post(path, json=body, headers=headers)

    return aio.run(go())


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_keyed_request_survives_a_failover_once(
    db: Database, vault: Vault, caplog: pytest.LogCaptureFixture
) -> None:
    name = db.url.database
    assert name
    with connect(_multi_host(db)) as multi, _admin(db) as admin:
        platform = Platform(multi, vault)
        chart.ensure_operator_accounts(platform)
        keys.set_environment(platform, "test")
        operator = platform.run(lambda u: keys.create(u, None, party_id=None))[1]
        app = create_app(platform)

        def count() -> int:
            return int(
                multi.transact(
                    lambda c: c.execute(select(func.count()).select_from(parties)).scalar_one()
                )
            )

        before = count()
        body = {"kind": "customer", "name": "Maria Failover"}
        first = _post(app, "/v1/parties", operator, body, "failover-1")
        assert first.status_code == 200, first.text  # the dead first host was passed over

        assert _end_sessions(admin, name) >= 1  # the pool's connections are now dead
        caplog.set_level(logging.WARNING, logger="tindahan.api.failover")
        second = _post(app, "/v1/parties", operator, body, "failover-2")
        assert second.status_code == 200, second.text
        assert any("failover" in r.getMessage() for r in caplog.records)

        # No host takes writes for a while: the request waits it out inside the server.
        admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        try:
            _end_sessions(admin, name)
            timer = threading.Timer(
                READ_ONLY_FOR_S,
                lambda: admin.execute(
                    f'ALTER DATABASE "{name}" RESET default_transaction_read_only'
                ),
            )
            began = time.monotonic()
            timer.start()
            third = _post(app, "/v1/parties", operator, body, "failover-3")
            timer.join()
        finally:
            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
        assert third.status_code == 200, third.text
        assert time.monotonic() - began >= READ_ONLY_FOR_S  # it did wait, and came through

        again = _post(app, "/v1/parties", operator, body, "failover-3")
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json()["id"] == third.json()["id"]
        assert count() == before + 3  # each request once, though run more than once
