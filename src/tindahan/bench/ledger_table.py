"""Run `tindahan ledger bench` over the README's configurations and print the table.

Each configuration runs RUNS times, each on a fresh database; the table shows the median
and the spread, and the hot-account rows show their ratio to the run without a hot account
measured in the same go (machines are shared and noisy: compare within one go only).

    .venv/bin/python -m tindahan.bench.ledger_table            # all rows (needs PostgreSQL)
    .venv/bin/python -m tindahan.bench.ledger_table --sqlite   # SQLite rows only
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
PG = os.environ.get("TINDAHAN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
TINDAHAN = str(Path(sys.executable).with_name("tindahan"))

SQLITE_ROWS = [
    ("SQLite, 1 client, batches of 1,000", None, 100_000, 1, 1_000, 1_000, "0"),
    (
        "SQLite, 1 client, batches of 1,000, half to one hot account",
        None,
        100_000,
        1,
        1_000,
        1_000,
        "0.5",
    ),
    ("SQLite, 1 client, unbatched", None, 5_000, 1, 1_000, 1, "0"),
]
PG_ROWS = [
    ("PostgreSQL, 8 clients, unbatched", "pg", 20_000, 8, 10_000, 1, "0"),
    (
        "PostgreSQL, 8 clients, unbatched, half to one hot account",
        "pg",
        20_000,
        8,
        10_000,
        1,
        "0.5",
    ),
    ("PostgreSQL, 1 client, batches of 1,000", "pg", 100_000, 1, 10_000, 1_000, "0"),
]


def fresh_postgres() -> str:
    name = f"tindahan_bench_{secrets.token_hex(3)}"
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return PG.rsplit("/", 1)[0] + "/" + name


def drop_postgres(url: str) -> None:
    with psycopg.connect(PG, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def once(
    db: str | None, transfers: int, clients: int, accounts: int, batch: int, hot: str
) -> dict[str, Any]:
    url = fresh_postgres() if db == "pg" else None
    args = [
        TINDAHAN,
        "ledger",
        "bench",
        "--transfers",
        str(transfers),
        "--clients",
        str(clients),
        "--accounts",
        str(accounts),
        "--batch",
        str(batch),
        "--hot",
        hot,
        "--json",
    ]
    if url:
        args += ["--db", url]
    try:
        done = subprocess.run(args, capture_output=True, text=True, check=True)
    finally:
        if url:
            drop_postgres(url)
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def command(
    db: str | None, transfers: int, clients: int, accounts: int, batch: int, hot: str
) -> str:
    where = " --db postgresql://…" if db else ""
    return (
        f"tindahan ledger bench{where} --transfers {transfers} --clients {clients} "
        f"--accounts {accounts} --batch {batch} --hot {hot} --json"
    )


def main() -> None:
    rows = SQLITE_ROWS + ([] if "--sqlite" in sys.argv else PG_ROWS)
    print(
        f"| configuration | transfers/s (median of {RUNS}) | range | p50 ms | p99 ms "
        "| vs. no hot account | invariants |"
    )
    print("|---|---|---|---|---|---|---|")
    baseline: dict[tuple[Any, ...], int] = {}
    commands = []
    for label, db, transfers, clients, accounts, batch, hot in rows:
        results = [once(db, transfers, clients, accounts, batch, hot) for _ in range(RUNS)]
        rates = [r["transfers_per_s"] for r in results]
        median = int(statistics.median(rates))
        key = (db, clients, batch)
        ratio = "—"
        if hot == "0":
            baseline[key] = median
        elif key in baseline:
            ratio = f"{median / baseline[key]:.2f}×"
        ok = all(r["invariants_ok"] for r in results)
        p50 = statistics.median(r["p50_ms"] for r in results)
        p99 = statistics.median(r["p99_ms"] for r in results)
        print(
            f"| {label} | {median:,} | {min(rates):,}–{max(rates):,} | {p50} | {p99} | {ratio} | "
            f"{'hold' if ok else 'BROKEN'} |",
            flush=True,
        )
        commands.append(command(db, transfers, clients, accounts, batch, hot))
    print()
    for c in commands:
        print(f"    {c}")


if __name__ == "__main__":
    main()
