"""What the live risk gate adds to a merchant payment: the same payments with and without it.

Opens a database (``--db``; default a fresh SQLite file in a temporary folder), migrates it,
makes ``--buyers`` funded customers and ``--merchants`` merchants, then makes ``--payments``
merchant payments through the payments service (``services.payments.payments.pay``, one
transaction each, as the API's handler runs it), each from a random buyer to a random
merchant, interleaved: payments go in pairs, one with the gate off and one with it on
(``TINDAHAN_RISK_RULES`` unset, then ``default``), the pair's order alternating (off-on,
on-off, …) so neither half always follows the other, and both share the machine's moment.
``--runs`` repeats that on the same database; each run's p50 and p99 of each half, in
milliseconds, and their difference (``added_*``: the issue's target is at most 2 ms added at
p99) are reported, with the median of each over the runs and, for the p99s, the spread over
the runs (``*_min_ms``, ``*_max_ms``): a difference of two p99s moves with a handful of
slow payments, so one run says little and the median of several, with its spread, says
how much to trust it. This is the service, not
HTTP: the HTTP layer is the same with the gate on or off. Each payment is asked from its
buyer's device and an IP address shared by ten buyers (``risk_gate.client_origin``, what the
API's middleware sets), so the velocity rules per device and per IP run too.

The defaults (1,000 buyers, 4,000 payments a run, 5 runs: about 10 gated payments per buyer
in the hour the runs take) measure an ordinary merchant payment: with 100 buyers, as the
earlier figures were taken, every buyer passes the velocity rules' hourly limits (per
wallet, device and IP address) by the third run, so nearly every gated payment then writes
an alert or a hold — a second statement — and the figure becomes that of a review, not of a
payment (``gate_statements_mean`` says which was measured).

The difference of two busy halves is noisy on a shared machine, so the gate itself is timed
too: each gate-on payment's time inside ``risk_gate.judge`` (``gate_*``: wall clock, and
``gate_cpu_*``: this thread's CPU time, which leaves out the wait for a core and, on
PostgreSQL, the server's side of each round trip). What the gate adds beyond that is the
commit's extra rows. And its statements are counted (``gate_statements_*``: per gate-on
payment, the mean and the most; SQLAlchemy's and those on the driver, ``fetch_named``): on
PostgreSQL each is a round trip, so they are what a load-free figure is made of.

    .venv/bin/python -m tindahan.bench.risk_gate
    .venv/bin/python -m tindahan.bench.risk_gate --db postgresql+psycopg://HOST/DB --json
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import event

from tindahan.kernel.callers import SCOPES, Caller
from tindahan.ledger.model import NewTransfer
from tindahan.services.ledger import risk_gate, risk_usage
from tindahan.services.payments import cash, payments, wallets
from tindahan.services.platform import chart, parties
from tindahan.services.unit import Platform, Unit
from tindahan.store.database import connect
from tindahan.store.migrate import upgrade
from tindahan.store.vault import Vault

OPERATOR = Caller("bench", None, frozenset(SCOPES))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def _party(platform: Platform, **fields: str) -> tuple[str, str]:
    def work(unit: Unit) -> tuple[str, str]:
        party_id = str(parties.create(unit, OPERATOR, parties.NewParty(**fields))["id"])
        found = wallets.list_wallets(unit, OPERATOR, 10, None, party_id)["data"]
        return party_id, str(next(w["id"] for w in found if w["kind"] == "main"))

    return platform.run(work)


def _fund(platform: Platform, wallet_id: str) -> None:
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet_id, 5_000_000, "PHP", "bench"))


def _pay(platform: Platform, new: payments.NewPayment) -> None:
    platform.run(lambda u: payments.pay(u, OPERATOR, new))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    parser.add_argument(
        "--buyers", type=int, default=1000, help="enough that no buyer trips a velocity rule"
    )
    parser.add_argument("--merchants", type=int, default=10)
    parser.add_argument(
        "--payments", type=int, default=4000, help="per run, half of them with the gate on"
    )
    parser.add_argument("--runs", type=int, default=5, help="medians over this many runs")
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args(argv)
    if args.buyers < 1 or args.merchants < 1 or args.payments < 4 or args.runs < 1:
        parser.error("--buyers ≥ 1, --merchants ≥ 1, --payments ≥ 4, --runs ≥ 1")
    folder = tempfile.mkdtemp(prefix="tindahan-bench-gate-")
    url = args.db or f"sqlite:///{Path(folder) / 'bench.db'}"
    database = connect(url)
    upgrade(database)
    platform = Platform(database, Vault(secrets.token_bytes(32)))
    chart.ensure_operator_accounts(platform)
    buyers = []
    for i in range(args.buyers):
        buyer, wallet = _party(platform, kind="customer", name=f"Buyer {i}", tier="full")
        _fund(platform, wallet)
        buyers.append(buyer)
    merchants = [
        _party(
            platform,
            kind="merchant",
            name=f"Shop {i}",
            mcc="5411",
            city="Marikina",
            province="Metro Manila",
        )[0]
        for i in range(args.merchants)
    ]
    rng = random.Random(20)
    runs = []
    try:
        for _ in range(args.runs):
            runs.append(_timed(platform, buyers, merchants, rng, args.payments))
    finally:
        database.dispose()
    result: dict[str, object] = {
        "command": "python -m tindahan.bench.risk_gate"
        + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:])),
        "python": host.python_version(),
        "backend": database.url.get_backend_name(),
        "payments_each": args.payments // 2,
        "runs": runs,
    }
    for name in runs[0]:
        result[name] = round(statistics.median(run[name] for run in runs), 3)
    for name in SPREAD:  # how far apart the runs' p99s are
        result[f"{name.removesuffix('_ms')}_min_ms"] = min(run[name] for run in runs)
        result[f"{name.removesuffix('_ms')}_max_ms"] = max(run[name] for run in runs)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{args.runs} runs of {result['payments_each']} merchant payments each way on "
        f"{result['backend']}; Python {result['python']}; medians over the runs"
    )
    print()
    print(
        "| Command | Gate off p50 / p99 ms | Gate on p50 / p99 ms | Added p50 / p99 ms "
        "| In the gate p50 / p99 ms | Its CPU p50 / p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    print(
        f"| `{result['command']}` | {result['off_p50_ms']} / {result['off_p99_ms']} "
        f"| {result['on_p50_ms']} / {result['on_p99_ms']} "
        f"| {result['added_p50_ms']} / {result['added_p99_ms']} "
        f"| {result['gate_p50_ms']} / {result['gate_p99_ms']} "
        f"| {result['gate_cpu_p50_ms']} / {result['gate_cpu_p99_ms']} |"
    )
    print()
    print(
        f"The gate's statements per gate-on payment: {result['gate_statements_mean']} on "
        f"average, {result['gate_statements_max']} at most"
    )
    print()
    print("Per run (added p99 = gate-on p99 − gate-off p99), and the median [min – max]:")
    for name in SPREAD:
        each = ", ".join(str(run[name]) for run in runs)
        low, high = (
            result[f"{name.removesuffix('_ms')}_min_ms"],
            result[f"{name.removesuffix('_ms')}_max_ms"],
        )
        print(f"  {name}: {each}; median {result[name]} [{low} – {high}]")
    return 0


#: The per-run figures whose spread over the runs is reported too.
SPREAD = ("added_p99_ms", "gate_p99_ms", "off_p99_ms", "on_p99_ms")


def _timed(
    platform: Platform, buyers: list[str], merchants: list[str], rng: random.Random, count: int
) -> dict[str, float]:
    """One run: ``count`` payments in pairs, one with the gate off and one with it on, the
    pair's order alternating; p50 and p99 of each half."""
    timings: dict[bool, list[float]] = {False: [], True: []}
    inside: list[float] = []
    cpu: list[float] = []
    statements: list[int] = []
    saved = os.environ.get(risk_gate.RULES_ENV)
    judge = risk_gate.judge
    counted = _Counted()

    def timed_judge(unit: Unit, transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
        start, start_cpu = time.perf_counter(), time.thread_time()
        counted.count = 0
        counted.inside = True
        try:
            return judge(unit, transfers)
        finally:
            counted.inside = False
            if os.environ.get(risk_gate.RULES_ENV):
                inside.append((time.perf_counter() - start) * 1000)
                cpu.append((time.thread_time() - start_cpu) * 1000)
                statements.append(counted.count)

    risk_gate.judge = timed_judge  # movement.book calls it by name
    counted.attach(platform)
    try:
        for n in range(count):
            gate = (n % 2 == 1) != ((n // 2) % 2 == 1)  # off-on, on-off, off-on, …
            if gate:
                os.environ[risk_gate.RULES_ENV] = "default"
            else:
                os.environ.pop(risk_gate.RULES_ENV, None)
            buyer = rng.randrange(len(buyers))
            new = payments.NewPayment(
                payee_id=rng.choice(merchants),
                amount_minor=rng.randrange(2_000, 50_000),
                currency="PHP",
                payer_id=buyers[buyer],
            )
            # As through the API: each buyer's phone, ten buyers behind one carrier address.
            origin = risk_gate.client_origin(f"bench-device-{buyer}", f"10.0.0.{buyer // 10}")
            start = time.perf_counter()
            with origin:
                _pay(platform, new)
            timings[gate].append((time.perf_counter() - start) * 1000)
    finally:
        risk_gate.judge = judge
        counted.detach(platform)
        if saved is None:
            os.environ.pop(risk_gate.RULES_ENV, None)
        else:
            os.environ[risk_gate.RULES_ENV] = saved
    off, on = timings[False], timings[True]
    result = {
        "off_p50_ms": _percentile(off, 0.5),
        "off_p99_ms": _percentile(off, 0.99),
        "on_p50_ms": _percentile(on, 0.5),
        "on_p99_ms": _percentile(on, 0.99),
        "gate_p50_ms": _percentile(inside, 0.5),
        "gate_p99_ms": _percentile(inside, 0.99),
        "gate_cpu_p50_ms": _percentile(cpu, 0.5),
        "gate_cpu_p99_ms": _percentile(cpu, 0.99),
    }
    result["gate_statements_mean"] = statistics.fmean(statements)
    result["gate_statements_max"] = max(statements)
    result["added_p50_ms"] = result["on_p50_ms"] - result["off_p50_ms"]
    result["added_p99_ms"] = result["on_p99_ms"] - result["off_p99_ms"]
    return {k: round(v, 3) for k, v in result.items()}


class _Counted:
    """Counts the statements run inside the gate: SQLAlchemy's (an engine event) and those
    on the driver (``fetch_named``, which the gate's modules call by name)."""

    def __init__(self) -> None:
        self.count = 0
        self.inside = False
        # the driver's statements, as the gate's modules run them (the bench reaches no store)
        self._fetch: Callable[[Any, Any, Any], list[Any]] = risk_usage.__dict__["fetch_named"]

    def _statement(self, *_: object) -> None:
        if self.inside:
            self.count += 1

    def _fetch_counted(self, conn: Any, statement: Any, params: Any) -> list[Any]:
        self._statement()
        return self._fetch(conn, statement, params)

    def attach(self, platform: Platform) -> None:
        event.listen(platform.db.engine, "before_cursor_execute", self._statement)
        for module in (risk_usage, risk_gate):
            module.__dict__["fetch_named"] = self._fetch_counted

    def detach(self, platform: Platform) -> None:
        event.remove(platform.db.engine, "before_cursor_execute", self._statement)
        for module in (risk_usage, risk_gate):
            module.__dict__["fetch_named"] = self._fetch


if __name__ == "__main__":
    raise SystemExit(main())
