"""The daily close: at the end of each Philippine business day, for every active loan, the
reserve pays what fell due, the interest earned that day is booked, late installments
past grace accrue their day's penalty, the loan is aged (days past due, bucket), and
reminders and delinquency notices go out as webhook events.

Resumable and idempotent: each loan records the last day it was closed for
(``closed_through``) in the same transaction as that day's bookings, and ledger ids are
derived from the loan and the day — a close that stopped half-way runs again from where
it stopped, and a second worker running the same day skips what the first one did (rows
are taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL). Loans are closed in chunks of
``limits.LOAN_CLOSE_CHUNK``, one transaction each; the day is marked done (``loan_closes``)
when no loan is left behind.

Set-based (issue 18): a chunk is two reads (its loans, then their lines as plain rows with
days as ordinals), the rules over all of them at once (``lending.day_close``, checked
against the one-loan ``lending.book.close_day``), one multi-row statement per table for
what changed (``store.bulk.update_rows``), and the ledger transfers as one batch of
postings (``ledger.posted``, written by the ledger's own batch write).
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import insert, select

from tindahan import limits
from tindahan.ledger.model import TransferFlags
from tindahan.ledger.posted import Posting
from tindahan.lending import day_close
from tindahan.lending.allocation import COMPONENTS, parse_order
from tindahan.lending.calendar import business_date
from tindahan.lending.delinquency import BUCKETS
from tindahan.lending.terms import Frequency
from tindahan.payments.model import TransferCode
from tindahan.services.ledger.transfers import book_postings
from tindahan.services.lending import close_cluster, loans
from tindahan.services.platform.events import emit_many
from tindahan.services.unit import Platform, Unit
from tindahan.store.bulk import keyed_plans, update_rows
from tindahan.store.ledger import encode_metadata
from tindahan.store.lending_tables import loan_closes, loan_installments
from tindahan.store.lending_tables import loans as loan_table


@dataclass
class CloseReport:
    business_date: str
    loans: int = 0
    interest_minor: int = 0
    penalty_minor: int = 0
    from_reserve_minor: int = 0
    reminders: int = 0
    delinquent: int = 0
    buckets: Counter[str] = field(default_factory=Counter)
    milliseconds: int = 0  # wall time of the close
    already: bool = False
    #: Loans the day could not close yet: a repayment has them between the two stores (a
    #: TigerBeetle deployment, ``close_cluster``); the day stays open and a later run ends it.
    blocked: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": "loan_close",
            "business_date": self.business_date,
            "loans": self.loans,
            "interest_minor": self.interest_minor,
            "penalty_minor": self.penalty_minor,
            "from_reserve_minor": self.from_reserve_minor,
            "reminders": self.reminders,
            "delinquent": self.delinquent,
            "buckets": {b: self.buckets.get(b, 0) for b in BUCKETS},
            "milliseconds": self.milliseconds,
        }


#: What the close reads of a chunk's loans, in this order (``_loan_day`` and the writes).
_LOAN_COLUMNS = (
    "id",
    "merchant_id",
    "version",
    "frequency",
    "principal_minor",
    "fee_minor",
    "accrual",
    "penalty_rate",
    "grace_days",
    "allocation_order",
    "covered",
    "principal_paid_minor",
    "interest_accrued_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_minor",
    "penalty_paid_minor",
    "reserve_minor",
    "accrual_base_minor",
    "dpd",
    "max_dpd",
    "bucket",
)
_LOANS_SQL = (
    f"SELECT {', '.join(_LOAN_COLUMNS)} FROM loans "  # noqa: S608 (names only)
    "WHERE status = 'active' AND closed_through < {mark} AND start_date <= {mark} "
    "AND id > {mark} ORDER BY id LIMIT {limit}"
)
#: A stored ISO day as ``date.toordinal()``, computed by the database (julianday of
#: 0001-01-01 is 1721425.5, its ordinal 1).
_ORDINAL = {
    "sqlite": "CAST(julianday({c}) - 1721424.5 AS INTEGER)",
    "postgresql": "(CAST({c} AS date) - DATE '0001-01-01' + 1)",
}
#: The current version's lines of the chunk's loans (older versions are history), in
#: ``day_close.LINE_FIELDS`` order: all of them (PostgreSQL), or those ``_NEEDED`` (SQLite).
_LINE_COLUMNS = (
    "seq",
    "{start}",
    "{due}",
    "principal_minor",
    "interest_minor",
    "fee_minor",
    "penalty_minor",
    "preaccrued_minor",
    "principal_paid_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_paid_minor",
    "status",
)
_LINES_FROM = (
    " FROM loan_installments i "
    "JOIN loans l ON l.id = i.loan_id AND l.version = i.version "
    "WHERE i.loan_id IN ({marks})"
)
#: ``day_close.needed`` in SQL (ISO days compare as text): open and due by the reminder's
#: day, or accruing on the day. Parameters: the reminder's day, the day, the day.
_NEEDED = "((i.status = 'open' AND i.due_date <= ?) OR (i.start_date <= ? AND i.due_date > ?))"
_ALL_LINES_SQL = (
    "SELECT i.loan_id, "
    + ", ".join(c if c.startswith("{") else f"i.{c}" for c in _LINE_COLUMNS)
    + _LINES_FROM
)
_LINES_SQL = _ALL_LINES_SQL + " AND " + _NEEDED
#: The other lines of each loan, summed up (``day_close.Rest``); a loan with none has no
#: row. Parameters: the day, then ``_NEEDED``'s.
_REST_SQL = (
    "SELECT i.loan_id, "
    "CAST(SUM(CASE WHEN i.due_date <= ? THEN i.interest_minor - i.preaccrued_minor "
    "ELSE 0 END) AS BIGINT), "
    "CAST(SUM(i.interest_minor - i.preaccrued_minor) AS BIGINT), "
    "CAST(SUM(CASE WHEN i.status = 'open' THEN 1 ELSE 0 END) AS BIGINT), "
    "MIN(CASE WHEN i.status = 'open' THEN i.seq END)"
    + _LINES_FROM
    + " AND NOT "
    + _NEEDED
    + " GROUP BY i.loan_id"
)
_NO_REST = day_close.Rest(0, 0, 0, None)
_LOAN_WRITES = (
    "principal_paid_minor",
    "interest_accrued_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_minor",
    "penalty_paid_minor",
    "reserve_minor",
    "dpd",
    "max_dpd",
    "bucket",
    "closed_through",
    "updated_at_ns",
)
#: Only for the loans the day closed: ``status`` is indexed, and naming it in every row's
#: UPDATE made SQLite rewrite two index entries per loan for an unchanged value.
_CLOSED_WRITES = ("status", "closed_at_ns")
_LINE_KEYS = ("loan_id", "version", "seq")
_PAID_LINE_WRITES = (
    "penalty_minor",
    "principal_paid_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_paid_minor",
    "status",
    "paid_date",
)


def _fetch(unit: Unit, sql: str, params: tuple[Any, ...]) -> list[Any]:
    """Rows of plain SQL on the driver's own cursor, in one fetchall: the close reads
    thousands of loans and about ten lines each, and SQLAlchemy's per-row result
    processing cost more than the queries (issue 18's profiles)."""
    mark = "?" if unit.db.is_sqlite else "%s"
    cursor = unit.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql.replace("?", mark), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _chunk(unit: Unit, day: str, after: str, hold: str | None = None) -> list[Any]:
    """The next loans to close, from the one after ``after`` (ids in order); on a
    TigerBeetle deployment only those the close holds (``hold``, ``close_cluster.claim``)."""
    sql = _LOANS_SQL.format(mark="?", limit=int(limits.LOAN_CLOSE_CHUNK))
    params: tuple[str, ...] = (day, day, after)
    if hold is not None:
        sql = sql.replace(" ORDER BY", " AND ledger_hold = ? ORDER BY")
        params += (hold,)
    if not unit.db.is_sqlite:
        sql += " FOR UPDATE SKIP LOCKED"
    return _fetch(unit, sql, params)


def _lines_by_loan(
    unit: Unit, ids: list[str], day: str, remind_on: str
) -> tuple[dict[str, list[Any]], dict[str, day_close.Rest] | None]:
    """The chunk's lines by loan and ``seq``. On SQLite only those the day can touch
    (``day_close.needed``), the others summed up by the database (``day_close.Rest``)
    instead of read; on PostgreSQL all of them (``None``): there the second pass over the
    lines cost the server more than the fewer rows saved (20,000 loans: server CPU
    4.4-5.3 s against 3.7-4.8 s, the process's unchanged; README)."""
    found: dict[str, list[Any]] = {loan_id: [] for loan_id in ids}
    sqlite = unit.db.is_sqlite
    ordinal = _ORDINAL["sqlite" if sqlite else "postgresql"]
    marks = ", ".join(["?"] * len(ids))
    sql = (_LINES_SQL if sqlite else _ALL_LINES_SQL).format(
        start=ordinal.format(c="i.start_date"), due=ordinal.format(c="i.due_date"), marks=marks
    )
    needed = (remind_on, day, day)
    # Sorted here, not by the query: SQLite sorted them in a temporary B-tree (a fifth of
    # the read), though they come by loan and seq from the index, which Python's sort
    # finds in one pass. Then grouped in C (an append per line was a tenth of reading).
    rows = _fetch(unit, sql, (*ids, *needed) if sqlite else tuple(ids))
    rows.sort(key=_BY_LINE)
    for loan_id, group in groupby(rows, itemgetter(0)):
        found[loan_id] = list(group)
    if not sqlite:
        return found, None
    rest = {
        r[0]: day_close.Rest(r[1], r[2], r[3], r[4])
        for r in _fetch(unit, _REST_SQL.format(marks=marks), (day, *ids, *needed))
    }
    return found, rest


_BY_LINE = itemgetter(0, 1)  # loan id, seq


@functools.lru_cache(maxsize=1024)
def _rules(
    accrual: str, penalty_rate: str, grace_days: int, order: str, covered: int
) -> day_close.Rules:
    """A product's close rules, parsed once per distinct one."""
    return day_close.Rules(
        accrual == "daily", Decimal(penalty_rate), grace_days, parse_order(order), bool(covered)
    )


def _loan_day(row: Any, lines: list[Any], rest: day_close.Rest | None) -> day_close.LoanDay:
    return day_close.LoanDay(
        _rules(row[6], row[7], row[8], row[9], row[10]),
        row[4],
        row[5],
        day_close.Totals(*row[11:19]),
        lines,
        row[3] != Frequency.DAILY,
        rest,
    )


def close_chunk(unit: Unit, day: date, report: CloseReport) -> int:
    """Close the next chunk of loans for ``day``; returns how many it closed."""
    return close_after(unit, day, report, "")[0]


def close_after(unit: Unit, day: date, report: CloseReport, after: str) -> tuple[int, str]:
    """Close the next chunk of loans for ``day`` whose ids come after ``after``; how many it
    closed, and the last one's id.

    Set-based: the chunk's loans and lines are read in two queries, the rules run over all
    of them (``lending.day_close``), and what changed is written with one multi-row
    statement per table, the ledger's transfers as one batch of postings."""
    text = day.isoformat()
    cluster = unit.platform.ledger is not None
    keyed_plans(unit.conn)  # PostgreSQL: every statement below names its rows by key
    rows = _chunk(unit, text, after, close_cluster.hold_of(day) if cluster else None)
    if not rows:
        return 0, after
    remind_day = day + timedelta(days=limits.LOAN_REMINDER_DAYS + 1)
    lines, rest = _lines_by_loan(unit, [r[0] for r in rows], text, remind_day.isoformat())
    results = day_close.close_many(
        [
            _loan_day(r, lines[r[0]], None if rest is None else rest.get(r[0], _NO_REST))
            for r in rows
        ],
        day.toordinal(),
        remind_day.toordinal(),
    )
    now = unit.now()
    loan_updates, closed, penalised, paid_lines, notices = [], [], [], [], []
    for row, result in zip(rows, results, strict=True):
        loan_id, version = row[0], row[2]
        t = result.totals
        loan_updates.append(
            (
                t.principal_paid,
                t.interest_accrued,
                t.interest_paid,
                t.fee_paid,
                t.penalty,
                t.penalty_paid,
                t.reserve,
                result.dpd,
                max(row[20], result.dpd),
                result.bucket,
                text,
                now,
                loan_id,
            )
        )
        if result.closed:
            closed.append(("closed", now, loan_id))
        penalised += [(penalty, loan_id, version, seq) for seq, penalty in result.penalised]
        paid_lines += [_paid_line(line, text, version) for line in result.paid_lines]
        notices += _announce(row, result, report)
        _count(report, result)
    update_rows(unit.conn, loan_installments, _LINE_KEYS, ("penalty_minor",), penalised)
    update_rows(unit.conn, loan_installments, _LINE_KEYS, _PAID_LINE_WRITES, paid_lines)
    update_rows(unit.conn, loan_table, ("id",), _LOAN_WRITES, loan_updates)
    update_rows(unit.conn, loan_table, ("id",), _CLOSED_WRITES, closed)
    emit_many(unit, notices)
    tag = stamp(day)
    _book(unit, [postings(r[0], tag, res) for r, res in zip(rows, results, strict=True)])
    if cluster:
        close_cluster.release(unit, day, [r[0] for r in rows])
    return len(rows), rows[-1][0]


def _paid_line(line: list[Any], day: str, version: int) -> tuple[Any, ...]:
    paid = line[day_close.STATUS] == day_close.PAID
    return (
        line[day_close.PENALTY],
        line[day_close.PRINCIPAL_PAID],
        line[day_close.INTEREST_PAID],
        line[day_close.FEE_PAID],
        line[day_close.PENALTY_PAID],
        line[day_close.STATUS],
        day if paid else None,
        line[0],
        version,
        line[day_close.SEQ],
    )


def _count(report: CloseReport, result: day_close.DayResult) -> None:
    report.loans += 1
    report.interest_minor += result.accrued
    report.penalty_minor += result.penalty
    report.from_reserve_minor += result.applied
    report.buckets[result.bucket] += 1
    report.delinquent += result.dpd > 0


def stamp(day: date) -> str:
    """The part of a close's ledger ids that names its day."""
    return "c" + day.strftime("%Y%m%d")


def postings(loan_id: str, day_stamp: str, result: day_close.DayResult) -> list[Posting]:
    """The transfers of one loan's day, as ``loans.legs`` makes them (bookings first, then
    the reserve's payment component by component), linked into one chain."""
    base = loan_id.replace("_", ".")  # ledger_id
    tag = f"{base}.{day_stamp}"
    # encode_metadata's JSON, spelt out for the usual id (json.dumps was a tenth of this)
    plain = loan_id.replace("_", "").isalnum() and loan_id.isascii()
    meta = f'{{"loan":"{loan_id}"}}' if plain else encode_metadata({"loan": loan_id})
    reserve = f"{base}.reserve"
    made = []
    if result.accrued:
        made.append(
            (f"{tag}.accrue", f"{base}.interest", loans.OP_INTEREST, result.accrued, _INTEREST)
        )
    if result.penalty:
        made.append(
            (f"{tag}.penalty", f"{base}.penalty", loans.OP_PENALTY, result.penalty, _PENALTY)
        )
    for component, amount in zip(COMPONENTS, result.paid, strict=True):
        if amount:
            made.append((f"{tag}.{component}0", reserve, f"{base}.{component}", amount, _REPAY))
    last = len(made) - 1
    # tuple.__new__ straight: Posting's own __new__ is a Python call per posting
    return [
        _posting(Posting, (tid, dr, cr, amount, _PHP, code, 0 if i == last else LINKED, meta))
        for i, (tid, dr, cr, amount, code) in enumerate(made)
    ]


_posting = tuple.__new__
_PHP = loans.CURRENCY


_INTEREST = int(TransferCode.LOAN_INTEREST)
_PENALTY = int(TransferCode.LOAN_PENALTY)
_REPAY = int(TransferCode.LOAN_REPAYMENT)
LINKED = int(TransferFlags.LINKED)


def _book(unit: Unit, chains: list[list[Posting]]) -> None:
    """The chunk's postings in as few ledger batches as fit (``MAX_BATCH`` each, a loan's
    chain never split), each one write (``transfers.book_postings``); on a TigerBeetle
    deployment, in the cluster before the chunk commits (``close_cluster``)."""
    chains = [c for c in chains if c]
    if not chains:
        return
    if unit.platform.ledger is not None:  # a TigerBeetle deployment: the cluster books them
        close_cluster.book(unit, unit.platform.ledger, chains)
        return
    batch: list[Posting] = []
    for chain in chains:
        if len(batch) + len(chain) > limits.MAX_BATCH:
            book_postings(unit.db, unit.conn, batch)
            batch = []
        batch += chain
    book_postings(unit.db, unit.conn, batch)


Notice = tuple[str, dict[str, Any], tuple[str, ...]]


def _announce(row: Any, result: day_close.DayResult, report: CloseReport) -> list[Notice]:
    """The events one loan's close announces (sent for the whole chunk at once)."""
    loan_id, parties = row[0], (row[1],)
    found: list[Notice] = []
    for due, owed in result.reminders:
        data = {
            "loan_id": loan_id,
            "due_date": date.fromordinal(due).isoformat(),
            "amount_minor": owed,
        }
        found.append(("loan.payment_due", data, parties))
        report.reminders += 1
    if result.bucket != row[21] and result.dpd > row[19]:
        data = {"loan_id": loan_id, "days_past_due": result.dpd, "bucket": result.bucket}
        found.append(("loan.overdue", data, parties))
    if result.closed:
        found.append(("loan.closed", {"loan_id": loan_id}, parties))
    return found


def run(
    platform: Platform,
    day: date,
    progress: Callable[[int], None] | None = None,
    workers: int = 1,
) -> CloseReport:
    """Close every active loan for ``day`` (idempotent); the report of what it did.

    ``workers`` above 1 (PostgreSQL only, see ``workers_for``) closes chunks on that many
    threads at once, each with its own transaction and connection, as separate worker
    processes would (the rows are taken with SKIP LOCKED): one thread's rules run while
    another's statements run in PostgreSQL, on the other core."""
    text = day.isoformat()
    done = platform.run(
        lambda u: (
            u.conn.execute(select(loan_closes).where(loan_closes.c.business_date == text))
            .mappings()
            .first()
        ),
        write=False,
    )
    report = CloseReport(text)
    if done is not None:
        stored = json.loads(done["report"])
        for name in ("loans", "interest_minor", "penalty_minor", "from_reserve_minor"):
            setattr(report, name, stored[name])
        report.reminders, report.delinquent = stored["reminders"], stored["delinquent"]
        report.buckets.update(stored["buckets"])
        report.milliseconds = stored["milliseconds"]
        report.already = True
        return report
    started = time.perf_counter_ns()
    started_ns = platform.now()
    if min(workers, workers_for(platform)) > 1:
        _close_on_threads(platform, day, report, progress, workers)
    else:
        _close_all(platform, day, report, progress, threading.Event())
    report.milliseconds = (time.perf_counter_ns() - started) // 10**6
    if platform.ledger is not None:
        report.blocked = platform.run(functools.partial(close_cluster.blocked, day=day))
        if report.blocked:  # the day stays open: a later run closes those loans and ends it
            return report

    def finish(unit: Unit) -> None:
        exists = unit.conn.execute(
            select(loan_closes.c.business_date).where(loan_closes.c.business_date == text)
        ).first()
        if exists is None:
            unit.conn.execute(
                insert(loan_closes),
                {
                    "business_date": text,
                    "loans": report.loans,
                    "report": json.dumps(report.as_dict()),
                    "started_at_ns": started_ns,
                    "finished_at_ns": unit.now(),
                },
            )

    platform.run(finish)
    return report


def workers_for(platform: Platform) -> int:
    """The threads the worker's close runs on this database (``LOAN_CLOSE_WORKERS``): one
    on SQLite (one writer) and on a TigerBeetle deployment (its client is not shared
    between threads here)."""
    if platform.db.is_sqlite or platform.ledger is not None:
        return 1
    return limits.LOAN_CLOSE_WORKERS


def _close_all(
    platform: Platform,
    day: date,
    report: CloseReport,
    progress: Callable[[int], None] | None,
    stop: threading.Event,
) -> None:
    """Close chunks until none is left (or ``stop`` is set: another thread failed)."""
    # Each chunk starts after the last one's ids: the chunk's query no longer walks past
    # every loan closed before it (at 100,000 loans, 50 chunks read 2.5 million index
    # entries that way). When none is left after, one pass from the start takes what another
    # worker held or left behind, and the day ends only when that pass finds nothing.
    after = ""
    cluster = platform.ledger is not None
    while not stop.is_set():
        claim = functools.partial(close_cluster.claim, day=day, after=after)
        if cluster and not platform.run(claim):
            count, partial, last = 0, CloseReport(report.business_date), after
        else:
            count, partial, last = platform.run(functools.partial(_attempt, day=day, after=after))
        if count == 0:
            if not after:
                break
            after = ""
            continue
        after = last
        _merge(report, partial)
        if progress is not None:
            progress(count)


def _close_on_threads(
    platform: Platform,
    day: date,
    report: CloseReport,
    progress: Callable[[int], None] | None,
    workers: int,
) -> None:
    """``_close_all`` on ``workers`` threads, each with a report of its own, merged at the
    end; the first failure stops the others after their current chunk and is raised (the
    chunks committed stay, and the next run finishes the day)."""
    stop, lock = threading.Event(), threading.Lock()

    def counted(n: int) -> None:
        if progress is not None:
            with lock:
                progress(n)

    def one() -> CloseReport:
        mine = CloseReport(report.business_date)
        try:
            _close_all(platform, day, mine, counted, stop)
        except BaseException:
            stop.set()
            raise
        return mine

    with ThreadPoolExecutor(workers, thread_name_prefix="loan-close") as pool:
        futures = [pool.submit(one) for _ in range(workers)]
    for future in futures:  # all done here: the first failure is raised
        _merge(report, future.result())


def _attempt(unit: Unit, day: date, after: str) -> tuple[int, CloseReport, str]:
    """One chunk, with a report of its own (a retried transaction starts a fresh one)."""
    partial = CloseReport(day.isoformat())
    count, last = close_after(unit, day, partial, after)
    return count, partial, last


def _merge(total: CloseReport, part: CloseReport) -> None:
    total.loans += part.loans
    total.interest_minor += part.interest_minor
    total.penalty_minor += part.penalty_minor
    total.from_reserve_minor += part.from_reserve_minor
    total.reminders += part.reminders
    total.delinquent += part.delinquent
    total.buckets.update(part.buckets)


def due_days(platform: Platform) -> list[date]:
    """The business days the worker still has to close: from the day after the last close
    (or the first loan's start) up to yesterday, at most ``LOAN_CLOSE_MAX_CATCH_UP_DAYS``."""
    yesterday = business_date(platform.now()) - timedelta(days=1)

    def read(unit: Unit) -> tuple[str | None, str | None]:
        last = unit.conn.execute(
            select(loan_closes.c.business_date)
            .order_by(loan_closes.c.business_date.desc())
            .limit(1)
        ).scalar()
        first = unit.conn.execute(
            select(loan_table.c.closed_through)
            .where(loan_table.c.status == "active")
            .order_by(loan_table.c.closed_through)
            .limit(1)
        ).scalar()
        return last, first

    last, first = platform.run(read, write=False)
    if first is None and last is None:
        return []
    candidates = [date.fromisoformat(x) for x in (last, first) if x is not None]
    start = (
        min(candidates) + timedelta(days=1)
        if first is not None
        else date.fromisoformat(last or "") + timedelta(days=1)
    )
    days: list[date] = []
    while start <= yesterday and len(days) < limits.LOAN_CLOSE_MAX_CATCH_UP_DAYS:
        days.append(start)
        start += timedelta(days=1)
    return days


def close_due(platform: Platform) -> int:
    """Run every close that is due (the worker's job); returns the days closed."""
    days = due_days(platform)
    for n, day in enumerate(days):
        # a loan not closed for this day holds the next ones
        if run(platform, day, workers=workers_for(platform)).blocked:
            return n
    return len(days)
