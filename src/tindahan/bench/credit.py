"""Credit scoring speed: one merchant from the database, batches in memory, training.

Three measurements, each repeated and reported as the median of the runs (the machine is
shared and noisy):

* **one merchant** (target: p99 ≤ 5 ms for features + model, issue 18): ``score`` reads the
  merchant's history from SQLite, computes the features and decides with the platform's
  scorecard, in this process; ``assess`` is the API's path, which also stores the decision
  and commits. Merchants are written by the simulator through the payments services
  (``--shops`` merchants, half a year of sales); only those with enough history to score
  are timed;
* **batch** (target: ≥ 10,000 merchants/s): ``--batch`` simulated merchants in memory, as
  three rates — the model alone on ready features (probability and points), the model with
  reason codes, and features plus model from raw events (about 900 sales per merchant);
* **training** (target: 100,000 rows in under a minute): ``artifact.train`` (a holdout fit
  for the card plus the final fit, calibration included) for each model on ``--rows``
  merchant rows drawn from distinct simulated populations.

    .venv/bin/python -m tindahan.bench.credit                 # all three, default sizes
    .venv/bin/python -m tindahan.bench.credit --only batch --runs 7 --json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tindahan.credit import artifact, features
from tindahan.credit import simulate as simulator
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.services.credit import assessments as credit
from tindahan.services.platform import chart
from tindahan.services.seed import simulation
from tindahan.services.unit import Platform
from tindahan.store import migrate
from tindahan.store.database import connect
from tindahan.store.vault import Vault

DAY = features.DAY_NS
AS_OF = credit.SIMULATION_AS_OF_NS
OPERATOR = Caller("bench", None, frozenset(SCOPES))


def _population(
    merchants: int, seed: int, days: int = 180, activity: float = 1.0, as_of: int = AS_OF
) -> Any:
    return simulator.recent(
        merchants, as_of_ns=as_of, history_days=days, seed=seed, activity=activity
    )


def one_merchant(model: artifact.Loaded, shops: int, runs: int, calls: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="credit-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    vault = Vault(b"b" * 32)
    with connect(url) as database:
        migrate.upgrade(database)
        chart.ensure_operator_accounts(Platform(database, vault))
    # History up to now: the merchants are scored as of the wall clock.
    population = _population(shops, seed=11, activity=0.3, as_of=time.time_ns())
    written = simulation.write_with_history(url, vault, population)
    ids = list(written.party_ids.values())
    found: dict[str, Any] = {"merchants": len(ids), "sales_written": written.sales}
    with connect(url) as database:
        platform = Platform(database, vault)
        scorable = [m for m in ids if _score(platform, model, m)["decision"] == "scored"]
        found["scorable"] = len(scorable)
        ways: dict[str, Callable[[str], object]] = {
            # The measure: the merchant's history read, features, model, decision.
            "score": lambda m: _score(platform, model, m),
            # The same through the batch path (history as data frames, pandas features): the
            # single path's baseline, in the same run.
            "score_batch_path": lambda m: _score_batch_path(platform, model, m),
            # The API's: the same, plus storing the decision and committing it.
            "assess": lambda m: platform.run(lambda u: credit.assess(u, OPERATOR, m, model)),
        }
        for name, way in ways.items():
            p50s, p99s, cpus = [], [], []
            for run in range(runs):
                times = []
                cpu = time.process_time()
                for call in range(calls):
                    merchant = scorable[(run * calls + call) % len(scorable)]
                    started = time.perf_counter()
                    way(merchant)
                    times.append(time.perf_counter() - started)
                cpus.append((time.process_time() - cpu) / calls * 1000)
                p50s.append(float(np.percentile(times, 50)) * 1000)
                p99s.append(float(np.percentile(times, 99)) * 1000)
            found[f"{name}_p50_ms"] = round(statistics.median(p50s), 2)
            found[f"{name}_p99_ms"] = round(statistics.median(p99s), 2)
            found[f"{name}_p99_ms_runs"] = [round(x, 2) for x in p99s]
            # CPU of this process per call (median of the runs): less noisy than wall time
            # on a shared machine (the database is in this process: SQLite).
            found[f"{name}_cpu_ms"] = round(statistics.median(cpus), 3)
    found["calls_per_run"] = calls
    return found


def _score(platform: Platform, model: artifact.Loaded, merchant: str) -> dict[str, Any]:
    def work(unit: Any) -> dict[str, Any]:
        cut = unit.now() + 1
        return credit.decide(model, credit.features_one(unit.conn, merchant, cut))

    return platform.run(work, write=False)


def _score_batch_path(platform: Platform, model: artifact.Loaded, merchant: str) -> dict[str, Any]:
    def work(unit: Any) -> dict[str, Any]:
        cut = unit.now() + 1
        frame = features.compute(credit.load_events(unit.conn, [merchant], cut), cut)
        return credit.decide(model, frame.iloc[0])

    return platform.run(work, write=False)


def batch(model: artifact.Loaded, merchants: int, runs: int) -> dict[str, Any]:
    population = _population(merchants, seed=21, activity=0.5)
    events = population.events
    sales = int((events.sales["at_ns"] < AS_OF).sum())
    frame = features.compute(events, AS_OF)
    rows = features.as_table(frame[features.scorable(frame)]).features
    kinds = ("model", "model_with_reasons", "features_and_model")
    rates: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        started = time.perf_counter()
        model.scorer.decide(rows, features.describe, reasons=False)
        rates["model"].append(len(rows) / (time.perf_counter() - started))
        started = time.perf_counter()
        model.scorer.decide(rows, features.describe)
        rates["model_with_reasons"].append(len(rows) / (time.perf_counter() - started))
        started = time.perf_counter()
        computed = features.compute(events, AS_OF)
        model.scorer.probability(features.as_table(computed).features)
        rates["features_and_model"].append(len(computed) / (time.perf_counter() - started))
    return {
        "merchants": len(frame),
        "scorable": len(rows),
        "sales_before_as_of": sales,
        **{f"{k}_per_s": round(statistics.median(v)) for k, v in rates.items()},
        **{f"{k}_per_s_runs": [round(x) for x in v] for k, v in rates.items()},
    }


def training_rows(rows: int) -> Any:
    """Distinct merchants from populations of different seeds until there are ``rows``."""
    parts, seed, have = [], 100, 0
    while have < rows:
        frame = simulator.labelled(_population(10_000, seed=seed, days=200, activity=0.4))
        parts.append(frame)
        have += len(frame)
        seed += 1
    data = pd.concat(parts, ignore_index=True).iloc[:rows]
    return features.as_table(data, data["defaulted"].to_numpy(dtype=np.int8))


def training(rows: int, runs: int) -> dict[str, Any]:
    table = training_rows(rows)
    table.data_hash = f"bench-{rows}"
    directions = {k: v for k, v in features.DIRECTIONS.items() if v}
    found: dict[str, Any] = {"rows": len(table.target), "events": int(table.target.sum())}
    for kind in ("scorecard", "gbm"):
        seconds, auc = [], []
        for run in range(runs):
            started = time.perf_counter()
            trained = artifact.train(table, kind, run, directions, source="bench")
            seconds.append(time.perf_counter() - started)
            auc.append(trained.metadata["validation"]["auc"])
        found[kind] = {
            "seconds": round(statistics.median(seconds), 1),
            "seconds_runs": [round(s, 1) for s in seconds],
            "holdout_auc": auc,
        }
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["one", "batch", "training"], action="append")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--shops", type=int, default=20)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--training-runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    wanted = set(args.only or ["one", "batch", "training"])
    warnings.simplefilter("ignore")
    model_dir = Path(tempfile.mkdtemp(prefix="credit-model-")) / "merchant"
    credit.train_default_model(model_dir)
    model = artifact.load(model_dir)
    report: dict[str, Any] = {"model": model.metadata["version"]}
    if "one" in wanted:
        report["one_merchant"] = one_merchant(model, args.shops, args.runs, args.calls)
    if "batch" in wanted:
        report["batch"] = batch(model, args.batch, args.runs)
    if "training" in wanted:
        report["training"] = training(args.rows, args.training_runs)
    if args.json:
        print(json.dumps(report))
        return
    json.dump(report, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
