"""Inbound credit transfers end to end through the API on PostgreSQL (issue 19's target:
at least 300 a second).

Each run gets a fresh PostgreSQL database (``tindahan db upgrade``), an operator key, and
``tindahan serve --workers 2 --no-worker`` as a subprocess with ``TINDAHAN_RAILS_SECRET``
set, as the clearing switch's door needs. Through the API it makes an unlimited KYC tier
and ``--wallets`` customers on it; then ``--concurrency`` asyncio tasks (on uvloop when it
is there) post, one after another, signed pacs.008 messages (one InstaPay transfer each, a
fresh UETR, to a random wallet, ₱1 to ₱1,000) to ``POST /v1/rails/messages``, as a clearing
house would. Each request is the whole path: signature check, hardened parse and XSD
validation of the pacs.008, the wallet found, the tier's limits, the row (the
exactly-once), the ledger transfer through the risk gate, the event, and the pacs.002 built
and validated. A 200 whose pacs.002 says ``ACSC`` counts; anything else is an error. After
a warm-up, transfers that complete within the measured window count: transfers/s over the
window, p50/p99 latency (nearest rank), and the server's CPU per credit: the CPU time of
every process of the server (its workers) over the window, divided by the credits —
steadier than transfers/s on a shared machine — and beside it PostgreSQL's backends' and
the load generator's own CPU a credit, and how busy the machine was. The load generator is
by default a hand-written HTTP/1.1 keep-alive client (``bench.api.RawPost``, a connection
per task): the switch is another machine in life, and httpx (``--client httpx``, the client
until 2026-12-07) cost about 2 ms of the same two cores a request. The messages are built
before the clock starts (building one is the sender's work, not ours). ``--runs N``
measures N windows, one after another, on the same database and server (started once: the
start-up, not the credit, is what takes long on a loaded machine), each after its own
warm-up, and reports the median of each figure; ``--fresh`` starts a fresh database and
server for each run instead.

    .venv/bin/python -m tindahan.bench.inbound                 # 3 windows of 10 s, 2 workers
    .venv/bin/python -m tindahan.bench.inbound --runs 5 --duration 15 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

from tindahan.bench import api as api_bench
from tindahan.bench.api import (
    CpuWatcher,
    RawPost,
    Server,
    Snapshot,
    cpu_spent,
    drop_postgres,
    fresh_postgres,
    make_party,
    post,
    run_loop,
    tindahan,
)
from tindahan.rails import ClearingSystem, CreditTransfer, Party
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.rails.xml import pacs008
from tindahan.webhooks.signature import sign

SECRET = "tindahan-bench-inbound-switch-secret"  # noqa: S105 (a throwaway for the bench)
TARGET_PER_S = 300
NS_PER_S = 10**9
BDO = "BNORPHMMXXX"
OURS = "TNDHPHM1XXX"


def messages(wallets: list[str], count: int, seed: int = 19) -> list[bytes]:
    """``count`` distinct one-transfer pacs.008 messages to random wallets."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    built = []
    for _ in range(count):
        transfer = CreditTransfer(
            uetr=new_uetr(),
            end_to_end_id=new_reference("BDO"),
            amount_minor=rng.randrange(100, 100_001),
            currency="PHP",
            debtor=Party("Maria Santos", "001234567890"),
            debtor_agent=BDO,
            creditor=Party("Bench Customer", rng.choice(wallets)),
            creditor_agent=OURS,
        )
        built.append(
            pacs008(
                message_id=new_reference("M"),
                created_at=now,
                settlement_date=date.today(),
                clearing_system=ClearingSystem.INSTAPAY,
                instructing_agent=BDO,
                instructed_agent=OURS,
                transfers=[transfer],
            )
        )
    return built


async def setup(base: str, operator: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await post(client, "/v1/kyc_tiers/bench", operator, {})  # no limit at all
        gate = asyncio.Semaphore(8)

        async def one(n: int) -> str:
            async with gate:
                body = {"kind": "customer", "name": f"Bench Customer {n}", "tier": "bench"}
                return (await make_party(client, operator, body, False))["wallet"]

        return list(await asyncio.gather(*[one(n) for n in range(count)]))


class HttpxSend:
    """``--client httpx``: one httpx.AsyncClient for every task (about 2 ms of the shared
    cores' CPU a request here: the load generator competing with the server it measures)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def send(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        response = await self.client.post(path, content=body, headers=headers)
        return response.status_code, response.content


async def drive(
    base: str, ready: list[bytes], args: argparse.Namespace, watcher: CpuWatcher | None = None
) -> dict[str, Any]:
    """Closed loop: each task posts its next message when the last one was answered."""
    now = time.perf_counter_ns()
    start, end = now + args.warmup * NS_PER_S, now + (args.warmup + args.duration) * NS_PER_S
    snapshots: list[Snapshot] = []

    async def mark() -> None:
        for at in (start, end):
            await asyncio.sleep(max(0.0, (at - time.perf_counter_ns()) / NS_PER_S))
            if watcher is not None:
                snapshots.append(await asyncio.to_thread(watcher.snapshot))

    latencies: list[int] = []
    errors: dict[str, int] = {}
    queue = iter(ready)

    async def task(sender: HttpxSend | RawPost) -> None:
        while time.perf_counter_ns() < end:
            data = next(queue, None)
            if data is None:
                return
            headers = {
                "Tindahan-Signature": sign(SECRET, int(time.time()), data),
                "Content-Type": "application/xml",
            }
            began = time.perf_counter_ns()
            code, answer = await sender.send("/v1/rails/messages", data, headers)
            done = time.perf_counter_ns()
            if not start <= done <= end:
                continue
            if code == 200 and b"<TxSts>ACSC</TxSts>" in answer:
                latencies.append(done - began)
            else:
                label = f"{code} {answer[:200].decode(errors='replace')}"
                errors[label] = errors.get(label, 0) + 1

    if args.client == "httpx":
        limits = httpx.Limits(max_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
            sender = HttpxSend(client)
            await asyncio.gather(mark(), *[task(sender) for _ in range(args.concurrency)])
    else:
        raws = [RawPost(base) for _ in range(args.concurrency)]
        try:
            await asyncio.gather(mark(), *[task(raw) for raw in raws])
        finally:
            for raw in raws:
                raw.close()
    latencies.sort()
    cpu = _cpu(snapshots, end - start, len(latencies))

    def rank(share: float) -> float:
        if not latencies:
            return 0.0
        return latencies[min(len(latencies) - 1, int(share * len(latencies)))] / 1e6

    return {
        "per_s": len(latencies) / args.duration,
        "credited": len(latencies),
        "errors": errors,
        "p50_ms": rank(0.50),
        "p99_ms": rank(0.99),
        **cpu,
        "ran_out": next(queue, None) is None,
    }


def _cpu(snapshots: list[Snapshot], window_ns: int, credited: int) -> dict[str, Any]:
    """CPU a credit over the window: the server's processes (its workers), PostgreSQL's
    backends for the bench database, and the load generator (this process); the machine's
    busy share. None where ``/proc`` does not say."""
    if len(snapshots) != 2 or not credited:
        return {
            "server_cpu_ms_per_credit": None,
            "postgres_cpu_ms_per_credit": None,
            "loadgen_cpu_ms_per_credit": None,
            "machine_busy_pct": None,
        }
    spent = cpu_spent(snapshots[0], snapshots[1], window_ns)
    return {
        "server_cpu_ms_per_credit": spent["server_cpu_s"] * 1000 / credited or None,
        "postgres_cpu_ms_per_credit": spent["postgres_cpu_s"] * 1000 / credited,
        "loadgen_cpu_ms_per_credit": spent["loadgen_cpu_s"] * 1000 / credited,
        "machine_busy_pct": spent["machine_busy_pct"],
    }


def run_windows(args: argparse.Namespace, windows: int) -> list[dict[str, Any]]:
    """``windows`` measured windows on one fresh database and one server."""
    os.environ["TINDAHAN_RAILS_SECRET"] = SECRET
    api_bench.STARTUP_TIMEOUT_S = args.startup  # a loaded machine starts workers slowly
    url = fresh_postgres()
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="tindahan-inbound-bench-") as scratch:
            tindahan("db", "upgrade", "--db", url)
            operator = tindahan("keys", "create", "--db", url, "--operator").splitlines()[-1]
            server = Server.start(url, args.workers, Path(scratch))
            wallets = asyncio.run(setup(server.base, operator, args.wallets))
            needed = int((args.warmup + args.duration) * args.budget_per_s)
            results = []
            # the server runs in its own session: the session of all its processes
            watcher = CpuWatcher(server.process.pid, url)
            try:
                for window in range(windows):
                    ready = messages(wallets, needed, seed=19 + window)
                    results.append(run_loop(drive(server.base, ready, args, watcher)))
            finally:
                watcher.close()
            return results
    finally:
        if server is not None:
            server.stop()
        drop_postgres(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--wallets", type=int, default=200)
    parser.add_argument(
        "--budget-per-s", type=int, default=800, help="messages built per second of the run"
    )
    parser.add_argument("--startup", type=int, default=180, help="seconds to wait for serve")
    parser.add_argument(
        "--fresh", action="store_true", help="a fresh database and server for each run"
    )
    parser.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help="the load generator: hand-written HTTP/1.1 (light) or httpx (~2 ms CPU a request)",
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.fresh:
        runs = [run for _ in range(args.runs) for run in run_windows(args, 1)]
    else:
        runs = run_windows(args, args.runs)

    def median_of(name: str) -> float | None:
        found = [r[name] for r in runs if r[name] is not None]
        return statistics.median(found) if found else None

    summary = {
        "runs": runs,
        "median_per_s": statistics.median(r["per_s"] for r in runs),
        "median_p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "median_p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "median_server_cpu_ms_per_credit": median_of("server_cpu_ms_per_credit"),
        "median_postgres_cpu_ms_per_credit": median_of("postgres_cpu_ms_per_credit"),
        "median_loadgen_cpu_ms_per_credit": median_of("loadgen_cpu_ms_per_credit"),
        "client": args.client,
        "workers": args.workers,
        "target_per_s": TARGET_PER_S,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for number, run in enumerate(runs, start=1):
        print(
            f"run {number}: {run['per_s']:.0f} credited/s  p50 {run['p50_ms']:.1f} ms  "
            f"p99 {run['p99_ms']:.1f} ms  CPU a credit: server "
            f"{_ms(run['server_cpu_ms_per_credit'])}"
            f", PostgreSQL {_ms(run['postgres_cpu_ms_per_credit'])}"
            f", load generator {_ms(run['loadgen_cpu_ms_per_credit'])}"
            f"  machine busy {run['machine_busy_pct']} %  errors {sum(run['errors'].values())}"
            + ("  (ran out of messages)" if run["ran_out"] else "")
        )
        for label, count in run["errors"].items():
            print(f"   {count} × {label}")
    print(
        f"median of {len(runs)}: {summary['median_per_s']:.0f} inbound transfers/s "
        f"(target ≥ {TARGET_PER_S}), p50 {summary['median_p50_ms']:.1f} ms, "
        f"p99 {summary['median_p99_ms']:.1f} ms, server CPU "
        f"{_ms(summary['median_server_cpu_ms_per_credit'])}/credit, PostgreSQL "
        f"{_ms(summary['median_postgres_cpu_ms_per_credit'])}, load generator "
        f"{_ms(summary['median_loadgen_cpu_ms_per_credit'])} ({args.client}); "
        f"{args.workers} workers; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    sys.exit(0)


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} ms"


if __name__ == "__main__":
    main()
