"""One loan's books as plain data, and what each event does to them: a repayment (dues,
then a prepayment that re-amortises what is left), a day's close (reserve applied, interest
accrued, penalties, aging), a restructure, a write-off.

The functions here *plan*: they return the new installment lines, the new totals and the
amounts each ledger account must move, and the services book exactly those amounts. Every
figure a service writes comes from here, so the rules are tested without a database.

Versions: a loan's schedule is a list of lines of one *version*. A prepayment or a
restructure ends the open lines (status ``restructured``, what was paid on them kept) and
starts a new version. ``accrual_base`` is the interest booked before the current version
began; the interest earned by day *d* is ``accrual_base + accrual.earned_through(d, lines)``
(the lines' ``preaccrued`` part excluded), so interest is never booked twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from tindahan.kernel.refusals import invalid
from tindahan.lending import accrual, delinquency
from tindahan.lending.allocation import COMPONENTS, Owed, Part, allocate, totals
from tindahan.lending.schedule import build, spread
from tindahan.lending.terms import Method

_ONE_DAY = timedelta(days=1)
_Plain = TypeVar("_Plain", "Book", "Totals")


@dataclass(frozen=True, slots=True)
class Line:
    seq: int
    start_date: date
    due_date: date
    principal: int
    interest: int
    fee: int
    penalty: int = 0
    preaccrued: int = 0
    principal_paid: int = 0
    interest_paid: int = 0
    fee_paid: int = 0
    penalty_paid: int = 0
    status: str = "open"
    paid_date: date | None = None

    # As ``accrual.Accruing`` reads them: the close hands its lines to ``earned_through`` as
    # they are (making a ``Period`` of each line cost a tenth of the close: issue 18).
    @property
    def interest_minor(self) -> int:
        return self.interest

    @property
    def preaccrued_minor(self) -> int:
        return self.preaccrued

    def unpaid(self, component: str) -> int:
        due: int = getattr(self, component)
        paid: int = getattr(self, component + "_paid")
        return due - paid

    # owed, scheduled_unpaid and settled spell the components out (not ``unpaid(c)`` for c in
    # COMPONENTS): the daily close calls them for a million lines (issue 18's profile).
    def owed(self) -> Owed:
        return Owed(
            self.seq,
            self.penalty - self.penalty_paid,
            self.fee - self.fee_paid,
            self.interest - self.interest_paid,
            self.principal - self.principal_paid,
        )

    @property
    def scheduled_unpaid(self) -> int:
        """Principal + interest + fee still unpaid: what penalties run on."""
        return (
            (self.principal - self.principal_paid)
            + (self.interest - self.interest_paid)
            + (self.fee - self.fee_paid)
        )

    @property
    def settled(self) -> bool:
        return (
            self.penalty == self.penalty_paid
            and self.fee == self.fee_paid
            and self.interest == self.interest_paid
            and self.principal == self.principal_paid
        )

    def plus_penalty(self, amount: int) -> Line:
        """This line with ``amount`` more penalty (``replace`` costs several times more)."""
        return Line(
            self.seq,
            self.start_date,
            self.due_date,
            self.principal,
            self.interest,
            self.fee,
            self.penalty + amount,
            self.preaccrued,
            self.principal_paid,
            self.interest_paid,
            self.fee_paid,
            self.penalty_paid,
            self.status,
            self.paid_date,
        )


@dataclass(frozen=True)
class Terms:
    principal: int
    rate_per_period: Decimal
    method: Method
    accrue_daily: bool
    penalty_rate: Decimal  # per month
    grace_days: int
    order: tuple[str, ...]
    covered: bool
    fee: int  # the fee charged (deducted or added): part of the total cost


@dataclass(frozen=True)
class Totals:
    principal_paid: int = 0
    interest_accrued: int = 0
    interest_paid: int = 0
    fee_booked: int = 0
    fee_paid: int = 0
    penalty: int = 0
    penalty_paid: int = 0
    waived: int = 0
    reserve: int = 0
    accrual_base: int = 0


@dataclass(frozen=True)
class Book:
    terms: Terms
    lines: tuple[Line, ...]  # the current version, in order
    totals: Totals
    version: int = 1

    @property
    def principal_outstanding(self) -> int:
        return self.terms.principal - self.totals.principal_paid

    @property
    def open_lines(self) -> list[Line]:
        return [line for line in self.lines if line.status == "open"]

    def due_through(self, day: date) -> list[Line]:
        return [line for line in self.open_lines if line.due_date <= day]

    def earned_through(self, day: date, *, daily: bool | None = None) -> int:
        every_day = self.terms.accrue_daily if daily is None else daily
        return self.totals.accrual_base + accrual.earned_through(day, self.lines, daily=every_day)

    def oldest_unpaid_due(self) -> date | None:
        open_lines = self.open_lines
        return open_lines[0].due_date if open_lines else None

    def receivable(self) -> int:
        """What the ledger's receivable accounts hold for this loan."""
        t = self.totals
        return (
            self.principal_outstanding
            + t.interest_accrued
            - t.interest_paid
            + t.fee_booked
            - t.fee_paid
            + t.penalty
            - t.penalty_paid
        )


@dataclass(frozen=True)
class Movement:
    """What one event moves, by ledger account role (all amounts ≥ 0)."""

    paid: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COMPONENTS, 0))
    accrue_interest: int = 0  # receivable ← income, booked before the payment
    penalty: int = 0  # receivable ← income
    waive_penalty: int = 0  # income reversed against the receivable

    @property
    def paid_total(self) -> int:
        return sum(self.paid.values())


@dataclass(frozen=True)
class Plan:
    book: Book  # the loan after the event: its current version's lines and totals
    movement: Movement
    #: When the event started a new version: every line of the previous one, as it ends
    #: (paid, or ``restructured`` with what was paid on it).
    ended: tuple[Line, ...] = ()

    @property
    def new_version(self) -> bool:
        return bool(self.ended)

    @property
    def closed(self) -> bool:
        return not self.book.open_lines and self.book.principal_outstanding == 0


def _apply(lines: Sequence[Line], parts: Sequence[Part], day: date) -> list[Line]:
    by_seq = {line.seq: line for line in lines}
    for part in parts:
        line = by_seq[part.seq]
        name = part.component + "_paid"
        line = replace(line, **{name: getattr(line, name) + part.amount_minor})
        if line.settled:
            line = replace(line, status="paid", paid_date=day)
        by_seq[part.seq] = line
    return [by_seq[line.seq] for line in lines]


def _add_paid(t: Totals, paid: dict[str, int]) -> Totals:
    return replace(
        t,
        principal_paid=t.principal_paid + paid["principal"],
        interest_paid=t.interest_paid + paid["interest"],
        fee_paid=t.fee_paid + paid["fee"],
        penalty_paid=t.penalty_paid + paid["penalty"],
    )


def _accrue_to_cover(t: Totals) -> tuple[Totals, int]:
    """Interest paid beyond what was booked is booked now (a due date not closed yet)."""
    short = t.interest_paid - t.interest_accrued
    if short <= 0:
        return t, 0
    return replace(t, interest_accrued=t.interest_paid), short


def _running_interest(book: Book, day: date) -> int:
    """Interest earned to yesterday and not paid, beyond what today's dues still owe — at
    most what the lines not yet due still carry (so a payment of it always lands on one)."""
    earned = book.earned_through(day - _ONE_DAY, daily=True)
    in_dues = sum(line.unpaid("interest") for line in book.due_through(day))
    later = sum(line.unpaid("interest") for line in book.open_lines if line.due_date > day)
    return min(later, max(0, earned - book.totals.interest_paid - in_dues))


def reserve_need(book: Book, day: date) -> int:
    """What the loan still needs set aside, beyond what its reserve holds: everything owed on
    the open installments due up to the next due date on or after ``day`` (late ones
    included), less the reserve; never negative. Auto-deduction fills the reserve up to this
    from each sale, and a payout leaves this much in the settlement wallet (whence the
    merchant may repay), so neither takes what the next installment needs."""
    open_lines = book.open_lines
    if not open_lines:
        return 0
    horizon = next((x.due_date for x in open_lines if x.due_date >= day), day)
    owed = sum(x.owed().total for x in open_lines if x.due_date <= horizon)
    return max(0, owed - book.totals.reserve)


def payoff(book: Book, day: date) -> int:
    """What settles the loan today: every due, the interest earned to yesterday on the
    running period, penalties carried into lines not yet due, the remaining fees and the
    principal (the reserve not deducted)."""
    due_lines = book.due_through(day)
    later = [line for line in book.open_lines if line.due_date > day]
    return (
        sum(line.owed().total for line in due_lines)
        + _running_interest(book, day)
        + sum(
            line.unpaid("penalty") + line.unpaid("fee") + line.unpaid("principal") for line in later
        )
    )


def dues_total(book: Book, day: date) -> int:
    return sum(line.owed().total for line in book.due_through(day))


def pay(book: Book, amount: int, day: date, *, prepay: bool = True) -> Plan:
    """A repayment of ``amount`` on ``day``: dues oldest first in the product's order; what
    is left prepays — the interest earned so far on the running period, the remaining fees,
    then principal, after which the rest of the schedule is re-amortised on the new balance
    over the same due dates. More than the payoff is refused (``prepay=False``: more than
    the dues)."""
    if amount <= 0:
        raise invalid("amount_invalid", "a repayment is a positive amount", "amount_minor")
    owed = payoff(book, day) if prepay else dues_total(book, day)
    if amount > owed:
        raise invalid(
            "overpayment",
            f"at most {owed} centavos is owed today; pay that to close the loan",
            "amount_minor",
        )
    due = [line.owed() for line in book.due_through(day)]
    parts, left = allocate(amount, due, book.terms.order)
    lines = _apply(book.lines, parts, day)
    paid = totals(parts)
    book = replace(book, lines=tuple(lines), totals=_add_paid(book.totals, paid))
    if left == 0:
        settled, short = _accrue_to_cover(book.totals)
        return Plan(replace(book, totals=settled), Movement(paid=paid, accrue_interest=short))
    return _prepay(book, left, day, paid)


def _settle_empty(line: Line, day: date) -> Line:
    """An open line that owes nothing more is paid (a schedule can have lines of 0)."""
    if line.status == "open" and line.settled:
        return replace(line, status="paid", paid_date=day)
    return line


def _prepay(book: Book, amount: int, day: date, paid_dues: dict[str, int]) -> Plan:
    """What is left after the dues, on the lines not yet due: the running interest, carried
    penalties, the remaining fees, then principal. Only a payment that reaches principal
    re-amortises; one that does not leaves the schedule as it is, paid further ahead."""
    later = [line for line in book.open_lines if line.due_date > day]
    now = dict.fromkeys(COMPONENTS, 0)
    left = amount
    now["interest"] = min(left, _running_interest(book, day))
    left -= now["interest"]
    for component in ("penalty", "fee", "principal"):
        now[component] = min(left, sum(line.unpaid(component) for line in later))
        left -= now[component]
    paid = {c: paid_dues[c] + now[c] for c in COMPONENTS}
    settled, short = _accrue_to_cover(_add_paid(book.totals, now))
    movement = Movement(paid=paid, accrue_interest=short)
    shares = {c: spread_over(now[c], [line.unpaid(c) for line in later]) for c in COMPONENTS}
    updated = {
        line.seq: replace(
            line,
            **{f"{c}_paid": getattr(line, f"{c}_paid") + shares[c][i] for c in COMPONENTS},
        )
        for i, line in enumerate(later)
    }
    if now["principal"] == 0:  # nothing to re-amortise: the same schedule, paid ahead
        lines = tuple(_settle_empty(updated.get(x.seq, x), day) for x in book.lines)
        return Plan(replace(book, lines=lines, totals=settled), movement)
    balance = book.terms.principal - settled.principal_paid
    if balance == 0:  # paid off: the unearned interest of the later lines is never owed
        done = tuple(
            replace(
                updated[x.seq],
                interest=updated[x.seq].interest_paid,
                preaccrued=min(x.preaccrued, updated[x.seq].interest_paid),
                status="paid",
                paid_date=day,
            )
            if x.seq in updated
            else x
            for x in book.lines
        )
        return Plan(replace(book, lines=done, totals=settled), movement)
    ended = tuple(
        replace(updated[x.seq], status="restructured") if x.seq in updated else x
        for x in book.lines
    )
    fresh = reamortise(book.terms, balance, day, later[0], [line.due_date for line in later])
    carried = settled.interest_accrued - settled.interest_paid  # booked, unpaid: 0 here
    if carried:
        first = fresh[0]
        fresh[0] = replace(first, interest=first.interest + carried, preaccrued=carried)
    new_book = Book(
        book.terms,
        tuple(_settle_empty(x, day) for x in fresh),
        replace(settled, accrual_base=settled.interest_accrued),
        book.version + 1,
    )
    return Plan(new_book, movement, ended)


def reamortise(
    terms: Terms, balance: int, day: date, running: Line, dates: Sequence[date]
) -> list[Line]:
    """The rest of the schedule on ``balance`` from ``day``: the running period's interest
    only for the days it has left (part-period factor), the same due dates after it."""
    length = (running.due_date - running.start_date).days
    left = (running.due_date - day).days
    factors = [Decimal(left) / Decimal(length)] + [Decimal(1)] * (len(dates) - 1)
    fresh = build(balance, terms.rate_per_period, terms.method, day, dates, factors=factors)
    return [
        Line(
            i.seq + running.seq - 1,
            i.start_date,
            i.due_date,
            i.principal_minor,
            i.interest_minor,
            0,
        )
        for i in fresh
    ]


def spread_over(amount: int, caps: Sequence[int]) -> list[int]:
    """``amount`` taken from the first of ``caps`` onward, each at most its cap."""
    parts, left = [], amount
    for cap in caps:
        take = min(left, cap)
        parts.append(take)
        left -= take
    return parts


# --- the daily close --------------------------------------------------------------------
@dataclass(frozen=True)
class Close:
    plan: Plan
    applied_from_reserve: int
    dpd: int
    bucket: str
    reminders: tuple[Line, ...]  # lines falling due soon (a reminder each)


def close_day(book: Book, day: date, remind_on: date | None = None) -> Close:
    """The end of ``day`` for one loan: interest earned to the end of the day is booked,
    the reserve pays what is due, late lines past grace accrue a day's penalty (within the
    total-cost ceiling of a covered loan), and the loan is aged."""
    t = book.totals
    accrue = max(0, book.earned_through(day) - t.interest_accrued)
    book = _replace(book, totals=_replace(t, interest_accrued=t.interest_accrued + accrue))
    applied = min(book.totals.reserve, dues_total(book, day))
    paid = dict.fromkeys(COMPONENTS, 0)
    if applied:
        plan = pay(book, applied, day, prepay=False)
        book, paid = plan.book, plan.movement.paid
        accrue += plan.movement.accrue_interest  # 0: what falls due was accrued just above
        book = _replace(book, totals=_replace(book.totals, reserve=book.totals.reserve - applied))
    book, penalty = _penalise(book, day)
    dpd = delinquency.days_past_due(book.oldest_unpaid_due(), day)
    reminders = tuple(
        line for line in book.open_lines if remind_on is not None and line.due_date == remind_on
    )
    movement = Movement(paid=paid, accrue_interest=accrue, penalty=penalty)
    return Close(Plan(book, movement), applied, dpd, delinquency.bucket(dpd), reminders)


def _replace(value: _Plain, **changes: Any) -> _Plain:
    """``dataclasses.replace`` for ``Book`` and ``Totals`` (frozen, no slots, no
    ``__post_init__``, every field set by ``__init__``): a copy of the fields with
    ``changes``. The close makes five a loan, and ``replace``'s per-field introspection was
    a tenth of it (issue 18's profile)."""
    fresh = object.__new__(type(value))
    fresh.__dict__.update(value.__dict__)
    fresh.__dict__.update(changes)
    return fresh


def total_cost(book: Book) -> int:
    """Interest over the loan's life as now scheduled, plus the fee and every penalty."""
    scheduled = book.totals.accrual_base + sum(
        line.interest - line.preaccrued for line in book.lines
    )
    return scheduled + book.terms.fee + book.totals.penalty


def _penalise(book: Book, day: date) -> tuple[Book, int]:
    rate = book.terms.penalty_rate
    if rate == 0:
        return book, 0
    room = book.terms.principal - total_cost(book) if book.terms.covered else None
    lines, total = [], 0
    for line in book.lines:
        late = line.status == "open" and (day - line.due_date).days >= book.terms.grace_days
        amount = delinquency.daily_penalty(line.scheduled_unpaid, rate) if late else 0
        if room is not None:
            amount = max(0, min(amount, room - total))
        total += amount
        lines.append(line.plus_penalty(amount) if amount else line)
    t = book.totals
    return _replace(book, lines=tuple(lines), totals=_replace(t, penalty=t.penalty + total)), total


# --- restructuring and write-off ------------------------------------------------------------
def restructure(
    book: Book, day: date, rate: Decimal, dates: Sequence[date], *, waive_penalties: bool
) -> Plan:
    """A new schedule for the principal still owed, from ``day`` over ``dates``, at
    ``rate`` per period. What was booked and not paid is carried into it, never charged
    interest: the interest into the first line (as ``preaccrued``: booked already), the
    penalties into the first line (or forgiven), the fees spread over the new lines."""
    if book.principal_outstanding == 0:
        raise invalid(
            "nothing_to_restructure",
            "the principal is repaid: collect what is left instead of rescheduling it",
            "id",
        )
    t = book.totals
    interest = t.interest_accrued - t.interest_paid
    waive = t.penalty - t.penalty_paid if waive_penalties else 0
    penalty = t.penalty - t.penalty_paid - waive
    fee = t.fee_booked - t.fee_paid
    terms = replace(book.terms, rate_per_period=rate)
    balance = book.principal_outstanding
    fresh = build(balance, rate, terms.method, day, dates) if balance else []
    fees = spread(fee, len(fresh)) if fresh else []
    lines = [
        Line(
            i.seq,
            i.start_date,
            i.due_date,
            i.principal_minor,
            i.interest_minor + (interest if k == 0 else 0),
            fees[k],
            penalty=penalty if k == 0 else 0,
            preaccrued=interest if k == 0 else 0,
        )
        for k, i in enumerate(fresh)
    ]
    ended = tuple(
        replace(line, status="restructured") if line.status == "open" else line
        for line in book.lines
    )
    totals = replace(
        t, waived=t.waived + waive, penalty=t.penalty - waive, accrual_base=t.interest_accrued
    )
    new_book = Book(terms, tuple(_settle_empty(x, day) for x in lines), totals, book.version + 1)
    return Plan(new_book, Movement(waive_penalty=waive), ended)


def restructured_total_cost_ok(book: Book) -> bool:
    return not book.terms.covered or total_cost(book) <= book.terms.principal
