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
    new = day_close.close_loan(loan_day(book, remind), day.toordinal(), remind_on.toordinal())
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
