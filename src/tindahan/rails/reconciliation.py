"""Reconciliation: one day's movements on our clearing accounts against the switch's statement.

Both sides are lists of ``Movement``: ours from the ledger (every posted transfer into or
out of ``op.rail.instapay`` and ``op.rail.pesonet``), theirs from the camt.053 entries of
Tindahan's settlement account at the switch. A movement's direction is the statement's:
``credit`` when money came into Tindahan (a return, an inbound transfer), a debit when it
left (a transfer of ours settled).

**The matching key**, in order:
1. the UETR and the direction: a UETR names one payment everywhere, and one payment moves
   at most once each way (out when it settles, back when it is returned);
2. where either side has no UETR, the EndToEndId, the direction and the amount: an
   EndToEndId is only the sender's reference, so the amount must agree as well (such a pair
   cannot be an amount mismatch: it is missing on both sides).

**The cut of a day**: the Asia/Manila calendar day (UTC+8, no daylight saving), 00:00 to
24:00 Manila time, i.e. 16:00 UTC the day before to 16:00 UTC. Our side books a movement on
the day of its ledger transfer's time; theirs on the entry's booking date.

**What each pair or loner is**:
* ``matched``: the same key, amount and currency, booked the same day;
* ``amount_mismatch``: the same UETR, another amount or currency;
* ``date_mismatch``: the same payment, booked on another day by one side (found among our
  movements of the nearby days, ``limits.RECONCILE_NEARBY_DAYS``, or an entry of the
  statement dated another day than ours);
* ``missing_ours``: on the statement, not in our books (within the nearby days);
* ``missing_theirs``: in our books that day, not on the statement.

Everything here is plain Python with no database: the service loads both sides.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from tindahan import limits

PH_TIME = timezone(timedelta(hours=limits.BUSINESS_UTC_OFFSET_HOURS))


def manila_day(at_ns: int) -> date:
    """The Asia/Manila calendar day of a moment (ns since the epoch)."""
    return datetime.fromtimestamp(at_ns // 10**9, UTC).astimezone(PH_TIME).date()


def day_bounds(day: date) -> tuple[int, int]:
    """[start, end) of a Manila day, in ns since the epoch."""
    start = datetime(day.year, day.month, day.day, tzinfo=PH_TIME)
    first = int(start.timestamp()) * 10**9
    return first, first + 86_400 * 10**9


class BreakKind(StrEnum):
    MISSING_OURS = "missing_ours"
    MISSING_THEIRS = "missing_theirs"
    AMOUNT = "amount_mismatch"
    DATE = "date_mismatch"


@dataclass(frozen=True, slots=True)
class Movement:
    """One movement of money on one side; ``reference`` is ours (a ledger transfer id) or
    theirs (the statement entry's reference)."""

    uetr: str | None
    end_to_end_id: str | None
    amount_minor: int
    currency: str
    credit: bool
    booking_date: date
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Break:
    """A movement that does not reconcile: what kind, and what each side says."""

    kind: BreakKind
    ours: Movement | None
    theirs: Movement | None

    @property
    def either(self) -> Movement:
        found = self.ours or self.theirs
        assert found is not None  # a break always has at least one side
        return found


@dataclass(frozen=True, slots=True)
class Result:
    day: date
    matched: int
    breaks: tuple[Break, ...]

    @property
    def clean(self) -> bool:
        return not self.breaks


class _Index:
    """Our movements by each key, each usable once."""

    def __init__(self, movements: Iterable[Movement]) -> None:
        self.by_uetr: dict[tuple[str, bool], list[Movement]] = {}
        self.by_e2e: dict[tuple[str, bool, int], list[Movement]] = {}
        self.used: set[int] = set()
        self.all = list(movements)
        for movement in self.all:
            if movement.uetr is not None:
                self.by_uetr.setdefault((movement.uetr, movement.credit), []).append(movement)
            if movement.end_to_end_id is not None:
                key = (movement.end_to_end_id, movement.credit, movement.amount_minor)
                self.by_e2e.setdefault(key, []).append(movement)

    def take(self, theirs: Movement) -> Movement | None:
        if theirs.uetr is not None:
            found = self._first(self.by_uetr.get((theirs.uetr, theirs.credit), []))
            if found is not None:
                return found
        if theirs.end_to_end_id is None:
            return None
        key = (theirs.end_to_end_id, theirs.credit, theirs.amount_minor)
        candidates = self.by_e2e.get(key, [])
        return self._first(
            [
                m
                for m in candidates
                if m.uetr is None or theirs.uetr is None or m.uetr == theirs.uetr
            ]
        )

    def _first(self, candidates: list[Movement]) -> Movement | None:
        for movement in candidates:
            if id(movement) not in self.used:
                self.used.add(id(movement))
                return movement
        return None

    def left(self) -> list[Movement]:
        return [m for m in self.all if id(m) not in self.used]


def reconcile(
    day: date,
    ours: Sequence[Movement],
    theirs: Sequence[Movement],
    nearby: Sequence[Movement] = (),
) -> Result:
    """Match ``ours`` (booked on ``day``) against ``theirs`` (the statement's entries);
    ``nearby`` are our movements of the days around, to tell a date mismatch from a
    movement missing on our side."""
    today = _Index(ours)
    around = _Index(m for m in nearby if m.booking_date != day)
    matched = 0
    breaks: list[Break] = []
    for entry in theirs:
        mine = today.take(entry)
        if mine is None:
            elsewhere = around.take(entry)
            kind = BreakKind.MISSING_OURS if elsewhere is None else _compare(elsewhere, entry)
            breaks.append(Break(kind or BreakKind.DATE, elsewhere, entry))
            continue
        kind = _compare(mine, entry)
        if kind is None:
            matched += 1
        else:
            breaks.append(Break(kind, mine, entry))
    breaks.extend(Break(BreakKind.MISSING_THEIRS, mine, None) for mine in today.left())
    return Result(day, matched, tuple(breaks))


def _compare(ours: Movement, theirs: Movement) -> BreakKind | None:
    if (ours.amount_minor, ours.currency) != (theirs.amount_minor, theirs.currency):
        return BreakKind.AMOUNT
    if ours.booking_date != theirs.booking_date:
        return BreakKind.DATE
    return None
