"""The set-based close (``lending.day_close``, plain rows) equals the one-loan rules
(``lending.book.close_day``, the path the close took before issue 18's rewrite) on random
books: every line, every total, the ledger amounts, the aging, the reminders and whether the
loan closed. The books are walked through random days with reserve top-ups and repayments
(prepayments re-amortise, so later versions with ``preaccrued`` interest come up too)."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lending.test_book_properties import FREQUENCIES, METHODS, ORDERS, new_book
from tests.profiles import examples
from tindahan.kernel.refusals import RefusalError
from tindahan.lending import book as rules
from tindahan.lending import day_close, delinquency
from tindahan.lending.allocation import COMPONENTS
from tindahan.lending.terms import Frequency

REMIND_AHEAD = timedelta(days=4)


def _row(line: rules.Line) -> tuple[Any, ...]:
    return (
        "loan_x",
        line.seq,
        line.start_date.toordinal(),
        line.due_date.toordinal(),
        line.principal,
        line.interest,
        line.fee,
        line.penalty,
        line.preaccrued,
        line.principal_paid,
        line.interest_paid,
        line.fee_paid,
        line.penalty_paid,
        line.status,
    )


def loan_day(book: rules.Book, remind: bool) -> day_close.LoanDay:
    terms, t = book.terms, book.totals
    return day_close.LoanDay(
        day_close.Rules(
            terms.accrue_daily, terms.penalty_rate, terms.grace_days, terms.order, terms.covered
        ),
        terms.principal,
        terms.fee,
        day_close.Totals(
            t.principal_paid,
            t.interest_accrued,
            t.interest_paid,
            t.fee_paid,
            t.penalty,
            t.penalty_paid,
            t.reserve,
            t.accrual_base,
        ),
        [_row(line) for line in book.lines],
        remind,
    )


def assert_same_close(book: rules.Book, day: date, remind: bool) -> rules.Close:
    """Close ``day`` both ways and compare everything; the one-loan result."""
    remind_on = day + REMIND_AHEAD
    old = rules.close_day(book, day, remind_on if remind else None)
    whole = loan_day(book, remind)
    new = day_close.close_loan(whole, day.toordinal(), remind_on.toordinal())
    # the lines the store reads, the others summed up: the same close
    part = day_close.split(whole, day.toordinal(), remind_on.toordinal())
    assert day_close.close_loan(part, day.toordinal(), remind_on.toordinal()) == new
    after, move = old.plan.book, old.plan.movement
    assert new.accrued == move.accrue_interest
    assert new.penalty == move.penalty
    assert new.paid == tuple(move.paid[c] for c in COMPONENTS)
    assert new.applied == old.applied_from_reserve
    t = after.totals
    assert new.totals == day_close.Totals(
        t.principal_paid,
        t.interest_accrued,
        t.interest_paid,
        t.fee_paid,
        t.penalty,
        t.penalty_paid,
        t.reserve,
        t.accrual_base,
    )
    rows = {line.seq: list(_row(line)) for line in book.lines}
    for seq, penalty in new.penalised:
        rows[seq][day_close.PENALTY] = penalty
    for line in new.paid_lines:
        rows[line[day_close.SEQ]] = list(line)
    assert rows == {line.seq: list(_row(line)) for line in after.lines}
    before = {line.seq: line for line in book.lines}
    for now in after.lines:  # what the store writes as paid_date
        if now != before[now.seq] and now.status == "paid":
            assert now.paid_date == day
    assert (new.dpd, new.bucket) == (old.dpd, old.bucket)
    assert new.reminders == [(x.due_date.toordinal(), x.owed().total) for x in old.reminders]
    assert new.closed == old.plan.closed
    return old


@settings(max_examples=examples(300))
@given(
    principal=st.integers(1_000, 5_000_000),
    method=st.sampled_from(METHODS),
    frequency=st.sampled_from(FREQUENCIES),
    count=st.integers(1, 12),
    rate_bp=st.integers(0, 600),
    penalty_bp=st.integers(0, 500),
    grace=st.integers(0, 5),
    covered=st.booleans(),
    daily=st.booleans(),
    fee_bp=st.integers(0, 500),
    fee_added=st.booleans(),
    order=st.sampled_from(ORDERS),
    steps=st.lists(
        st.tuples(st.integers(1, 20), st.integers(0, 300_000), st.integers(0, 400_000)),
        min_size=1,
        max_size=12,
    ),
)
def test_the_row_close_equals_the_one_loan_close(
    principal: int,
    method: Any,
    frequency: Frequency,
    count: int,
    rate_bp: int,
    penalty_bp: int,
    grace: int,
    covered: bool,
    daily: bool,
    fee_bp: int,
    fee_added: bool,
    order: tuple[str, ...],
    steps: list[tuple[int, int, int]],
) -> None:
    fee = principal * fee_bp // 10_000
    book = new_book(
        principal,
        method,
        frequency,
        count,
        D(rate_bp) / 10_000,
        penalty=D(penalty_bp) / 10_000,
        grace=grace,
        covered=covered,
        daily=daily,
        fee=fee,
        fee_added=fee_added,
        order=order,
    )
    remind = frequency != Frequency.DAILY
    day = book.lines[0].start_date
    for advance, set_aside, repay in steps:
        for _ in range(advance):  # every day closed, as the worker does
            book = assert_same_close(book, day, remind).plan.book
            day += timedelta(days=1)
        totals = rules.Totals(**{**vars(book.totals), "reserve": book.totals.reserve + set_aside})
        book = rules.Book(book.terms, book.lines, totals, book.version)
        if repay:
            with contextlib.suppress(RefusalError):  # more than the payoff: refused
                book = rules.pay(book, repay, day).book
    assert_same_close(book, day, remind)


def test_a_covered_loan_stops_at_its_ceiling_on_rows_too() -> None:
    """A covered loan far past due: the penalties stop at the total-cost ceiling both ways."""
    book = new_book(
        10_000,
        METHODS[0],
        Frequency.WEEKLY,
        2,
        D("0.06"),
        penalty=D("0.05"),
        covered=True,
    )
    day = book.lines[0].start_date
    penalties = 0
    for _ in range(2000):
        closed = assert_same_close(book, day, True)
        penalties += closed.plan.movement.penalty
        book = closed.plan.book
        day += timedelta(days=1)
    assert penalties > 0
    assert rules.total_cost(book) == book.terms.principal  # the ceiling reached exactly


def test_a_day_with_nothing_due_changes_only_the_accrual() -> None:
    book = new_book(100_000, METHODS[0], Frequency.MONTHLY, 3, D("0.03"), penalty=D("0.03"))
    day = book.lines[0].start_date + timedelta(days=5)
    new = day_close.close_loan(loan_day(book, True), day.toordinal(), date.max.toordinal())
    assert new.accrued > 0 and new.penalty == 0 and new.applied == 0
    assert new.penalised == [] and new.paid_lines == [] and new.reminders == []
    assert (new.dpd, new.bucket, new.closed) == (0, "current", False)


@settings(max_examples=examples(2000))
@given(
    amount=st.one_of(
        st.integers(0, day_close.EXACT_BELOW - 1),
        st.integers(0, 10**7),
        st.just(day_close.EXACT_BELOW - 1),
    ),
    rate=st.decimals(min_value=0, max_value=D("0.9999999999"), places=10),
    places=st.integers(0, 10),
)
def test_the_integer_penalty_equals_the_decimal_one(amount: int, rate: D, places: int) -> None:
    """``day_close``'s integer form of the day's penalty equals ``delinquency``'s."""
    rate = rate.quantize(D(1).scaleb(-places)) if rate.as_tuple().exponent != -places else rate
    if rate >= 1:
        return
    ratio = day_close._per_day(rate)
    assert ratio is not None
    assert amount * ratio[0] // ratio[1] == delinquency.daily_penalty(amount, rate)


def test_rates_the_integer_penalty_does_not_take() -> None:
    for rate in (D("0.12345678901"), D(1), D("1.5"), D(-1), D("NaN"), D("Infinity")):
        assert day_close._per_day(rate) is None


def _line(seq: int, start: int, due: int, principal: int, interest: int, **paid: Any) -> list[Any]:
    row: list[Any] = ["loan_x", seq, start, due, principal, interest, 0, 0, 0, 0, 0, 0, 0, "open"]
    for name, value in paid.items():
        row[day_close.LINE_FIELDS.index(name)] = value
    return row


def _same_split(loan: day_close.LoanDay, day: int, remind_on: int) -> day_close.DayResult:
    part = day_close.split(loan, day, remind_on)
    assert part.rest is not None and len(part.lines) < len(loan.lines)  # some lines summed
    whole = day_close.close_loan(loan, day, remind_on)
    assert day_close.close_loan(part, day, remind_on) == whole
    return whole


def _loan(lines: list[list[Any]], principal: int, **totals: int) -> day_close.LoanDay:
    rules = day_close.Rules(True, D("0.9"), 0, tuple(reversed(COMPONENTS)), covered=True)
    zero = dict.fromkeys(day_close.Totals._fields, 0)
    return day_close.LoanDay(
        rules, principal, 0, day_close.Totals(**{**zero, **totals}), lines, remind=True
    )


def test_the_summed_lines_count_where_a_random_book_rarely_reaches() -> None:
    """``Rest``'s parts that the random books above seldom exercise, each against the close
    of all the lines: an open line not read ahead of one read (the loan is not late by it),
    an open line not read keeps a loan with its principal paid open, and a covered loan's
    ceiling counts the interest of the lines not read."""
    day = date(2026, 6, 2).toordinal()
    remind_on = day + 4
    # seq 1 open but due after remind_on (not read), seq 2 open and late: the oldest open
    # line by seq is the first, so the loan is current
    ahead = _loan([_line(1, day + 1, day + 30, 100, 0), _line(2, day - 40, day - 10, 100, 0)], 200)
    assert _same_split(ahead, day, remind_on).dpd == 0
    # principal paid in full, interest still open on a line due later: not closed
    interest_left = _loan(
        [
            _line(
                1, day - 20, day - 10, 100, 10, principal_paid=100, interest_paid=10, status="paid"
            ),
            _line(2, day + 10, day + 20, 0, 10),
        ],
        100,
        principal_paid=100,
        interest_accrued=10,
        interest_paid=10,
    )
    assert _same_split(interest_left, day, remind_on).closed is False
    # covered: a late line's penalty stops at the ceiling, which counts the 9,000 of
    # interest scheduled on a line not yet started
    ceiling = _loan(
        [_line(1, day - 30, day - 5, 10_000, 0), _line(2, day + 10, day + 40, 0, 9_000)],
        10_000,
        penalty=900,
    )
    assert _same_split(ceiling, day, remind_on).penalty == 100
