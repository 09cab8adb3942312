"""Screening one name against a 10,000-entry list: the time per name.

Builds a list of ``--entries`` invented names (Filipino given names, particles and
surnames, some foreign names, a third with an alias), indexes it once, then screens
``--queries`` names — half of them variants of listed names (order, particles, accents,
suffixes), half names not on the list — timing each. Reports the median and the 99th
percentile in milliseconds, by wall clock and by the process's CPU time (on a
shared machine the wall clock also counts other people's work); the issue's target is 5 ms
for one name against 10,000 entries.

    .venv/bin/python -m tindahan.bench.screening
    .venv/bin/python -m tindahan.bench.screening --entries 10000 --queries 500 --json
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time

from tindahan.risk.lists import Entry
from tindahan.risk.screening import Index

GIVEN = [
    "Juan",
    "Jose",
    "Maria",
    "Ana",
    "Pedro",
    "Luz",
    "Rosa",
    "Carlos",
    "Elena",
    "Ramon",
    "Teresita",
    "Rodrigo",
    "Imelda",
    "Andres",
    "Gloria",
    "Emilio",
    "Corazon",
    "Benigno",
    "Josefa",
    "Antonio",
    "Mohamad",
    "Ahmed",
    "Omar",
    "Ivan",
    "Kim",
    "Li",
]
SURNAMES = [
    "Cruz",
    "Santos",
    "Reyes",
    "Garcia",
    "Mendoza",
    "Bautista",
    "Ocampo",
    "Aquino",
    "Ramos",
    "Villanueva",
    "Castillo",
    "Rivera",
    "Flores",
    "Navarro",
    "Pascual",
    "Salazar",
    "Soriano",
    "Tolentino",
    "Abad",
    "Dizon",
    "Rizal",
    "Mabini",
    "Bonifacio",
    "Ali",
    "Hassan",
    "Park",
    "Chen",
]
PARTICLES = ["", "", "", "dela ", "de los ", "del ", "San ", "Sto. "]


def invented(rng: random.Random, count: int) -> list[Entry]:
    entries = []
    for i in range(count):
        given = " ".join(rng.sample(GIVEN, rng.choice((1, 2))))
        surname = rng.choice(PARTICLES) + rng.choice(SURNAMES)
        names = [f"{given} {surname}"]
        if i % 3 == 0:
            names.append(
                f"{rng.choice(GIVEN)} {rng.choice(SURNAMES)}{rng.choice(SURNAMES).lower()}"
            )
        entries.append(Entry("bench", f"E{i}", "individual", tuple(names)))
    return entries


def queries(rng: random.Random, entries: list[Entry], count: int) -> list[str]:
    out = []
    for i in range(count):
        if i % 2:
            out.append(f"{rng.choice(GIVEN)}o {rng.choice(SURNAMES)}-{rng.choice(SURNAMES)} Jr.")
            continue
        name = rng.choice(entries).names[0]
        words = name.split()
        out.append(f"{words[-1]}, {' '.join(words[:-1])}".upper() if i % 4 == 0 else name + " III")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entries", type=int, default=10_000, help="list size (10,000)")
    parser.add_argument("--queries", type=int, default=400, help="names screened (400)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.entries < 1 or args.queries < 2:
        parser.error("--entries ≥ 1 and --queries ≥ 2")
    rng = random.Random(1267)
    entries = invented(rng, args.entries)
    start = time.perf_counter()
    index = Index(entries)
    build_ms = (time.perf_counter() - start) * 1000
    names = queries(rng, entries, args.queries)
    times, cpu, hits = [], [], 0
    for name in names:
        c0, t0 = time.process_time(), time.perf_counter()
        hits += bool(index.screen(name))
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    times.sort()
    cpu.sort()
    result = {
        "command": "python -m tindahan.bench.screening"
        + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        "python": platform.python_version(),
        "entries": args.entries,
        "names_indexed": len(index.keys),
        "queries": len(names),
        "with_a_hit": hits,
        "build_ms": round(build_ms, 1),
        "median_ms": round(statistics.median(times), 3),
        "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 3),
        "max_ms": round(times[-1], 3),
        "cpu_median_ms": round(statistics.median(cpu), 3),
        "cpu_p99_ms": round(cpu[min(len(cpu) - 1, int(len(cpu) * 0.99))], 3),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{args.entries:,} entries ({len(index.keys):,} names with aliases), indexed in "
        f"{result['build_ms']} ms; {len(names)} names screened, {hits} with a candidate"
    )
    print()
    print("| Command | Median ms/name | p99 ms | Max ms | CPU median ms | CPU p99 ms |")
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| `{result['command']}` | {result['median_ms']} | {result['p99_ms']} "
        f"| {result['max_ms']} | {result['cpu_median_ms']} | {result['cpu_p99_ms']} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
