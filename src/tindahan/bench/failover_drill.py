"""The failover drill (issue 23, item 1): lose the primary PostgreSQL under a payment load.

What it does, all on loopback ports under one temporary folder, stopping only what it started:

1. starts a pg_auto_failover formation — a monitor and two nodes, the second a synchronous
   standby of the first (``synchronous_standby_names = ANY 1 (…)``, pg_auto_failover's
   default for two nodes) — with Debian's ``pg_autoctl`` (``postgresql-15-auto-failover``;
   installed with apt-get when missing, as root, and said so). As root, PostgreSQL runs as
   the ``postgres`` user (initdb refuses root);
2. ``tindahan db upgrade`` and ``tindahan serve`` (one process, with its worker) against the
   formation's multi-host URL, as ``pg_autoctl show uri`` gives it
   (``postgresql://127.0.0.1:a,127.0.0.1:b/tindahan?target_session_attrs=read-write``);
3. a bounded load of merchant payments (``--payments`` at ``--rate`` a second, at most
   ``--concurrency`` in flight), each under its own Idempotency-Key, from a client that sends
   each payment again with the same key until it gets an answer (a 200, or a refusal that is
   not 429/5xx), waiting what ``Retry-After`` says;
4. ``--kill-after`` seconds into the load, ``kill -9`` of the primary: its postmaster, its
   backends and the ``pg_autoctl`` keeper that supervises it (the keeper alone would restart
   PostgreSQL in place — that is a crash-restart, not the lost machine this rehearses);
5. once every payment has its answer, on the promoted node: acknowledged payments missing
   (must be 0), payments applied more than once (must be 0; each payment's reference is its
   key), payments applied that never got an answer, the seconds from the kill to the first
   payment answered 200 again, and ``tindahan ledger verify``.

    .venv/bin/python -m tindahan.bench.failover_drill          # make drill-failover
    .venv/bin/python -m tindahan.bench.failover_drill --payments 400 --rate 10 --json
    .venv/bin/python -m tindahan.bench.failover_drill --keep   # leave the folder for a look

It takes about two minutes: 30-40 s to build the formation (the standby's base backup),
then pg_auto_failover's own detection and promotion (about 20-50 s with its default health
checks), then the rest of the load.
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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import psycopg

from tindahan.bench.api import Server, free_port, server_env, setup, tindahan

PACKAGE = "postgresql-15-auto-failover"
PG_BIN = "/usr/lib/postgresql/15/bin"
STATE_TIMEOUT_S = 180  # for the formation to reach primary + secondary
STOP_TIMEOUT_S = 20
ANSWER_GIVE_UP_S = 300  # a payment still unanswered after this is reported, not waited on
RETRY_PAUSE_S = 0.5  # between tries after a connection error (no Retry-After to read)
AMOUNT_MINOR = 1_000  # ₱10.00 a payment
MERCHANTS = 2
BUYERS = 4


class DrillError(RuntimeError):
    pass


# --- pg_auto_failover ---------------------------------------------------------------------
def ensure_pg_autoctl() -> str:
    found = shutil.which("pg_autoctl")
    if found:
        return found
    if os.geteuid() != 0:
        raise DrillError(f"pg_autoctl is not installed: apt-get install -y {PACKAGE} (as root)")
    print(f"pg_autoctl is missing: installing {PACKAGE} with apt-get (running as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", PACKAGE], check=True, env=env)
    found = shutil.which("pg_autoctl")
    if not found:
        raise DrillError(f"{PACKAGE} installed but pg_autoctl is not on PATH")
    return found


@dataclass
class Formation:
    """A monitor and two nodes, each a ``pg_autoctl`` process group this drill started."""

    root: Path
    monitor_port: int
    node_ports: dict[str, int]
    groups: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def as_root(self) -> bool:
        return os.geteuid() == 0

    def _command(self, *args: str) -> list[str]:
        env = [
            f"HOME={self.root}",
            f"XDG_CONFIG_HOME={self.root / 'config'}",
            f"XDG_DATA_HOME={self.root / 'data'}",
            f"XDG_RUNTIME_DIR={self.root / 'run'}",
            f"PATH={PG_BIN}:/usr/bin:/bin",
        ]
        command = ["env", *env, "pg_autoctl", *args]
        return ["runuser", "-u", "postgres", "--", *command] if self.as_root else command

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.root / f"{name}.log").open("ab")
        self.groups[name] = subprocess.Popen(
            self._command(*args),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill and the stop reach all
        )

    def _run(self, *args: str) -> str:
        done = subprocess.run(self._command(*args), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DrillError(f"pg_autoctl {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    @property
    def monitor_uri(self) -> str:
        return f"postgresql://autoctl_node@127.0.0.1:{self.monitor_port}/pg_auto_failover"

    def start(self) -> None:
        for sub in ("config", "data", "run"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            for made in self.root.iterdir():
                shutil.chown(made, "postgres")
        common = ("--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl")
        self._spawn(
            "monitor",
            *("create", "monitor", "--pgdata", str(self.root / "monitor")),
            *("--pgport", str(self.monitor_port), *common, "--run"),
        )
        self._wait(
            lambda: self._query(self.monitor_port, "pg_auto_failover", "SELECT 1") is not None
        )
        for name, port in self.node_ports.items():
            self._spawn(
                name,
                *("create", "postgres", "--pgdata", str(self.root / name), "--name", name),
                *("--pgport", str(port), "--listen", "127.0.0.1", *common),
                *("--monitor", f"{self.monitor_uri}?sslmode=disable", "--dbname", "tindahan"),
                "--run",
            )
            # Alone, the first node is "single"; the second is done at "secondary" (and the
            # first then "primary", with it as its synchronous standby).
            want = "single" if name == "a" else "secondary"
            self._wait(lambda n=name, w=want: self._state(n) == (w, w), nudge=name != "a")
        self._wait(lambda: self._state("a") == ("primary", "primary"))

    def _query(
        self, port: int, database: str, sql: str, params: tuple[str, ...] = ()
    ) -> list[tuple[Any, ...]] | None:
        """Rows of ``sql``, or None when the server does not answer."""
        conninfo = f"host=127.0.0.1 port={port} user=postgres dbname={database} connect_timeout=2"
        try:
            with psycopg.connect(conninfo, autocommit=True) as conn:
                cursor = conn.execute(sql, params or None)
                return cursor.fetchall() if cursor.description else []
        except psycopg.Error:
            return None

    def _state(self, name: str) -> tuple[str, str] | None:
        rows = self._query(
            self.monitor_port,
            "pg_auto_failover",
            "SELECT reportedstate::text, goalstate::text FROM pgautofailover.node "
            "WHERE nodename = %s",
            (name,),
        )
        return (rows[0][0], rows[0][1]) if rows else None

    def _wait(self, ready: Any, *, nudge: bool = False) -> None:
        deadline = time.monotonic() + STATE_TIMEOUT_S
        while time.monotonic() < deadline:
            if ready():
                return
            for name, group in self.groups.items():
                if group.poll() is not None:
                    raise DrillError(f"pg_autoctl for {name} exited:\n{self.tail(name)}")
            if nudge:  # the standby's pg_basebackup waits for a checkpoint: ask for one now
                self._query(self.node_ports["a"], "postgres", "CHECKPOINT")
            time.sleep(1)
        raise DrillError(f"the formation was not ready in {STATE_TIMEOUT_S} s")

    def uri(self) -> str:
        out = self._run(
            "show", "uri", "--pgdata", str(self.root / "monitor"), "--formation", "default"
        )
        uri = out.strip().splitlines()[-1].replace("sslmode=prefer", "sslmode=disable")
        return uri.replace("postgres://", "postgresql://postgres@", 1)  # PostgreSQL's user

    def primary(self) -> str:
        for name, port in self.node_ports.items():
            if self._query(port, "postgres", "SELECT pg_is_in_recovery()") == [(False,)]:
                return name
        raise DrillError("no node is primary")

    def synchronous_standby_names(self, name: str) -> str:
        rows = self._query(self.node_ports[name], "postgres", "SHOW synchronous_standby_names")
        return str(rows[0][0]) if rows else "?"

    def kill(self, name: str) -> None:
        os.killpg(self.groups[name].pid, signal.SIGKILL)
        self.groups[name].wait()

    def stop(self) -> None:
        """SIGTERM to each group (pg_autoctl stops its PostgreSQL fast), SIGKILL if it stays."""
        for name, group in reversed(self.groups.items()):
            if group.poll() is not None:
                continue
            with suppress(ProcessLookupError):
                os.killpg(group.pid, signal.SIGTERM)
            try:
                group.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(group.pid, signal.SIGKILL)
                group.wait()
            print(f"stopped {name}", file=sys.stderr)

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.root / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


# --- the load -----------------------------------------------------------------------------
@dataclass
class Payment:
    key: str
    buyer: int
    payee: str
    started: float = 0.0
    answered: float | None = None
    status: int | None = None
    payment_id: str | None = None
    tries: int = 0
    trouble: Counter[str] = field(default_factory=Counter)


@dataclass
class Load:
    payments: list[Payment]
    killed_at: float | None = None
    killed: str | None = None


async def pay(client: httpx.AsyncClient, payment: Payment, secret: str, give_up: float) -> None:
    headers = {"Authorization": f"Bearer {secret}", "Idempotency-Key": payment.key}
    body = {
        "payee_id": payment.payee,
        "amount_minor": AMOUNT_MINOR,
        "currency": "PHP",
        "reference": payment.key,
    }
    payment.started = time.monotonic()
    while time.monotonic() < give_up:
        payment.tries += 1
        try:
            answer = await client.post("/v1/payments", json=body, headers=headers)
        except httpx.HTTPError as exc:
            payment.trouble[type(exc).__name__] += 1
            await asyncio.sleep(RETRY_PAUSE_S)
            continue
        if await settle(payment, answer):
            return


class Answered(Protocol):
    """What a drill's payment records of the server's answer (every drill's ``Payment``)."""

    answered: float | None
    status: int | None
    payment_id: str | None
    trouble: Counter[str]


async def settle(payment: Answered, answer: httpx.Response) -> bool:
    """Record ``answer`` on ``payment``; False, after the pause the server asks for, when the
    same request is worth sending again (a 429 or a 5xx: a failover, a cluster without quorum)."""
    if answer.status_code == 429 or answer.status_code >= 500:
        payment.trouble[f"{answer.status_code} {error_code(answer)}"] += 1
        await asyncio.sleep(float(answer.headers.get("Retry-After", RETRY_PAUSE_S)))
        return False
    payment.answered = time.monotonic()
    payment.status = answer.status_code
    if answer.status_code == 200:
        payment.payment_id = answer.json()["id"]
    else:
        payment.trouble[f"{answer.status_code} {error_code(answer)}"] += 1
    return True


def error_code(answer: httpx.Response) -> str:
    """The error object's code, or ``-`` for an answer without one."""
    try:
        return str(answer.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return "-"


async def drive(
    base: str,
    merchants: list[dict[str, str]],
    buyers: list[dict[str, str]],
    formation: Formation,
    args: argparse.Namespace,
) -> Load:
    run = secrets.token_hex(3)
    load = Load(
        [
            Payment(f"drill-{run}-{n:05d}", n % len(buyers), merchants[n % len(merchants)]["id"])
            for n in range(args.payments)
        ]
    )
    gate = asyncio.Semaphore(args.concurrency)
    began = time.monotonic()
    give_up = began + ANSWER_GIVE_UP_S + args.payments / args.rate

    async def one(n: int, payment: Payment) -> None:
        await asyncio.sleep(max(0.0, began + n / args.rate - time.monotonic()))
        async with gate:
            await pay(client, payment, buyers[payment.buyer]["secret"], give_up)

    async def killer() -> None:
        await asyncio.sleep(args.kill_after)
        victim = await asyncio.to_thread(formation.primary)
        await asyncio.to_thread(formation.kill, victim)
        load.killed_at, load.killed = time.monotonic(), victim
        print(f"kill -9 of node {victim} (the primary) at {args.kill_after:.0f} s", flush=True)

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(killer(), *(one(n, p) for n, p in enumerate(load.payments)))
    return load


# --- the findings -------------------------------------------------------------------------
def findings(load: Load, url: str, formation: Formation) -> dict[str, Any]:
    acknowledged = {p.key: p for p in load.payments if p.status == 200}
    prefix = load.payments[0].key.rsplit("-", 1)[0] + "-%"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        port = conn.execute("SELECT inet_server_port()").fetchone()
        rows = conn.execute(
            "SELECT reference, count(*), min(id) FROM payments WHERE reference LIKE %s "
            "GROUP BY reference",
            (prefix,),
        ).fetchall()
    applied = {reference: (count, first) for reference, count, first in rows}
    lost = [k for k, p in acknowledged.items() if applied.get(k, (0, None))[1] != p.payment_id]
    twice = [reference for reference, (count, _) in applied.items() if count > 1]
    unanswered_applied = [k for k in applied if k not in acknowledged]
    after = sorted(p.answered for p in acknowledged.values() if load.killed_at and p.answered)
    after = [t for t in after if load.killed_at is not None and t > load.killed_at]
    recovered_s = round(after[0] - load.killed_at, 1) if after and load.killed_at else None
    trouble: Counter[str] = Counter()
    for payment in load.payments:
        trouble.update(payment.trouble)
    verify = subprocess.run(
        [str(Path(sys.executable).with_name("tindahan")), "ledger", "verify", "--db", url],
        capture_output=True,
        text=True,
        env=server_env(),
        check=False,
    )
    promoted = next((n for n, p in formation.node_ports.items() if port and p == port[0]), "?")
    return {
        "payments": len(load.payments),
        "acknowledged": len(acknowledged),
        "refused": sum(1 for p in load.payments if p.status not in (None, 200)),
        "unanswered": sum(1 for p in load.payments if p.status is None),
        "acknowledged_lost": len(lost),
        "applied_twice": len(twice),
        "applied_without_answer": len(unanswered_applied),
        "killed": load.killed,
        "promoted": promoted,
        "seconds_until_payments_succeed": recovered_s,
        "max_tries_of_one_payment": max((p.tries for p in load.payments), default=0),
        "trouble_seen_by_the_client": dict(trouble.most_common()),
        "ledger_verify_ok": verify.returncode == 0,
        "ledger_verify": (verify.stdout + verify.stderr).strip().splitlines()[-3:],
    }


def _libpq(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


# --- running it ---------------------------------------------------------------------------
@contextmanager
def formation_in(root: Path) -> Iterator[Formation]:
    ports = [free_port() for _ in range(3)]
    formation = Formation(root, ports[0], {"a": ports[1], "b": ports[2]})
    try:
        formation.start()
        yield formation
    finally:
        formation.stop()


def drill(args: argparse.Namespace) -> dict[str, Any]:
    ensure_pg_autoctl()
    root = Path(tempfile.mkdtemp(prefix="tindahan-failover-drill-"))
    try:
        started = time.monotonic()
        with formation_in(root) as formation:
            built_s = round(time.monotonic() - started, 1)
            url = formation.uri()
            sync = formation.synchronous_standby_names("a")
            print(f"formation ready in {built_s} s: {url} (synchronous: {sync})", flush=True)
            tindahan("db", "upgrade", "--db", url)
            operator = tindahan("keys", "create", "--db", url, "--operator").splitlines()[-1]
            server = Server.start(url, 1, root, worker=True)
            try:
                merchants, buyers = asyncio.run(
                    setup(server.base, operator, MERCHANTS, BUYERS, None)
                )
                load = asyncio.run(drive(server.base, merchants, buyers, formation, args))
            finally:
                server.stop()
            found = findings(load, url, formation)
            found |= {"formation_built_s": built_s, "synchronous_standby_names": sync}
            found["server_log_failover_lines"] = sum(
                "failover" in line for line in server.log.read_text(errors="replace").splitlines()
            )
        return found
    finally:
        if args.keep:
            print(f"kept {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


def report(found: dict[str, Any]) -> None:
    good = found["acknowledged_lost"] == 0 and found["applied_twice"] == 0
    lines = [
        f"payments: {found['payments']} sent, {found['acknowledged']} acknowledged, "
        f"{found['refused']} refused, {found['unanswered']} unanswered",
        f"killed (kill -9): node {found['killed']}; promoted: node {found['promoted']}",
        f"acknowledged payments lost: {found['acknowledged_lost']} (must be 0)",
        f"payments applied twice: {found['applied_twice']} (must be 0)",
        f"applied without an answer: {found['applied_without_answer']}",
        f"seconds until payments succeed again: {found['seconds_until_payments_succeed']}",
        f"ledger verify on the promoted node: {'ok' if found['ledger_verify_ok'] else 'FAILED'}"
        f" — {' / '.join(found['ledger_verify'])}",
        f"what the client met: {found['trouble_seen_by_the_client']}",
        "verdict: " + ("passed" if good and found["ledger_verify_ok"] else "FAILED"),
    ]
    print("\n".join(lines))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200, help="payments in all")
    parser.add_argument("--rate", type=float, default=8.0, help="payments started a second")
    parser.add_argument("--concurrency", type=int, default=8, help="payments in flight at most")
    parser.add_argument("--kill-after", type=float, default=8.0, help="seconds into the load")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.payments < 1 or args.rate <= 0 or args.concurrency < 1 or args.kill_after < 0:
        parser.error("--payments, --rate and --concurrency are positive; --kill-after >= 0")
    return args


def main() -> None:
    args = parse()
    try:
        found = drill(args)
    except RuntimeError as exc:  # DrillError, or a step of tindahan's that failed
        print(f"drill failed: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    if args.json:
        print(json.dumps(found, indent=2))
    report(found)
    good = found["acknowledged_lost"] == 0 and found["applied_twice"] == 0
    raise SystemExit(0 if good and found["ledger_verify_ok"] else 1)


if __name__ == "__main__":
    main()
