"""USSD steps under 200 concurrent sessions on PostgreSQL (issue 24's target: p99 ≤ 50 ms;
aggregators drop a session whose step waits about 1–2 s).

What it models. A concurrent USSD *session* is a person at a phone: the network shows a
screen, the person reads it and types a reply, and only then does the aggregator send the
next step. So each of the ``--sessions`` phones waits a *think time* before every step
(and before dialling again after a session ends): log-normal with median ``--think``
seconds (default 4 s) and σ 0.5 (so 90 % of the waits fall between 0.44× and 2.3× the
median: 1.8–9 s at the default), seeded. Why those figures: no public measurement of the
gaps between a USSD session's steps was found, so they are an estimate, kept on the short
side (shorter waits are more load): a screen is at most 182 characters (≈ 30 words, a few
seconds to read on a small screen) and a reply is one menu digit or a 7-digit code, an
amount or a 6-digit PIN typed on a keypad; the network's own 180 s session timeout leaves
about 30 s a step for the five-step menus. Waiting again before redialling keeps all the
sessions going at once, which no real crowd does: the load is the issue's "200 concurrent
sessions" held for the whole window. ``--think 0`` drops the waits: a stress run, each
phone firing its next step as soon as the last is answered (closed loop; latency then
measures the queue, not a person's wait).

How. A fresh PostgreSQL database (``tindahan db upgrade``) gets a store and ``--sessions``
customers, each with a phone number, a PIN (Argon2id, as every login's; hashed once here
and shared, to keep the set-up short) and ₱10,000, made through the services in this
process (with the same data key as the server); then ``tindahan serve --no-worker
--workers W`` runs as a subprocess, and ``--clients`` client processes (separate from the
server and from this one) drive the phones, one asyncio task each, walking sessions one
after another as an aggregator relays them: the menu, the balance (two steps), then paying
the store ₱20 by its merchant code (five steps, the last with the PIN). Every step is one
``POST /ussd``; a ``CON``/``END`` answer of the expected kind counts, anything else is an
error. Steps answered within the measured window count, after a warm-up.

Reported, per run: steps and steps/s; p50/p99 (nearest rank) for every step, for the
*menu steps* (no PIN: the main menu, a choice, and the look-ups — the balance screen, the
store's name, the confirmation), and for the *PIN steps* (the last of each payment:
Argon2id verifies the PIN, then the payment books), because the two differ by the hash's
deliberate cost; and CPU per step over the window: the server's processes (``serve`` and
its workers, from ``/proc``), the PostgreSQL backends serving the bench's database, and
the client processes.

    .venv/bin/python -m tindahan.bench.ussd                      # 1 run: 10 s warm-up, 60 s
    .venv/bin/python -m tindahan.bench.ussd --think 0 --duration 20   # stress
    .venv/bin/python -m tindahan.bench.ussd --runs 3 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import platform as host
import random
import secrets
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import psycopg

from tindahan.bench import api as api_bench
from tindahan.bench.api import Server, drop_postgres, fresh_postgres, tindahan
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.payments import cash, wallets
from tindahan.services.platform import chart, logins, parties
from tindahan.services.platform.datakey import open_vault
from tindahan.services.unit import Platform
from tindahan.services.ussd.channel import short_code
from tindahan.store.database import connect

TARGET_P99_MS = 50
NS_PER_MS = 10**6
NS_PER_S = 10**9
PIN = "240816"
OPERATOR = Caller("bench", None, frozenset(DEFAULT_SCOPES))
THINK_SIGMA = 0.5  # of the think time's log-normal (its median is --think)
THINK_MAX_S = 30.0  # a wait is never longer (the session's 180 s must hold its steps)
#: What each walk types, and each step's kind: ``menu`` (a fixed screen), ``lookup`` (a
#: screen that reads the database: the balance, the store's name, the confirmation) and
#: ``pin`` (Argon2id, then the payment). The first input of a session is always "".
MENU, LOOKUP, WITH_PIN = "menu", "lookup", "pin"


def phone_of(n: int) -> str:
    return f"+63917{n:07d}"


class _OneHash:
    """Stands in for the PIN hasher while the phones are made: one Argon2id hash of the
    bench's PIN for all of them (200 hashes would take most of a minute on a busy machine)."""

    def __init__(self, encoded: str) -> None:
        self.encoded = encoded

    def hash(self, secret: str) -> str:
        assert secret == PIN
        return self.encoded


def prepare(url: str, sessions: int) -> str:
    """The store and the phones; returns the store's merchant code."""
    database = connect(url)
    try:
        platform = Platform(database, open_vault(database))
        chart.ensure_operator_accounts(platform)
        store = parties.NewParty(
            "merchant", "Aling Nena's Store", mcc="5411", city="Tanauan", province="Leyte"
        )
        merchant = platform.run(lambda u: parties.create(u, OPERATOR, store))["id"]
        one = _OneHash(logins.hash_secret(PIN))
        with mock.patch.object(logins, "_hasher", one):
            for first in range(0, sessions, 50):

                def made(unit: Any, first: int = first) -> None:
                    for n in range(first, min(sessions, first + 50)):
                        new = parties.NewParty("customer", f"Bench Buyer {n}", phone=phone_of(n))
                        party = parties.create(unit, OPERATOR, new)
                        logins.create(
                            unit, OPERATOR, party_id=party["id"], phone=phone_of(n), secret=PIN
                        )
                        found = wallets.list_wallets(unit, OPERATOR, 10, None, party["id"])
                        main = next(w["id"] for w in found["data"] if w["kind"] == "main")
                        cash.fund(unit, OPERATOR, main, 1_000_000, "PHP", None)

                platform.run(made)
        code = short_code(platform, merchant)
        assert code is not None
        return code
    finally:
        database.dispose()


# --- the phones (in the client processes) -------------------------------------------------------
def think_s(rng: random.Random, median: float) -> float:
    if median <= 0:
        return 0.0
    return min(THINK_MAX_S, median * math.exp(THINK_SIGMA * rng.gauss(0.0, 1.0)))


async def walk_phones(
    base: str,
    code: str,
    phones: list[int],
    start: int,
    end: int,
    think: float,
    seed: int,
    sessions_each: int | None = None,
) -> dict[str, Any]:
    """The phones ``phones`` walking sessions against ``base`` until ``end`` (monotonic ns)
    or ``sessions_each`` sessions each; steps answered from ``start`` count: their
    latencies by kind, and the errors."""
    samples: dict[str, list[int]] = {MENU: [], LOOKUP: [], WITH_PIN: []}
    errors: dict[str, int] = {}
    walks = [
        (["", "1"], [MENU, LOOKUP]),
        (["", "3", code, "20", PIN], [MENU, MENU, LOOKUP, LOOKUP, WITH_PIN]),
    ]
    rng = random.Random(seed)

    async def phone(client: httpx.AsyncClient, n: int) -> None:
        turn = n
        # The phones start spread over one think time, not all in the same instant.
        await asyncio.sleep(rng.uniform(0, 2 * think))
        while time.monotonic_ns() < end and (sessions_each is None or turn - n < sessions_each):
            steps, kinds = walks[turn % 2]
            turn += 1
            session = "bench-" + secrets.token_hex(8)
            for depth in range(1, len(steps) + 1):
                if depth > 1 or think:
                    await asyncio.sleep(think_s(rng, think))
                if time.monotonic_ns() >= end:
                    return
                form = {
                    "sessionId": session,
                    "serviceCode": "*143#",
                    "phoneNumber": phone_of(n),
                    "text": "*".join(steps[1:depth]),
                }
                began = time.monotonic_ns()
                try:
                    response = await client.post("/ussd", data=form)
                except httpx.TransportError as exc:  # counted, and the phone dials again
                    label = f"transport {type(exc).__name__}"
                    errors[label] = errors.get(label, 0) + 1
                    break
                done = time.monotonic_ns()
                last = depth == len(steps)
                good = response.status_code == 200 and response.text.startswith(
                    "END " if last else "CON "
                )
                if last and steps[1] == "3":
                    good = good and response.text.startswith("END Paid")
                if start <= done <= end:
                    if good:
                        samples[kinds[depth - 1]].append(done - began)
                    else:
                        label = f"{response.status_code} {response.text[:80]}"
                        errors[label] = errors.get(label, 0) + 1
                if not good:
                    break

    limits = httpx.Limits(max_connections=len(phones), max_keepalive_connections=len(phones))
    cpu_before = time.process_time()
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*[phone(client, n) for n in phones])
    return {"samples": samples, "errors": errors, "cpu_s": time.process_time() - cpu_before}


def _client_main(
    base: str,
    code: str,
    phones: list[int],
    start: int,
    end: int,
    think: float,
    seed: int,
    out: Any,
) -> None:
    """One client process: its share of the phones, on its own event loop."""
    out.put(asyncio.run(walk_phones(base, code, phones, start, end, think, seed)))


# --- CPU over the window -----------------------------------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """utime + stime of one process (0 when it is gone or unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _session_pids(sid: int) -> list[int]:
    """Every process of a session (``serve`` is started in its own: its workers are in it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid:
            found.append(int(entry.name))
    return found


def _backend_pids(url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench's database (none if not readable)."""
    name = url.rsplit("/", 1)[1]
    try:
        with psycopg.connect(api_bench._libpq(url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            ).fetchall()
    except psycopg.Error:
        return []
    return [int(row[0]) for row in rows]


@contextmanager
def _cpu_meter(server_sid: int, url: str, into: dict[str, float]) -> Iterator[None]:
    """Server and PostgreSQL CPU seconds spent between entering and leaving (a process
    begun in between counts all of its CPU; one gone by the end loses its share — the
    server's pools keep their connections, so that is rare)."""
    servers = _session_pids(server_sid)
    backends = _backend_pids(url)
    before = {pid: _cpu_s(pid) for pid in servers + backends}
    yield
    backends = sorted(set(backends) | set(_backend_pids(url)))  # a new one: all of its CPU
    after_server = sum(_cpu_s(pid) - before.get(pid, 0.0) for pid in _session_pids(server_sid))
    after_pg = sum(_cpu_s(pid) - before.get(pid, 0.0) for pid in backends)
    into["server_cpu_s"] = after_server
    into["postgres_cpu_s"] = after_pg


def rank(values: list[int], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / NS_PER_MS


def drive(server: Server, url: str, code: str, args: argparse.Namespace) -> dict[str, Any]:
    clients = max(1, min(args.clients, args.sessions))
    setup_s = 3.0  # the client processes start (spawn, imports) before the warm-up counts
    start = time.monotonic_ns() + int((setup_s + args.warmup) * NS_PER_S)
    end = start + int(args.duration * NS_PER_S)
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    shares = [list(range(args.sessions))[c::clients] for c in range(clients)]
    procs = [
        context.Process(
            target=_client_main,
            args=(server.base, code, share, start, end, args.think, args.seed + c, out),
        )
        for c, share in enumerate(shares)
    ]
    for proc in procs:
        proc.start()
    cpu: dict[str, float] = {}
    time.sleep(max(0.0, (start - time.monotonic_ns()) / NS_PER_S))
    with _cpu_meter(server.process.pid, url, cpu):
        time.sleep(max(0.0, (end - time.monotonic_ns()) / NS_PER_S))
    parts = [out.get(timeout=args.duration + 120) for _ in procs]
    for proc in procs:
        proc.join(30)
    samples: dict[str, list[int]] = {MENU: [], LOOKUP: [], WITH_PIN: []}
    errors: dict[str, int] = {}
    for part in parts:
        for kind, values in part["samples"].items():
            samples[kind].extend(values)
        for label, count in part["errors"].items():
            errors[label] = errors.get(label, 0) + count
    plain = samples[MENU] + samples[LOOKUP]
    every = plain + samples[WITH_PIN]
    steps = max(1, len(every))
    return {
        "steps": len(every),
        "steps_per_s": len(every) / args.duration,
        "errors": errors,
        "p50_ms": rank(every, 0.50),
        "p99_ms": rank(every, 0.99),
        "menu_steps": len(plain),
        "menu_p50_ms": rank(plain, 0.50),
        "menu_p99_ms": rank(plain, 0.99),
        "lookup_p50_ms": rank(samples[LOOKUP], 0.50),
        "lookup_p99_ms": rank(samples[LOOKUP], 0.99),
        "pin_steps": len(samples[WITH_PIN]),
        "pin_p50_ms": rank(samples[WITH_PIN], 0.50),
        "pin_p99_ms": rank(samples[WITH_PIN], 0.99),
        "server_cpu_ms_per_step": 1000 * cpu.get("server_cpu_s", 0.0) / steps,
        "postgres_cpu_ms_per_step": 1000 * cpu.get("postgres_cpu_s", 0.0) / steps,
        "client_cpu_ms_per_step": 1000 * sum(p["cpu_s"] for p in parts) / steps,
        "load_average": os.getloadavg()[0],
    }


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    api_bench.STARTUP_TIMEOUT_S = args.startup
    url = fresh_postgres()
    server = None
    began = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="tindahan-ussd-bench-") as scratch:
            tindahan("db", "upgrade", "--db", url)
            code = prepare(url, args.sessions)
            server = Server.start(url, args.workers, Path(scratch))
            ready = time.monotonic()
            result = drive(server, url, code, args)
            result["setup_s"] = ready - began
            return result
    finally:
        if server is not None:
            server.stop()
        drop_postgres(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--sessions", type=int, default=200, help="concurrent sessions")
    parser.add_argument(
        "--think",
        type=float,
        default=4.0,
        help="median seconds a person takes between steps (log-normal, σ 0.5); 0: none",
    )
    parser.add_argument("--clients", type=int, default=2, help="client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--startup", type=int, default=300, help="seconds to wait for serve")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["TINDAHAN_DATA_KEY"] = api_bench.DATA_KEY  # the server's (``server_env``)
    runs = [run_once(args) for _ in range(args.runs)]
    keys = ("p99_ms", "menu_p99_ms", "pin_p99_ms", "steps_per_s", "server_cpu_ms_per_step")
    summary = {
        "runs": runs,
        **{f"median_{key}": statistics.median(r[key] for r in runs) for key in keys},
        "target_p99_ms": TARGET_P99_MS,
        "sessions": args.sessions,
        "think_median_s": args.think,
        "clients": args.clients,
        "workers": args.workers,
        "python": host.python_version(),
        "cpus": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for n, r in enumerate(runs, 1):
        print(
            f"run {n}: {r['steps']} steps ({r['steps_per_s']:.1f}/s), all p50 {r['p50_ms']:.1f} "
            f"p99 {r['p99_ms']:.1f} ms; menu steps {r['menu_steps']} p50 "
            f"{r['menu_p50_ms']:.1f} p99 {r['menu_p99_ms']:.1f} ms (look-ups p50 "
            f"{r['lookup_p50_ms']:.1f} p99 {r['lookup_p99_ms']:.1f}); PIN steps "
            f"{r['pin_steps']} p50 {r['pin_p50_ms']:.1f} p99 {r['pin_p99_ms']:.1f} ms; CPU a "
            f"step: server {r['server_cpu_ms_per_step']:.1f} ms, PostgreSQL "
            f"{r['postgres_cpu_ms_per_step']:.1f} ms, client {r['client_cpu_ms_per_step']:.1f} "
            f"ms; errors {sum(r['errors'].values())}; set-up {r['setup_s']:.0f} s; load "
            f"{r['load_average']:.1f}"
        )
        for label, count in sorted(r["errors"].items()):
            print(f"  {count} × {label}")
    print(
        f"median p99 {summary['median_p99_ms']:.1f} ms (menu {summary['median_menu_p99_ms']:.1f}"
        f", PIN {summary['median_pin_p99_ms']:.1f}; target ≤ {TARGET_P99_MS} ms) under "
        f"{args.sessions} concurrent sessions, think median {args.think} s, {args.workers} "
        f"server workers, {args.clients} client processes"
    )


if __name__ == "__main__":
    main()
