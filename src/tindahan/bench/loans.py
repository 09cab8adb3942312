"""The loans' daily close at scale: how long one business day's close takes for a book of
``--loans`` active loans (target: 100,000 loans in under 2 minutes on this machine).

The book is written straight into the tables (bulk inserts, not one acceptance at a time,
which would take longer than the close itself), and into the ledger through the ledger
service (accounts and transfers, so ``verify`` can check the result). It is a stressed
book, the close's worst case:

* 70% weekly loans (8 installments), 20% daily (60), 10% monthly (4), started on days
  spread over the 30 days before the first close, so installments fall due every day;
* every loan accrues interest daily (one ledger transfer per loan per day);
* a third hold a reserve from sales that the close applies to what falls due; nobody
  else pays, so lines fall past due and accrue penalties after 2 days' grace.

A warm-up close (not timed) catches the book up to the first timed day; then each timed
run closes the next business day for every loan. Reported: per-run seconds, the median, and
loans per second. ``--check`` runs ``ledger verify`` at the end.

    .venv/bin/python -m tindahan.bench.loans                     # 100,000 loans, 3 days
    .venv/bin/python -m tindahan.bench.loans --loans 10000 --runs 3 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tindahan.lending.calendar import day_start_ns
from tindahan.services.ledger import verify
from tindahan.services.lending import close as loan_close
from tindahan.services.platform import chart
from tindahan.services.seed.loan_book import FIRST, build_book
from tindahan.services.unit import Platform, SettableClock
from tindahan.store import migrate
from tindahan.store.database import connect
from tindahan.store.vault import Vault


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="timed days, one close each")
    parser.add_argument("--db", help="database URL (default: a scratch SQLite file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="ledger verify at the end")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--workers", type=int, help="threads of the close (default: the worker's, 2 on PostgreSQL)"
    )
    args = parser.parse_args(argv)
    folder = tempfile.mkdtemp(prefix="tindahan-loan-bench-")
    url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
    clock = SettableClock()
    clock.set(day_start_ns(FIRST) - 3600 * 10**9)
    with connect(url, clock=clock) as db:
        migrate.upgrade(db)
        platform = Platform(db, Vault(b"\0" * 32))
        chart.ensure_operator_accounts(platform)
        started = time.perf_counter()
        build_book(
            platform,
            args.loans,
            args.seed,
            lambda done: print(f"  book: {done:,} loans", file=sys.stderr, end="\r"),
        )
        print(file=sys.stderr)
        setup = time.perf_counter() - started
        clock.set(day_start_ns(FIRST + timedelta(days=1)) + 3600 * 10**9)
        workers = args.workers or loan_close.workers_for(platform)
        warm = loan_close.run(platform, FIRST, workers=workers)
        runs, cpu = [], []
        for k in range(1, args.runs + 1):
            day = FIRST + timedelta(days=k)
            clock.set(day_start_ns(day + timedelta(days=1)) + 3600 * 10**9)
            cpu_before = time.process_time()
            report = loan_close.run(platform, day, workers=workers)
            cpu.append(round(time.process_time() - cpu_before, 2))
            runs.append(report.as_dict())
            print(
                f"  close {day}: {report.milliseconds / 1000:.1f} s for {report.loans:,} loans",
                file=sys.stderr,
            )
        checked = verify.verify(db).ok if args.check else None
    seconds = [r["milliseconds"] / 1000 for r in runs]
    median = statistics.median(seconds)
    result = {
        "loans": args.loans,
        "database": "postgresql" if url.startswith("postgres") else "sqlite",
        "setup_seconds": round(setup, 1),
        "warm_up_seconds": round(warm.milliseconds / 1000, 1),
        "runs_seconds": seconds,
        "median_seconds": median,
        "loans_per_second": round(args.loans / median) if median else None,
        # this process's CPU per close: on a shared machine the wall time also counts
        # the other processes' turns (on PostgreSQL the server's CPU is not in it)
        "runs_cpu_seconds": cpu,
        "median_cpu_seconds": statistics.median(cpu) if cpu else None,
        "workers": workers,
        "target_seconds": 120,
        "last_run": runs[-1] if runs else None,
        "verify_ok": checked,
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
