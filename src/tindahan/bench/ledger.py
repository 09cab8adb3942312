"""``tindahan ledger bench``: random transfers through the real ledger service.

Sets up K funded wallets (flagged ``debits_must_not_exceed_credits``, so every transfer
runs the overdraft check) and one hot merchant account; C clients (processes, each with
its own connection pool, as separate API workers would be) then send N transfers in
batches of B, a share F of them crediting the hot account. Throughput counts transfers
the ledger accepted over wall time from the moment all clients start; latency is per
``create_transfers`` call. Afterwards the chain is sealed and ``verify`` must hold.

With ``--raw`` (SQL ledger only) the same clients then run a minimal raw-SQL transfer loop
on the same database (two scratch tables, dropped at the end): per transfer, debit one
account if its balance covers the amount, credit the other, insert the transfer row — one
transaction per batch, on the DBAPI connection, nothing else. The same random stream picks
the same accounts and amounts, so ``vs_raw`` (the ledger's rate over the raw loop's) says
what the ledger's own work costs over the floor of "two updates and an insert" (issue 18).

With ``--ledger tigerbeetle://…`` (issue 22) the same transfers go to a TigerBeetle cluster
through the ledger port's TigerBeetle adapter (ids hashed to 128 bits, results mapped back),
and "verify" is TigerBeetle's: sums per ledger zero, no limit broken, and every bench
account's balances equal to what its statement gives (nothing to seal there). Each
request to the cluster gives up after ``limits.LEDGER_TOOL_TIMEOUT_MS``, as ``ledger
verify``'s do: a cluster without a quorum stops the bench with ``LedgerUnavailableError``
(exit 2 from the command line), in its set-up, a client process or the verify, rather than
waiting as long as the official client would (for ever).

Times are integer nanoseconds and rates ``Decimal``: the package has no binary fractions
anywhere, so a grep can prove none reaches a money path.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import random
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import TypeVar

from tindahan import limits
from tindahan.ledger.model import AccountCode, AccountFlags, NewAccount, NewTransfer
from tindahan.ledger.port import LedgerPort, LedgerUnavailableError
from tindahan.services.ledger.seal import seal
from tindahan.services.ledger.sql_port import SqlLedger
from tindahan.services.ledger.verify import verify
from tindahan.store.database import connect
from tindahan.store.migrate import upgrade
from tindahan.tigerbeetle.address import is_tigerbeetle
from tindahan.tigerbeetle.address import parse as parse_ledger_url
from tindahan.tigerbeetle.connect import connect as connect_tigerbeetle

#: Minor units per wallet (₱10 billion): far above what the random transfers can move, and
#: a million wallets' worth still fits the funding account's 64-bit debits.
FUNDING_PER_WALLET = 10**12
MAX_TRANSFER = 100_000  # ₱1,000.00
TRANSFER_CODE = 1
PPM = 1_000_000
NS_PER_MS = Decimal(1_000_000)
NS_PER_S = 1_000_000_000
Progress = Callable[[int], None]
T = TypeVar("T")


class BenchConfigError(ValueError):
    """A bench option is out of range."""


@dataclass(frozen=True)
class BenchConfig:
    url: str | None
    transfers: int = 10_000
    clients: int = 1
    accounts: int = 1_000
    hot: Decimal = Decimal(0)
    batch: int = 1
    #: A TigerBeetle ledger URL; None benches the SQL ledger of ``url``.
    ledger: str | None = None
    #: Also run the raw-SQL loop and report the ratio (SQL ledger only).
    raw: bool = False

    def check(self) -> None:
        if not 1 <= self.transfers <= limits.MAX_BENCH_TRANSFERS:
            raise BenchConfigError(f"--transfers must be 1 to {limits.MAX_BENCH_TRANSFERS}")
        if not 1 <= self.clients <= limits.MAX_BENCH_CLIENTS:
            raise BenchConfigError(f"--clients must be 1 to {limits.MAX_BENCH_CLIENTS}")
        if not 2 <= self.accounts <= 1_000_000:
            raise BenchConfigError("--accounts must be 2 to 1000000")
        if not Decimal(0) <= self.hot <= Decimal(1):
            raise BenchConfigError("--hot is a share from 0 to 1")
        if not 1 <= self.batch <= limits.MAX_BATCH:
            raise BenchConfigError(f"--batch must be 1 to {limits.MAX_BATCH}")
        if self.ledger is not None:
            if self.url is not None:
                raise BenchConfigError("give --db or --ledger, not both")
            if not is_tigerbeetle(self.ledger):
                raise BenchConfigError("--ledger takes a tigerbeetle://CLUSTER@ADDR,… URL")
            parse_ledger_url(self.ledger)
            if self.raw:
                raise BenchConfigError("--raw compares against SQL: it needs --db, not --ledger")


@dataclass(frozen=True)
class BenchResult:
    database: str
    transfers: int
    accepted: int
    rejected: int
    clients: int
    batch: int
    accounts: int
    hot: Decimal
    elapsed_s: Decimal
    transfers_per_s: int
    p50_ms: Decimal
    p99_ms: Decimal
    seal_s: Decimal
    invariants_ok: bool
    verify_summary: str
    raw_transfers_per_s: int | None = None  # the raw-SQL loop's rate (--raw)
    vs_raw: Decimal | None = None  # transfers_per_s / raw_transfers_per_s

    def to_json(self) -> str:
        """One JSON object; Decimals are written as JSON numbers, exactly as they print."""
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            text = str(value) if isinstance(value, Decimal) else json.dumps(value)
            parts.append(f"{json.dumps(f.name)}: {text}")
        return "{" + ", ".join(parts) + "}"


@dataclass(frozen=True)
class _Plan:
    url: str
    run: str
    accounts: int
    hot_ppm: int
    batch: int
    raw: bool = False
    #: Each cluster request's bound, read when the plan is made (``LEDGER_TOOL_TIMEOUT_MS``)
    #: and carried to the client processes with it.
    timeout_ms: int = 0


def run(config: BenchConfig, progress: Progress | None = None) -> BenchResult:
    config.check()
    if config.ledger is not None:
        return _run_tigerbeetle(config, config.ledger, progress)
    with tempfile.TemporaryDirectory(prefix="tindahan-bench-") as scratch:
        url = config.url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        db = connect(url)
        upgrade(db)
        plan = _Plan(url, secrets.token_hex(3), config.accounts, _ppm(config.hot), config.batch)
        _setup(plan)
        db.dispose()
        shares = [config.transfers // config.clients] * config.clients
        shares[0] += config.transfers - sum(shares)
        elapsed, results = _drive(plan, shares, progress)
        db = connect(url)
        started = time.perf_counter_ns()
        seal(db)
        seal_ns = time.perf_counter_ns() - started
        report = verify(db)
        db.dispose()
        raw_rate = _raw_rate(plan, shares) if config.raw else None
    latencies = sorted(ns for _, _, lat in results for ns in lat)
    accepted = sum(a for a, _, _ in results)
    rate = accepted * NS_PER_S // max(elapsed, 1)
    return BenchResult(
        database=db.url.get_backend_name(),
        transfers=config.transfers,
        accepted=accepted,
        rejected=sum(r for _, r, _ in results),
        clients=config.clients,
        batch=config.batch,
        accounts=config.accounts,
        hot=config.hot,
        elapsed_s=_seconds(elapsed),
        transfers_per_s=rate,
        p50_ms=_ms(_percentile(latencies, 50)),
        p99_ms=_ms(_percentile(latencies, 99)),
        seal_s=_seconds(seal_ns),
        invariants_ok=report.ok,
        verify_summary=report.summary() if report.ok else "; ".join(report.violations[:5]),
        raw_transfers_per_s=raw_rate,
        vs_raw=_ratio(rate, raw_rate) if raw_rate else None,
    )


def _ratio(rate: int, floor: int) -> Decimal:
    return (Decimal(rate) / Decimal(floor)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _raw_rate(plan: _Plan, shares: list[int]) -> int:
    """The raw-SQL loop's accepted transfers a second, same clients and shares."""
    raw_plan = replace(plan, raw=True)
    _raw_tables(raw_plan, create=True)
    try:
        elapsed, results = _drive(raw_plan, shares, None)
    finally:
        _raw_tables(raw_plan, create=False)
    return sum(a for a, _, _ in results) * NS_PER_S // max(elapsed, 1)


def _raw_tables(plan: _Plan, *, create: bool) -> None:
    """The raw loop's two scratch tables: made and funded, or dropped."""
    db = connect(plan.url)
    accounts, transfers = f"bench_raw_accounts_{plan.run}", f"bench_raw_transfers_{plan.run}"
    with db.begin_raw() as raw:
        cur = raw.cursor()
        if not db.is_sqlite:
            cur.execute("BEGIN")
        if create:
            cur.execute(
                f"CREATE TABLE {accounts} (id BIGINT PRIMARY KEY, debits BIGINT NOT NULL, "
                "credits BIGINT NOT NULL, CHECK (debits <= credits))"
            )
            cur.execute(
                f"CREATE TABLE {transfers} (id VARCHAR(64) PRIMARY KEY, debit_id BIGINT NOT "
                "NULL, credit_id BIGINT NOT NULL, amount BIGINT NOT NULL)"
            )
            mark = "?" if db.is_sqlite else "%s"
            cur.executemany(
                f"INSERT INTO {accounts} VALUES ({mark}, 0, {mark})",  # noqa: S608 (our names)
                [(0, 0)] + [(n + 1, FUNDING_PER_WALLET) for n in range(plan.accounts)],
            )
        else:
            cur.execute(f"DROP TABLE {transfers}")
            cur.execute(f"DROP TABLE {accounts}")
        if not db.is_sqlite:
            cur.execute("COMMIT")
    db.dispose()


def _run_tigerbeetle(config: BenchConfig, url: str, progress: Progress | None) -> BenchResult:
    plan = _Plan(
        url,
        secrets.token_hex(3),
        config.accounts,
        _ppm(config.hot),
        config.batch,
        timeout_ms=limits.LEDGER_TOOL_TIMEOUT_MS,
    )
    _setup(plan)
    shares = [config.transfers // config.clients] * config.clients
    shares[0] += config.transfers - sum(shares)
    elapsed, results = _drive(plan, shares, progress)
    from tindahan.tigerbeetle.verify import verify as verify_tigerbeetle  # needs the client

    ledger = connect_tigerbeetle(url, plan.timeout_ms)
    try:
        ids = [f"b{plan.run}-fund", f"b{plan.run}-hot"]
        ids += [_wallet(plan, n) for n in range(plan.accounts)]
        report = verify_tigerbeetle(ledger, ids)
    finally:
        ledger.close()
    latencies = sorted(ns for _, _, lat in results for ns in lat)
    accepted = sum(a for a, _, _ in results)
    return BenchResult(
        database="tigerbeetle",
        transfers=config.transfers,
        accepted=accepted,
        rejected=sum(r for _, r, _ in results),
        clients=config.clients,
        batch=config.batch,
        accounts=config.accounts,
        hot=config.hot,
        elapsed_s=_seconds(elapsed),
        transfers_per_s=accepted * NS_PER_S // max(elapsed, 1),
        p50_ms=_ms(_percentile(latencies, 50)),
        p99_ms=_ms(_percentile(latencies, 99)),
        seal_s=Decimal("0.000"),
        invariants_ok=report.ok,
        verify_summary=report.summary() if report.ok else "; ".join(report.violations[:5]),
    )


def _open(url: str, timeout_ms: int = 0) -> tuple[LedgerPort, Callable[[], None]]:
    """The ledger port for a bench URL, and how to let it go (a cluster's requests bounded
    by ``timeout_ms``, when given)."""
    if is_tigerbeetle(url):
        ledger = connect_tigerbeetle(url, timeout_ms or None)
        return ledger, ledger.close
    db = connect(url)
    return SqlLedger(db), db.dispose


def _ppm(share: Decimal) -> int:
    return int((share * PPM).to_integral_value(rounding=ROUND_HALF_EVEN))


def _seconds(ns: int) -> Decimal:
    return (Decimal(ns) / NS_PER_S).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)


def _ms(ns: int) -> Decimal:
    return (Decimal(ns) / NS_PER_MS).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _percentile(sorted_values: list[int], pct: int) -> int:
    """Nearest-rank percentile (no interpolation)."""
    if not sorted_values:
        return 0
    rank = max(1, -(-pct * len(sorted_values) // 100))
    return sorted_values[rank - 1]


def _wallet(plan: _Plan, n: int) -> str:
    return f"b{plan.run}-w{n}"


def _setup(plan: _Plan) -> None:
    ledger, release = _open(plan.url, plan.timeout_ms)
    wallet = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
    opened = [NewAccount(f"b{plan.run}-fund", "PHP", AccountCode.CASH_IN_CLEARING)]
    opened.append(
        NewAccount(f"b{plan.run}-hot", "PHP", AccountCode.MERCHANT_SETTLEMENT, flags=wallet)
    )
    opened += [
        NewAccount(_wallet(plan, n), "PHP", AccountCode.WALLET, flags=wallet)
        for n in range(plan.accounts)
    ]
    funding = [
        NewTransfer(
            f"b{plan.run}-f{n}",
            f"b{plan.run}-fund",
            _wallet(plan, n),
            FUNDING_PER_WALLET,
            "PHP",
            TRANSFER_CODE,
        )
        for n in range(plan.accounts)
    ]
    try:
        for accounts in _chunks(opened, limits.MAX_BATCH):
            ledger.create_accounts(accounts)
        for transfers in _chunks(funding, limits.MAX_BATCH):
            refused = [o for o in ledger.create_transfers(transfers) if not o.ok]
            if refused:
                failed = refused[0]
                raise RuntimeError(f"bench set-up refused: {failed.id}: {failed.message}")
    finally:
        release()


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _drive(
    plan: _Plan, shares: list[int], progress: Progress | None
) -> tuple[int, list[tuple[int, int, list[int]]]]:
    if len(shares) == 1:  # in-process: no spawn cost, and a profiler sees the real work
        started = time.perf_counter_ns()
        result = _client(plan, 0, shares[0], progress)
        return time.perf_counter_ns() - started, [result]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(shares) + 1)
    queue = ctx.Queue()
    workers = [
        ctx.Process(target=_client_process, args=(plan, n, share, barrier, queue))
        for n, share in enumerate(shares)
    ]
    for w in workers:
        w.start()
    barrier.wait()
    started = time.perf_counter_ns()
    results = []
    for _ in workers:
        got = queue.get()
        if isinstance(got, str):
            for w in workers:
                w.join()
            unavailable = got.removeprefix(f"{LedgerUnavailableError.__name__}: ")
            if unavailable != got:  # the cluster's silence, told as the one process would
                raise LedgerUnavailableError(unavailable)
            raise RuntimeError(f"a bench client failed: {got}")
        results.append(got)
        if progress:
            progress(results[-1][0] + results[-1][1])
    elapsed = time.perf_counter_ns() - started
    for w in workers:
        w.join()
    return elapsed, results


def _client_process(plan: _Plan, client: int, count: int, barrier: object, queue: object) -> None:
    # connect before the start line, as a warm API worker would
    _, release = _open(plan.url, plan.timeout_ms)
    release()
    barrier.wait()  # type: ignore[attr-defined]
    try:
        result: tuple[int, int, list[int]] | str = _client(plan, client, count, None)
    except Exception as exc:  # the parent waits for every client: tell it, do not vanish
        result = f"{type(exc).__name__}: {exc}"
    queue.put(result)  # type: ignore[attr-defined]


def _client(
    plan: _Plan, client: int, count: int, progress: Progress | None
) -> tuple[int, int, list[int]]:
    if plan.raw:
        return _raw_client(plan, client, count)
    ledger, release = _open(plan.url, plan.timeout_ms)
    try:
        return _send(ledger, plan, client, count, progress)
    finally:
        release()


def _send(
    ledger: LedgerPort, plan: _Plan, client: int, count: int, progress: Progress | None
) -> tuple[int, int, list[int]]:
    rng = random.Random(f"{plan.run}-{client}")
    hot = f"b{plan.run}-hot"
    accepted = rejected = 0
    latencies: list[int] = []
    sent = 0
    while sent < count:
        size = min(plan.batch, count - sent)
        batch = []
        for n in range(sent, sent + size):
            debit = rng.randrange(plan.accounts)
            if rng.randrange(PPM) < plan.hot_ppm:
                credit = hot
            else:
                other = rng.randrange(plan.accounts - 1)
                credit = _wallet(plan, other if other < debit else other + 1)
            amount = rng.randint(1, MAX_TRANSFER)
            batch.append(
                NewTransfer(
                    f"b{plan.run}-c{client}-{n}",
                    _wallet(plan, debit),
                    credit,
                    amount,
                    "PHP",
                    TRANSFER_CODE,
                )
            )
        started = time.perf_counter_ns()
        outcomes = ledger.create_transfers(batch)
        latencies.append(time.perf_counter_ns() - started)
        ok = sum(1 for o in outcomes if o.ok)
        accepted += ok
        rejected += size - ok
        sent += size
        if progress:
            progress(size)
    return accepted, rejected, latencies


def _picks(plan: _Plan, client: int, count: int) -> list[tuple[int, int | None, int]]:
    """Each transfer's (debit wallet, credit wallet or None for the hot account, amount),
    drawn from the random stream exactly as ``_client`` draws them."""
    rng = random.Random(f"{plan.run}-{client}")
    picks: list[tuple[int, int | None, int]] = []
    for _ in range(count):
        debit = rng.randrange(plan.accounts)
        credit: int | None = None
        if rng.randrange(PPM) >= plan.hot_ppm:
            other = rng.randrange(plan.accounts - 1)
            credit = other if other < debit else other + 1
        picks.append((debit, credit, rng.randint(1, MAX_TRANSFER)))
    return picks


def _raw_client(plan: _Plan, client: int, count: int) -> tuple[int, int, list[int]]:
    """The floor: per transfer a guarded debit, a credit and an insert, on the DBAPI
    connection, one transaction per batch. The two rows of a transfer are updated in id
    order (the hot account, id 0, first), and a batch's rows are locked in id order before
    it starts, so clients never deadlock."""
    db = connect(plan.url)
    mark = "?" if db.is_sqlite else "%s"
    accounts, transfers = f"bench_raw_accounts_{plan.run}", f"bench_raw_transfers_{plan.run}"
    debit_sql = (
        f"UPDATE {accounts} SET debits = debits + {mark} "  # noqa: S608 (our names)
        f"WHERE id = {mark} AND credits - debits >= {mark}"
    )
    credit_sql = f"UPDATE {accounts} SET credits = credits + {mark} WHERE id = {mark}"  # noqa: S608
    insert_sql = f"INSERT INTO {transfers} VALUES ({mark}, {mark}, {mark}, {mark})"  # noqa: S608
    lock_sql = f"SELECT id FROM {accounts} WHERE id = ANY(%s) ORDER BY id FOR UPDATE"  # noqa: S608
    picks = _picks(plan, client, count)
    accepted = rejected = 0
    latencies: list[int] = []
    for start in range(0, count, plan.batch):
        began = time.perf_counter_ns()
        with db.begin_raw() as raw:
            cur = raw.cursor()
            if not db.is_sqlite:
                cur.execute("BEGIN")
                if plan.batch > 1:  # a batch's rows locked in id order first: no deadlocks
                    cur.execute(lock_sql, (_raw_ids(picks[start : start + plan.batch]),))
            for n in range(start, min(count, start + plan.batch)):
                debit, credit, amount = picks[n]
                debit_id, credit_id = debit + 1, 0 if credit is None else credit + 1
                if credit_id < debit_id:
                    cur.execute(credit_sql, (amount, credit_id))
                    cur.execute(debit_sql, (amount, debit_id, amount))
                    ok = cur.rowcount == 1
                    if not ok:  # undo the credit: the transfer is refused
                        cur.execute(credit_sql, (-amount, credit_id))
                else:
                    cur.execute(debit_sql, (amount, debit_id, amount))
                    ok = cur.rowcount == 1
                    if ok:
                        cur.execute(credit_sql, (amount, credit_id))
                if ok:
                    cur.execute(insert_sql, (f"r{client}-{n}", debit_id, credit_id, amount))
                accepted += ok
                rejected += not ok
            if not db.is_sqlite:
                cur.execute("COMMIT")
        latencies.append(time.perf_counter_ns() - began)
    db.dispose()
    return accepted, rejected, latencies


def _raw_ids(picks: list[tuple[int, int | None, int]]) -> list[int]:
    """The raw loop's account ids a batch touches (the hot account is 0, wallet n is n+1)."""
    return sorted({d + 1 for d, _, _ in picks} | {0 if c is None else c + 1 for _, c, _ in picks})
