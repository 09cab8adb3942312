"""The daily close over many loans at once: the rules of ``book.close_day`` on plain rows.

``book.close_day`` closes one loan through ``Book``, ``Line`` and ``Plan`` objects, copying
each as it changes; for a chunk of thousands of loans with about ten lines each, building
and copying those objects cost more than the rules themselves (README, "The loans' daily
close"). Here a loan's lines are the plain rows the store reads (``LINE_FIELDS``, days as
ordinals), and only what the day changes is made anew: the lines a penalty or the reserve
touches, the totals, the ledger amounts (as named tuples: a frozen dataclass's ``__init__``
sets each field through ``object.__setattr__``, a tenth of the rules' time). The rules are
``close_day``'s, in its order, and ``tests/lending/test_day_close.py`` holds the two equal
on random books:

1. interest earned to the end of the day is booked (``accrual.earned_through``);
2. the reserve pays what is due (``book.pay`` without prepayment: oldest line first, the
   product's component order; a line paid in full is ``paid``);
3. open lines past grace accrue a day's penalty (``delinquency.daily_penalty``), within
   the total-cost ceiling of a covered loan;
4. the loan is aged from its first open line; open lines due on ``remind_on`` get a
   reminder; a loan with no open line and no principal left is closed.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from tindahan.lending import delinquency

#: The columns of a line row, in order (``loan_id`` first; days are ``date.toordinal()``).
LINE_FIELDS = (
    "loan_id",
    "seq",
    "start_date",
    "due_date",
    "principal",
    "interest",
    "fee",
    "penalty",
    "preaccrued",
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "penalty_paid",
    "status",
)
SEQ, START, DUE, PRINCIPAL, INTEREST, FEE, PENALTY, PREACCRUED = range(1, 9)
PRINCIPAL_PAID, INTEREST_PAID, FEE_PAID, PENALTY_PAID, STATUS = range(9, 14)
OPEN, PAID = "open", "paid"
#: Each component's (due, paid) columns, and its place in ``allocation.COMPONENTS``.
_COLUMNS = {
    "penalty": (PENALTY, PENALTY_PAID, 0),
    "fee": (FEE, FEE_PAID, 1),
    "interest": (INTEREST, INTEREST_PAID, 2),
    "principal": (PRINCIPAL, PRINCIPAL_PAID, 3),
}
LineRow = Sequence[Any]


@dataclass(frozen=True, slots=True)
class Rules:
    """What the close reads of a loan's product (few distinct ones across a book)."""

    accrue_daily: bool
    penalty_rate: Decimal  # per month
    grace_days: int
    order: tuple[str, ...]  # the allocation order, each of allocation.COMPONENTS once
    covered: bool

    @property
    def slots(self) -> tuple[tuple[int, int, int], ...]:
        return tuple(_COLUMNS[c] for c in self.order)


class Totals(NamedTuple):
    """The loan's running totals the close reads and changes."""

    principal_paid: int
    interest_accrued: int
    interest_paid: int
    fee_paid: int
    penalty: int
    penalty_paid: int
    reserve: int
    accrual_base: int


class Rest(NamedTuple):
    """What the close needs of the lines it did not read (``split``): the lines a day
    cannot touch, neither open and due by the reminder's day nor accruing on the day,
    summed up by the database instead of read row by row (issue 18: they were about two
    thirds of the 1.8 million lines a 100,000-loan close read)."""

    earned: int  # interest less pre-accrued of those due by the day (earned in full)
    scheduled: int  # interest less pre-accrued of all of them (the total cost)
    open: int  # how many are open
    first_open: int | None  # the lowest ``seq`` among the open ones


class LoanDay(NamedTuple):
    """One loan as the close reads it: its lines are the current version's, by ``seq``;
    all of them, or (``rest`` given) those ``split`` keeps."""

    rules: Rules
    principal: int
    fee: int  # the fee charged: part of the total cost
    totals: Totals
    lines: Sequence[LineRow]
    remind: bool  # daily loans get no reminders
    rest: Rest | None = None


class DayResult(NamedTuple):
    """What the day did to one loan."""

    accrued: int  # interest booked
    penalty: int  # penalty booked
    paid: tuple[int, int, int, int]  # from the reserve, by allocation.COMPONENTS
    totals: Totals
    penalised: list[tuple[int, int]]  # (seq, penalty now) of lines only a penalty changed
    paid_lines: list[list[Any]]  # the lines the reserve paid on, as they are now
    dpd: int
    bucket: str
    reminders: list[tuple[int, int]]  # (due day, owed now) of the lines due on remind_on
    closed: bool

    @property
    def applied(self) -> int:
        return sum(self.paid)


def earned(lines: Sequence[LineRow], day: int, *, daily: bool) -> int:
    """``accrual.earned_through`` on line rows."""
    total: int = 0
    for r in lines:
        new = r[INTEREST] - r[PREACCRUED]
        due = r[DUE]
        if due <= day:
            total += new
        elif daily and r[START] <= day:
            total += new * (day - r[START] + 1) // (due - r[START])
    return total


def owed(r: LineRow) -> int:
    """Everything still unpaid on a line."""
    total: int = (
        r[PENALTY]
        - r[PENALTY_PAID]
        + r[FEE]
        - r[FEE_PAID]
        + r[INTEREST]
        - r[INTEREST_PAID]
        + r[PRINCIPAL]
        - r[PRINCIPAL_PAID]
    )
    return total


def needed(r: LineRow, day: int, remind_on: int) -> bool:
    """Whether the close of ``day`` reads line ``r`` itself: open and due by
    ``remind_on`` (the reserve, the penalty, the aging and the reminders look at no other),
    or accruing on the day (started, not yet due). The store's query says the same in SQL
    (``services.lending.close``)."""
    return bool((r[STATUS] == OPEN and r[DUE] <= remind_on) or r[START] <= day < r[DUE])


def split(loan: LoanDay, day: int, remind_on: int) -> LoanDay:
    """``loan`` with only the lines ``needed`` and the others summed up in ``rest``: its
    close is the same (``tests/lending/test_day_close.py``)."""
    kept: list[LineRow] = []
    earned_in_full = scheduled = open_count = 0
    first_open: int | None = None
    for r in loan.lines:
        if needed(r, day, remind_on):
            kept.append(r)
            continue
        new = r[INTEREST] - r[PREACCRUED]
        scheduled += new
        if r[DUE] <= day:
            earned_in_full += new
        if r[STATUS] == OPEN:
            open_count += 1
            if first_open is None or r[SEQ] < first_open:
                first_open = r[SEQ]
    return loan._replace(lines=kept, rest=Rest(earned_in_full, scheduled, open_count, first_open))


def close_many(loans: Sequence[LoanDay], day: int, remind_on: int) -> list[DayResult]:
    """Every loan of ``loans`` closed for ``day`` (an ordinal)."""
    return [close_loan(loan, day, remind_on) for loan in loans]


def close_loan(loan: LoanDay, day: int, remind_on: int) -> DayResult:
    """One loan closed for ``day``: ``book.close_day``'s rules on its rows."""
    t = loan.totals
    lines = loan.lines
    rest = loan.rest
    earned_by_now = t.accrual_base + earned(lines, day, daily=loan.rules.accrue_daily)
    if rest is not None:  # the lines not read: due by the day in full, or not started
        earned_by_now += rest.earned
    accrue = max(0, earned_by_now - t.interest_accrued)
    changed: dict[int, list[Any]] = {}
    paid = _pay_from_reserve(loan, day, changed)
    interest_accrued = t.interest_accrued + accrue
    interest_paid = t.interest_paid + paid[2]
    if any(paid) and interest_paid > interest_accrued:  # paid beyond the booked: book it
        accrue += interest_paid - interest_accrued
        interest_accrued = interest_paid
    now = [changed.get(i, r) for i, r in enumerate(lines)] if changed else lines
    penalty, penalised = _penalise(loan, now, day, changed)
    open_lines = [r for r in now if r[STATUS] == OPEN]
    oldest = open_lines[0][DUE] if open_lines else day + 1
    first = rest.first_open if rest is not None else None
    if first is not None and (not open_lines or first < open_lines[0][SEQ]):
        oldest = day + 1  # the oldest open line is one not read: due after remind_on
    dpd = day - oldest + 1 if oldest <= day else 0  # delinquency.days_past_due
    reminders = (
        [(r[DUE], owed(r)) for r in open_lines if r[DUE] == remind_on] if loan.remind else []
    )
    totals = Totals(
        t.principal_paid + paid[3],
        interest_accrued,
        interest_paid,
        t.fee_paid + paid[1],
        t.penalty + penalty,
        t.penalty_paid + paid[0],
        t.reserve - sum(paid),
        t.accrual_base,
    )
    return DayResult(
        accrue,
        penalty,
        paid,
        totals,
        penalised,
        list(changed.values()),
        dpd,
        delinquency.bucket(dpd),
        reminders,
        not open_lines
        and (rest is None or not rest.open)
        and loan.principal == totals.principal_paid,
    )


def _pay_from_reserve(
    loan: LoanDay, day: int, changed: dict[int, list[Any]]
) -> tuple[int, int, int, int]:
    """The reserve pays the open lines due by ``day``, oldest first, in the product's
    order; the lines it pays on go into ``changed``. What it paid, by component."""
    if not loan.totals.reserve:
        return 0, 0, 0, 0
    lines = loan.lines
    due = [i for i, r in enumerate(lines) if r[STATUS] == OPEN and r[DUE] <= day]
    left = min(loan.totals.reserve, sum(owed(lines[i]) for i in due))
    paid = [0, 0, 0, 0]
    for i in due:
        if left == 0:
            break
        row = list(lines[i])
        took = False
        for owed_at, paid_at, k in loan.rules.slots:
            take = min(left, row[owed_at] - row[paid_at])
            if take > 0:
                row[paid_at] += take
                paid[k] += take
                left -= take
                took = True
        if took:
            if _settled(row):
                row[STATUS] = PAID
            changed[i] = row
    return paid[0], paid[1], paid[2], paid[3]


def _settled(r: LineRow) -> bool:
    return bool(
        r[PENALTY] == r[PENALTY_PAID]
        and r[FEE] == r[FEE_PAID]
        and r[INTEREST] == r[INTEREST_PAID]
        and r[PRINCIPAL] == r[PRINCIPAL_PAID]
    )


def _penalise(
    loan: LoanDay, lines: Sequence[LineRow], day: int, changed: dict[int, list[Any]]
) -> tuple[int, list[tuple[int, int]]]:
    """Open ``lines`` (the loan's, as the reserve left them) past grace accrue a day's
    penalty (a covered loan's stop at its total-cost ceiling); the penalty booked, and
    ``(seq, penalty)`` of the lines only it changed (the others are in ``changed``)."""
    rules = loan.rules
    rate = rules.penalty_rate
    if rate == 0:
        return 0, []
    room = loan.principal - _total_cost(loan) if rules.covered else None
    last_due = day - rules.grace_days  # late: open, and due on or before this day
    per_day = _per_day(rate)
    total = 0
    penalised: list[tuple[int, int]] = []
    for i, row in enumerate(lines):
        if row[STATUS] != OPEN or row[DUE] > last_due:
            continue
        unpaid = (
            row[PRINCIPAL]
            - row[PRINCIPAL_PAID]
            + row[INTEREST]
            - row[INTEREST_PAID]
            + row[FEE]
            - row[FEE_PAID]
        )
        if per_day is not None and 0 <= unpaid < EXACT_BELOW:
            amount = unpaid * per_day[0] // per_day[1]
        else:
            amount = delinquency.daily_penalty(unpaid, rate)
        if room is not None:
            amount = max(0, min(amount, room - total))
        if not amount:
            continue
        total += amount
        if changed and i in changed:
            changed[i][PENALTY] += amount
        else:
            penalised.append((row[SEQ], row[PENALTY] + amount))
    return total, penalised


#: Amounts below this get the integer form of the daily penalty (``_per_day``).
EXACT_BELOW = 10**15


@functools.lru_cache(maxsize=256)
def _per_day(rate: Decimal) -> tuple[int, int] | None:
    """``rate / 30`` as an exact fraction, when ``amount × numerator // denominator``
    equals ``delinquency.daily_penalty(amount, rate)`` for every amount in
    ``[0, EXACT_BELOW)``: a rate in [0, 1) with at most 10 decimal places. Then
    ``amount × rate`` has at most 25 digits and ``Decimal``'s 28 hold it exactly, and its
    division by 30 either ends within 28 digits or repeats 3s or 6s after at least 13
    places, which rounding at the 28th digit never carries into a whole centavo. (The
    ``Decimal`` form was 6% of a 100,000-loan close: 494,000 late lines.)"""
    if not rate.is_finite() or not 0 <= rate < 1:
        return None
    exponent = rate.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -10:
        return None
    numerator, denominator = rate.as_integer_ratio()
    return numerator, denominator * 30


def _total_cost(loan: LoanDay) -> int:
    """``book.total_cost``: interest as now scheduled, the fee and every penalty."""
    scheduled: int = sum(r[INTEREST] - r[PREACCRUED] for r in loan.lines)
    if loan.rest is not None:
        scheduled += loan.rest.scheduled
    return loan.totals.accrual_base + scheduled + loan.fee + loan.totals.penalty
