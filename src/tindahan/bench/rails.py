"""pacs.008 messages built and validated against the ISO 20022 schema, on one core.

Each message is one InstaPay credit transfer with its own UETR, EndToEndId, amount, names
and accounts, built by ``tindahan.rails.xml.pacs008`` (which validates every document
against ``pacs.008.001.08.xsd`` before returning it): the work of sending one transfer.
A second mode reads messages back (hardened parse, schema validation, extraction): the work
of receiving one. Each run lasts about ``--seconds``; the rate is messages per second of this
process's CPU time (single-threaded, so one core, whatever else the machine runs), with the
wall-clock rate beside it. The target (issue 19) is 2,000 built-and-validated messages/s.

    .venv/bin/python -m tindahan.bench.rails                 # 5 runs of 1 s per mode
    .venv/bin/python -m tindahan.bench.rails --runs 7 --seconds 2 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime

from tindahan.rails import ClearingSystem, CreditTransfer, Party
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.rails.xml import pacs008, read

NAMES = [
    "Aling Nena Store",
    "Juan dela Cruz",
    "Maria Santos",
    "Carinderia ni Mang Tomas",
    "Rosa Mendoza",
    "Bigasan ni Rosa",
    "Ate Lorna",
    "Kuya Ben Bakery",
]
BANKS = ["BNORPHMM", "BOPIPHMM", "MBTCPHMM", "TLBPPHMM", "UBPHPHMM", "GXCHPHM2XXX"]


def transfers(count: int, seed: int = 19) -> list[CreditTransfer]:
    rng = random.Random(seed)
    return [
        CreditTransfer(
            uetr=new_uetr(),
            end_to_end_id=new_reference("E"),
            amount_minor=rng.randrange(100, 5_000_001),
            currency="PHP",
            debtor=Party(rng.choice(NAMES), f"W{rng.randrange(10**9, 10**10)}"),
            debtor_agent="TNDHPHM1XXX",
            creditor=Party(rng.choice(NAMES), f"{rng.randrange(10**11, 10**12)}"),
            creditor_agent=rng.choice(BANKS),
            remittance="payout",
        )
        for _ in range(count)
    ]


def build(transfer: CreditTransfer) -> bytes:
    return pacs008(
        message_id=new_reference("M"),
        created_at=datetime.now(UTC),
        settlement_date=date.today(),
        clearing_system=ClearingSystem.INSTAPAY,
        instructing_agent="TNDHPHM1XXX",
        instructed_agent="PCHCPHM1XXX",
        transfers=[transfer],
    )


def _run(work: Callable[[int], object], size: int, seconds: float) -> tuple[float, float]:
    """(messages per CPU second, messages per wall second) over about ``seconds``."""
    done = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while time.perf_counter() - wall < seconds:
        for index in range(size):
            work(index)
        done += size
    return done / (time.process_time() - cpu), done / (time.perf_counter() - wall)


def measure(runs: int, seconds: float) -> dict[str, object]:
    corpus = transfers(500)
    built = [build(item) for item in corpus]  # also warms the schema cache
    modes: dict[str, Callable[[int], object]] = {
        "build + validate pacs.008": lambda i: build(corpus[i]),
        "read pacs.008 (parse + validate + extract)": lambda i: read(built[i]),
    }
    results: dict[str, object] = {}
    for name, work in modes.items():
        samples = [_run(work, len(corpus), seconds) for _ in range(runs)]
        cpu = sorted(rate for rate, _ in samples)
        results[name] = {
            "median_per_cpu_second": round(statistics.median(cpu)),
            "range": [round(cpu[0]), round(cpu[-1])],
            "median_per_wall_second": round(statistics.median(w for _, w in samples)),
        }
    return {
        "runs": runs,
        "seconds": seconds,
        "message_bytes_mean": round(sum(map(len, built)) / len(built)),
        "python": platform.python_version(),
        "modes": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, choices=range(1, 101), metavar="1..100")
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    if not 0.05 <= args.seconds <= 60:
        parser.error("--seconds is between 0.05 and 60")
    report = measure(args.runs, args.seconds)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{'mode':<44} {'msgs/s CPU (median)':>20} {'range':>15} {'msgs/s wall':>12}")
    modes = report["modes"]
    assert isinstance(modes, dict)
    for name, row in modes.items():
        low, high = row["range"]
        print(
            f"{name:<44} {row['median_per_cpu_second']:>20,} {f'{low:,}–{high:,}':>15} "
            f"{row['median_per_wall_second']:>12,}"
        )
    print(
        f"({report['runs']} runs of {report['seconds']} s, "
        f"{report['message_bytes_mean']} bytes a message, Python {report['python']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
