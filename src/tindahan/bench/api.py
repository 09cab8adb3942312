"""Load the HTTP API: merchant payments with idempotency keys against `tindahan serve`.

The issue's target: `tindahan serve` with 2 workers on PostgreSQL makes at least 800 merchant
payments a second with p99 latency at most 100 ms, on this 2-core machine.

Each run gets a fresh PostgreSQL database: `tindahan db upgrade`, an operator key from
`tindahan keys create --operator`, then `tindahan serve --workers 2 --no-worker` as a
subprocess. Through the API it makes an unlimited "bench" KYC tier, M merchants and B buyers
(each with its own API key; buyers funded), then drives POST /v1/payments from an asyncio
httpx client (HTTP/1.1 keep-alive, at most C requests in flight), each one from a random
buyer to a random merchant with a fresh Idempotency-Key. After a warm-up, requests that
complete within the measured window count: payments/s is the 200s among them over the
window; p50/p99 are nearest-rank over their latencies; anything but a 200 is an error.
Buyers are many so that no key meets the per-key rate limit (limits.RATE_LIMIT_PER_SECOND).

The load generator shares the machine with the server and PostgreSQL, so it reports its own
CPU seconds (getrusage) over the window, the server's and PostgreSQL's (/proc), and what the
rest of the machine took; CPU per payment is the figure least moved by a busy machine.
httpx itself costs about 2 ms of CPU a request here, so `--client raw` (a minimal HTTP/1.1
keep-alive client on asyncio streams) is there to leave the cores to the server.
`--runs N` repeats on fresh databases and reports the median of each figure.

    .venv/bin/python -m tindahan.bench.api                       # 3 runs of 15 s
    .venv/bin/python -m tindahan.bench.api --duration 30 --runs 5 --json
    .venv/bin/python -m tindahan.bench.api --client raw          # a lighter load generator
    .venv/bin/python -m tindahan.bench.api --mdr-bps 0           # no fee: no hot fees account
    .venv/bin/python -m tindahan.bench.api --hot 0.5             # half the payments to one merchant
    .venv/bin/python -m tindahan.bench.api --sqlite              # the embedded SQLite default
    .venv/bin/python -m tindahan.bench.api --group-commit on     # only with group commit on

`--group-commit both` (the default) runs each run twice, group commit off then on
(`TINDAHAN_GROUP_COMMIT` for the server; README, "Group commit on the payment path"), and
reports both: the comparison is made under the same machine load.

It also samples pg_stat_activity: backends waiting for a row lock show when payments queue
on one hot account (every merchant payment's fee credits the operator's single fees account).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg

try:
    import sniffio  # noqa: F401
except ImportError:
    # httpcore imports sniffio afresh for every lock it makes; since anyio 4.11 stopped
    # bringing it along, each is a failed import and a sys.path scan (~0.2 ms, several per
    # request: encode/httpcore#1103). Its answer here is always "asyncio".
    _sniffio = types.ModuleType("sniffio")
    _sniffio.current_async_library = lambda: "asyncio"  # type: ignore[attr-defined]
    sys.modules["sniffio"] = _sniffio

PG = os.environ.get(
    "TINDAHAN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
TINDAHAN = str(Path(sys.executable).with_name("tindahan"))
#: A fixed data key, so that every server worker (and the CLI) opens the same vault.
DATA_KEY = base64.urlsafe_b64encode(b"tindahan-bench-api-load-data-key").decode()
FUNDING_MINOR = 10**12  # ₱10 billion a buyer: the load never runs one dry
MIN_AMOUNT_MINOR = 100  # ₱1.00
MAX_AMOUNT_MINOR = 100_000  # ₱1,000.00
TARGET_PER_S = 800
TARGET_P99_MS = 100
SETUP_CONCURRENCY = 8
CONNECT_STAGGER_MS = 20  # between the load tasks' first requests (in the first half of warm-up)
STARTUP_TIMEOUT_S = 180  # a shared, loaded machine starts two workers slowly
STOP_TIMEOUT_S = 30
NS_PER_S = 1_000_000_000
NS_PER_MS = 1_000_000
ERROR_SAMPLES = 3  # error bodies kept per status
GROUP_COMMIT_ENV = "TINDAHAN_GROUP_COMMIT"  # services.platform.groupcommit.ENV

T = TypeVar("T")


# --- databases and the server ------------------------------------------------------------------
def _libpq(url: str) -> str:
    """psycopg wants postgresql://, SQLAlchemy (the server) postgresql+psycopg://."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgresql") else url


def fresh_postgres(prefix: str = "tindahan_api_bench") -> str:
    """A new, empty database on the bench's server, named ``prefix`` and a random suffix."""
    name = f"{prefix}_{secrets.token_hex(3)}"
    with psycopg.connect(_libpq(PG), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str) -> None:
    with psycopg.connect(_libpq(PG), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


#: ``--tigerbeetle``'s second mode: group commit off, the ledger on a fresh one-replica
#: TigerBeetle cluster (issue 22), the world funded on PostgreSQL first and migrated there.
TIGERBEETLE_MODE = "tigerbeetle"
LEDGER_ENV = "TINDAHAN_LEDGER_URL"


def server_env(group_commit: str | None = None) -> dict[str, str]:
    env = {**os.environ, "TINDAHAN_DATA_KEY": DATA_KEY}
    if group_commit is not None:
        env[GROUP_COMMIT_ENV] = group_commit
    return env


def tindahan(*args: str) -> str:
    done = subprocess.run(
        [TINDAHAN, *args], capture_output=True, text=True, env=server_env(), check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"tindahan {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    @classmethod
    def start(
        cls,
        url: str,
        workers: int,
        scratch: Path,
        group_commit: str | None = None,
        *,
        worker: bool = False,
        ledger: str | None = None,
        port: int | None = None,
    ) -> Server:
        """``worker``: run serve's background worker too (it seals transfers);
        ``group_commit``: TINDAHAN_GROUP_COMMIT for the server (None: serve's default);
        ``port``: a given one (a restarted server keeps its address), else a free one."""
        port = port or free_port()
        log = scratch / "server.log"
        with log.open("w") as sink:
            process = subprocess.Popen(
                [
                    TINDAHAN,
                    "serve",
                    "--db",
                    url,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    *(() if worker else ("--no-worker",)),
                ],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env={**server_env(group_commit), **({LEDGER_ENV: ledger} if ledger else {})},
                start_new_session=True,  # its own group: a stuck worker can be killed with it
            )
        server = cls(process, f"http://127.0.0.1:{port}", log)
        try:
            server.wait_healthy()
        except BaseException:  # a server that never became healthy is not left running
            server.stop()
            raise
        return server

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited at start:\n{self.tail()}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer /health in {STARTUP_TIMEOUT_S} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# --- set-up through the API ------------------------------------------------------------------
class SetupError(RuntimeError):
    pass


async def post(
    client: httpx.AsyncClient, path: str, key: str, body: dict[str, Any]
) -> dict[str, Any]:
    return await call(client, "POST", path, key, body)


async def call(
    client: httpx.AsyncClient, method: str, path: str, key: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One set-up request; waits out 429s (the operator key is rate limited too)."""
    headers = {"Authorization": f"Bearer {key}"}
    if method == "POST":
        headers["Idempotency-Key"] = secrets.token_hex(16)  # the same one on each retry
    while True:
        response = await client.request(method, path, json=body, headers=headers)
        if response.status_code == 429:
            await asyncio.sleep(int(response.headers.get("Retry-After", "1")))
            continue
        if response.status_code != 200:
            raise SetupError(f"{method} {path} → {response.status_code}: {response.text}")
        found: dict[str, Any] = response.json()
        return found


async def make_party(
    client: httpx.AsyncClient, operator: str, body: dict[str, Any], funded: bool
) -> dict[str, str]:
    party = await post(client, "/v1/parties", operator, body)
    key = await post(client, "/v1/api_keys", operator, {"party_id": party["id"]})
    found = await call(client, "GET", f"/v1/wallets?party_id={party['id']}", operator)
    wallet = found["data"][0]["id"]
    if funded:
        funding = {"wallet_id": wallet, "amount_minor": FUNDING_MINOR, "currency": "PHP"}
        await post(client, "/v1/fundings", operator, funding)
    return {"id": party["id"], "secret": key["secret"], "wallet": wallet}


async def setup(
    base: str, operator: str, merchants: int, buyers: int, mdr_bps: int | None
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await post(client, "/v1/kyc_tiers/bench", operator, {})  # no limit at all
        if mdr_bps is not None:
            await post(client, "/v1/fee_settings", operator, {"merchant_discount_bps": mdr_bps})
        gate = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def one(body: dict[str, Any], funded: bool) -> dict[str, str]:
            async with gate:
                return await make_party(client, operator, body, funded)

        store = {"kind": "merchant", "mcc": "5411", "city": "Quezon City"}
        store |= {"province": "Metro Manila", "tier": "bench"}
        made = await asyncio.gather(
            *[one({**store, "name": f"Bench Store {n}"}, False) for n in range(merchants)],
            *[
                one({"kind": "customer", "name": f"Bench Buyer {n}", "tier": "bench"}, True)
                for n in range(buyers)
            ],
        )
    return made[:merchants], made[merchants:]


# --- the load ----------------------------------------------------------------------------------
@dataclass
class Window:
    """What completed between ``start_ns`` and ``end_ns`` (perf_counter_ns)."""

    start_ns: int = 0
    end_ns: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    samples: dict[str, list[str]] = field(default_factory=dict)

    def record(self, done_ns: int, latency_ns: int, status: str, body: str | None) -> None:
        if not self.start_ns <= done_ns <= self.end_ns:
            return
        self.statuses[status] += 1
        if status == "200":
            self.latencies_ns.append(latency_ns)
        else:
            kept = self.samples.setdefault(status, [])
            if len(kept) < ERROR_SAMPLES:
                kept.append((body or "")[:500])


async def drive(
    server: Server,
    db_url: str,
    merchants: list[dict[str, str]],
    buyers: list[dict[str, str]],
    args: argparse.Namespace,
) -> tuple[Window, dict[str, Any]]:
    """Closed loop: ``concurrency`` tasks, each sending its next payment when one returns."""
    keys = [f"Bearer {b['secret']}" for b in buyers]
    payees = [m["id"] for m in merchants]
    now = time.perf_counter_ns()
    window = Window(now + args.warmup * NS_PER_S, now + (args.warmup + args.duration) * NS_PER_S)
    snapshots: list[Snapshot] = []
    watcher = CpuWatcher(server.process.pid, db_url)
    stagger_s = min(CONNECT_STAGGER_MS / 1000, args.warmup / (2 * args.concurrency))

    async def task(n: int, post: Post) -> None:
        # Connections opened all at once all land on one worker (each accepts what is
        # queued when it wakes); opened a little apart, as real clients' are, they spread.
        await asyncio.sleep(n * stagger_s)
        rng = random.Random(f"{n}-{secrets.token_hex(4)}")
        sent = 0
        while time.perf_counter_ns() < window.end_ns:
            hot = rng.random() < args.hot  # half to one merchant: a market-day rush
            body = json.dumps(
                {
                    "payee_id": payees[0 if hot else rng.randrange(len(payees))],
                    "amount_minor": rng.randint(MIN_AMOUNT_MINOR, MAX_AMOUNT_MINOR),
                    "currency": "PHP",
                }
            ).encode()
            headers = {
                "Authorization": keys[rng.randrange(len(keys))],
                "Idempotency-Key": f"bench-{n}-{sent}-{secrets.token_hex(6)}",
                "Content-Type": "application/json",
            }
            sent += 1
            started = time.perf_counter_ns()
            try:
                code, text = await post("/v1/payments", body, headers)
                status = str(code)
            except (httpx.HTTPError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                status, text = f"exception:{type(exc).__name__}", str(exc)
            done = time.perf_counter_ns()
            window.record(done, done - started, status, text)

    async def clock() -> None:
        await asyncio.sleep(max(0, window.start_ns - time.perf_counter_ns()) / NS_PER_S)
        snapshots.append(await asyncio.to_thread(watcher.snapshot))
        while time.perf_counter_ns() + WAIT_SAMPLE_NS < window.end_ns:
            await asyncio.sleep(WAIT_SAMPLE_NS / NS_PER_S)
            await asyncio.to_thread(watcher.sample_waits)
        await asyncio.sleep(max(0, window.end_ns - time.perf_counter_ns()) / NS_PER_S)
        snapshots.append(await asyncio.to_thread(watcher.snapshot))

    try:
        if args.client == "httpx":
            async with HttpxPost(server.base, args.concurrency) as post:
                await asyncio.gather(clock(), *[task(n, post) for n in range(args.concurrency)])
        else:
            posts = [RawPost(server.base) for _ in range(args.concurrency)]
            try:
                await asyncio.gather(clock(), *[task(n, p) for n, p in enumerate(posts)])
            finally:
                for p in posts:
                    p.close()
    finally:
        watcher.close()
    return window, {
        **cpu_spent(snapshots[0], snapshots[1], window.end_ns - window.start_ns),
        **watcher.waits(),
    }


#: ``await post(path, body, headers)`` → (status code, body text or None when 200).
Post = Callable[[str, bytes, dict[str, str]], Awaitable[tuple[int, str | None]]]


class HttpxPost:
    """The default client: one httpx.AsyncClient, HTTP/1.1 keep-alive, a connection per task."""

    def __init__(self, base: str, concurrency: int) -> None:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        self.client = httpx.AsyncClient(base_url=base, limits=limits, timeout=30)

    async def __aenter__(self) -> HttpxPost:
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.client.__aexit__(*exc)

    async def __call__(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str | None]:
        response = await self.client.post(path, content=body, headers=headers)
        return response.status_code, None if response.status_code == 200 else response.text


class RawPost:
    """``--client raw``: HTTP/1.1 keep-alive written by hand on one asyncio stream, for when
    httpx's own CPU (about 2 ms a request on this machine) would crowd the server out. It
    reads what uvicorn sends: a status line, headers with Content-Length, the body."""

    def __init__(self, base: str) -> None:
        self.host, port = base.removeprefix("http://").split(":")
        self.port = int(port)
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __call__(
        self, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str | None]:
        code, answer = await self.send(path, body, headers)
        return code, None if code == 200 else answer.decode(errors="replace")

    async def send(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """The status code and the body's bytes, whatever the status."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        lines = [f"POST {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        lines += [f"Content-Length: {len(body)}", "", ""]
        try:
            self.writer.write("\r\n".join(lines).encode() + body)
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30)
            fields = head.decode("latin-1").split("\r\n")
            code = int(fields[0].split(" ", 2)[1])
            found = dict(f.split(":", 1) for f in fields[1:] if ":" in f)
            length = {k.strip().lower(): v.strip() for k, v in found.items()}
            answer = await self.reader.readexactly(int(length["content-length"]))
            if length.get("connection", "").lower() == "close":
                self.close()
        except BaseException:
            self.close()
            raise
        return code, answer

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


# --- where the CPU went --------------------------------------------------------------------------
CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Snapshot:
    loadgen_ns: int
    machine: tuple[int, int] | None  # busy, total jiffies (all cores)
    server: dict[int, int]  # pid → jiffies, for the server's session (supervisor and workers)
    postgres: dict[int, int]  # pid → jiffies, for the backends serving the bench database
    database: dict[str, int]  # pg_stat_database counters of the bench database


#: pg_stat_database counters reported over the window (rollbacks include retried
#: transactions; deadlocks should stay 0).
DB_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "deadlocks",
    "tup_inserted",
    "tup_updated",
    "sessions",
)
DB_COUNTERS_SQL = (
    "SELECT xact_commit, xact_rollback, deadlocks, tup_inserted, tup_updated, sessions"
    " FROM pg_stat_database WHERE datname = %s"
)

WAITS_SQL = (
    "SELECT count(*) FILTER (WHERE state = 'active'),"
    " count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock')"
    " FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
)
WAIT_SAMPLE_NS = 200_000_000  # pg_stat_activity is sampled five times a second


class CpuWatcher:
    """Reads /proc (Linux; elsewhere only the load generator's own CPU is known)."""

    def __init__(self, session: int, db_url: str) -> None:
        self.session = session
        self.db = db_url.rsplit("/", 1)[1]
        self.conn = psycopg.connect(_libpq(PG), autocommit=True)
        self.samples = self.active = self.locked = 0

    def snapshot(self) -> Snapshot:
        found = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.db,),
        ).fetchall()
        backends = {pid: _ticks(pid) for (pid,) in found}
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        counters = self.conn.execute(DB_COUNTERS_SQL, (self.db,)).fetchone()
        server = {}
        for entry in Path("/proc").iterdir() if Path("/proc/stat").exists() else ():
            if entry.name.isdigit():
                fields = _stat(int(entry.name))
                if fields and int(fields[3]) == self.session:
                    server[int(entry.name)] = int(fields[11]) + int(fields[12])
        return Snapshot(
            cpu_ns(),
            machine_ticks(),
            server,
            {pid: t for pid, t in backends.items() if t is not None},
            dict(zip(DB_COUNTERS, counters or (), strict=False)),
        )

    def sample_waits(self) -> None:
        """How many of the database's backends are running a statement, and how many of
        those wait for a lock (a row another transaction holds)."""
        active, locked = self.conn.execute(WAITS_SQL, (self.db,)).fetchone() or (0, 0)
        self.samples += 1
        self.active += active
        self.locked += locked

    def waits(self) -> dict[str, Any]:
        n = max(1, self.samples)
        return {
            "postgres_active_avg": round(self.active / n, 1),
            "postgres_lock_waits_avg": round(self.locked / n, 1),
        }

    def close(self) -> None:
        self.conn.close()


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat after the command name: [state, ppid, pgrp, session, …]."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _ticks(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields else None


def _grown(before: dict[int, int], after: dict[int, int]) -> dict[int, int]:
    return {pid: t - before.get(pid, 0) for pid, t in after.items()}


def cpu_ns() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return int((usage.ru_utime + usage.ru_stime) * NS_PER_S)


def machine_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields[:8]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return sum(ticks) - idle, sum(ticks)


def seconds(ticks: int) -> float:
    return round(ticks / CLK_TCK, 2)


def cpu_spent(start: Snapshot, end: Snapshot, window_ns: int) -> dict[str, Any]:
    """CPU seconds over the measured window: ours, the server's, PostgreSQL's, the rest."""
    loadgen_s = round((end.loadgen_ns - start.loadgen_ns) / NS_PER_S, 2)
    server = _grown(start.server, end.server)
    postgres = sum(_grown(start.postgres, end.postgres).values())
    spent: dict[str, Any] = {
        "db": {k: end.database.get(k, 0) - start.database.get(k, 0) for k in end.database},
        "loadgen_cpu_s": loadgen_s,
        "loadgen_cores": round((end.loadgen_ns - start.loadgen_ns) / window_ns, 2),
        "server_cpu_s": seconds(sum(server.values())),
        "server_cpu_s_by_process": sorted((seconds(t) for t in server.values()), reverse=True),
        "postgres_cpu_s": seconds(postgres),
        "machine_cpu_s": None,
        "machine_busy_pct": None,
        "other_cpu_s": None,
    }
    if start.machine and end.machine and end.machine[1] > start.machine[1]:
        busy = end.machine[0] - start.machine[0]
        spent["machine_cpu_s"] = seconds(busy)
        spent["machine_busy_pct"] = round(100 * busy / (end.machine[1] - start.machine[1]))
        ours = loadgen_s + spent["server_cpu_s"] + spent["postgres_cpu_s"]
        spent["other_cpu_s"] = round(max(0, spent["machine_cpu_s"] - ours), 2)
    return spent


def machine_busy_now(sample_s: int = 1) -> int | None:
    """Per cent of all cores busy over the next second: is anyone else using the machine?"""
    before = machine_ticks()
    time.sleep(sample_s)
    after = machine_ticks()
    if before is None or after is None or after[1] == before[1]:
        return None
    return round(100 * (after[0] - before[0]) / (after[1] - before[1]))


# --- one run, many runs ------------------------------------------------------------------------
def percentile(sorted_values: list[int], pct: int) -> int:
    """Nearest rank, no interpolation (as the ledger bench)."""
    if not sorted_values:
        return 0
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def ms(ns: int) -> float:
    """Milliseconds to two places, for printing (latencies are not money)."""
    return round(ns / NS_PER_MS, 2)


def once(args: argparse.Namespace, group_commit: str | None = None) -> dict[str, Any]:
    busy_before = machine_busy_now()
    scratch_dir = tempfile.TemporaryDirectory(prefix="tindahan-api-bench-")
    scratch = scratch_dir.name
    url = f"sqlite:///{scratch}/bench.db" if args.sqlite else fresh_postgres()
    try:
        with scratch_dir:
            tindahan("db", "upgrade", "--db", url)
            operator = tindahan("keys", "create", "--db", url, "--operator").splitlines()[-1]
            on_cluster = group_commit == TIGERBEETLE_MODE
            mode = "off" if on_cluster else group_commit
            server = Server.start(url, args.workers, Path(scratch), mode)
            cluster_dir = f"{scratch}/tigerbeetle"
            try:
                merchants, buyers = asyncio.run(
                    setup(server.base, operator, args.merchants, args.buyers, args.mdr_bps)
                )
                if on_cluster:  # the funded world moved to a fresh cluster, served from it
                    server.stop()
                    up = ("ledger", "cluster", "up", "--replicas", "1", "--dir", cluster_dir)
                    ledger = tindahan(*up, "--cache-grid", "64MiB").splitlines()[-1]
                    tindahan("ledger", "migrate-to-tigerbeetle", "--db", url, "--ledger", ledger)
                    server = Server.start(url, args.workers, Path(scratch), mode, ledger=ledger)
                window, cpu = run_loop(drive(server, url, merchants, buyers, args))
            except BaseException:
                server.stop()
                print(f"server log (tail):\n{server.tail()}", file=sys.stderr)
                raise
            finally:
                if on_cluster and Path(cluster_dir).exists():  # before the folder goes
                    subprocess.run(
                        [TINDAHAN, "ledger", "cluster", "down", "--dir", cluster_dir, "--purge"],
                        capture_output=True,
                        check=False,
                    )
            server.stop()
            failed = sum(n for s, n in window.statuses.items() if s != "200")
            tail = server.tail()
            worrying = any(word in tail for word in ("Traceback", "ERROR", "WARNING", "Error"))
            if not (failed or worrying or server.process.returncode != 0):
                tail = ""  # the start-up banner only
    finally:
        if not args.sqlite:
            drop_postgres(url)
    latencies = sorted(window.latencies_ns)
    window_ns = window.end_ns - window.start_ns
    served = max(1, len(latencies))
    cpu["server_cpu_ms_per_payment"] = round(1000 * cpu["server_cpu_s"] / served, 2)
    cpu["postgres_cpu_ms_per_payment"] = round(1000 * cpu["postgres_cpu_s"] / served, 2)
    return {
        "group_commit": group_commit,
        "payments": len(latencies),
        "payments_per_s": len(latencies) * NS_PER_S // window_ns,
        "p50_ms": ms(percentile(latencies, 50)),
        "p99_ms": ms(percentile(latencies, 99)),
        "max_ms": ms(latencies[-1] if latencies else 0),
        "errors": failed,
        "statuses": dict(window.statuses),
        "error_samples": window.samples,
        **cpu,
        "machine_busy_pct_before": busy_before,
        "server_log_tail": tail,
    }


def run_loop(coroutine: Coroutine[Any, Any, T]) -> T:
    """uvloop when it is there (uvicorn[standard] brings it): less of the 2 cores for us."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def command(args: argparse.Namespace) -> str:
    options = [
        f"--workers {args.workers}",
        f"--concurrency {args.concurrency}",
        f"--merchants {args.merchants}",
        f"--buyers {args.buyers}",
        f"--warmup {args.warmup}",
        f"--duration {args.duration}",
        f"--runs {args.runs}",
        f"--client {args.client}",
    ]
    if args.mdr_bps is not None:
        options.append(f"--mdr-bps {args.mdr_bps}")
    if args.hot:
        options.append(f"--hot {args.hot}")
    if args.sqlite:
        options.append("--sqlite")
    options.append(f"--group-commit {args.group_commit}")
    return shlex.join([".venv/bin/python", "-m", "tindahan.bench.api"]) + " " + " ".join(options)


def summarize(
    args: argparse.Namespace, runs: list[dict[str, Any]], group_commit: str | None = None
) -> dict[str, Any]:
    def median(name: str) -> Any:
        known = [r[name] for r in runs if r[name] is not None]
        return statistics.median(known) if known else None

    statuses: Counter[str] = Counter()
    for r in runs:
        statuses.update(r["statuses"])
    rates = [r["payments_per_s"] for r in runs]
    summary = {
        "workers": args.workers,
        "concurrency": args.concurrency,
        "merchants": args.merchants,
        "buyers": args.buyers,
        "warmup_s": args.warmup,
        "duration_s": args.duration,
        "runs": args.runs,
        "client": args.client,
        "mdr_bps": args.mdr_bps,
        "hot": args.hot,
        "database": "SQLite" if args.sqlite else "PostgreSQL",
        "group_commit": group_commit,
        "payments_per_s": int(median("payments_per_s")),
        "payments_per_s_range": [min(rates), max(rates)],
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "errors": int(median("errors")),
        "errors_total": sum(r["errors"] for r in runs),
        "statuses_total": dict(statuses),
        **{name: median(name) for name in CPU_FIGURES},
        "command": command(args),
        "each_run": runs,
    }
    summary["target_met"] = (
        summary["payments_per_s"] >= TARGET_PER_S
        and summary["p99_ms"] <= TARGET_P99_MS
        and summary["errors_total"] == 0
    )
    return summary


#: Medians reported over runs; each is CPU seconds within the measured window except the
#: shares (cores, per cent).
CPU_FIGURES = (
    "loadgen_cpu_s",
    "loadgen_cores",
    "server_cpu_s",
    "postgres_cpu_s",
    "server_cpu_ms_per_payment",
    "postgres_cpu_ms_per_payment",
    "postgres_active_avg",
    "postgres_lock_waits_avg",
    "other_cpu_s",
    "machine_cpu_s",
    "machine_busy_pct",
    "machine_busy_pct_before",
)


def table(s: dict[str, Any]) -> str:
    low, high = s["payments_per_s_range"]
    label = (
        f"`tindahan serve --workers {s['workers']}`, {s['database']}, "
        f"group commit {s['group_commit'] or 'as serve sets it'}, {s['concurrency']} in flight "
        f"({s['client']}), {s['buyers']} buyers → {s['merchants']} merchants"
    )
    if s["mdr_bps"] is not None:
        label += f", MDR {s['mdr_bps']} bps"
    if s["hot"]:
        label += f", {s['hot']:.0%} to one merchant"
    return "\n".join(
        [
            f"| configuration | payments/s (median of {s['runs']}) | range | p50 ms | p99 ms "
            "| errors | load generator CPU | command |",
            "|---|---|---|---|---|---|---|---|",
            f"| {label} | {s['payments_per_s']:,} | {low:,}–{high:,} | {s['p50_ms']} | "
            f"{s['p99_ms']} | {s['errors_total']} | {s['loadgen_cpu_s']} s "
            f"({s['loadgen_cores']} of a core) | `{s['command']}` |",
        ]
    )


def report(s: dict[str, Any]) -> None:
    print(table(s))
    print()
    verdict = "met" if s["target_met"] else "NOT met"
    print(
        f"target ≥ {TARGET_PER_S} payments/s with p99 ≤ {TARGET_P99_MS} ms and no errors: {verdict}"
    )
    print(
        f"CPU seconds in the {s['duration_s']} s window (median; 2 cores give "
        f"{2 * s['duration_s']}): load generator {s['loadgen_cpu_s']}, server "
        f"{s['server_cpu_s']}, PostgreSQL backends {s['postgres_cpu_s']}, everything else "
        f"{s['other_cpu_s']}; machine {s['machine_busy_pct']}% busy "
        f"({s['machine_busy_pct_before']}% in the second before each run started)"
    )
    print(
        f"CPU per payment (median): server {s['server_cpu_ms_per_payment']} ms, PostgreSQL "
        f"{s['postgres_cpu_ms_per_payment']} ms — with two cores to themselves, the two "
        "together bound the rate at about "
        f"{bound(s['server_cpu_ms_per_payment'], s['postgres_cpu_ms_per_payment']):,}/s"
    )
    print(
        f"PostgreSQL backends running a statement: {s['postgres_active_avg']} on average, "
        f"{s['postgres_lock_waits_avg']} of them waiting for a row lock"
    )
    for n, r in enumerate(s["each_run"], 1):
        print(
            f"  run {n}: {r['payments_per_s']:,}/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, "
            f"max {r['max_ms']} ms, statuses {r['statuses']}; CPU s: load generator "
            f"{r['loadgen_cpu_s']}, server {r['server_cpu_s']} "
            f"(by process {r['server_cpu_s_by_process']}), PostgreSQL {r['postgres_cpu_s']}, "
            f"other {r['other_cpu_s']}; machine {r['machine_busy_pct']}% busy "
            f"({r['machine_busy_pct_before']}% before); backends active "
            f"{r['postgres_active_avg']}, waiting on locks {r['postgres_lock_waits_avg']}; "
            f"database {r['db']}"
        )
        for status, bodies in r["error_samples"].items():
            for body in bodies:
                print(f"    {status}: {body}")
        if r["server_log_tail"]:
            print("    server log (tail):")
            print("      " + r["server_log_tail"].replace("\n", "\n      "))


def bound(server_ms: float | None, postgres_ms: float | None) -> int:
    """Payments/s that 2 cores allow at this CPU cost, load generator left out."""
    cost = (server_ms or 0) + (postgres_ms or 0)
    return int(2000 / cost) if cost else 0


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="tindahan serve --workers")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--merchants", type=int, default=20)
    parser.add_argument(
        "--buyers",
        type=int,
        default=100,
        help="each with its own API key; enough that none reaches the per-key rate limit",
    )
    parser.add_argument("--warmup", type=int, default=3, help="seconds not measured")
    parser.add_argument("--duration", type=int, default=15, help="seconds measured")
    parser.add_argument("--runs", type=int, default=3, help="each on a fresh database")
    parser.add_argument(
        "--mdr-bps",
        type=int,
        default=None,
        help="set the merchant discount rate first (default: the platform's); with 0 no "
        "payment books a fee, so none locks the operator's one fees account",
    )
    parser.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="httpx.AsyncClient, or a minimal hand-written HTTP/1.1 client (less CPU)",
    )
    parser.add_argument(
        "--hot",
        type=float,
        default=0.0,
        help="share of the payments that go to the first merchant (0.5: half to one)",
    )
    parser.add_argument(
        "--sqlite",
        action="store_true",
        help="the embedded default: a SQLite file in a scratch folder instead of PostgreSQL",
    )
    parser.add_argument(
        "--group-commit",
        choices=("off", "on", "both"),
        default="both",
        help="TINDAHAN_GROUP_COMMIT for the server; both: each run once off, once on",
    )
    parser.add_argument(
        "--tigerbeetle",
        action="store_true",
        help="compare the ledger on a fresh one-replica TigerBeetle cluster with the SQL "
        "ledger alone, group commit off, in the same runs (issue 22)",
    )
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    for name in ("workers", "concurrency", "merchants", "buyers", "duration", "runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    if not 0 <= args.hot <= 1:
        parser.error("--hot is a share from 0 to 1")
    return args


def main() -> None:
    args = parse()
    modes = ["off", "on"] if args.group_commit == "both" else [args.group_commit]
    if args.tigerbeetle:
        modes = ["off", TIGERBEETLE_MODE]
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    for n in range(args.runs):
        for mode in modes:  # off and on interleaved: the same machine load for both
            runs[mode].append(once(args, mode))
            if not args.json:
                r = runs[mode][-1]
                print(
                    f"run {n + 1}/{args.runs}, group commit {mode}: "
                    f"{r['payments_per_s']:,} payments/s, "
                    f"p99 {r['p99_ms']} ms, {r['errors']} errors",
                    file=sys.stderr,
                    flush=True,
                )
    summaries = [summarize(args, runs[mode], mode) for mode in modes]
    if args.json:
        print(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))
    else:
        for summary in summaries:
            report(summary)
            print()


if __name__ == "__main__":
    main()
