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
* ``sale`` and ``refund`` — a merchant's sales and refunds per Manila day (refund spikes);
  ``dispute`` — its open disputes, per Manila day of opening, raised when one opens and
  taken off when it is resolved (``dispute_opened``, ``dispute_resolved``);
* ``ohour`` and ``oday`` — what was spent through one device or one IP address per clock
  hour and per Manila day (velocity per origin), under the origin's key
  (``aggregates.origins``: ``device:``/``ip:`` and the keyed hash) in the party column;
* ``dwallets`` and ``iwallets`` — the different wallets spending through one device or IP
  address, per clock hour, under the origin's key: raised by one only when the wallet is
  *fresh* there, i.e. not counted there within the rule's window (``risk_origin_wallets``:
  origin, wallet → when last counted, and whether the last spend counted it), the conditional
  bucket the mule rule's first-time senders also are. A wallet counts once per window, so
  the window's sum is the number of different wallets (a wallet counted near the start of
  an aligned window and spending again before it slid past is not counted twice).

A window of N hours is the current hour's bucket and the N-1 before it (of N days, the same
in days): aligned, where ``risk evaluate``'s windows slide, so a live window reaches back
between N-1 and N hours. Besides the buckets: ``risk_parties`` (when each party was last
seen: dormancy) and ``risk_payees`` (each payer-payee pair: how many movements — 1 means a
new payee — and the last one's moment and amount, the legs round trips are traced along).

Concurrency: every bucket and pair this movement adds to is raised by an upsert, which
locks its row until the commit, so two movements of one party take turns and the second
sees the first. Reads of earlier buckets need no lock: those buckets are closed.

Round trips (profiled: they are the gate's cost, not the rules): the upsert that raises the
buckets returns each with the sum of the earlier buckets of its window, so no window is a
read of its own; a window the movement only reads is *touched* (upserted with nothing
added) to come back the same way. On PostgreSQL the pair, the last-seen moments and the
buckets are one statement (``_together``, data-modifying CTEs); SQLite, in process, keeps
three.
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
    Wallets,
    Window,
    manila_day,
    origins,
)
from tindahan.risk.movement import CASH_KINDS, OUTFLOW_KINDS, Kind, Movement
from tindahan.services.unit import Unit
from tindahan.store.hotpath import fetch_named
from tindahan.store.pgarray import int_array, text_array
from tindahan.store.risk_tables import risk_payees

NS = 10**9
Key = tuple[str, str, str, int]  # party, counterparty ('' unless per pair), metric, bucket


@dataclass(frozen=True, slots=True)
class Trips:
    """What the round-trip rule needs traced: movements of these kinds, of at least this
    amount, back within ``window`` seconds through at most ``max_hops`` wallets."""

    kinds: frozenset[Kind]
    min_minor: int
    window: int
    max_hops: int


#: The operator's switches of rules' modes, by rule id (``risk_gate.rule_modes``).
Modes = tuple[tuple[str, str], ...]


def raise_aggregates(
    unit: Unit, m: Movement, spans: Spans, *, read_modes: bool = False
) -> tuple[Aggregates, Modes | None]:
    """The buckets this movement adds to, raised; the domain's view of them before it (and
    where it was asked from recorded, ``risk_origins``, when known). With ``read_modes``, on
    PostgreSQL, the operator's switches come back from the same statement (None: not read).
    The legs of round trips are ``trace``'s, once the rule's mode is known."""
    aggregates = Aggregates(spans)
    modes: Modes | None = None
    if unit.conn.dialect.name == "postgresql":
        found, fresh, modes = _together(unit, m, aggregates, spans, read_modes)
    else:
        new_payee = _payees(unit, m, aggregates)
        fresh = _fresh_wallets(unit, m, spans)
        rows = _rows(m, aggregates, new_payee, fresh)
        found = _bump(unit, m, rows, spans, fresh) if rows else {}
        _last_seen(unit, m, aggregates)
        if m.device or m.ip:
            unit.conn.execute(_ORIGIN, _origin_params(m))
    _spending(m, aggregates, found)
    _structuring(m, aggregates, found)
    _mules(m, aggregates, found)
    _refunds(m, aggregates, found)
    _origins(m, aggregates, found, fresh)
    return aggregates, modes


def trace(unit: Unit, m: Movement, aggregates: Aggregates, trips: Trips | None) -> None:
    """The legs a round trip back could have taken, when the rule is on or in shadow and the
    movement is one it could flag (its kinds, at least its ``min_minor``)."""
    if trips is not None and m.kind in trips.kinds and m.amount_minor >= trips.min_minor:
        _legs(unit, m, aggregates, trips)


#: A bucket this movement adds to, or only reads (the amount 0: touched, so the statement
#: that raises the others reads its window too — and locks it).
Row = tuple[Key, int]


#: The amount of the fan-in bucket raised only if the payee turns out new, in the statement
#: that records the pair (PostgreSQL: ``_together``).
IF_NEW_PAYEE = -1
#: The different-wallets bucket of a device or IP: raised by one (no amount) when the wallet
#: turns out fresh there, in the statement that records it (PostgreSQL), or known to be.
IF_FRESH = {"device": -2, "ip": -3}
FRESH = -4
#: The metric of each origin's different wallets.
WALLETS_METRIC = {"device": "dwallets", "ip": "iwallets"}


def _rows(
    m: Movement,
    aggregates: Aggregates,
    new_payee: bool | None,
    fresh: dict[str, bool] | None = None,
) -> list[Row]:
    """Every bucket this movement adds to (as ``Aggregates.record`` adds to its windows),
    and the current buckets of the windows it reads without adding to them (amount 0).
    ``new_payee`` None: not known yet — the fan-in bucket's amount is ``IF_NEW_PAYEE``;
    ``fresh`` None: whether the wallet is fresh at its origins is not known yet either."""
    hour, day, amount = m.at // HOUR, manila_day(m.at), m.amount_minor
    rows: dict[Key, int] = {}
    if m.kind in SPENDING:
        rows[(m.sender, "", "hour", hour)] = amount
        rows[(m.sender, "", "day", day)] = amount
        rows[(m.sender, m.receiver, "pair", day)] = amount
    if m.kind in CASH_KINDS:
        rows[(m.cash_party, "", "cash", day)] = amount
    if aggregates.near_threshold(m) is not None:
        rows[(_near_party(m), "", "near", hour)] = amount
    if m.kind is Kind.BANK_IN or (m.kind in FAN_IN and new_payee):
        rows[(m.receiver, "", "fanin", hour)] = amount
    elif m.kind in FAN_IN and new_payee is None:
        rows[(m.receiver, "", "fanin", hour)] = IF_NEW_PAYEE
    if m.kind in OUTFLOW_KINDS:
        rows[(m.sender, "", "out", hour)] = amount
        rows.setdefault((m.sender, "", "fanin", hour), 0)  # mules: read with the outflow
    if m.kind is Kind.MERCHANT:
        rows[(m.receiver, "", "sale", day)] = amount
    if m.kind is Kind.REFUND:
        rows[(m.sender, "", "refund", day)] = amount
        rows.setdefault((m.sender, "", "sale", day), 0)  # refund spikes: read with the refunds
        rows.setdefault((m.sender, "", "dispute", day), 0)  # and the open disputes
    for origin, key in origins(m):  # velocity per device and per IP: one bucket each
        rows[(key, "", "ohour", hour)] = amount
        rows[(key, "", "oday", day)] = amount
        counted = IF_FRESH[origin] if fresh is None else (FRESH if fresh[origin] else 0)
        rows[(key, "", WALLETS_METRIC[origin], hour)] = counted
    return sorted(rows.items())


def _near_party(m: Movement) -> str:
    return m.cash_party if m.kind in CASH_KINDS else m.sender


#: The earlier buckets of a window (the current one comes back from the upsert itself).
_EARLIER = (
    "(SELECT COALESCE(SUM(w.{column}), 0) FROM risk_usage w "
    "WHERE w.party_id = risk_usage.party_id AND w.counterparty = '' "
    "AND w.metric = risk_usage.metric AND w.bucket < risk_usage.bucket "
    "AND w.bucket > risk_usage.bucket - ({span}))"
)
#: How many buckets each metric's window spans for this movement (1: no window read).
_SPAN = (
    "CASE risk_usage.metric WHEN 'day' THEN :span_day WHEN 'near' THEN :span_near "
    "WHEN 'out' THEN :span_mule WHEN 'fanin' THEN :span_mule "
    "WHEN 'refund' THEN :span_refund WHEN 'sale' THEN :span_refund "
    "WHEN 'dispute' THEN :span_refund "
    "WHEN 'dwallets' THEN :span_dwallets WHEN 'iwallets' THEN :span_iwallets ELSE 1 END"
)


def _upsert_sql(rows: Sequence[Row]) -> str:
    """One statement raising these buckets and returning each as it is now, with the sum of
    the earlier buckets of its window (SQLite 3.35+ and PostgreSQL share the syntax; the
    window's buckets are earlier than any this statement changes, so both read them as
    they were). A fan-in bucket raised only for a new payee reads the ``payee`` CTE."""
    values = []
    for i, (_key, amount) in enumerate(rows):
        if amount == IF_NEW_PAYEE:
            new = "(SELECT count = 1 FROM payee)"
            raised = (
                f"CASE WHEN {new} THEN 1 ELSE 0 END",
                f"CASE WHEN {new} THEN CAST(:amount AS BIGINT) ELSE 0 END",
            )
        elif amount in _FRESH_CTE:
            raised = (f"(SELECT fresh FROM {_FRESH_CTE[amount]})", "0")  # noqa: S608 (a fixed name)
        else:
            raised = (f":count{i}", f":amount{i}")
        key = f":party{i}, :counterparty{i}, :metric{i}, :bucket{i}"
        values.append(f"({key}, {raised[0]}, {raised[1]})")
    earlier = ", ".join(
        f"CASE WHEN {_SPAN} > 1 THEN {_EARLIER.format(column=column, span=_SPAN)} END AS {name}"
        for column, name in (("count", "earlier_count"), ("amount_minor", "earlier_amount"))
    )
    return (
        "INSERT INTO risk_usage (party_id, counterparty, metric, bucket, count, amount_minor) "  # noqa: S608 (placeholders only)
        f"VALUES {', '.join(values)} ON CONFLICT (party_id, counterparty, metric, bucket) "
        "DO UPDATE SET count = risk_usage.count + excluded.count, "
        "amount_minor = risk_usage.amount_minor + excluded.amount_minor "
        f"RETURNING party_id, counterparty, metric, count, amount_minor, {earlier}"
    )


_FRESH_CTE = {IF_FRESH["device"]: "wallet_device", IF_FRESH["ip"]: "wallet_ip"}


@lru_cache(maxsize=16)
def _upsert(n: int) -> TextClause:
    return text(_upsert_sql([(("", "", "", 0), 0)] * n))


#: Each raised or touched bucket, by (party, counterparty, metric): as it was before the
#: movement, and with the earlier buckets of its window added (None: no window read).
Found = dict[tuple[str, str, str], tuple[Window, Window | None]]
Returned = tuple[str, str, str, int, int, int | None, int | None]


def _window_spans(m: Movement, spans: Spans) -> dict[str, int]:
    """How many buckets each metric's window reads back for this movement (1: none)."""
    outflow, refund = m.kind in OUTFLOW_KINDS, m.kind is Kind.REFUND
    return {
        "span_day": 30 if m.kind in SPENDING else 1,
        "span_near": spans.near // HOUR,
        "span_mule": spans.mule // HOUR if outflow else 1,
        "span_refund": spans.refunds // DAY if refund else 1,
        "span_dwallets": spans.device_wallets // HOUR,
        "span_iwallets": spans.ip_wallets // HOUR,
    }


def _usage_params(m: Movement, rows: Sequence[Row], spans: Spans) -> dict[str, object]:
    """The buckets' parameters, in key order (so racing movements lock them in the same
    order), and how many buckets each window reads back."""
    params: dict[str, object] = {"amount": m.amount_minor, **_window_spans(m, spans)}
    for i, ((party, other, metric, bucket), amount) in enumerate(rows):
        params.update(
            {
                f"party{i}": party,
                f"counterparty{i}": other,
                f"metric{i}": metric,
                f"bucket{i}": bucket,
                f"count{i}": 1 if amount > 0 or amount == FRESH else 0,
                f"amount{i}": max(amount, 0),
            }
        )
    return params


def _added(m: Movement, amount: int, new_payee: bool, fresh: dict[str, bool]) -> tuple[int, int]:
    """What a row added to its bucket: count and amount."""
    if amount == IF_NEW_PAYEE:
        return (1, m.amount_minor) if new_payee else (0, 0)
    for origin, marker in IF_FRESH.items():
        if amount == marker:
            return (1, 0) if fresh.get(origin) else (0, 0)
    if amount == FRESH:
        return 1, 0
    return (1 if amount > 0 else 0), amount


def _found(
    m: Movement,
    rows: Sequence[Row],
    returned: Sequence[Returned],
    new_payee: bool,
    fresh: dict[str, bool],
) -> Found:
    """Each bucket as it was before the movement, and its window."""
    added = {
        (party, other, metric): _added(m, amount, new_payee, fresh)
        for (party, other, metric, _bucket), amount in rows
    }
    found: Found = {}
    for party, other, metric, count, total, earlier_count, earlier_total in returned:
        added_count, amount = added[(party, other, metric)]
        current = _window(int(count) - added_count, int(total) - amount)
        window = None
        if earlier_count is not None:
            earlier = int(earlier_count), int(earlier_total or 0)  # PostgreSQL's SUM: numeric
            window = _window(current.count + earlier[0], current.total + earlier[1])
        found[(party, other, metric)] = (current, window)
    return found


def _bump(
    unit: Unit, m: Movement, rows: Sequence[Row], spans: Spans, fresh: dict[str, bool]
) -> Found:
    """Raise these buckets in one statement; each comes back as its count and total
    *before* this movement, with the window it ends, read in the same statement."""
    returned = unit.conn.execute(_upsert(len(rows)), _usage_params(m, rows, spans))
    return _found(m, rows, [tuple(r) for r in returned], False, fresh)


def _window(count: int, total: int) -> Window:
    window = Window(0)  # a sum of buckets: nothing to trim
    window.count, window.total = count, total
    return window


def _spending(m: Movement, a: Aggregates, found: Found) -> None:
    if m.kind in SPENDING:
        sender = a.party(m.sender)
        sender.hour = found[(m.sender, "", "hour")][0]
        sender.day, month = found[(m.sender, "", "day")]
        assert month is not None  # spending reads its 30 days
        sender.month = month
        a.pairs[(m.sender, m.receiver)] = found[(m.sender, m.receiver, "pair")][0]
    if m.kind in CASH_KINDS:
        cash = a.party(m.cash_party)
        cash.cash_day = manila_day(m.at)
        cash.cash_total = found[(m.cash_party, "", "cash")][0].total


def _structuring(m: Movement, a: Aggregates, found: Found) -> None:
    party = _near_party(m)
    near = found.get((party, "", "near"))
    if near is not None:
        a.party(party).near = _whole(near)


def _whole(found: tuple[Window, Window | None]) -> Window:
    """The window a bucket ends (the bucket alone when the window is one bucket long)."""
    return found[1] if found[1] is not None else found[0]


def _mules(m: Movement, a: Aggregates, found: Found) -> None:
    """On money leaving: what came in from new senders, and what left, in the window."""
    if m.kind not in OUTFLOW_KINDS:
        return
    sender = a.party(m.sender)
    sender.fan_in = _whole(found[(m.sender, "", "fanin")])
    sender.outflow = _whole(found[(m.sender, "", "out")])


def _refunds(m: Movement, a: Aggregates, found: Found) -> None:
    """On a refund: the merchant's refunds and sales in the window."""
    if m.kind is not Kind.REFUND:
        return
    merchant = a.party(m.sender)
    merchant.refunds = _whole(found[(m.sender, "", "refund")])
    merchant.sales = _whole(found[(m.sender, "", "sale")])
    merchant.disputes = _whole(found[(m.sender, "", "dispute")])


#: A merchant's open disputes, per Manila day of opening: raised when one opens, taken off
#: when it is resolved (whatever the outcome: a refund it ends in counts as a refund, so the
#: dispute must not count as well). Kept whether or not the rules are on, so turning them on
#: finds the disputes already open; never below zero (a dispute opened before these buckets
#: existed was not counted, so its resolution takes nothing off).
_DISPUTE_OPENED = text(
    "INSERT INTO risk_usage (party_id, counterparty, metric, bucket, count, amount_minor) "
    "VALUES (:party, '', 'dispute', :bucket, 1, :amount) "
    "ON CONFLICT (party_id, counterparty, metric, bucket) "
    "DO UPDATE SET count = risk_usage.count + 1, "
    "amount_minor = risk_usage.amount_minor + excluded.amount_minor"
)
_DISPUTE_RESOLVED = text(
    "UPDATE risk_usage SET count = count - 1, amount_minor = amount_minor - :amount "
    "WHERE party_id = :party AND counterparty = '' AND metric = 'dispute' "
    "AND bucket = :bucket AND count >= 1 AND amount_minor >= :amount"
)


def dispute_opened(unit: Unit, merchant: str, opened_ns: int, amount_minor: int) -> None:
    """Count a dispute opened against ``merchant`` over ``amount_minor`` (what escrow holds)."""
    params = {"party": merchant, "bucket": manila_day(opened_ns // NS), "amount": amount_minor}
    unit.conn.execute(_DISPUTE_OPENED, params)


def dispute_resolved(unit: Unit, merchant: str, opened_ns: int, amount_minor: int) -> None:
    """Take a dispute off its merchant's open ones: call it before the resolution's refund is
    booked, in the same transaction, so the gate judging that refund counts it once."""
    params = {"party": merchant, "bucket": manila_day(opened_ns // NS), "amount": amount_minor}
    unit.conn.execute(_DISPUTE_RESOLVED, params)


def _origins(m: Movement, a: Aggregates, found: Found, fresh: dict[str, bool]) -> None:
    """The device's and the IP address's hour and day (velocity per origin), and the
    different wallets counted there within the window, before this movement."""
    for origin, key in origins(m):
        state = a.party(key)
        state.hour = found[(key, "", "ohour")][0]
        state.day = found[(key, "", "oday")][0]
        seen = Wallets(a.spans.wallets_span(origin))
        seen.window = _whole(found[(key, "", WALLETS_METRIC[origin])])
        if not fresh.get(origin, True):
            seen.counted[m.sender] = m.at  # counted within the window: not again
        a.wallets[key] = seen


#: Counts a wallet at an origin when it is fresh there (never counted, or last counted
#: before the window) and says whether it did: the update's right-hand sides read the row
#: as it was (both dialects).
def _wallet_sql(origin: str) -> str:
    return (
        "INSERT INTO risk_origin_wallets (origin, party_id, counted_ns, fresh) "  # noqa: S608 (placeholders only)
        f"VALUES (:wallet_{origin}, :payer, :now, 1) "
        "ON CONFLICT (origin, party_id) DO UPDATE SET "
        f"fresh = CASE WHEN risk_origin_wallets.counted_ns <= :cutoff_{origin} THEN 1 ELSE 0 END, "
        f"counted_ns = CASE WHEN risk_origin_wallets.counted_ns <= :cutoff_{origin} "
        "THEN excluded.counted_ns ELSE risk_origin_wallets.counted_ns END "
        "RETURNING fresh"
    )


_WALLET = {origin: text(_wallet_sql(origin)) for origin in IF_FRESH}


def _wallet_params(m: Movement, spans: Spans) -> dict[str, object]:
    params: dict[str, object] = {"payer": m.sender, "now": m.at * NS}
    for origin, key in origins(m):
        params[f"wallet_{origin}"] = key
        params[f"cutoff_{origin}"] = (m.at - spans.wallets_span(origin)) * NS
    return params


def _fresh_wallets(unit: Unit, m: Movement, spans: Spans) -> dict[str, bool]:
    """Whether the spending wallet is fresh at each of the movement's origins, counted
    there if it is (SQLite: one statement per origin; PostgreSQL: ``_together``)."""
    params = _wallet_params(m, spans)
    return {
        origin: unit.conn.execute(_WALLET[origin], params).scalar_one() == 1
        for origin, _key in origins(m)
    }


#: Moves the watched parties' moment on and returns the one before (null: never seen), in
#: one statement: the update's right-hand sides read the row as it was (both dialects).
def _seen_sql(n: int) -> str:
    return (
        "INSERT INTO risk_parties (party_id, last_seen_ns, prev_seen_ns) VALUES "  # noqa: S608 (placeholders only)
        + ", ".join(f"(:seen{i}, :now, NULL)" for i in range(n))
        + " ON CONFLICT (party_id) DO UPDATE SET prev_seen_ns = risk_parties.last_seen_ns, "
        "last_seen_ns = excluded.last_seen_ns RETURNING party_id, prev_seen_ns"
    )


_SEEN = {n: text(_seen_sql(n)) for n in (1, 2)}


def _watched(m: Movement) -> list[str]:
    """The sides of a movement whose last activity is kept (not an agent's nor a bank's)."""
    watched = set()
    if m.kind not in SENDER_IS_INSTITUTION:
        watched.add(m.sender)
    if m.kind not in RECEIVER_IS_INSTITUTION:
        watched.add(m.receiver)
    return sorted(watched)


def _last_seen(unit: Unit, m: Movement, aggregates: Aggregates) -> None:
    """When the watched sides were last seen before now, and now recorded (one statement)."""
    watched = _watched(m)
    if not watched:
        return
    params: dict[str, object] = {"now": m.at * NS}
    params.update({f"seen{i}": party for i, party in enumerate(watched)})
    for party, seen_ns in unit.conn.execute(_SEEN[len(watched)], params):
        _seen(aggregates, party, seen_ns)


def _seen(aggregates: Aggregates, party: str, seen_ns: int | None) -> None:
    if seen_ns is not None:
        aggregates.party(party).last_seen = seen_ns // NS


_PAYEE_SQL = (
    "INSERT INTO risk_payees (party_id, payee_id, count, last_at_ns, last_minor) "
    "VALUES (:payer, :payee, 1, :at, :amount) "
    "ON CONFLICT (party_id, payee_id) DO UPDATE SET count = risk_payees.count + 1, "
    "last_at_ns = excluded.last_at_ns, last_minor = excluded.last_minor "
    "RETURNING count"
)
_PAYEE = text(_PAYEE_SQL)


def _payees(unit: Unit, m: Movement, aggregates: Aggregates) -> bool:
    """Record the pair's movement (one statement); True when the payee is new."""
    if m.kind in SENDER_IS_INSTITUTION:
        return False
    params = {"payer": m.sender, "payee": m.receiver, "at": m.at * NS, "amount": m.amount_minor}
    return _payee(aggregates, m, unit.conn.execute(_PAYEE, params).scalar_one())


def _payee(aggregates: Aggregates, m: Movement, count: int) -> bool:
    if count > 1:
        aggregates.party(m.sender).payees.add(m.receiver)
    return bool(count == 1)


#: Where the movement was asked from (keyed hashes); a retried movement keeps the first.
_ORIGIN_SQL = (
    "INSERT INTO risk_origins (transfer_id, device, ip) VALUES (:origin_id, :device, :ip) "
    "ON CONFLICT (transfer_id) DO NOTHING"
)
_ORIGIN = text(_ORIGIN_SQL)


def _origin_params(m: Movement) -> dict[str, object]:
    return {"origin_id": m.id, "device": m.device, "ip": m.ip}


#: The metrics whose buckets come back with their window (``_usage_params``' spans).
_WINDOWED = ("day", "near", "out", "fanin", "refund", "sale", "dispute", "dwallets", "iwallets")
_WINDOWED_ARRAY = text_array(_WINDOWED)
_SPAN_PARAM = {
    "day": "span_day",
    "near": "span_near",
    "out": "span_mule",
    "fanin": "span_mule",
    "refund": "span_refund",
    "sale": "span_refund",
    "dispute": "span_refund",
    "dwallets": "span_dwallets",
    "iwallets": "span_iwallets",
}


def _usage_pg(payee: bool, wallets: tuple[str, ...]) -> str:
    """PostgreSQL's upsert of the buckets, from arrays (one parameter per column, not per
    bucket): one statement text whatever the movement, short enough, and with few enough
    parameters, for psycopg to cache its parsing (profiled: re-parsing the 5 KB, 90-parameter
    statement of one ``VALUES`` row per bucket was half the gate's CPU). ``k`` marks the
    buckets raised only for a new payee or a fresh wallet (``IF_NEW_PAYEE``, ``IF_FRESH``),
    decided by the CTEs that record them."""
    counts, amounts = [], []
    if payee:  # the markers are this module's integer constants, the names fixed
        new = "(SELECT CAST(count = 1 AS INTEGER) FROM payee)"
        counts.append(f"WHEN {IF_NEW_PAYEE} THEN {new}")
        amounts.append(
            f"WHEN {IF_NEW_PAYEE} THEN (SELECT CASE WHEN count = 1 THEN r.a ELSE 0 END FROM payee)"  # noqa: S608
        )
    for name in wallets:
        counts.append(f"WHEN {IF_FRESH[name]} THEN (SELECT fresh FROM wallet_{name})")  # noqa: S608
    count = f"CASE r.k {' '.join(counts)} ELSE r.n END" if counts else "r.n"
    amount = f"CASE r.k {' '.join(amounts)} ELSE r.a END" if amounts else "r.a"
    return (
        "INSERT INTO risk_usage AS u (party_id, counterparty, metric, bucket, count, amount_minor) "  # noqa: S608 (fixed names)
        f"SELECT r.p, r.c, r.m, r.b, {count}, {amount} FROM unnest(CAST(:up AS text[]), "
        "CAST(:uc AS text[]), CAST(:um AS text[]), CAST(:ub AS bigint[]), CAST(:un AS int[]), "
        "CAST(:ua AS bigint[]), CAST(:uk AS int[])) WITH ORDINALITY AS r(p, c, m, b, n, a, k, o) "
        "ORDER BY r.o ON CONFLICT (party_id, counterparty, metric, bucket) "
        "DO UPDATE SET count = u.count + excluded.count, "
        "amount_minor = u.amount_minor + excluded.amount_minor "
        "RETURNING u.party_id, u.counterparty, u.metric, u.bucket, u.count, u.amount_minor"
    )


#: Each raised bucket with the sum of the earlier buckets of its window (null: the window is
#: the bucket alone), in one subquery for both sums; the earlier buckets are older than any
#: the statement changes, so the statement's snapshot reads them as they are.
_USAGE_ROWS = (
    "SELECT 'usage:' || x.metric, x.party_id, x.counterparty, CAST(x.count AS BIGINT), "
    "x.amount_minor, e.n, e.a FROM usage x "
    "LEFT JOIN unnest(CAST(:sm AS text[]), CAST(:ss AS int[])) AS s(m, span) ON s.m = x.metric "
    "LEFT JOIN LATERAL (SELECT COALESCE(SUM(w.count), 0) AS n, "
    "COALESCE(SUM(w.amount_minor), 0) AS a FROM risk_usage w WHERE w.party_id = x.party_id "
    "AND w.counterparty = '' AND w.metric = x.metric AND w.bucket < x.bucket "
    "AND w.bucket > x.bucket - s.span) e ON s.span > 1"
)


@lru_cache(maxsize=64)
def _together_sql(
    payee: bool,
    seen: int,
    usage: bool,
    origin: bool = False,
    wallets: tuple[str, ...] = (),
    modes: bool = False,
) -> TextClause:
    """The pair, the last-seen moments, the wallets at the origins and the buckets in one
    statement (PostgreSQL's data-modifying CTEs): one round trip where SQLite, in process,
    takes several. The buckets come as arrays (``_usage_pg``)."""
    parts, selects = [], []
    for name in wallets:
        parts.append(f"wallet_{name} AS ({_wallet_sql(name)})")
        selects.append(
            f"SELECT 'fresh', '{name}', '', CAST(fresh AS BIGINT), CAST(0 AS BIGINT), "  # noqa: S608 (an origin's name)
            f"NULL::numeric, NULL::numeric FROM wallet_{name}"
        )
    if payee:
        parts.append(f"payee AS ({_PAYEE_SQL})")
        selects.append(
            "SELECT 'payee', '', '', CAST(count AS BIGINT), CAST(0 AS BIGINT), "
            "NULL::numeric, NULL::numeric FROM payee"
        )
    if seen:
        parts.append(f"seen AS ({_seen_sql(seen)})")
        selects.append(
            "SELECT 'seen', party_id, '', prev_seen_ns, CAST(0 AS BIGINT), "
            "NULL::numeric, NULL::numeric FROM seen"
        )
    if usage:
        parts.append(f"usage AS ({_usage_pg(payee, wallets)})")
        selects.append(_USAGE_ROWS)
    if modes:  # the operator's switches, read with the buckets: no round trip of their own
        selects.append(
            "SELECT 'mode', rule, mode, CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), "
            "NULL::numeric, NULL::numeric FROM risk_rule_modes"
        )
    if origin:  # a data-modifying CTE runs whether or not it is read
        parts.append(f"origin AS ({_ORIGIN_SQL})")
    return text(f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}")


def _usage_arrays(m: Movement, rows: Sequence[Row], spans: Spans) -> dict[str, object]:
    """The buckets as one array per column (``_usage_pg``), in key order (so racing movements
    lock them in the same order), and each windowed metric's span in buckets."""
    counts, amounts, marks = [], [], []
    for _key, amount in rows:
        if amount in (IF_NEW_PAYEE, *IF_FRESH.values()):
            counts.append(0)
            amounts.append(m.amount_minor if amount == IF_NEW_PAYEE else 0)
            marks.append(amount)
        else:
            counts.append(1 if amount > 0 or amount == FRESH else 0)
            amounts.append(max(amount, 0))
            marks.append(0)
    windows = _window_spans(m, spans)
    return {  # array literals, not lists: psycopg's list dumper was a fifth of the gate's CPU
        "up": text_array([key[0] for key, _ in rows]),
        "uc": text_array([key[1] for key, _ in rows]),
        "um": text_array([key[2] for key, _ in rows]),
        "ub": int_array([key[3] for key, _ in rows]),
        "un": int_array(counts),
        "ua": int_array(amounts),
        "uk": int_array(marks),
        "sm": _WINDOWED_ARRAY,
        "ss": int_array([windows[_SPAN_PARAM[metric]] for metric in _WINDOWED]),
        "amount": m.amount_minor,
    }


def _together_params(
    m: Movement, rows: Sequence[Row], watched: Sequence[str], spans: Spans
) -> dict[str, object]:
    """The parameters of ``_together_sql``'s statement (fewer than psycopg's 50 that it caches
    a statement's parsing for: ``test_gate_statement``)."""
    params: dict[str, object] = {"amount": m.amount_minor}
    if rows:
        params.update(_usage_arrays(m, rows, spans))
    params.update({"payer": m.sender, "payee": m.receiver, "at": m.at * NS, "now": m.at * NS})
    params.update({f"seen{i}": party for i, party in enumerate(watched)})
    params.update(_wallet_params(m, spans))
    params.update(_origin_params(m))
    return params


def _together(
    unit: Unit, m: Movement, aggregates: Aggregates, spans: Spans, read_modes: bool = False
) -> tuple[Found, dict[str, bool], Modes | None]:
    """``_payees``, ``_fresh_wallets``, ``_bump`` and ``_last_seen`` in one round trip
    (PostgreSQL), with the operator's switches if asked."""
    payee = m.kind not in SENDER_IS_INSTITUTION
    watched = _watched(m)
    rows = _rows(m, aggregates, None if payee else False)
    params = _together_params(m, rows, watched, spans)
    origin = bool(m.device or m.ip)
    if not (payee or watched or rows):
        if origin:
            unit.conn.execute(_ORIGIN, _origin_params(m))
        return {}, {}, None
    wallets = tuple(o for o, _key in origins(m))
    statement = _together_sql(payee, len(watched), bool(rows), origin, wallets, read_modes)
    new_payee = False
    fresh: dict[str, bool] = {}
    returned: list[Returned] = []
    modes: list[tuple[str, str]] = []
    for what, party, other, count, amount, earlier_count, earlier_total in fetch_named(
        unit.conn, statement, params
    ):
        if what == "payee":
            new_payee = _payee(aggregates, m, count)
        elif what == "seen":
            _seen(aggregates, party, count)
        elif what == "fresh":
            fresh[party] = count == 1
        elif what == "mode":
            modes.append((party, other))
        else:
            metric = what.removeprefix("usage:")
            returned.append((party, other, metric, count, amount, earlier_count, earlier_total))
    found = _found(m, rows, returned, new_payee, fresh)
    return found, fresh, (tuple(sorted(modes)) if read_modes else None)


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
