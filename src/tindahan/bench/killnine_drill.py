"""The kill -9 drill (issue 18): lose server processes in the middle of a group-committed load.

Group commit holds a whole group of payments in one transaction until its one COMMIT, so a
server process that dies mid-group takes every member's answer with it. This drill checks
that nothing the client was told is lost and nothing is applied twice. All on this machine,
on a database it creates on the bench's PostgreSQL (``TINDAHAN_BENCH_POSTGRES_URL``) and
drops afterwards, stopping only the processes it started:

1. ``tindahan db upgrade`` and ``tindahan serve --workers 2`` with ``TINDAHAN_GROUP_COMMIT=on``
   (and serve's background worker, which seals transfers), on a port it keeps;
2. a bounded load of merchant payments (``--payments`` at ``--rate`` a second, at most
   ``--concurrency`` in flight), each under its own Idempotency-Key, from a client that sends
   a payment again with the same key until it has an answer (a 200, or a refusal that is not
   429/5xx) and records every success;
3. ``--kill-after`` seconds in, ``kill -9`` of one HTTP worker process (uvicorn's supervisor
   starts another); ``--restart-after`` seconds later, ``kill -9`` of the whole server (the
   supervisor, its workers and the background worker) and ``tindahan serve`` started again on
   the same port (``--mode worker`` or ``--mode server`` does only one of the two);
4. once every payment has its answer: acknowledged payments missing (must be 0), payments
   applied more than once (must be 0; each payment's reference is its key), ``tindahan
   ledger verify`` (must pass), and every request sent once more with its key, which must
   answer exactly what it answered before (the same payment, or the same refusal).

    .venv/bin/python -m tindahan.bench.killnine_drill            # make drill-killnine
    .venv/bin/python -m tindahan.bench.killnine_drill --payments 2000 --rate 200 --json
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tindahan.bench.api import (
    Server,
    drop_postgres,
    free_port,
    fresh_postgres,
    server_env,
    setup,
    tindahan,
)
from tindahan.bench.failover_drill import AMOUNT_MINOR, Payment, pay

MERCHANTS = 4
BUYERS = 16
ANSWER_GIVE_UP_S = 180  # a payment still unanswered after this is reported, not waited on
MODES = ("both", "worker", "server")


@dataclass
class Kills:
    """What the drill killed, and when (monotonic seconds)."""

    events: list[tuple[float, str]] = field(default_factory=list)


def worker_pids(server: Server) -> list[int]:
    """The HTTP worker processes under ``serve``'s supervisor (uvicorn spawns them)."""
    pid = server.process.pid
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(int(child))
    return found


def kill_server(server: Server) -> None:
    """``kill -9`` of the server's whole process group: no shutdown, no goodbye."""
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait()


@dataclass
class Run:
    url: str
    port: int
    scratch: Path
    server: Server
    restarts: int = 0

    def restart(self) -> None:
        kill_server(self.server)
        self.server = Server.start(self.url, 2, self.scratch, "on", worker=True, port=self.port)
        self.restarts += 1


async def drive(
    run: Run, merchants: list[dict[str, str]], buyers: list[dict[str, str]], args: Any
) -> tuple[list[Payment], Kills]:
    tag = secrets.token_hex(3)
    load = [
        Payment(f"k9-{tag}-{n:05d}", n % len(buyers), merchants[n % len(merchants)]["id"])
        for n in range(args.payments)
    ]
    # Every few payments goes to the first merchant: a hot account in the groups.
    for n in range(0, len(load), 2):
        load[n].payee = merchants[0]["id"]
    kills = Kills()
    gate = asyncio.Semaphore(args.concurrency)
    began = time.monotonic()
    give_up = began + ANSWER_GIVE_UP_S + args.payments / args.rate

    async def one(n: int, payment: Payment) -> None:
        await asyncio.sleep(max(0.0, began + n / args.rate - time.monotonic()))
        async with gate:
            await pay(client, payment, buyers[payment.buyer]["secret"], give_up)

    async def killer() -> None:
        if args.mode in ("both", "worker"):
            await asyncio.sleep(args.kill_after)
            victims = worker_pids(run.server)
            if victims:
                os.kill(victims[0], signal.SIGKILL)
                kills.events.append((time.monotonic() - began, f"worker {victims[0]}"))
                print(f"kill -9 of HTTP worker {victims[0]}", flush=True)
        if args.mode in ("both", "server"):
            wait = args.restart_after if args.mode == "both" else args.kill_after
            await asyncio.sleep(wait)
            kills.events.append((time.monotonic() - began, "server"))
            print("kill -9 of the whole server; starting it again", flush=True)
            await asyncio.to_thread(run.restart)
            kills.events.append((time.monotonic() - began, "restarted"))

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=run.server.base, timeout=60, limits=limits) as client:
        await asyncio.gather(killer(), *(one(n, p) for n, p in enumerate(load)))
    return load, kills


async def replay(
    base: str, load: list[Payment], buyers: list[dict[str, str]], concurrency: int
) -> list[str]:
    """Each payment sent once more with its key: the keys whose answer differs now."""
    gate = asyncio.Semaphore(concurrency)
    differ: list[str] = []

    async def again(client: httpx.AsyncClient, payment: Payment) -> None:
        body = {
            "payee_id": payment.payee,
            "amount_minor": AMOUNT_MINOR,
            "currency": "PHP",
            "reference": payment.key,
        }
        headers = {
            "Authorization": f"Bearer {buyers[payment.buyer]['secret']}",
            "Idempotency-Key": payment.key,
        }
        async with gate:
            while True:
                answer = await client.post("/v1/payments", json=body, headers=headers)
                if answer.status_code != 429:
                    break
                await asyncio.sleep(float(answer.headers.get("Retry-After", "0.5")))
        same = answer.status_code == payment.status and (
            answer.status_code != 200 or answer.json()["id"] == payment.payment_id
        )
        if not same:
            differ.append(payment.key)

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await asyncio.gather(*(again(client, p) for p in load if p.status is not None))
    return differ


def findings(url: str, load: list[Payment], differ: list[str], kills: Kills) -> dict[str, Any]:
    acknowledged = {p.key: p for p in load if p.status == 200}
    prefix = load[0].key.rsplit("-", 1)[0] + "-%"
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT reference, count(*), min(id) FROM payments WHERE reference LIKE %s "
            "GROUP BY reference",
            (prefix,),
        ).fetchall()
    applied = {reference: (count, first) for reference, count, first in rows}
    lost = [k for k, p in acknowledged.items() if applied.get(k, (0, None))[1] != p.payment_id]
    twice = [reference for reference, (count, _) in applied.items() if count > 1]
    trouble: Counter[str] = Counter()
    for payment in load:
        trouble.update(payment.trouble)
    verify = subprocess.run(
        [str(Path(sys.executable).with_name("tindahan")), "ledger", "verify", "--db", url],
        capture_output=True,
        text=True,
        env=server_env(),
        check=False,
    )
    return {
        "payments": len(load),
        "acknowledged": len(acknowledged),
        "refused": sum(1 for p in load if p.status not in (None, 200)),
        "unanswered": sum(1 for p in load if p.status is None),
        "acknowledged_lost": len(lost),
        "applied_twice": len(twice),
        "applied_without_answer": sum(1 for k in applied if k not in acknowledged),
        "retries_answering_differently": len(differ),
        "kills": [f"{at:.1f} s: {what}" for at, what in kills.events],
        "max_tries_of_one_payment": max((p.tries for p in load), default=0),
        "trouble_seen_by_the_client": dict(trouble.most_common()),
        "ledger_verify_ok": verify.returncode == 0,
        "ledger_verify": (verify.stdout + verify.stderr).strip().splitlines()[-3:],
    }


def _libpq(url: str) -> str:
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def passed(found: dict[str, Any]) -> bool:
    return bool(
        found["acknowledged_lost"] == 0
        and found["applied_twice"] == 0
        and found["unanswered"] == 0
        and found["retries_answering_differently"] == 0
        and found["ledger_verify_ok"]
    )


def drill(args: Any) -> dict[str, Any]:
    """Run the drill with ``args`` (payments, rate, concurrency, kill_after, restart_after,
    mode, keep); the findings."""
    url = fresh_postgres("tindahan_killnine")
    scratch = Path(tempfile.mkdtemp(prefix="tindahan-killnine-drill-"))
    try:
        tindahan("db", "upgrade", "--db", url)
        operator = tindahan("keys", "create", "--db", url, "--operator").splitlines()[-1]
        port = free_port()
        run = Run(url, port, scratch, Server.start(url, 2, scratch, "on", worker=True, port=port))
        try:
            merchants, buyers = asyncio.run(
                setup(run.server.base, operator, MERCHANTS, BUYERS, None)
            )
            load, kills = asyncio.run(drive(run, merchants, buyers, args))
            differ = asyncio.run(replay(run.server.base, load, buyers, args.concurrency))
        finally:
            run.server.stop()
        found = findings(url, load, differ, kills)
        found["server_restarts"] = run.restarts
        return found
    finally:
        if args.keep:
            print(f"kept {scratch} and {url}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
            drop_postgres(url)


def report(found: dict[str, Any]) -> None:
    lines = [
        f"payments: {found['payments']} sent, {found['acknowledged']} acknowledged, "
        f"{found['refused']} refused, {found['unanswered']} unanswered",
        f"kills: {'; '.join(found['kills'])}",
        f"acknowledged payments lost: {found['acknowledged_lost']} (must be 0)",
        f"payments applied twice: {found['applied_twice']} (must be 0)",
        f"applied without an answer: {found['applied_without_answer']} (must be 0)",
        f"retries with the same key answering differently: "
        f"{found['retries_answering_differently']} (must be 0)",
        f"ledger verify: {'ok' if found['ledger_verify_ok'] else 'FAILED'}"
        f" — {' / '.join(found['ledger_verify'])}",
        f"what the client met: {found['trouble_seen_by_the_client']}",
        "verdict: " + ("passed" if passed(found) else "FAILED"),
    ]
    print("\n".join(lines))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--payments", type=int, default=1_500, help="payments in all")
    parser.add_argument("--rate", type=float, default=100.0, help="payments started a second")
    parser.add_argument("--concurrency", type=int, default=32, help="payments in flight at most")
    parser.add_argument("--kill-after", type=float, default=4.0, help="seconds into the load")
    parser.add_argument(
        "--restart-after", type=float, default=4.0, help="seconds after the worker's kill"
    )
    parser.add_argument("--mode", choices=MODES, default="both", help="what to kill")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the database and folder")
    args = parser.parse_args(argv)
    if args.payments < 1 or args.rate <= 0 or args.concurrency < 1:
        parser.error("--payments, --rate and --concurrency are positive")
    if args.kill_after < 0 or args.restart_after < 0:
        parser.error("--kill-after and --restart-after are >= 0")
    return args


def main() -> None:
    args = parse()
    try:
        found = drill(args)
    except RuntimeError as exc:  # a step of tindahan's that failed
        print(f"drill failed: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    if args.json:
        print(json.dumps(found, indent=2))
    report(found)
    raise SystemExit(0 if passed(found) else 1)


if __name__ == "__main__":
    main()
