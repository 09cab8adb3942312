"""Shipping offers for one checkout with three couriers: how long pricing and the window
take, at p50 and p99 (the issue's target: ≤ 10 ms at p99).

A shop in Marikina lists three couriers; each run prices a 2-item cart to one of a few
buyers' PSGC places across the country (within the city, Metro Manila, Luzon, Visayas,
Mindanao) in its own read transaction: the storefront's couriers and cards are read, the
zone derived, each card priced. The PSGC list is loaded once before timing (3–5 s at a
process's first address).

    .venv/bin/python -m tindahan.bench.delivery                    # 2,000 on scratch SQLite
    .venv/bin/python -m tindahan.bench.delivery --db postgresql+psycopg://…/db --runs 5000

``--train N`` (``make bench-delivery TRAIN=100000``) times instead the delivery-time model's
training on N simulated shipments (the issue's target: ≤ 60 s for 100,000): the features,
the three quantile boosters and the conformal calibration, wall and CPU seconds; the
simulation that makes the shipments is timed apart.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from tindahan.commerce import psgc
from tindahan.delivery import promise, simulate
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.services.commerce import catalog
from tindahan.services.delivery import couriers
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store import migrate
from tindahan.store.database import connect
from tindahan.store.vault import Vault

OPERATOR = Caller("bench", None, frozenset(SCOPES))
ZONES = ("within_city", "metro_manila", "luzon", "visayas", "mindanao", "island_crossing")
#: Barangays across the country: Marikina, Quezon City, Malolos, Cebu City, Davao City.
PLACES = ("1380700005", "1381300001", "0301410001", "0730600001", "1130700001")


def card(name: str, base: int, days: int) -> dict[str, Any]:
    return {
        "name": name,
        "cod_bps": 275,
        "cod_min_minor": 1_500,
        "zones": {
            zone: {
                "min_days": days + i,
                "max_days": days + i + 2,
                "tiers": [
                    {"max_weight_g": grams, "fee_minor": base + 1_000 * i + grams // 10}
                    for grams in (500, 1_000, 3_000, 5_000)
                ],
            }
            for i, zone in enumerate(ZONES)
        },
    }


def setup(unit: Unit) -> Any:
    for code, name, base, days in (
        ("jnt", "J&T", 8_500, 1),
        ("lbc", "LBC", 9_500, 1),
        ("flash", "Flash", 8_000, 2),
    ):
        couriers.set_card(unit, OPERATOR, code, card(name, base, days))
    merchant = parties.create(
        unit,
        OPERATOR,
        NewParty(kind="merchant", name="Bench", mcc="5411", city="Marikina", province="NCR"),
    )
    store = catalog.create_storefront(
        unit, OPERATOR, slug="bench", name="Bench", merchant_id=merchant["id"]
    )
    owner = Caller("bench", merchant["id"], frozenset(SCOPES))
    choices = [couriers.Choice("jnt"), couriers.Choice("lbc", 6_000), couriers.Choice("flash")]
    couriers.set_shipping(unit, owner, store["id"], choices, None)
    return catalog.storefront_row(unit, store["id"])


def _price(unit: Unit, store: Any, to: psgc.Codes) -> couriers.Offers:
    return couriers.offers(unit, store, to, 700, 50_000)


def train(count: int, as_json: bool) -> int:
    psgc.load()
    started = time.perf_counter()
    made = simulate.simulate(count, seed=1, days=365)
    simulated = time.perf_counter() - started
    calendar = promise.Calendar(made.holidays, made.advisories)
    wall, cpu = time.perf_counter(), time.process_time()
    model = promise.fit(made.shipments, calendar, seed=1)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    report = {
        "shipments": count,
        "simulate_s": round(simulated, 2),
        "train_wall_s": round(wall, 2),
        "train_cpu_s": round(cpu, 2),
        "rounds": promise.ROUNDS,
        "correction_log_hours": round(model.correction, 4),
    }
    if as_json:
        print(json.dumps(report))
    else:
        print(
            f"trained on {count:,} simulated shipments in {report['train_wall_s']} s "
            f"({report['train_cpu_s']} s CPU); simulating them took {report['simulate_s']} s"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--db", help="database URL (default: a scratch SQLite file)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--train", type=int, help="time training on this many shipments")
    args = parser.parse_args(argv)
    if args.train is not None:
        if not 100 <= args.train <= 1_000_000:
            print("--train is 100 to 1,000,000 shipments", file=sys.stderr)
            return 2
        return train(args.train, args.json)
    if args.runs < 1:
        print("--runs is at least 1", file=sys.stderr)
        return 2
    psgc.load()
    places = [psgc.place_of(code).codes for code in PLACES]
    folder = tempfile.mkdtemp(prefix="tindahan-delivery-bench-")
    url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
    with connect(url) as db:
        migrate.upgrade(db)
        platform = Platform(db, Vault(b"\1" * 32))
        chart.ensure_operator_accounts(platform)
        store = platform.run(setup)
        timings = []
        for i in range(args.runs):
            to = places[i % len(places)]
            started = time.perf_counter()
            found: couriers.Offers = platform.run(partial(_price, store=store, to=to), write=False)
            timings.append((time.perf_counter() - started) * 1_000)
            if len(found.offers) != 3:
                print(f"expected three offers, got {found.as_dict()}", file=sys.stderr)
                return 1
    timings.sort()
    report = {
        "runs": args.runs,
        "couriers": 3,
        "p50_ms": round(statistics.median(timings), 3),
        "p99_ms": round(timings[min(len(timings) - 1, int(len(timings) * 0.99))], 3),
        "engine": url.split(":", 1)[0],
    }
    if args.json:
        print(json.dumps(report))
    else:
        print(
            f"{report['runs']} checkouts × 3 couriers on {report['engine']}: "
            f"p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
