"""The nightly forecast batch (issue 26: 10,000 products in at most 60 s) and the forecast's
error against seasonal-naive on the simulator.

Two measurements, each the median of ``--runs``:

* **batch**: ``forecast.fit`` on every product's history and ``predict`` for ``--horizon``
  days, in memory (the simulated panel is built first, not timed);
* **evaluate**: ``tindahan insights evaluate``'s path from a CSV on disk — read and checked,
  held out, fitted, forecast and compared with seasonal-naive — with the WAPE of both.

    .venv/bin/python -m tindahan.bench.forecast                       # 10,000 products, 2 years
    .venv/bin/python -m tindahan.bench.forecast --products 1000 --runs 1 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from tindahan.insights import evaluate, forecast, sales, simulate


def _timed(runs: int, work: Any) -> tuple[float, float, Any]:
    """Median wall and CPU seconds (the machine is shared: CPU time is the steadier figure)."""
    seconds, cpu, result = [], [], None
    for _ in range(runs):
        began, began_cpu = time.perf_counter(), time.process_time()
        result = work()
        seconds.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    return statistics.median(seconds), statistics.median(cpu), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=730, help="history, from --first")
    parser.add_argument("--first", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--horizon", type=int, default=14)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.products < 1 or args.days <= args.horizon or args.runs < 1:
        parser.error("need --products ≥ 1, --days > --horizon and --runs ≥ 1")
    evaluate.check_horizon(args.horizon)
    data = simulate.panel(args.products, args.days, args.first, seed=args.seed)

    def batch() -> Any:
        fitted = forecast.fit(data.units, data.start, data.first)
        return fitted.predict(args.horizon)

    batch_s, batch_cpu, _ = _timed(args.runs, batch)
    with tempfile.TemporaryDirectory(prefix="forecast-bench-") as folder:
        path = Path(folder) / "sales.csv"
        simulate.frame(data).to_csv(path, index=False)
        csv_mb = path.stat().st_size / 1e6
        evaluate_s, evaluate_cpu, result = _timed(
            args.runs, lambda: evaluate.holdout(sales.read(path), args.horizon)
        )
    summary = result.summary()
    found = {
        "products": args.products,
        "history_days": args.days,
        "first_day": args.first.isoformat(),
        "horizon_days": args.horizon,
        "runs": args.runs,
        "batch_seconds": round(batch_s, 2),
        "batch_cpu_seconds": round(batch_cpu, 2),
        "products_per_second": round(args.products / batch_s),
        "evaluate_from_csv_seconds": round(evaluate_s, 2),
        "evaluate_from_csv_cpu_seconds": round(evaluate_cpu, 2),
        "csv_mb": round(csv_mb, 1),
        "held_out": f"{summary['first_held_out_day']} to {summary['last_held_out_day']}",
        "wape": summary["wape"],
        "wape_seasonal_naive": summary["wape_seasonal_naive"],
        "improvement_pct": summary["improvement_pct"],
        "effects": summary["effects"],
    }
    if args.json:
        print(json.dumps(found))
    else:
        for key, value in found.items():
            print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
