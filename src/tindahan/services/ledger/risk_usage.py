"""The live rules' running aggregates: raised in the movement's transaction, read as windows.

``risk_gate`` calls ``raise_aggregates`` with the movement it judges; this module raises
the buckets the movement adds to and hands back the domain's ``Aggregates`` as they were
*before* the movement — the same object ``tindahan risk evaluate`` keeps in memory, so the
same rule functions (``tindahan.risk.checks``) judge both. Nothing scans history: each
window is a sum over at most a few dozen aligned buckets of one party, read through the
primary key.

The buckets (``risk_usage``: party, counterparty, metric, bucket → count, amount):

* ``hour``, ``day``, ``pair`` — what a party spends per clock hour (UTC), per Manila day,
  and per Manila day to one payee (velocity; 30 days are the last 30 day buckets);
* ``cash`` — a customer's cash per Manila day (covered transactions);
* ``near`` — movements just below a structuring threshold, per clock hour;
* ``fanin`` — money in from a sender paying this party for the first time, per clock hour;
  ``out`` — money leaving the platform (cash-out, bank transfer), per clock hour (mules);
* ``sale`` and ``refund`` — a merchant's sales and refunds per Manila day (refund spikes).

A window of N hours is the current hour's bucket and the N-1 before it (of N days, the same
in days): aligned, where ``risk evaluate``'s windows slide, so a live window reaches back
between N-1 and N hours. Besides the buckets: ``risk_parties`` (when each party was last
seen: dormancy) and ``risk_payees`` (each payer-payee pair: how many movements — 1 means a
new payee — and the last one's moment and amount, the legs round trips are traced along).

Concurrency: every bucket and pair this movement adds to is raised by an upsert, which
locks its row until the commit, so two movements of one party take turns and the second
sees the first. Reads of earlier buckets need no lock: those buckets are closed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import TextClause, and_, select, text

from tindahan.risk.aggregates import (
    DAY,
    FAN_IN,
    HOUR,
    RECEIVER_IS_INSTITUTION,
    SENDER_IS_INSTITUTION,
    SPENDING,
    Aggregates,
    Spans,
    Window,
    manila_day,
)
from tindahan.risk.movement import CASH_KINDS, OUTFLOW_KINDS, Kind, Movement
from tindahan.services.unit import Unit
from tindahan.store.risk_tables import risk_payees

NS = 10**9
Key = tuple[str, str, str, int]  # party, counterparty ('' unless per pair), metric, bucket
#: Each raised bucket, by (party, counterparty, metric), as it was before the movement.
Before = dict[tuple[str, str, str], Window]


@dataclass(frozen=True, slots=True)
class Trips:
    """What the round-trip rule needs traced: movements of these kinds, of at least this
    amount, back within ``window`` seconds through at most ``max_hops`` wallets."""

    kinds: frozenset[Kind]
    min_minor: int
    window: int
    max_hops: int


def raise_aggregates(unit: Unit, m: Movement, spans: Spans, trips: Trips | None) -> Aggregates:
    """The buckets this movement adds to, raised; the domain's view of them before it."""
    aggregates = Aggregates(spans)
    new_payee = _payees(unit, m, aggregates)
    keys = _keys(m, aggregates, new_payee)
    before = _bump(unit, m, keys) if keys else {}
    _spending(unit, m, aggregates, before)
    _structuring(unit, m, aggregates, before)
    _mules(unit, m, aggregates, before)
    _refunds(unit, m, aggregates, before)
    _last_seen(unit, m, aggregates)
    if trips is not None and m.kind in trips.kinds and m.amount_minor >= trips.min_minor:
        _legs(unit, m, aggregates, trips)
    return aggregates


def _keys(m: Movement, aggregates: Aggregates, new_payee: bool) -> list[Key]:
    """Every bucket this movement adds to (as ``Aggregates.record`` adds to its windows)."""
    hour, day = m.at // HOUR, manila_day(m.at)
    keys: list[Key] = []
    if m.kind in SPENDING:
        keys += [(m.sender, "", "hour", hour), (m.sender, "", "day", day)]
        keys.append((m.sender, m.receiver, "pair", day))
    if m.kind in CASH_KINDS:
        keys.append((m.cash_party, "", "cash", day))
    if aggregates.near_threshold(m) is not None:
        keys.append((_near_party(m), "", "near", hour))
    if m.kind in FAN_IN and (m.kind is Kind.BANK_IN or new_payee):
        keys.append((m.receiver, "", "fanin", hour))
    if m.kind in OUTFLOW_KINDS:
        keys.append((m.sender, "", "out", hour))
    if m.kind is Kind.MERCHANT:
        keys.append((m.receiver, "", "sale", day))
    if m.kind is Kind.REFUND:
        keys.append((m.sender, "", "refund", day))
    return keys


def _near_party(m: Movement) -> str:
    return m.cash_party if m.kind in CASH_KINDS else m.sender


@lru_cache(maxsize=16)
def _upsert(n: int) -> TextClause:
    """One statement raising ``n`` buckets (SQLite 3.35+ and PostgreSQL share the syntax)."""
    rows = ", ".join(
        f"(:party{i}, :counterparty{i}, :metric{i}, :bucket{i}, 1, :amount)" for i in range(n)
    )
    return text(
        "INSERT INTO risk_usage (party_id, counterparty, metric, bucket, count, amount_minor) "  # noqa: S608 (placeholders only)
        f"VALUES {rows} ON CONFLICT (party_id, counterparty, metric, bucket) DO UPDATE SET "
        "count = risk_usage.count + 1, "
        "amount_minor = risk_usage.amount_minor + excluded.amount_minor "
        "RETURNING party_id, counterparty, metric, count, amount_minor"
    )


def _bump(unit: Unit, m: Movement, keys: Sequence[Key]) -> Before:
    """Raise these buckets in one statement (in key order, so racing movements lock them in
    the same order); each comes back as its count and total *before* this movement."""
    params: dict[str, object] = {"amount": m.amount_minor}
    for i, (party, other, metric, bucket) in enumerate(sorted(keys)):
        params.update(
            {
                f"party{i}": party,
                f"counterparty{i}": other,
                f"metric{i}": metric,
                f"bucket{i}": bucket,
            }
        )
    found: Before = {}
    for party, other, metric, count, amount in unit.conn.execute(_upsert(len(keys)), params):
        found[(party, other, metric)] = _window(count - 1, amount - m.amount_minor)
    return found


def _window(count: int, total: int) -> Window:
    window = Window(0)  # a sum of buckets: nothing to trim
    window.count, window.total = count, total
    return window


#: Statements made once: building a query costs more than running it (profiled).
_SUM = text(
    "SELECT COALESCE(SUM(count), 0), COALESCE(SUM(amount_minor), 0) FROM risk_usage "
    "WHERE party_id = :party AND counterparty = '' AND metric = :metric "
    "AND bucket BETWEEN :first AND :last"
)


def _sum(unit: Unit, party: str, metric: str, first: int, last: int) -> Window:
    """The party's buckets ``first`` to ``last`` of a metric, summed (one index range read)."""
    params = {"party": party, "metric": metric, "first": first, "last": last}
    row = unit.conn.execute(_SUM, params).one()
    return _window(int(row[0]), int(row[1]))


def _span(
    unit: Unit, party: str, metric: str, bucket: int, buckets: int, current: Window | None
) -> Window:
    """A window of ``buckets`` buckets ending with ``bucket``, before this movement: the
    earlier ones summed, plus ``current`` — the current bucket as the upsert found it, or
    None when this movement did not add to it (then it is read with the others)."""
    if current is None:
        return _sum(unit, party, metric, bucket - buckets + 1, bucket)
    window = _sum(unit, party, metric, bucket - buckets + 1, bucket - 1)
    window.count += current.count
    window.total += current.total
    return window


def _spending(unit: Unit, m: Movement, a: Aggregates, before: Before) -> None:
    if m.kind in SPENDING:
        sender = a.party(m.sender)
        sender.hour = before[(m.sender, "", "hour")]
        sender.day = before[(m.sender, "", "day")]
        sender.month = _span(unit, m.sender, "day", manila_day(m.at), 30, sender.day)
        a.pairs[(m.sender, m.receiver)] = before[(m.sender, m.receiver, "pair")]
    if m.kind in CASH_KINDS:
        cash = a.party(m.cash_party)
        cash.cash_day, cash.cash_total = manila_day(m.at), before[(m.cash_party, "", "cash")].total


def _structuring(unit: Unit, m: Movement, a: Aggregates, before: Before) -> None:
    party = _near_party(m)
    current = before.get((party, "", "near"))
    if current is not None:
        hours = a.spans.near // HOUR
        a.party(party).near = _span(unit, party, "near", m.at // HOUR, hours, current)


def _mules(unit: Unit, m: Movement, a: Aggregates, before: Before) -> None:
    """On money leaving: what came in from new senders, and what left, in the window."""
    if m.kind not in OUTFLOW_KINDS:
        return
    hour, hours = m.at // HOUR, a.spans.mule // HOUR
    sender = a.party(m.sender)
    sender.fan_in = _span(unit, m.sender, "fanin", hour, hours, None)
    sender.outflow = _span(unit, m.sender, "out", hour, hours, before[(m.sender, "", "out")])


def _refunds(unit: Unit, m: Movement, a: Aggregates, before: Before) -> None:
    """On a refund: the merchant's refunds and sales in the window."""
    if m.kind is not Kind.REFUND:
        return
    day, days = manila_day(m.at), a.spans.refunds // DAY
    merchant = a.party(m.sender)
    merchant.refunds = _span(unit, m.sender, "refund", day, days, before[(m.sender, "", "refund")])
    merchant.sales = _span(unit, m.sender, "sale", day, days, None)


#: Moves the watched parties' moment on and returns the one before (null: never seen), in
#: one statement: the update's right-hand sides read the row as it was (both dialects).
_SEEN = {
    n: text(
        "INSERT INTO risk_parties (party_id, last_seen_ns, prev_seen_ns) VALUES "  # noqa: S608 (placeholders only)
        + ", ".join(f"(:party{i}, :now, NULL)" for i in range(n))
        + " ON CONFLICT (party_id) DO UPDATE SET prev_seen_ns = risk_parties.last_seen_ns, "
        "last_seen_ns = excluded.last_seen_ns RETURNING party_id, prev_seen_ns"
    )
    for n in (1, 2)
}


def _last_seen(unit: Unit, m: Movement, aggregates: Aggregates) -> None:
    """When the watched sides were last seen before now, and now recorded (one statement)."""
    watched = set()
    if m.kind not in SENDER_IS_INSTITUTION:
        watched.add(m.sender)
    if m.kind not in RECEIVER_IS_INSTITUTION:
        watched.add(m.receiver)
    if not watched:
        return
    ordered = sorted(watched)
    params: dict[str, object] = {"now": m.at * NS}
    params.update({f"party{i}": party for i, party in enumerate(ordered)})
    for party, seen_ns in unit.conn.execute(_SEEN[len(ordered)], params):
        if seen_ns is not None:
            aggregates.party(party).last_seen = seen_ns // NS


_PAYEE = text(
    "INSERT INTO risk_payees (party_id, payee_id, count, last_at_ns, last_minor) "
    "VALUES (:party, :payee, 1, :at, :amount) "
    "ON CONFLICT (party_id, payee_id) DO UPDATE SET count = risk_payees.count + 1, "
    "last_at_ns = excluded.last_at_ns, last_minor = excluded.last_minor "
    "RETURNING count"
)


def _payees(unit: Unit, m: Movement, aggregates: Aggregates) -> bool:
    """Record the pair's movement (one statement); True when the payee is new."""
    if m.kind in SENDER_IS_INSTITUTION:
        return False
    params = {"party": m.sender, "payee": m.receiver, "at": m.at * NS, "amount": m.amount_minor}
    count = unit.conn.execute(_PAYEE, params).scalar_one()
    if count > 1:
        aggregates.party(m.sender).payees.add(m.receiver)
    return bool(count == 1)


def _legs(unit: Unit, m: Movement, aggregates: Aggregates, trips: Trips) -> None:
    """The legs a round trip back to ``m.receiver`` could have taken, into the aggregates'
    ``recent_payees`` (where ``Aggregates.return_path`` traces them): the receiver's last
    payment to the sender, else the earliest two-leg path through a third wallet begun
    within the window."""
    origin = m.receiver
    oldest_ns = (m.at - trips.window) * NS
    p = risk_payees.c
    direct = unit.conn.execute(
        select(p.last_at_ns, p.last_minor).where(
            p.party_id == origin, p.payee_id == m.sender, p.last_at_ns > oldest_ns
        )
    ).first()
    if direct is not None:
        aggregates.party(origin).recent_payees[m.sender] = (direct[0] // NS, direct[1])
        return
    if trips.max_hops < 3:
        return
    first, second_leg = risk_payees.alias("first_leg"), risk_payees.alias("second_leg")
    path = unit.conn.execute(
        select(
            first.c.payee_id,
            first.c.last_at_ns,
            first.c.last_minor,
            second_leg.c.last_at_ns,
            second_leg.c.last_minor,
        )
        .join(
            second_leg,
            and_(second_leg.c.party_id == first.c.payee_id, second_leg.c.payee_id == m.sender),
        )
        .where(
            first.c.party_id == origin,
            first.c.payee_id != m.sender,
            first.c.last_at_ns > oldest_ns,
            second_leg.c.last_at_ns >= first.c.last_at_ns,
        )
        .order_by(first.c.last_at_ns)
        .limit(1)
    ).first()
    if path is not None:
        middle, at_ns, amount, back_ns, back_minor = path
        aggregates.party(origin).recent_payees[middle] = (at_ns // NS, amount)
        aggregates.party(middle).recent_payees[m.sender] = (back_ns // NS, back_minor)
