"""The close's ledger side after issue 18's set-based rewrite: each loan-day's transfers,
booked as one batch of postings (``ledger.posted``), are exactly the ones the one-loan path
books (``lending.book.close_day`` → ``loans.legs`` → ``movement.linked``: ids, accounts,
amounts, codes, flags, metadata); ``ledger verify`` holds; a second run of the day books
nothing; a close that fails half-way leaves whole chunks behind and the next run finishes
the day with the same books. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.lending.conftest import BusinessClock
from tindahan import limits
from tindahan.ledger import posted
from tindahan.ledger.model import Account, AccountFlags
from tindahan.lending import book as rules
from tindahan.lending.calendar import day_start_ns
from tindahan.lending.terms import Frequency
from tindahan.services.ledger import movement, verify
from tindahan.services.ledger import transfers as ledger_transfers
from tindahan.services.lending import close as loan_close
from tindahan.services.lending import loans
from tindahan.services.seed.loan_book import FIRST, build_book
from tindahan.services.unit import Platform, Unit, ledger_id
from tindahan.store.lending_tables import loans as loan_table
from tindahan.store.tables import transfers

HOUR = 3600 * 10**9


def _expected_legs(unit: Unit, day: date) -> set[tuple[Any, ...]]:
    """The transfers the one-loan path books for ``day``, loan by loan."""
    found: set[tuple[Any, ...]] = set()
    stamp = "c" + day.strftime("%Y%m%d")
    query = select(loan_table).where(loan_table.c.status == "active")
    for row in unit.conn.execute(query).mappings():
        before = loans.book_of(row, loans.line_rows(unit, row["id"], row["version"]))
        remind = None
        if row["frequency"] != Frequency.DAILY:
            remind = day + timedelta(days=limits.LOAN_REMINDER_DAYS + 1)
        result = rules.close_day(before, day, remind)
        move = result.plan.movement
        reserve = [(loans.account(row["id"], "reserve"), move.paid)]
        legs = loans.legs(row["id"], ledger_id(row["id"], stamp), move, reserve)
        for t in movement.linked(legs):
            meta = f'{{"loan":"{row["id"]}"}}'
            found.add(
                (t.id, t.debit_account_id, t.credit_account_id, t.amount, t.code, t.flags, meta)
            )
    return found


def _booked(unit: Unit, day: date) -> set[tuple[Any, ...]]:
    stamp = ".c" + day.strftime("%Y%m%d") + "."
    query = select(
        transfers.c.id,
        transfers.c.debit_account_id,
        transfers.c.credit_account_id,
        transfers.c.amount,
        transfers.c.code,
        transfers.c.flags,
        transfers.c.metadata,
    ).where(transfers.c.id.contains(stamp))
    return {tuple(r) for r in unit.conn.execute(query)}


def _books(unit: Unit) -> dict[str, Any]:
    rows = unit.conn.execute(select(loan_table).order_by(loan_table.c.id)).mappings()
    return {r["id"]: {k: v for k, v in r.items() if k != "updated_at_ns"} for r in rows}


def _count(unit: Unit) -> int:
    return int(unit.conn.execute(select(func.count()).select_from(transfers)).scalar_one())


def _start(platform: Platform, clock: BusinessClock, loans_count: int) -> None:
    clock.set(day_start_ns(FIRST) - HOUR)
    build_book(platform, loans_count, seed=11)
    clock.set(day_start_ns(FIRST + timedelta(days=1)) + HOUR)
    loan_close.run(platform, FIRST)


def test_the_close_books_the_one_loan_paths_transfers(
    platform: Platform, clock: BusinessClock
) -> None:
    _start(platform, clock, 30)
    for k in (1, 2):
        day = FIRST + timedelta(days=k)
        clock.set(day_start_ns(day + timedelta(days=1)) + HOUR)
        expected = platform.run(partial(_expected_legs, day=day), write=False)
        loan_close.run(platform, day)
        booked = platform.run(partial(_booked, day=day), write=False)
        assert booked == expected
        assert any(t[2].endswith(".principal") for t in booked)  # the reserve paid some
    before = platform.run(lambda u: (_count(u), _books(u)), write=False)
    again = loan_close.run(platform, day)  # the same day once more: nothing moves
    assert again.already
    assert platform.run(lambda u: (_count(u), _books(u)), write=False) == before
    assert verify.verify(platform.db).ok


def test_a_close_that_fails_half_way_resumes(
    platform: Platform, clock: BusinessClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    _start(platform, clock, 30)
    day = FIRST + timedelta(days=1)
    clock.set(day_start_ns(day + timedelta(days=1)) + HOUR)
    expected = platform.run(lambda u: _expected_legs(u, day), write=False)
    monkeypatch.setattr(limits, "LOAN_CLOSE_CHUNK", 12)
    real, calls = ledger_transfers.book_postings, []

    def failing_second_chunk(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the worker died")
        real(*args)

    monkeypatch.setattr(loan_close, "book_postings", failing_second_chunk)
    with pytest.raises(RuntimeError):
        loan_close.run(platform, day)
    text = day.isoformat()
    closed = platform.run(lambda u: [r["closed_through"] == text for r in _books(u).values()])
    assert sum(closed) == 12  # the first chunk, whole; the second rolled back whole
    monkeypatch.setattr(loan_close, "book_postings", real)
    report = loan_close.run(platform, day)
    assert report.loans == 30 - 12
    assert platform.run(lambda u: _booked(u, day), write=False) == expected
    assert verify.verify(platform.db).ok


def _account(account_id: str, flags: AccountFlags, debits: int, credits: int) -> Account:
    return Account(account_id, "PHP", 1, None, flags, 0, debits, 0, credits, 1)


def test_postings_keep_the_ledgers_rules_or_refuse_the_batch() -> None:
    reserve = _account("r", AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS, 0, 500)
    owed = _account("p", AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS, 300, 0)
    accounts = {"r": posted.balances_of(reserve), "p": posted.balances_of(owed)}

    def plan(*items: tuple[str, str, str, int, int]) -> Any:
        made = [posted.Posting(i, d, c, a, "PHP", 1, f, "{}") for i, d, c, a, f in items]
        return posted.plan_postings(made, accounts, first_timestamp=10, now_ns=5)

    rows, deltas = plan(("a", "r", "p", 200, 1), ("b", "r", "p", 100, 0))
    assert [r[0] for r in rows] == [10, 11] and rows[0][7] == 1
    assert deltas == {"r": (0, 300, 0, 0), "p": (0, 0, 0, 300)}
    for items, result in [
        ((("a", "r", "p", 301, 0),), "exceeds_debits"),
        ((("a", "p", "r", 1, 0), ("b", "r", "p", 502, 0)), "exceeds_credits"),
        ((("a", "r", "x", 1, 0),), "credit_account_not_found"),
        ((("a", "r", "p", 1, 1),), "linked_event_chain_open"),
        ((("a", "r", "p", 0, 0),), "amount_must_be_positive"),
        ((("a b", "r", "p", 1, 0),), "id_invalid"),
    ]:
        with pytest.raises(posted.PostingError) as refused:
            plan(*items)
        assert refused.value.result == result


def test_the_close_on_two_threads_books_what_one_does(
    platform: Platform, clock: BusinessClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``workers=2`` (the worker's close on PostgreSQL; SQLite runs it on one): chunks of
    5 loans taken by two threads at once book the one-loan path's transfers, count every
    loan once, and a failure on one thread is raised, leaving whole chunks for the next
    run."""
    _start(platform, clock, 30)
    monkeypatch.setattr(limits, "LOAN_CLOSE_CHUNK", 5)
    day = FIRST + timedelta(days=1)
    clock.set(day_start_ns(day + timedelta(days=1)) + HOUR)
    expected = platform.run(partial(_expected_legs, day=day), write=False)
    seen: list[int] = []
    report = loan_close.run(platform, day, seen.append, workers=2)
    assert report.loans == sum(seen) == 30
    assert platform.run(partial(_booked, day=day), write=False) == expected
    day = FIRST + timedelta(days=2)
    clock.set(day_start_ns(day + timedelta(days=1)) + HOUR)
    expected = platform.run(partial(_expected_legs, day=day), write=False)
    real, calls = ledger_transfers.book_postings, []

    def failing_third_chunk(*args: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the worker died")
        real(*args)

    monkeypatch.setattr(loan_close, "book_postings", failing_third_chunk)
    with pytest.raises(RuntimeError):
        loan_close.run(platform, day, workers=2)
    text = day.isoformat()
    closed = platform.run(lambda u: [r["closed_through"] == text for r in _books(u).values()])
    assert sum(closed) % 5 == 0 and sum(closed) < 30  # whole chunks, the failed one not
    monkeypatch.setattr(loan_close, "book_postings", real)
    again = loan_close.run(platform, day, workers=2)
    assert again.loans == 30 - sum(closed)
    assert platform.run(partial(_booked, day=day), write=False) == expected
    assert verify.verify(platform.db).ok
