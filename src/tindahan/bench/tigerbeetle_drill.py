"""The TigerBeetle fault drills (issue 22, "Tests"): lose replicas, and the server, under load.

What it does, all on loopback under one temporary folder and a fresh PostgreSQL database it
creates and drops, stopping only what it started:

1. ``tindahan db upgrade``, an operator key, ``tindahan serve`` on the SQL ledger to make
   the world through the API (an unlimited KYC tier, merchants, buyers funded), then a
   **3-replica cluster** (``tigerbeetle.cluster.up``), ``tindahan ledger
   migrate-to-tigerbeetle`` and ``tindahan serve --ledger URL`` (one process, with its
   worker, whose round runs the two-store recovery): a deployment switched over, as the
   README's "Two stores, one payment" describes;
2. per phase, a load of merchant payments (``--rate`` a second for ``--seconds``, at most
   ``--concurrency`` in flight), each under its own Idempotency-Key and with that key as its
   reference, from a client that sends a payment again with the same key until it gets an
   answer (a 200, or a refusal that is not 429/5xx); a request waits up to
   ``REQUEST_TIMEOUT_S`` (payments wait while the cluster has no quorum). ``--fault-at``
   seconds into the load, the phase's fault:

   * ``replica``: ``kill -9`` of replica 0 (the primary of the first view), started again
     ``--down`` seconds later: payments must go on meanwhile;
   * ``quorum``: ``kill -9`` of replicas 1 and 2, leaving one of three: no payment started
     after the kill may succeed until replica 1 is back ``--down`` seconds later, and then
     they must resume (replica 2 stays down until the phase's load is answered);
   * ``server``: ``kill -9`` of the ``tindahan serve`` process group, a new one started at
     once. The client abandons the payments the kill cut off (a client that went away), so
     the worker's recovery round must finish or refuse each one left unfinished by itself
     (a retry under the key would finish it too: tests/tigerbeetle/test_payments.py); the
     payments sent while the server is down are sent again until it answers;

3. after each phase, with the cluster whole again: every payment finished (none left
   ``reserving``/``reserved`` in ``two_store_payments``, waited for up to
   ``RECOVERY_WAIT_S``), ``tindahan ledger verify --ledger URL --db URL`` passes, and every
   payment the client saw succeed so far is in the database exactly once (by reference),
   ``succeeded``/``settled``, with its hold, post and fee in the cluster at its amounts.

    .venv/bin/python -m tindahan.bench.tigerbeetle_drill          # make drill-tigerbeetle
    .venv/bin/python -m tindahan.bench.tigerbeetle_drill --phases server --json
    .venv/bin/python -m tindahan.bench.tigerbeetle_drill --keep   # leave the folder for a look

Needs the server binary (``tindahan ledger cluster build``, about 4 minutes, cached) and
about 3 GiB of disk and 3 GB of memory for the replicas (``--cache-grid 64MiB`` each).
Nothing waits on the cluster unbounded: the server's requests give up after
``limits.LEDGER_REQUEST_TIMEOUT_MS`` (503), the drill's own look-ups and ``ledger verify``
after ``limits.LEDGER_TOOL_TIMEOUT_MS`` (the drill then stops with exit 2, saying so).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tindahan import limits
from tindahan.bench.api import (
    Server,
    drop_postgres,
    fresh_postgres,
    server_env,
    setup,
    tindahan,
)
from tindahan.bench.failover_drill import settle
from tindahan.ledger.model import Transfer
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.services.payments import two_store
from tindahan.tigerbeetle import cluster as cluster_module
from tindahan.tigerbeetle.connect import connect as connect_ledger
from tindahan.tigerbeetle.server import HOW_TO_BUILD, find_binary

PHASES = ("replica", "quorum", "server")
REPLICAS = 3
CACHE_GRID = "64MiB"  # three replicas share the machine: about 1 GB resident each
AMOUNT_MINOR = 1_000  # ₱10.00 a payment
MERCHANTS = 2
BUYERS = 4
REQUEST_TIMEOUT_S = 120  # a payment waits this long for the cluster before the client retries
RETRY_PAUSE_S = 0.5
ANSWER_GIVE_UP_S = 240  # a payment unanswered this long after the load is reported, not waited
RECOVERY_WAIT_S = 120  # for the worker to finish what a phase left unfinished
UNFINISHED = ("reserving", "reserved")


class DrillError(RuntimeError):
    pass


# --- the load -----------------------------------------------------------------------------
@dataclass
class Payment:
    key: str
    number: int
    buyer: int
    payee: str
    first_sent: float = 0.0
    answered: float | None = None
    status: int | None = None
    payment_id: str | None = None
    abandoned: bool = False
    tries: int = 0
    trouble: Counter[str] = field(default_factory=Counter)


@dataclass
class Target:
    """Where the client sends: the server's address changes when it is restarted."""

    base: str
    server: Server
    killed_at: float | None = None  # the server's kill, in the server phase
    abandon_cut: bool = False


async def pay(client: httpx.AsyncClient, target: Target, payment: Payment, secret: str) -> None:
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": payment.key}
    body = {
        "payee_id": payment.payee,
        "amount_minor": AMOUNT_MINOR,
        "currency": "PHP",
        "reference": payment.key,
    }
    payment.first_sent = time.monotonic()
    give_up = payment.first_sent + ANSWER_GIVE_UP_S
    while time.monotonic() < give_up:
        payment.tries += 1
        sent = time.monotonic()
        try:
            answer = await client.post(target.base + "/v1/payments", json=body, headers=headers)
        except httpx.HTTPError as exc:
            payment.trouble[type(exc).__name__] += 1
            cut = target.killed_at is not None and sent <= target.killed_at
            if cut and target.abandon_cut:
                payment.abandoned = True  # a client that went away: recovery's to finish
                return
            await asyncio.sleep(RETRY_PAUSE_S)
            continue
        if await settle(payment, answer):
            return


@dataclass
class Phase:
    name: str
    payments: list[Payment]
    events: dict[str, float] = field(default_factory=dict)  # what happened when (monotonic)
    notes: dict[str, Any] = field(default_factory=dict)


async def load(
    phase: Phase,
    target: Target,
    buyers: list[dict[str, str]],
    args: argparse.Namespace,
    fault: Callable[[], Awaitable[None]],
) -> None:
    gate = asyncio.Semaphore(args.concurrency)
    began = time.monotonic()
    phase.events["load_started"] = began

    async def one(n: int, payment: Payment) -> None:
        await asyncio.sleep(max(0.0, began + n / args.rate - time.monotonic()))
        async with gate:
            await pay(client, target, payment, buyers[payment.buyer]["secret"])

    async def at_fault() -> None:
        await asyncio.sleep(args.fault_at)
        await fault()

    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=5)
    pool = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=timeout, limits=pool) as client:
        await asyncio.gather(at_fault(), *(one(n, p) for n, p in enumerate(phase.payments)))
    phase.events["load_answered"] = time.monotonic()


# --- the deployment -----------------------------------------------------------------------
@dataclass
class Deployment:
    root: Path
    db_url: str
    cluster_dir: Path
    ledger_url: str
    cache_grid: str
    light: bool = False
    target: Target | None = None
    starts: int = 0

    def start_server(self) -> Server:
        self.starts += 1
        scratch = self.root / f"server-{self.starts}"  # each start keeps its own log
        scratch.mkdir()
        return Server.start(self.db_url, 1, scratch, worker=True, ledger=self.ledger_url)

    def kill(self, replica: int) -> None:
        cluster_module.kill_replica(self.cluster_dir, replica)

    def revive(self, replica: int) -> None:
        cluster_module.start_replica(
            self.cluster_dir, replica, cache_grid=self.cache_grid, light=self.light
        )

    def whole(self) -> None:
        """Every replica running again (those a phase left down started)."""
        for state in cluster_module.status(self.cluster_dir):
            if not state.running:
                self.revive(state.replica)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with psycopg.connect(_libpq(self.db_url), autocommit=True) as conn:
            return conn.execute(sql, params or None).fetchall()

    def unfinished(self) -> list[str]:
        rows = self.query(
            "SELECT payment_id FROM two_store_payments WHERE state IN (%s, %s)", UNFINISHED
        )
        return [str(r[0]) for r in rows]


def _libpq(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


_BEGAN = time.monotonic()


def _say(text: str) -> None:
    print(f"[{time.monotonic() - _BEGAN:6.1f} s] {text}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class World:
    merchants: list[str]  # party ids
    buyers: list[dict[str, str]]  # id, secret (API key), wallet


def build(
    root: Path, db_url: str, cache_grid: str, light: bool = False
) -> tuple[Deployment, World]:
    """The world made on the SQL ledger, moved to a fresh 3-replica cluster, served there."""
    _say("migrating the database")
    tindahan("db", "upgrade", "--db", db_url)
    operator = tindahan("keys", "create", "--db", db_url, "--operator").splitlines()[-1]
    (root / "setup").mkdir()
    server = Server.start(db_url, 1, root / "setup", worker=False)
    try:
        merchants, buyers = asyncio.run(setup(server.base, operator, MERCHANTS, BUYERS, None))
    finally:
        server.stop()
    _say("the world made through the API; formatting and starting the cluster")
    cluster_dir = root / "cluster"
    address = cluster_module.up(cluster_dir, replicas=REPLICAS, cache_grid=cache_grid, light=light)
    _say("moving the ledger to the cluster")
    tindahan("ledger", "migrate-to-tigerbeetle", "--db", db_url, "--ledger", address.url)
    deployment = Deployment(root, db_url, cluster_dir, address.url, cache_grid, light)
    server = deployment.start_server()
    deployment.target = Target(server.base, server)
    _say(f"deployment ready: {address.url}, server {server.base}")
    return deployment, World([m["id"] for m in merchants], buyers)


# --- the phases ---------------------------------------------------------------------------
def fault_for(
    name: str, d: Deployment, phase: Phase, args: argparse.Namespace
) -> Callable[[], Awaitable[None]]:
    async def replica() -> None:
        await asyncio.to_thread(d.kill, 0)
        phase.events["replica_0_killed"] = time.monotonic()
        _say("kill -9 of replica 0")
        await asyncio.sleep(args.down)
        await asyncio.to_thread(d.revive, 0)
        phase.events["replica_0_back"] = time.monotonic()
        _say("replica 0 started again")

    async def quorum() -> None:
        await asyncio.to_thread(d.kill, 1)
        await asyncio.to_thread(d.kill, 2)
        phase.events["replicas_1_2_killed"] = time.monotonic()
        _say("kill -9 of replicas 1 and 2: one of three left")
        await asyncio.sleep(args.down)
        await asyncio.to_thread(d.revive, 1)
        phase.events["replica_1_back"] = time.monotonic()
        _say("replica 1 started again: two of three")

    async def server() -> None:
        assert d.target is not None
        target = d.target
        target.abandon_cut = True
        os.killpg(target.server.process.pid, signal.SIGKILL)
        target.server.process.wait()
        target.killed_at = phase.events["server_killed"] = time.monotonic()
        left = await asyncio.to_thread(d.unfinished)
        phase.notes["left_unfinished_by_the_kill"] = left
        _say(f"kill -9 of the server: {len(left)} payment(s) left unfinished")
        restarted = await asyncio.to_thread(d.start_server)
        target.server, target.base = restarted, restarted.base
        phase.events["server_back"] = time.monotonic()
        _say(f"server started again at {restarted.base}")

    return {"replica": replica, "quorum": quorum, "server": server}[name]


def run_phase(name: str, d: Deployment, world: World, run: str, args: argparse.Namespace) -> Phase:
    merchants, buyers = world.merchants, world.buyers
    count = max(1, round(args.rate * args.seconds))
    payments = [
        Payment(f"tbdrill-{run}-{name}-{n:05d}", n, n % len(buyers), merchants[n % len(merchants)])
        for n in range(count)
    ]
    phase = Phase(name, payments)
    assert d.target is not None
    _say(f"phase {name}: {count} payments at {args.rate}/s, the fault at {args.fault_at} s")
    asyncio.run(load(phase, d.target, buyers, args, fault_for(name, d, phase, args)))
    _say(f"phase {name}: the load answered; waiting for recovery")
    d.whole()
    deadline = time.monotonic() + RECOVERY_WAIT_S
    while d.unfinished() and time.monotonic() < deadline:
        time.sleep(1)
    phase.events["recovered"] = time.monotonic()
    return phase


# --- the findings -------------------------------------------------------------------------
def exactly_once(d: Deployment, acknowledged: list[Payment], run: str) -> dict[str, Any]:
    """Every acknowledged payment: one row by its reference, the client's id, succeeded and
    settled, its hold, post and fee in the cluster at its amounts."""
    rows = d.query(
        "SELECT p.reference, count(*), min(p.id), min(p.status), min(p.amount_minor), "
        "min(t.state), min(t.legs) FROM payments p "
        "LEFT JOIN two_store_payments t ON t.payment_id = p.id "
        "WHERE p.reference LIKE %s GROUP BY p.reference",
        (f"tbdrill-{run}-%",),
    )
    applied = {r[0]: r[1:] for r in rows}
    problems: list[str] = []
    wanted: dict[str, list[Any]] = {}
    for p in acknowledged:
        found = applied.get(p.key)
        if found is None:
            problems.append(f"{p.key}: acknowledged but not in the database")
            continue
        count, payment_id, status, amount, state, legs = found
        if count != 1 or payment_id != p.payment_id:
            problems.append(f"{p.key}: {count} payment(s), first {payment_id}, not {p.payment_id}")
        if status != "succeeded" or state != "settled" or amount != AMOUNT_MINOR:
            problems.append(f"{p.key}: {status}/{state}, amount {amount}")
        if legs:
            wanted[p.key] = two_store.decode_legs(legs)
    ids = list({t.id: t for legs in wanted.values() for t in [*legs, *two_store.posts(legs)]})
    there = in_cluster(d.ledger_url, ids)
    transfers = 0
    for key, legs in wanted.items():
        hold, posted = two_store.holds(legs)[0], two_store.posts(legs)
        for leg, done in [(hold, hold), *zip(legs, posted, strict=True)]:
            got = there.get(done.id)
            if got is None or got.amount != leg.amount:
                problems.append(f"{key}: {done.id} is {'missing' if got is None else got.amount}")
            else:
                transfers += 1
    twice = sorted(ref for ref, row in applied.items() if row[0] > 1)
    return {
        "applied": len(applied),
        "applied_twice": len(twice),
        # the client gave up on them (the server phase): finished by recovery, never answered
        "applied_without_an_answer": len(set(applied) - {p.key for p in acknowledged}),
        "acknowledged_missing_or_wrong": len(problems),
        "transfers_checked": transfers,
        "problems": problems[:10],
    }


def in_cluster(url: str, ids: list[str]) -> dict[str, Transfer]:
    """The transfers of ``ids`` the cluster holds, each request bounded as the tools' are
    (``limits.LEDGER_TOOL_TIMEOUT_MS``): a cluster that does not answer stops the drill
    (``LedgerUnavailableError``, exit 2) instead of waiting as long as the client would."""
    if not ids:
        return {}
    ledger = connect_ledger(url, limits.LEDGER_TOOL_TIMEOUT_MS)
    try:
        return ledger.lookup_transfers(ids)
    finally:
        ledger.close()


def verify(d: Deployment) -> dict[str, Any]:
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("tindahan")),
            *("ledger", "verify", "--ledger", d.ledger_url, "--db", d.db_url),
        ],
        capture_output=True,
        text=True,
        env=server_env(),
        check=False,
    )
    return {"ok": done.returncode == 0, "said": (done.stdout + done.stderr).strip().splitlines()}


def phase_findings(
    phase: Phase, d: Deployment, everything: list[Payment], run: str
) -> dict[str, Any]:
    ps = phase.payments
    acknowledged = [p for p in everything if p.status == 200]
    ev = phase.events
    found: dict[str, Any] = {
        "phase": phase.name,
        "payments": len(ps),
        "acknowledged": sum(p.status == 200 for p in ps),
        "refused": sum(p.status not in (None, 200) for p in ps),
        "unanswered": sum(p.status is None and not p.abandoned for p in ps),
        "abandoned": sum(p.abandoned for p in ps),
        "max_tries_of_one_payment": max((p.tries for p in ps), default=0),
        "load_s": round(ev["load_answered"] - ev["load_started"], 1),
    }
    trouble: Counter[str] = Counter()
    for p in ps:
        trouble.update(p.trouble)
    found["trouble_seen_by_the_client"] = dict(trouble.most_common())
    found |= _fault_figures(phase, d)
    found["left_unfinished_after_recovery"] = len(d.unfinished())
    found["exactly_once"] = exactly_once(d, acknowledged, run)
    _say(f"phase {phase.name}: checking")
    found["ledger_verify"] = verify(d)
    found["passed"] = _passed(found)
    return found


def _between(ps: list[Payment], start: float, end: float) -> int:
    return sum(p.status == 200 and p.answered is not None and start < p.answered < end for p in ps)


def _fault_figures(phase: Phase, d: Deployment) -> dict[str, Any]:
    ps, ev = phase.payments, phase.events
    if phase.name == "replica":
        down, back = ev["replica_0_killed"], ev["replica_0_back"]
        return {
            "down_s": round(back - down, 1),
            "succeeded_while_a_replica_was_down": _between(ps, down, back),
        }
    if phase.name == "quorum":
        down, back = ev["replicas_1_2_killed"], ev["replica_1_back"]
        started_after = [p for p in ps if p.first_sent > down]
        after = sorted(
            p.answered for p in ps if p.status == 200 and p.answered and p.answered > back
        )
        return {
            "down_s": round(back - down, 1),
            "succeeded_without_quorum_of_those_sent_after_the_kill": _between(
                started_after, down, back
            ),
            "waiting_when_replica_1_returned": sum(
                p.first_sent < back and (p.answered or back + 1) > back for p in ps
            ),
            "seconds_from_return_to_first_success": round(after[0] - back, 2) if after else None,
        }
    left: list[str] = phase.notes.get("left_unfinished_by_the_kill", [])
    fates: Counter[str] = Counter()
    if left:
        rows = d.query("SELECT state FROM two_store_payments WHERE payment_id = ANY(%s)", (left,))
        fates.update(str(r[0]) for r in rows)
    return {
        "server_restart_s": round(ev["server_back"] - ev["server_killed"], 1),
        "left_unfinished_by_the_kill": len(left),
        "their_fate_after_recovery": dict(fates),
    }


def _passed(found: dict[str, Any]) -> bool:
    once = found["exactly_once"]
    ok: bool = (
        found["unanswered"] == 0
        and found["left_unfinished_after_recovery"] == 0
        and once["applied_twice"] == 0
        and once["acknowledged_missing_or_wrong"] == 0
        and found["ledger_verify"]["ok"] is True
    )
    if found["phase"] == "replica":
        ok = ok and found["succeeded_while_a_replica_was_down"] > 0
    if found["phase"] == "quorum":
        ok = ok and found["succeeded_without_quorum_of_those_sent_after_the_kill"] == 0
        ok = ok and found["seconds_from_return_to_first_success"] is not None
    return ok


# --- running it ---------------------------------------------------------------------------
def drill(args: argparse.Namespace) -> dict[str, Any]:
    if find_binary() is None:
        raise DrillError(f"no tigerbeetle server binary: {HOW_TO_BUILD}")
    root = Path(tempfile.mkdtemp(prefix="tindahan-tigerbeetle-drill-"))
    db_url = args.db or fresh_postgres("tindahan_tb_drill")
    deployment: Deployment | None = None
    started = time.monotonic()
    try:
        deployment, world = build(root, db_url, args.cache_grid, args.light)
        built_s = round(time.monotonic() - started, 1)
        run = secrets.token_hex(3)
        everything: list[Payment] = []
        phases = []
        for name in args.phases:
            phase = run_phase(name, deployment, world, run, args)
            everything += phase.payments
            phases.append(phase_findings(phase, deployment, everything, run))
            _say(f"phase {name}: {'passed' if phases[-1]['passed'] else 'FAILED'}")
        return {
            "ledger_url": deployment.ledger_url,
            "replicas": REPLICAS,
            "built_s": built_s,
            "drill_s": round(time.monotonic() - started, 1),
            "phases": phases,
            "passed": all(p["passed"] for p in phases),
        }
    finally:
        if deployment is not None and deployment.target is not None:
            deployment.target.server.stop()
        if (root / "cluster" / cluster_module.STATE).exists():
            cluster_module.down(root / "cluster", purge=not args.keep)
        if args.db is None:
            drop_postgres(db_url)
        if args.keep:
            _say(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def report(found: dict[str, Any]) -> None:
    lines = [f"3-replica cluster {found['ledger_url']}, built in {found['built_s']} s"]
    for p in found["phases"]:
        once = p["exactly_once"]
        fault = {k: v for k, v in p.items() if k.endswith("_s") or "succeeded" in k or "fate" in k}
        lines += [
            f"phase {p['phase']}: {p['payments']} sent, {p['acknowledged']} acknowledged, "
            f"{p['refused']} refused, {p['abandoned']} abandoned, {p['unanswered']} unanswered",
            f"  fault: {fault}",
            f"  left unfinished after recovery: {p['left_unfinished_after_recovery']} (must be 0)",
            f"  acknowledged so far missing or wrong: {once['acknowledged_missing_or_wrong']}, "
            f"applied twice: {once['applied_twice']} (both must be 0); "
            f"{once['transfers_checked']} transfers found in the cluster",
            f"  ledger verify: {'ok' if p['ledger_verify']['ok'] else 'FAILED'} — "
            + " / ".join(p["ledger_verify"]["said"][-2:]),
            f"  what the client met: {p['trouble_seen_by_the_client']}",
            f"  {'passed' if p['passed'] else 'FAILED'}",
        ]
        lines += [f"  problem: {x}" for x in once["problems"]]
    lines.append(f"verdict: {'passed' if found['passed'] else 'FAILED'} in {found['drill_s']} s")
    print("\n".join(lines))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--phases",
        type=lambda text: [p.strip() for p in text.split(",") if p.strip()],
        default=list(PHASES),
        help=f"which, in order, comma-separated (default {','.join(PHASES)})",
    )
    parser.add_argument("--rate", type=float, default=8.0, help="payments started a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="of load in each phase")
    parser.add_argument("--concurrency", type=int, default=8, help="payments in flight at most")
    parser.add_argument("--fault-at", type=float, default=5.0, help="seconds into the load")
    parser.add_argument("--down", type=float, default=8.0, help="seconds a replica stays down")
    parser.add_argument("--cache-grid", default=CACHE_GRID, help="each replica's grid cache")
    parser.add_argument(
        "--light",
        action="store_true",
        help="replicas started light (small caches, quick to start: tests only)",
    )
    parser.add_argument("--db", help="an empty PostgreSQL database to use (default: a fresh one)")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the folder and data files")
    args = parser.parse_args(argv)
    unknown = [p for p in args.phases if p not in PHASES]
    if unknown or not args.phases:
        parser.error(f"--phases takes {', '.join(PHASES)}, not {','.join(unknown) or 'nothing'}")
    if args.rate <= 0 or args.seconds <= 0 or args.concurrency < 1:
        parser.error("--rate, --seconds and --concurrency must be positive")
    if args.fault_at < 0 or args.down < 0:
        parser.error("--fault-at and --down must not be negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    try:
        found = drill(args)
    except LedgerUnavailableError as exc:  # no quorum answered within the tools' bound
        print(f"drill failed: {exc}: check that a quorum of its replicas runs", file=sys.stderr)
        return 2
    except RuntimeError as exc:  # DrillError, a cluster error, or a step of tindahan's
        print(f"drill failed: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(found, indent=2))
    report(found)
    return 0 if found["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
