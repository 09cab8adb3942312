"""A merchant's insights page (``/m/insights``) with a year of sales, on PostgreSQL: how long
one GET takes (the issue's target: at most 100 ms at p99) and how much CPU it costs.

Each run of the command makes a fresh PostgreSQL database (``TINDAHAN_BENCH_POSTGRES_URL``,
default the local server's ``postgres`` database, is where it is created; dropped at the
end), migrates it and seeds, through the services, on a clock walking through the year:
one sari-sari store with ``--products`` products (a cost recorded for each), ``--buyers``
buyers, and for each of ``--days`` days about ``--sales`` QR payments (more on Fridays and
Saturdays and around paydays, between 06:00 and 22:00) and ``--orders`` paid online orders.
Then ``tindahan serve`` (one worker, no background worker) serves it on loopback, and an
httpx client signed in as the merchant asks for the page: ``--warmup`` requests, then
``--runs`` runs of ``--requests`` requests, one at a time. Reported per run: p50 and p99
(nearest rank) of the wall time of a GET as the client sees it, and the CPU per GET of the
server's process and of the PostgreSQL backends serving it (/proc, in jiffies); then the
median of each over the runs, and the load average, since the machine is shared.
``--profile FILE`` runs, in this process, what the page reads (the services behind its six
cards, ``--requests`` times) under cProfile, writes it (``python -m pstats FILE``) and prints
the top functions by cumulative time.

    .venv/bin/python -m tindahan.bench.insights                 # make bench-insights
    .venv/bin/python -m tindahan.bench.insights --days 365 --runs 5 --requests 40 --json
    .venv/bin/python -m tindahan.bench.insights --profile /tmp/insights.prof
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import json
import math
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tindahan.bench.api import CLK_TCK, DATA_KEY, Server, drop_postgres, fresh_postgres
from tindahan.bench.api import CpuWatcher as Watch
from tindahan.kernel.callers import DEFAULT_SCOPES, SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.lending.calendar import day_start_ns
from tindahan.services.commerce import catalog, escrow, orders
from tindahan.services.insights import calendar, cashflow, mix, reorder
from tindahan.services.insights import products as product_costs
from tindahan.services.payments import cash, payments, sales
from tindahan.services.payments import wallets as wallet_service
from tindahan.services.platform import chart, logins, parties
from tindahan.services.unit import Platform, SettableClock, Unit
from tindahan.store import migrate
from tindahan.store.database import connect
from tindahan.store.vault import Vault

MANILA = ZoneInfo("Asia/Manila")
OPERATOR = Caller("bench", None, frozenset(SCOPES))
HOUR_NS = 3_600 * 10**9
DAY_NS = 24 * HOUR_NS
PHONE, PIN = "09171110000", "482916"
#: Sales by weekday (Monday first), and around paydays (the 15th and the month's end).
WEEKDAY = (0.85, 0.9, 0.95, 0.95, 1.1, 1.25, 1.0)
PAYDAY = 1.4
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _as(party_id: str) -> Caller:
    return Caller("bench", party_id, frozenset(DEFAULT_SCOPES))


class Seeder:
    def __init__(self, platform: Platform, clock: SettableClock, rng: random.Random) -> None:
        self.platform, self.clock, self.rng = platform, clock, rng
        self.made = 0
        self.refused: dict[str, int] = {}

    def run(self, work: Callable[[Unit], Any]) -> Any:
        try:
            found = self.platform.run(work)
        except RefusalError as refusal:
            self.refused[refusal.code] = self.refused.get(refusal.code, 0) + 1
            return None
        self.made += 1
        return found


def seed(platform: Platform, clock: SettableClock, args: argparse.Namespace) -> dict[str, Any]:
    """The store, its products and buyers, and ``args.days`` days of sales to yesterday."""
    rng = random.Random(args.seed)
    seeder = Seeder(platform, clock, rng)
    first = args.today - timedelta(days=args.days)
    clock.set(day_start_ns(first) + 5 * HOUR_NS)
    chart.ensure_operator_accounts(platform)
    place = {"city": "Lipa", "province": "Batangas"}
    merchant = platform.run(
        lambda u: parties.create(
            u, OPERATOR, parties.NewParty("merchant", "Tindahan ni Aling Rosa", mcc="5411", **place)
        )
    )
    merchant_id = str(merchant["id"])
    platform.run(lambda u: logins.create(u, None, party_id=merchant_id, phone=PHONE, secret=PIN))
    owner = _as(merchant_id)
    store = platform.run(
        lambda u: catalog.create_storefront(
            u, owner, slug="aling-rosa", name="Tindahan ni Aling Rosa", shipping_fee_minor=5_000
        )
    )
    items = []
    for i in range(args.products):
        price = rng.randrange(8, 120) * 125
        product = catalog.NewProduct(f"Product {i + 1:03d}", price, stock=1_000_000)
        made = platform.run(
            partial(catalog.create_product, caller=owner, storefront_id=store["id"], new=product)
        )
        cost = price * rng.randrange(60, 85) // 100
        record = partial(
            product_costs.record_cost, caller=owner, product_id=made["id"], cost_minor=cost
        )
        platform.run(record)
        items.append(str(made["id"]))
    buyers = []
    for i in range(args.buyers):
        person = parties.NewParty("customer", f"Buyer {i + 1:03d}", tier="full")
        buyers.append(str(platform.run(partial(parties.create, caller=OPERATOR, new=person))["id"]))
    wallets = _main_wallets(platform, buyers)
    # Popular items sell more: a Zipf-like weight per product.
    weights = [1 / (rank + 1) for rank in range(len(items))]
    started = time.perf_counter()
    for offset in range(args.days):
        day = first + timedelta(days=offset)
        midnight = day_start_ns(day)
        if offset % 30 == 0:  # buyers top up their wallets
            clock.set(midnight + 5 * HOUR_NS)
            for wallet in wallets:
                seeder.run(
                    partial(cash.fund, caller=OPERATOR, wallet_id=wallet, amount_minor=600_000,
                            currency="PHP", reference="BENCH")
                )  # fmt: skip
        payday = day.day in (15, 16, 30, 31, 1)
        lift = WEEKDAY[day.weekday()] * (PAYDAY if payday else 1.0)
        count = _poisson(rng, args.sales * lift)
        times = sorted(rng.randrange(6 * HOUR_NS, 22 * HOUR_NS) for _ in range(count))
        for at in times:
            clock.set(midnight + at)
            amount = rng.randrange(8, 80) * 625  # ₱50 to ₱500
            sale = payments.NewPayment(merchant_id, amount, "PHP")
            seeder.run(partial(payments.pay, caller=_as(rng.choice(buyers)), new=sale))
        for _ in range(_poisson(rng, args.orders * lift)):
            clock.set(midnight + rng.randrange(8 * HOUR_NS, 21 * HOUR_NS))
            buyer = _as(rng.choice(buyers))
            line = orders.CartLine(rng.choices(items, weights)[0], rng.randrange(1, 4))
            order = seeder.run(
                partial(orders.checkout, caller=buyer, storefront_id=store["id"], lines=[line])
            )
            if order:
                seeder.run(partial(escrow.pay, caller=buyer, order_id=order["id"], quote_id=None))
        if offset % 30 == 29:
            rate = seeder.made / max(time.perf_counter() - started, 1e-9)
            done = f"{offset + 1} days, {seeder.made} writes ({rate:.0f}/s)"
            print(f"  seeded {done}", file=sys.stderr)
    clock.set(day_start_ns(args.today) + 10 * HOUR_NS)
    return {"merchant_id": merchant_id, "writes": seeder.made, "refused": seeder.refused}


def _main_wallets(platform: Platform, party_ids: list[str]) -> list[str]:
    found = []
    for party_id in party_ids:
        listed = platform.run(
            partial(wallet_service.list_wallets, caller=OPERATOR, limit=10, starting_after=None,
                    party_id=party_id),
            write=False,
        )  # fmt: skip
        found.append(next(str(w["id"]) for w in listed["data"] if w["kind"] == "main"))
    return found


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method (the means here are small)."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def sign_in(client: httpx.Client) -> dict[str, str]:
    """The session's cookies, sent by hand: they are ``Secure`` and this is loopback HTTP."""
    page = client.get("/signin")
    token = _CSRF.search(page.text)
    if token is None:
        raise RuntimeError("no CSRF token on /signin")
    cookies = dict(page.cookies)
    done = client.post(
        "/signin",
        data={"csrf_token": token.group(1), "phone": PHONE, "secret": PIN},
        headers=_cookie_header(cookies),
    )
    if done.status_code != 303:
        raise RuntimeError(f"sign-in failed: {done.status_code}")
    cookies.update(done.cookies)
    return cookies


def _cookie_header(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


def timed(
    client: httpx.Client, cookies: dict[str, str], requests: int, watch: Watch | None
) -> tuple[list[float], dict[str, float]]:
    """Wall seconds of each GET, and CPU milliseconds per GET of the server and of its
    PostgreSQL backends."""
    walls = []
    headers = _cookie_header(cookies)
    before = watch.snapshot() if watch else None
    for _ in range(requests):
        started = time.perf_counter()
        answer = client.get("/m/insights", headers=headers)
        walls.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"GET /m/insights answered {answer.status_code}")
    cpu: dict[str, float] = {}
    if watch and before:
        after = watch.snapshot()
        per = 1000 / CLK_TCK / requests
        server = sum(after.server.values()) - sum(before.server.values())
        grown = [t - before.postgres.get(pid, 0) for pid, t in after.postgres.items()]
        cpu = {
            "server_cpu_ms": round(server * per, 1),
            "postgres_cpu_ms": round(sum(grown) * per, 1),
        }
    return walls, cpu


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def profile(platform: Platform, merchant_id: str, times: int, out: str) -> str:
    """What the page reads (``web.insights``' six cards' services), ``times`` times, under
    cProfile; the top functions by cumulative time."""
    me = _as(merchant_id)

    def page(unit: Unit) -> None:
        yesterday = sales.today(unit) - timedelta(days=1)
        reorder.reorder_list(unit, me, merchant_id)
        product_costs.best_sellers(unit, me, merchant_id, 28)
        sales.daily_sales(unit, me, merchant_id, 7 * 13, yesterday)
        mix.sales_mix(unit, me, merchant_id, 28)
        cashflow.cash_flow(unit, me, merchant_id, 30)
        calendar.sales_calendar(unit, me, merchant_id, 13)

    platform.run(page, write=False)  # warm
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        platform.run(page, write=False)
    profiler.disable()
    profiler.dump_stats(out)
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(35)
    return text.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--sales", type=float, default=20, help="QR payments a usual day")
    parser.add_argument("--orders", type=float, default=3, help="online orders a usual day")
    parser.add_argument("--products", type=int, default=40)
    parser.add_argument("--buyers", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--requests", type=int, default=40, help="GETs a run")
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--profile", help="write a cProfile of one more run here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    args.today = datetime.now(MANILA).date()
    url = fresh_postgres("tindahan_insights_bench")
    clock = SettableClock()
    clock.set(day_start_ns(args.today))
    scratch = Path(tempfile.mkdtemp(prefix="tindahan-insights-bench-"))
    top = ""
    try:
        with connect(url, clock=clock) as db:
            migrate.upgrade(db)
            platform = Platform(db, Vault(base64.urlsafe_b64decode(DATA_KEY)))
            started = time.perf_counter()
            seeded = seed(platform, clock, args)
            seed_s = time.perf_counter() - started
            clock.set(None)  # the wall clock again: the server's
            if args.profile:
                top = profile(platform, seeded["merchant_id"], args.requests, args.profile)
        server = Server.start(url, 1, scratch)
        try:
            watch = Watch(server.process.pid, url)
            with httpx.Client(base_url=server.base, timeout=60) as client:
                cookies = sign_in(client)
                timed(client, cookies, args.warmup, None)
                runs = []
                for _ in range(args.runs):
                    walls, cpu = timed(client, cookies, args.requests, watch)
                    runs.append(
                        {
                            "p50_ms": round(statistics.median(walls) * 1000, 1),
                            "p99_ms": round(nearest_rank(walls, 0.99) * 1000, 1),
                            "max_ms": round(max(walls) * 1000, 1),
                            **cpu,
                        }
                    )
            watch.conn.close()
        finally:
            server.stop()
    finally:
        drop_postgres(url)
    report = {
        "database": "postgresql",
        "days": args.days,
        "writes_seeded": seeded["writes"],
        "refused_while_seeding": seeded["refused"],
        "seed_s": round(seed_s, 1),
        "requests_per_run": args.requests,
        "runs": runs,
        "median_p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "median_p99_ms": statistics.median(r["p99_ms"] for r in runs),
        "median_server_cpu_ms_per_get": statistics.median(r["server_cpu_ms"] for r in runs),
        "median_postgres_cpu_ms_per_get": statistics.median(r["postgres_cpu_ms"] for r in runs),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    if top:
        print(top, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
