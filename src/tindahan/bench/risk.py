"""Speed and quality of the AML and fraud rules (``tindahan.risk``) on labelled traffic.

Generates a barangay's ordinary movements with injected typologies (``risk.typologies``),
then:

* **speed** — runs the shipped rule set over all of them, ``--runs`` times, each on a fresh
  engine, and reports movements per second by the process's CPU time (one core: the engine
  is single-threaded, and CPU time is not inflated by other work on a shared machine) and by
  wall time; also reading the same movements from CSV (``risk.events``), as ``tindahan risk
  evaluate`` does;
* **quality** — per typology, the recall (injected instances with at least one movement
  flagged) and the precision of the rule meant for it (its alerts on movements of some
  injected instance, over all its alerts).

    .venv/bin/python -m tindahan.bench.risk                 # 5 runs, 1,000 customers, 180 days
    .venv/bin/python -m tindahan.bench.risk --customers 2000 --json
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import platform
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime

from tindahan.risk import events, ruleset, typologies
from tindahan.risk.engine import Engine, Verdict
from tindahan.risk.movement import Decision, Movement


def speed(movements: list[Movement], runs: int) -> dict[str, object]:
    rules = ruleset.default()
    cpu, wall = [], []
    for _ in range(runs):
        engine = Engine(rules)
        c0, w0 = time.process_time(), time.perf_counter()
        engine.run(movements)
        cpu.append(len(movements) / (time.process_time() - c0))
        wall.append(len(movements) / (time.perf_counter() - w0))
    return {
        "median_cpu": round(statistics.median(cpu)),
        "median_wall": round(statistics.median(wall)),
        "min_cpu": round(min(cpu)),
        "max_cpu": round(max(cpu)),
    }


def as_csv(movements: list[Movement]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(events.COLUMNS)
    for m in movements:
        moment = datetime.fromtimestamp(m.at, UTC).isoformat()
        writer.writerow(
            [m.id, moment, m.kind.value, m.sender, m.receiver, m.amount_minor, m.currency]
        )
    return buffer.getvalue()


def reading(movements: list[Movement], runs: int) -> int:
    text = as_csv(movements)
    rates = []
    for _ in range(runs):
        c0 = time.process_time()
        events.read(io.StringIO(text, newline=""), "bench.csv")
        rates.append(len(movements) / (time.process_time() - c0))
    return round(statistics.median(rates))


def quality(
    data: list[typologies.Labelled], verdicts: list[Verdict]
) -> dict[str, dict[str, object]]:
    label = {d.movement.id: d for d in data}
    caught: dict[str, set[int]] = defaultdict(set)
    for v in verdicts:
        item = label[v.movement_id]
        if v.decision is not Decision.ALLOW and item.typology:
            caught[item.typology].add(item.instance)
    instances: dict[str, set[int]] = defaultdict(set)
    for d in data:
        if d.typology:
            instances[d.typology].add(d.instance)
    out: dict[str, dict[str, object]] = {}
    for typology in typologies.TYPOLOGIES:
        rule = typologies.RULE_OF[typology]
        hits = [a for v in verdicts for a in v.alerts if a.rule == rule]
        true = sum(1 for a in hits if label[a.movement_id].typology)
        out[typology] = {
            "instances": len(instances[typology]),
            "recall": round(len(caught[typology]) / max(1, len(instances[typology])), 3),
            "rule": rule,
            "alerts": len(hits),
            "precision": round(true / len(hits), 3) if hits else None,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--customers", type=int, default=1000, help="customers (default 1000)")
    parser.add_argument("--days", type=int, default=180, help="days of traffic (default 180)")
    parser.add_argument("--instances", type=int, default=25, help="instances of each typology")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.customers < 10 or args.days < 150 or args.instances < 1:
        parser.error("--runs ≥ 1, --customers ≥ 10, --days ≥ 150 (dormancy), --instances ≥ 1")

    data = typologies.generate(args.customers, args.days, args.instances)
    movements = [d.movement for d in data]
    verdicts = Engine(ruleset.default()).run(movements)
    result = {
        "command": "python -m tindahan.bench.risk"
        + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        "python": platform.python_version(),
        "movements": len(movements),
        "evaluate": speed(movements, args.runs),
        "read_csv_per_s": reading(movements, max(1, args.runs // 2)),
        "quality": quality(data, verdicts),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    e = result["evaluate"]
    assert isinstance(e, dict)
    print(f"{len(movements):,} movements; Python {result['python']}; {args.runs} runs")
    print()
    print("| Command | Evaluate, movements/s (CPU, median) | Range | Wall median | Read CSV/s |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| `{result['command']}` | {e['median_cpu']:,} | {e['min_cpu']:,}–{e['max_cpu']:,} "
        f"| {e['median_wall']:,} | {result['read_csv_per_s']:,} |"
    )
    print()
    print("| Typology | Instances | Recall | Rule | Its alerts | Precision |")
    print("|---|---:|---:|---|---:|---:|")
    q = result["quality"]
    assert isinstance(q, dict)
    for typology, row in q.items():
        print(
            f"| {typology} | {row['instances']} | {row['recall']} | {row['rule']} "
            f"| {row['alerts']} | {row['precision']} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
