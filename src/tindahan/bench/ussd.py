"""USSD steps under 200 concurrent sessions on PostgreSQL (issue 24's target: p99 ≤ 50 ms;
aggregators drop a session whose step waits about 1–2 s).

A fresh PostgreSQL database (``tindahan db upgrade``) gets a store and ``--sessions``
customers, each with a phone number, a PIN (Argon2id, as every login's) and ₱10,000, made
through the services in this process (with the same data key as the server); then
``tindahan serve --no-worker`` runs as a subprocess and ``--sessions`` asyncio tasks — one
phone each — walk sessions one after another, as an aggregator relays them: the menu, the
balance (two steps), then paying the store ₱20 by its merchant code (five steps, the last
with the PIN). Every step is one ``POST /ussd``; a ``CON``/``END`` answer of the expected
kind counts, anything else is an error. Steps answered within the measured window count,
after a warm-up; latency is reported at p50/p99 (nearest rank) for all steps, for the
steps without a PIN, and for the PIN steps (the last of each payment: Argon2 verifies the
PIN, then the payment books), because the two differ by the hash's deliberate cost.

    .venv/bin/python -m tindahan.bench.ussd                     # 1 run of 20 s
    .venv/bin/python -m tindahan.bench.ussd --runs 3 --json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform as host
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

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
PIN = "240816"
OPERATOR = Caller("bench", None, frozenset(DEFAULT_SCOPES))


def phone_of(n: int) -> str:
    return f"+63917{n:07d}"


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
        for n in range(sessions):
            new = parties.NewParty("customer", f"Bench Buyer {n}", phone=phone_of(n))

            def made(unit: Any, new: parties.NewParty = new, n: int = n) -> None:
                party = parties.create(unit, OPERATOR, new)
                logins.create(unit, OPERATOR, party_id=party["id"], phone=phone_of(n), secret=PIN)
                found = wallets.list_wallets(unit, OPERATOR, 10, None, party["id"])["data"]
                main = next(w["id"] for w in found if w["kind"] == "main")
                cash.fund(unit, OPERATOR, main, 1_000_000, "PHP", None)

            platform.run(made)
        code = short_code(platform, merchant)
        assert code is not None
        return code
    finally:
        database.dispose()


async def drive(base: str, code: str, args: argparse.Namespace) -> dict[str, Any]:
    now = time.perf_counter_ns()
    start = now + int(args.warmup * 1e9)
    end = start + int(args.duration * 1e9)
    plain: list[int] = []
    with_pin: list[int] = []
    errors: dict[str, int] = {}
    walks = [(["", "1"], [False, False]), (["", "3", code, "20", PIN], [False] * 4 + [True])]

    async def phone(client: httpx.AsyncClient, n: int) -> None:
        turn = n
        while time.perf_counter_ns() < end:
            steps, pins = walks[turn % 2]
            turn += 1
            session = "bench-" + secrets.token_hex(8)
            for depth in range(1, len(steps) + 1):
                typed = steps[1:depth]
                form = {
                    "sessionId": session,
                    "serviceCode": "*143#",
                    "phoneNumber": phone_of(n),
                    "text": "*".join(typed),
                }
                began = time.perf_counter_ns()
                try:
                    response = await client.post("/ussd", data=form)
                except httpx.TransportError as exc:  # counted, and the phone dials again
                    label = f"transport {type(exc).__name__}"
                    errors[label] = errors.get(label, 0) + 1
                    break
                done = time.perf_counter_ns()
                last = depth == len(steps)
                good = response.status_code == 200 and response.text.startswith(
                    "END " if last else "CON "
                )
                if last and steps[1] == "3":
                    good = good and response.text.startswith("END Paid")
                if start <= done <= end:
                    if good:
                        (with_pin if pins[depth - 1] else plain).append(done - began)
                    else:
                        label = f"{response.status_code} {response.text[:80]}"
                        errors[label] = errors.get(label, 0) + 1
                if not good:
                    break

    limits = httpx.Limits(max_connections=args.sessions)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await asyncio.gather(*[phone(client, n) for n in range(args.sessions)])

    def rank(values: list[int], share: float) -> float:
        ordered = sorted(values)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] / NS_PER_MS

    every = plain + with_pin
    return {
        "steps": len(every),
        "steps_per_s": len(every) / args.duration,
        "errors": errors,
        "p50_ms": rank(every, 0.50),
        "p99_ms": rank(every, 0.99),
        "no_pin_p50_ms": rank(plain, 0.50),
        "no_pin_p99_ms": rank(plain, 0.99),
        "pin_steps": len(with_pin),
        "pin_p50_ms": rank(with_pin, 0.50),
        "pin_p99_ms": rank(with_pin, 0.99),
    }


def run_once(args: argparse.Namespace) -> dict[str, Any]:
    api_bench.STARTUP_TIMEOUT_S = args.startup
    url = fresh_postgres()
    server = None
    try:
        with tempfile.TemporaryDirectory(prefix="tindahan-ussd-bench-") as scratch:
            tindahan("db", "upgrade", "--db", url)
            code = prepare(url, args.sessions)
            server = Server.start(url, args.workers, Path(scratch))
            return asyncio.run(drive(server.base, code, args))
    finally:
        if server is not None:
            server.stop()
        drop_postgres(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--sessions", type=int, default=200, help="concurrent sessions")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--startup", type=int, default=300, help="seconds to wait for serve")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ["TINDAHAN_DATA_KEY"] = api_bench.DATA_KEY  # the server's (``server_env``)
    runs = [run_once(args) for _ in range(args.runs)]
    summary = {
        "runs": runs,
        "median_p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "median_no_pin_p99_ms": statistics.median(r["no_pin_p99_ms"] for r in runs),
        "median_pin_p99_ms": statistics.median(r["pin_p99_ms"] for r in runs),
        "target_p99_ms": TARGET_P99_MS,
        "sessions": args.sessions,
        "workers": args.workers,
        "python": host.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    for n, r in enumerate(runs, 1):
        print(
            f"run {n}: {r['steps']} steps ({r['steps_per_s']:.0f}/s), p50 {r['p50_ms']:.1f} ms, "
            f"p99 {r['p99_ms']:.1f} ms; without PIN p99 {r['no_pin_p99_ms']:.1f} ms; "
            f"PIN steps {r['pin_steps']}, p50 {r['pin_p50_ms']:.1f} ms, p99 "
            f"{r['pin_p99_ms']:.1f} ms; errors {sum(r['errors'].values())}"
        )
        for label, count in sorted(r["errors"].items()):
            print(f"  {count} × {label}")
    print(
        f"median p99 {summary['median_p99_ms']:.1f} ms (target ≤ {TARGET_P99_MS} ms) under "
        f"{args.sessions} concurrent sessions; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
