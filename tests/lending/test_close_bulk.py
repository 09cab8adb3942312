"""The close's bulk path (lines read as plain rows, updates sent with ``executemany`` or
``unnest``, many loans a chunk) books exactly what the one-loan path would: each loan read
on its own through SQLAlchemy (``loans.line_rows`` and ``book_of``) and closed by the rules
(``lending.book.close_day``). Checked on a seeded random portfolio of weekly, daily and monthly
loans, some with reserves, most of them late, over three days, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

from sqlalchemy import select

from tests.lending.conftest import BusinessClock
from tindahan import limits
from tindahan.lending import book as rules
from tindahan.lending.calendar import day_start_ns
from tindahan.lending.terms import Frequency
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import loans
from tindahan.services.seed.loan_book import FIRST, build_book
from tindahan.services.unit import Platform, Unit
from tindahan.store.lending_tables import loans as loan_table

HOUR = 3600 * 10**9


def _one_by_one(unit: Unit, day: date) -> dict[str, tuple[Any, ...]]:
    """What each active loan's books become when ``day`` is closed, loan by loan."""
    expected: dict[str, tuple[Any, ...]] = {}
    query = select(loan_table).where(loan_table.c.status == "active")
    for row in unit.conn.execute(query).mappings():
        before = loans.book_of(row, loans.line_rows(unit, row["id"], row["version"]))
        remind = None
        if row["frequency"] != Frequency.DAILY:
            remind = day + timedelta(days=limits.LOAN_REMINDER_DAYS + 1)
        result = rules.close_day(before, day, remind)
        book = result.plan.book
        expected[row["id"]] = (book.lines, book.totals, result.dpd, result.bucket)
    return expected


def _stored(unit: Unit) -> dict[str, tuple[Any, ...]]:
    found: dict[str, tuple[Any, ...]] = {}
    for row in unit.conn.execute(select(loan_table)).mappings():
        book = loans.book_of(row, loans.line_rows(unit, row["id"], row["version"]))
        found[row["id"]] = (book.lines, book.totals, row["dpd"], row["bucket"])
    return found


def test_the_bulk_close_books_what_the_one_loan_path_would(
    platform: Platform, clock: BusinessClock
) -> None:
    clock.set(day_start_ns(FIRST) - HOUR)
    build_book(platform, 40, seed=7)
    clock.set(day_start_ns(FIRST + timedelta(days=1)) + HOUR)
    loan_close.run(platform, FIRST)  # catches every loan up to the first day
    lines_changed = 0
    for k in range(1, 4):
        day = FIRST + timedelta(days=k)
        clock.set(day_start_ns(day + timedelta(days=1)) + HOUR)
        before = platform.run(_stored, write=False)
        expected = platform.run(partial(_one_by_one, day=day), write=False)
        report = loan_close.run(platform, day)
        after = platform.run(_stored, write=False)
        assert report.loans == len(expected) > 0
        for loan_id, books in expected.items():
            assert after[loan_id] == books, loan_id
            lines_changed += after[loan_id][0] != before[loan_id][0]
        assert report.interest_minor > 0 and report.penalty_minor > 0
    assert lines_changed > 0  # the portfolio does move lines (penalties, reserves)
