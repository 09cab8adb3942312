"""A full day's statement read and matched, on one core: the part of ``tindahan rails
reconcile`` that grows with the day.

A camt.053 of ``--entries`` movements (default ``limits.MAX_RAIL_TRANSACTIONS``, the most one
message may carry) as the switch builds it — each with its UETR, EndToEndId, amount,
direction and parties — is read (hardened parse, schema validation, extraction: what
``reconciliation.read_statement`` does), then matched against as many movements of ours
(``rails.reconciliation.reconcile``), a few of them changed so that each kind of break is
found. The loading of our movements is one indexed query and is not measured here. Times
are per run in milliseconds, the median and range of ``--runs``: of this process's CPU time
(single-threaded: one core, whatever else the machine runs) and, beside it, wall-clock.

    .venv/bin/python -m tindahan.bench.reconcile               # 5 runs of 10,000 entries
    .venv/bin/python -m tindahan.bench.reconcile --entries 2000 --runs 7 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime

from tindahan import limits
from tindahan.rails import Entry, Party
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.rails.reconciliation import Movement, reconcile
from tindahan.rails.xml import camt053, read

DAY = date(2026, 9, 1)


def entries(count: int, seed: int = 19) -> list[Entry]:
    rng = random.Random(seed)
    return [
        Entry(
            amount_minor=rng.randrange(100, 5_000_001),
            currency="PHP",
            credit=rng.random() < 0.1,
            booking_date=DAY,
            uetr=new_uetr(),
            end_to_end_id=new_reference("E"),
            debtor=Party("Juan dela Cruz", f"W{rng.randrange(10**9, 10**10)}"),
            creditor=Party("Aling Nena Store", f"{rng.randrange(10**11, 10**12)}"),
            reference=new_reference("B"),
        )
        for _ in range(count)
    ]


def statement(items: list[Entry]) -> bytes:
    return camt053(
        message_id=new_reference("STMT"),
        created_at=datetime(2026, 9, 1, 16, tzinfo=UTC),
        account="TNDHPHM1XXX",
        statement_id="TNDHPHM1XXX-2026-09-01",
        opening_minor=0,
        closing_minor=sum(e.amount_minor if e.credit else -e.amount_minor for e in items),
        currency="PHP",
        statement_date=DAY,
        entries=items,
    )


def ours(items: list[Entry]) -> list[Movement]:
    """Our side: the same movements, but one in a hundred changed in amount or missing."""
    found = []
    for index, item in enumerate(items):
        mine = Movement(
            item.uetr, item.end_to_end_id, item.amount_minor, "PHP", item.credit, DAY, f"t{index}"
        )
        if index % 100 == 1:
            mine = replace(mine, amount_minor=mine.amount_minor + 1)
        if index % 100 != 2:
            found.append(mine)
    return found


def run(count: int, runs: int) -> dict[str, object]:
    items = entries(count)
    data = statement(items)
    mine = ours(items)
    read_ms, match_ms, wall_ms = [], [], []
    breaks = 0
    for _ in range(runs):
        wall = time.perf_counter_ns()
        started = time.process_time_ns()
        message = read(data)
        theirs = [
            Movement(
                t.uetr,
                t.end_to_end_id,
                t.amount_minor or 0,
                t.currency or "PHP",
                t.credit_debit == "CRDT",
                t.booking_date or DAY,
                t.reference,
            )
            for t in message.transactions
        ]
        read_at = time.process_time_ns()
        result = reconcile(DAY, mine, theirs, mine)
        done = time.process_time_ns()
        read_ms.append((read_at - started) // 10**6)
        match_ms.append((done - read_at) // 10**6)
        wall_ms.append((time.perf_counter_ns() - wall) // 10**6)
        breaks = len(result.breaks)
    return {
        "entries": count,
        "statement_bytes": len(data),
        "breaks": breaks,
        "read_ms_median": statistics.median(read_ms),
        "read_ms_range": [min(read_ms), max(read_ms)],
        "match_ms_median": statistics.median(match_ms),
        "match_ms_range": [min(match_ms), max(match_ms)],
        "wall_ms_median": statistics.median(wall_ms),
        "runs": runs,
        "python": platform.python_version(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=limits.MAX_RAIL_TRANSACTIONS)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not 1 <= args.entries <= limits.MAX_RAIL_TRANSACTIONS or not 1 <= args.runs <= 100:
        print(f"--entries is 1 to {limits.MAX_RAIL_TRANSACTIONS}, --runs 1 to 100", file=sys.stderr)
        return 2
    result = run(args.entries, args.runs)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
