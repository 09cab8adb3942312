"""The daily close: at the end of each Philippine business day, for every active loan, the
reserve pays what fell due, the interest earned that day is booked, late installments
past grace accrue their day's penalty, the loan is aged (days past due, bucket), and
reminders and delinquency notices go out as webhook events.

Resumable and idempotent: each loan records the last day it was closed for
(``closed_through``) in the same transaction as that day's bookings, and ledger ids are
derived from the loan and the day — a close that stopped half-way runs again from where
it stopped, and a second worker running the same day skips what the first one did (rows
are taken with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL). Loans are closed in chunks of
``limits.LOAN_CLOSE_CHUNK``, one transaction and a few ledger batches each; the day is
marked done (``loan_closes``) when no loan is left behind.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert, select

from tindahan import limits
from tindahan.ledger.model import NewTransfer
from tindahan.lending import book as rules
from tindahan.lending.calendar import business_date
from tindahan.lending.delinquency import BUCKETS
from tindahan.lending.terms import Frequency
from tindahan.services.ledger import movement
from tindahan.services.lending import loans
from tindahan.services.platform.events import emit_many
from tindahan.services.unit import Platform, Unit, ledger_id
from tindahan.store.bulk import update_many
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


def _chunk(unit: Unit, day: str) -> list[Any]:
    query = (
        select(loan_table)
        .where(
            loan_table.c.status == "active",
            loan_table.c.closed_through < day,
            loan_table.c.start_date <= day,
        )
        .order_by(loan_table.c.id)
        .limit(limits.LOAN_CLOSE_CHUNK)
    )
    if not unit.db.is_sqlite:
        query = query.with_for_update(skip_locked=True)
    return list(unit.conn.execute(query).mappings())


#: The current version's lines of the chunk's loans (older versions are history), in the
#: order ``loans.line_from_tuple`` reads them. Sent on the DBAPI cursor as plain SQL: the
#: close reads about ten lines a loan, and SQLAlchemy's per-row result processing cost more
#: than the query (profile in README, "The loans' daily close").
_LINE_COLUMNS = ", ".join(f"i.{name}" for name in loans.LINE_TUPLE_COLUMNS)
_LINES_SQL = (
    f"SELECT i.loan_id, {_LINE_COLUMNS} FROM loan_installments i "  # noqa: S608 (names only)
    "JOIN loans l ON l.id = i.loan_id AND l.version = i.version "
    "WHERE i.loan_id IN ({marks}) ORDER BY i.loan_id, i.seq"
)


def _lines_by_loan(unit: Unit, rows: list[Any]) -> dict[str, list[rules.Line]]:
    found: dict[str, list[rules.Line]] = {r["id"]: [] for r in rows}
    mark = "?" if unit.db.is_sqlite else "%s"
    sql = _LINES_SQL.format(marks=", ".join([mark] * len(found)))
    line = loans.line_from_tuple
    # The driver's own cursor and one fetchall: SQLAlchemy's row-at-a-time iteration over
    # about ten lines a loan was a tenth of reading them (issue 18's profile).
    cursor = unit.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(found))
        records = cursor.fetchall()
    finally:
        cursor.close()
    for record in records:
        found[record[0]].append(line(record, 1))
    return found


def close_chunk(unit: Unit, day: date, report: CloseReport) -> int:
    """Close the next chunk of loans for ``day``; returns how many it closed."""
    text = day.isoformat()
    rows = _chunk(unit, text)
    if not rows:
        return 0
    lines = _lines_by_loan(unit, rows)
    remind_on = day + timedelta(days=limits.LOAN_REMINDER_DAYS + 1)
    batch: list[NewTransfer] = []
    loan_updates, line_updates = [], []
    notices: list[Notice] = []
    stamp = "c" + day.strftime("%Y%m%d")
    for row in rows:
        before = loans.book_with(row, tuple(lines[row["id"]]))
        remind = None if row["frequency"] == Frequency.DAILY else remind_on
        result = rules.close_day(before, day, remind)
        book = result.plan.book
        move = result.plan.movement
        reserve = (
            [(loans.account(row["id"], "reserve"), move.paid)]
            if result.applied_from_reserve
            else []
        )
        batch.extend(
            movement.linked(loans.legs(row["id"], ledger_id(row["id"], stamp), move, reserve))
            if _moves(move)
            else []
        )
        old = {line.seq: line for line in before.lines}
        for line in book.lines:
            if old[line.seq] != line:
                values = loans.line_values(row["id"], before.version, line)
                line_updates.append(values)
        closed = not book.open_lines and book.principal_outstanding == 0
        values = {
            "id": row["id"],
            **loans.totals_values(book.totals),
            "dpd": result.dpd,
            "max_dpd": max(row["max_dpd"], result.dpd),
            "bucket": result.bucket,
            "closed_through": text,
            "status": "closed" if closed else "active",
            "closed_at_ns": unit.now() if closed else None,
            "updated_at_ns": unit.now(),
        }
        loan_updates.append(values)
        notices += _announce(row, result, closed, report)
        report.loans += 1
        report.interest_minor += move.accrue_interest
        report.penalty_minor += move.penalty
        report.from_reserve_minor += result.applied_from_reserve
        report.buckets[result.bucket] += 1
        report.delinquent += result.dpd > 0
    update_many(unit.conn, loan_installments, ("loan_id", "version", "seq"), line_updates)
    update_many(unit.conn, loan_table, ("id",), loan_updates)
    emit_many(unit, notices)
    for start in range(0, len(batch), limits.MAX_BATCH):
        part = _whole_chains(batch, start)
        if part:
            movement.book(unit, part)
    return len(rows)


def _moves(move: rules.Movement) -> bool:
    return bool(move.accrue_interest or move.penalty or move.paid_total)


def _whole_chains(batch: list[NewTransfer], start: int) -> list[NewTransfer]:
    """``batch[start:start + MAX_BATCH]``; chains are at most a few transfers and chunks are
    sized so a chain never crosses a boundary (each loan books at most 7 transfers a day,
    LOAN_CLOSE_CHUNK × 7 < MAX_BATCH)."""
    return batch[start : start + limits.MAX_BATCH]


Notice = tuple[str, dict[str, Any], tuple[str, ...]]


def _announce(row: Any, result: rules.Close, closed: bool, report: CloseReport) -> list[Notice]:
    """The events one loan's close announces (sent for the whole chunk at once)."""
    parties = (row["merchant_id"],)
    found: list[Notice] = []
    for line in result.reminders:
        data = {
            "loan_id": row["id"],
            "due_date": line.due_date.isoformat(),
            "amount_minor": line.owed().total,
        }
        found.append(("loan.payment_due", data, parties))
        report.reminders += 1
    if result.bucket != row["bucket"] and result.dpd > row["dpd"]:
        data = {"loan_id": row["id"], "days_past_due": result.dpd, "bucket": result.bucket}
        found.append(("loan.overdue", data, parties))
    if closed:
        found.append(("loan.closed", {"loan_id": row["id"]}, parties))
    return found


def run(
    platform: Platform, day: date, progress: Callable[[int], None] | None = None
) -> CloseReport:
    """Close every active loan for ``day`` (idempotent); the report of what it did."""
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
    while True:
        count, partial = platform.run(lambda unit: _attempt(unit, day))
        if count == 0:
            break
        _merge(report, partial)
        if progress is not None:
            progress(count)
    report.milliseconds = (time.perf_counter_ns() - started) // 10**6

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


def _attempt(unit: Unit, day: date) -> tuple[int, CloseReport]:
    """One chunk, with a report of its own (a retried transaction starts a fresh one)."""
    partial = CloseReport(day.isoformat())
    return close_chunk(unit, day, partial), partial


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
    for day in days:
        run(platform, day)
    return len(days)
