"""Where one inbound credit's server CPU goes: the served app in process, no HTTP socket.

``python -m tindahan.bench.inbound`` measures the rate through ``tindahan serve``; this
one explains its "server CPU per credit". It builds the app exactly as a ``serve`` worker
does (``web.server.app_from_environment``: the pages' middleware included) on a fresh
PostgreSQL database, makes ``--wallets`` customers on an unlimited tier through it, and
then calls the ASGI app directly (a bare scope, ``receive`` and ``send``: no client, no
socket, so the process's CPU is the server's minus uvicorn's C HTTP parser) with signed
one-transfer pacs.008 messages, one after another, each answered ``ACSC``. It prints the
process CPU and wall per credit, SQL statements per credit (SQLAlchemy's and the ledger's
own on the driver), and with ``--profile`` the cProfile of the measured credits (all
threads: Python 3.12's cProfile sees the thread pool too), by own time and by cumulative
time. ``--service`` calls the use case (``services.rails.incoming.receive``) instead of
the app, ``--api-only`` the API's app without the pages around it (the difference is what
the faces cost); ``--sqlite`` runs it on a fresh SQLite file.

    PYTHONPATH=src .venv/bin/python -m tests.inbound_profile --credits 300
    PYTHONPATH=src .venv/bin/python -m tests.inbound_profile --credits 300 --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import event

from tindahan.bench import inbound as inbound_bench
from tindahan.bench.api import DATA_KEY, drop_postgres, fresh_postgres, tindahan
from tindahan.observe.metrics import use_folder
from tindahan.webhooks.signature import sign


class Statements:
    """SQL statements sent: SQLAlchemy's (an engine event) and the driver's (psycopg)."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, *_args: Any) -> None:
        self.count += 1


@contextmanager
def counting(engine: Any) -> Iterator[Statements]:
    seen = Statements()
    event.listen(engine, "before_cursor_execute", seen.add)
    original = psycopg.Cursor.execute
    raw_original = psycopg.ClientCursor.execute

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.add()
        return original(self, *args, **kwargs)

    def raw_counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.add()
        return raw_original(self, *args, **kwargs)

    # SQLAlchemy's statements reach psycopg too: count the driver's only when they did not
    # come through SQLAlchemy (the ledger's hot path), by counting both and subtracting.
    sqlalchemy_only = Statements()
    event.listen(engine, "before_cursor_execute", sqlalchemy_only.add)
    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    psycopg.ClientCursor.execute = raw_counted  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
        psycopg.ClientCursor.execute = raw_original  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", seen.add)
        event.remove(engine, "before_cursor_execute", sqlalchemy_only.add)
        seen.count -= sqlalchemy_only.count  # each SQLAlchemy statement was counted twice


async def asgi_post(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One request straight into the ASGI app: its status and body."""
    raw_headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    raw_headers.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def credit_all(app: Any, ready: list[bytes], service: bool = False) -> None:
    if service:  # the use case alone, as the route's thread would run it
        from tindahan.services.rails import incoming

        for data in ready:
            answer = incoming.receive(app.state.platform, data)
            if answer is None or b"<TxSts>ACSC</TxSts>" not in answer:
                raise RuntimeError(f"{answer!r:.300}")
        return
    for data in ready:
        headers = {
            "Tindahan-Signature": sign(inbound_bench.SECRET, int(time.time()), data),
            "Content-Type": "application/xml",
        }
        status, answer = await asgi_post(app, "/v1/rails/messages", data, headers)
        if status != 200 or b"<TxSts>ACSC</TxSts>" not in answer:
            raise RuntimeError(f"{status}: {answer[:300]!r}")


async def make_wallets(app: Any, operator: str, count: int) -> list[str]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        headers = {"Authorization": f"Bearer {operator}"}
        made = await client.post(
            "/v1/kyc_tiers/bench", json={}, headers={**headers, "Idempotency-Key": "tier"}
        )
        made.raise_for_status()
        wallets = []
        for n in range(count):
            body = {"kind": "customer", "name": f"Bench Customer {n}", "tier": "bench"}
            party = await client.post(
                "/v1/parties", json=body, headers={**headers, "Idempotency-Key": f"p{n}"}
            )
            party.raise_for_status()
            found = await client.get(f"/v1/wallets?party_id={party.json()['id']}", headers=headers)
            wallets.append(found.json()["data"][0]["id"])
        return wallets


def measure(args: argparse.Namespace, url: str) -> None:
    from tindahan.api import server as api_server
    from tindahan.web import server as web_server

    operator = tindahan("keys", "create", "--db", url, "--operator").splitlines()[-1]
    use_folder(Path(tempfile.mkdtemp(prefix="tindahan-metrics-")))  # as ``serve`` does
    os.environ.update(
        TINDAHAN_DATABASE_URL=url,
        TINDAHAN_DATA_KEY=DATA_KEY,
        TINDAHAN_RAILS_SECRET=inbound_bench.SECRET,
    )
    app = (api_server if args.api_only else web_server).app_from_environment()
    engine = app.state.platform.db.engine
    wallets = asyncio.run(make_wallets(app, operator, args.wallets))
    for round_no in range(args.rounds):
        ready = inbound_bench.messages(wallets, args.warmup + args.credits, seed=19 + round_no)
        asyncio.run(credit_all(app, ready[: args.warmup]))
        timer = time.process_time if args.cpu else time.perf_counter
        profiler = cProfile.Profile(timer) if args.profile else None
        with counting(engine) as statements:
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            asyncio.run(credit_all(app, ready[args.warmup :], args.service))
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        per = 1000 / args.credits
        print(
            f"round {round_no + 1}: {args.credits} credits  CPU {cpu * per:.2f} ms/credit  "
            f"wall {wall * per:.2f} ms/credit  SQL statements {statements.count / args.credits:.1f}"
            f"/credit  load average {os.getloadavg()[0]:.1f}"
        )
        if profiler is not None:
            report(profiler, args.top)
            if args.dump:
                profiler.dump_stats(args.dump)


def report(profiler: cProfile.Profile, top: int) -> None:
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credits", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--wallets", type=int, default=50)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--dump", help="also write the profile's stats to this file")
    parser.add_argument(
        "--cpu", action="store_true", help="profile by the process's CPU time, not the wall's"
    )
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument(
        "--api-only", action="store_true", help="the API's app without the pages around it"
    )
    parser.add_argument(
        "--service", action="store_true", help="call the use case, not the app (no ASGI)"
    )
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="tindahan-inbound-profile-") as scratch:
            url = f"sqlite:///{Path(scratch) / 'bench.db'}"
            tindahan("db", "upgrade", "--db", url)
            measure(args, url)
        return
    url = fresh_postgres("tindahan_inbound_profile")
    try:
        tindahan("db", "upgrade", "--db", url)
        measure(args, url)
    finally:
        drop_postgres(url)


if __name__ == "__main__":
    main()
