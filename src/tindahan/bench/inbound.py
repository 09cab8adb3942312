"""Inbound credit transfers end to end through the API on PostgreSQL (issue 19's target:
at least 300 a second).

Each run gets a fresh PostgreSQL database (``tindahan db upgrade``), an operator key, and
``tindahan serve --workers 2 --no-worker`` as a subprocess with ``TINDAHAN_RAILS_SECRET``
set, as the clearing switch's door needs. Through the API it makes an unlimited KYC tier
and ``--wallets`` customers on it; then ``--concurrency`` asyncio tasks post, one after
another, signed pacs.008 messages (one InstaPay transfer each, a fresh UETR, to a random
wallet, ₱1 to ₱1,000) to ``POST /v1/rails/messages``, as a clearing house would. Each
request is the whole path: signature check, hardened parse and XSD validation of the
pacs.008, the wallet found, the tier's limits, the row (the exactly-once), the ledger
transfer through the risk gate, the event, and the pacs.002 built and validated. A 200
whose pacs.002 says ``ACSC`` counts; anything else is an error. After a warm-up, transfers
that complete within the measured window count: transfers/s over the window, p50/p99
latency (nearest rank), and the server's CPU per credit: the CPU time of every process of
the server (its workers) over the window, divided by the credits — steadier than
transfers/s on a shared machine. The messages are built before the clock starts (building
one is the sender's work, not ours). ``--runs N`` measures N windows, one after another, on
the same database and server (started once: the start-up, not the credit, is what takes
long on a loaded machine), each after its own warm-up, and reports the median of each
figure; ``--fresh`` starts a fresh database and server for each run instead.

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
    Server,
    drop_postgres,
    fresh_postgres,
    make_party,
    post,
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


def group_cpu_s(group: int) -> float | None:
    """CPU seconds (user + system) of every live process in process group ``group`` (the
    server and its workers); None where ``/proc`` does not say."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


async def drive(
    base: str, ready: list[bytes], args: argparse.Namespace, group: int | None = None
) -> dict[str, Any]:
    """Closed loop: each task posts its next message when the last one was answered."""
    now = time.perf_counter_ns()
    start, end = now + args.warmup * NS_PER_S, now + (args.warmup + args.duration) * NS_PER_S
    cpu_at: dict[str, float | None] = {}

    async def mark() -> None:
        for name, at in (("start", start), ("end", end)):
            await asyncio.sleep(max(0.0, (at - time.perf_counter_ns()) / NS_PER_S))
            cpu_at[name] = None if group is None else group_cpu_s(group)

    latencies: list[int] = []
    errors: dict[str, int] = {}
    queue = iter(ready)

    async def task(client: httpx.AsyncClient) -> None:
        while time.perf_counter_ns() < end:
            data = next(queue, None)
            if data is None:
                return
            headers = {
                "Tindahan-Signature": sign(SECRET, int(time.time()), data),
                "Content-Type": "application/xml",
            }
            began = time.perf_counter_ns()
            response = await client.post("/v1/rails/messages", content=data, headers=headers)
            done = time.perf_counter_ns()
            if not start <= done <= end:
                continue
            if response.status_code == 200 and b"<TxSts>ACSC</TxSts>" in response.content:
                latencies.append(done - began)
            else:
                label = f"{response.status_code} {response.text[:200]}"
                errors[label] = errors.get(label, 0) + 1

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(mark(), *[task(client) for _ in range(args.concurrency)])
    latencies.sort()
    began_cpu, ended_cpu = cpu_at.get("start"), cpu_at.get("end")
    cpu_ms = (
        None
        if began_cpu is None or ended_cpu is None or not latencies
        else (ended_cpu - began_cpu) * 1000 / len(latencies)
    )

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
        "server_cpu_ms_per_credit": cpu_ms,
        "ran_out": next(queue, None) is None,
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
            for window in range(windows):
                ready = messages(wallets, needed, seed=19 + window)
                group = server.process.pid  # its own session: the group of all its processes
                results.append(asyncio.run(drive(server.base, ready, args, group)))
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
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.fresh:
        runs = [run for _ in range(args.runs) for run in run_windows(args, 1)]
    else:
        runs = run_windows(args, args.runs)
    cpus = [r["server_cpu_ms_per_credit"] for r in runs if r["server_cpu_ms_per_credit"]]
    summary = {
        "runs": runs,
        "median_per_s": statistics.median(r["per_s"] for r in runs),
        "median_p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "median_p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "median_server_cpu_ms_per_credit": statistics.median(cpus) if cpus else None,
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
            f"p99 {run['p99_ms']:.1f} ms  server CPU {_ms(run['server_cpu_ms_per_credit'])}/credit"
            f"  errors {sum(run['errors'].values())}"
            + ("  (ran out of messages)" if run["ran_out"] else "")
        )
        for label, count in run["errors"].items():
            print(f"   {count} × {label}")
    print(
        f"median of {len(runs)}: {summary['median_per_s']:.0f} inbound transfers/s "
        f"(target ≥ {TARGET_PER_S}), p50 {summary['median_p50_ms']:.1f} ms, "
        f"p99 {summary['median_p99_ms']:.1f} ms, server CPU "
        f"{_ms(summary['median_server_cpu_ms_per_credit'])}/credit; {args.workers} workers; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    sys.exit(0)


def _ms(value: float | None) -> str:
    return "?" if value is None else f"{value:.2f} ms"


if __name__ == "__main__":
    main()
