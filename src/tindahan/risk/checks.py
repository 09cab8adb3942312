"""Each rule as a function of its parameters, the movement and the running aggregates.

A check reads (never writes) the aggregates as they were before the movement, adds the
movement itself, and returns the values that tripped it — or ``None``. The values are the
evidence an analyst sees and what the rule's explanation template names. Comparisons are
on integers: "over" is strictly greater, "at least" is ``>=``, shares are cross-multiplied
(``part * 100 >= percent * whole``), so no rounding ever decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tindahan.risk.aggregates import (
    DAY,
    HOUR,
    RECEIVER_IS_INSTITUTION,
    SENDER_IS_INSTITUTION,
    SPENDING,
    Aggregates,
    origins,
)
from tindahan.risk.movement import CASH_KINDS, OUTFLOW_KINDS, Kind, Movement

Values = dict[str, int | str]
#: A rule's parameters, validated against the catalogue when the rule set was loaded.
Params = Mapping[str, Any]
Check = Callable[[Params, Movement, Aggregates], Values | None]


def covered_cash(p: Params, m: Movement, a: Aggregates) -> Values | None:
    if m.kind not in CASH_KINDS:
        return None
    party = m.cash_party
    total = a.cash_total(party, m.at) + m.amount_minor
    threshold = p["threshold_minor"]
    if total <= threshold:
        return None
    return {"party": party, "total_minor": total, "threshold_minor": threshold}


def structuring(p: Params, m: Movement, a: Aggregates) -> Values | None:
    threshold = a.near_threshold(m)
    if threshold is None:
        return None
    party = m.cash_party if m.kind in CASH_KINDS else m.sender
    state = a.parties.get(party)
    count = 1 + (0 if state is None else state.near.trim(m.at).count)
    if count < p["min_count"]:
        return None
    return {
        "party": party,
        "count": count,
        "threshold_minor": threshold,
        "window_hours": p["window_hours"],
    }


#: (window, its count limit, its amount limit), shortest first.
VELOCITY = (
    ("hour", "hour_max_count", "hour_max_minor"),
    ("day", "day_max_count", "day_max_minor"),
    ("month", "month_max_count", "month_max_minor"),
)


def velocity(p: Params, m: Movement, a: Aggregates) -> Values | None:
    if m.kind not in SPENDING:
        return None
    state = a.parties.get(m.sender)
    amount, at = m.amount_minor, m.at
    windows = (None, None, None) if state is None else (state.hour, state.day, state.month)
    for window, (name, count_limit, amount_limit) in zip(windows, VELOCITY, strict=True):
        count, total = 1, amount
        if window is not None:
            window.trim(at)
            count, total = window.count + 1, window.total + amount
        if count > p[count_limit]:
            return _speed(m.sender, name, count, total, p[count_limit])
        if total > p[amount_limit]:
            return _speed(m.sender, name, count, total, p[amount_limit])
    count = a.pair_day(m.sender, m.receiver, at) + 1
    if count > p["pair_day_max_count"]:
        return _speed(m.sender, "day to one payee", count, 0, p["pair_day_max_count"])
    return None


def _speed(party: str, window: str, count: int, total: int, limit: int) -> Values:
    return {"party": party, "window": window, "count": count, "amount_minor": total, "limit": limit}


def _origin_velocity(origin: str) -> Check:
    """Velocity per device or per IP address: what every wallet spent through one client in
    an hour and in a day — many wallets paying from one phone is a mule farm or a takeover
    kit; one wallet's own velocity is ``velocity``'s."""

    def check(p: Params, m: Movement, a: Aggregates) -> Values | None:
        key = next((k for o, k in origins(m) if o == origin), None)
        if key is None:
            return None
        state = a.parties.get(key)
        amount, at = m.amount_minor, m.at
        windows = (None, None) if state is None else (state.hour, state.day)
        for window, (name, count_limit, amount_limit) in zip(windows, VELOCITY[:2], strict=True):
            count, total = 1, amount
            if window is not None:
                window.trim(at)
                count, total = window.count + 1, window.total + amount
            limit = p[count_limit] if count > p[count_limit] else None
            if limit is None and total > p[amount_limit]:
                limit = p[amount_limit]
            if limit is not None:
                values = _speed(m.sender, name, count, total, limit)
                values[origin] = key.partition(":")[2]
                return values
        return None

    check.__name__ = f"{origin}_velocity"
    return check


device_velocity = _origin_velocity("device")
ip_velocity = _origin_velocity("ip")


def _origin_wallets(origin: str) -> Check:
    """How many *different* wallets spent through one device or IP address within the
    window: a farm of mule wallets worked from one phone shows as many payers on it even
    when each pays little."""

    def check(p: Params, m: Movement, a: Aggregates) -> Values | None:
        key = next((k for o, k in origins(m) if o == origin), None)
        if key is None:
            return None
        wallets = a.distinct_wallets(origin, key, m.sender, m.at)
        if wallets <= p["max_wallets"]:
            return None
        return {
            "party": m.sender,
            "wallets": wallets,
            "limit": p["max_wallets"],
            "window_hours": p["window_hours"],
            origin: key.partition(":")[2],
        }

    check.__name__ = f"{origin}_wallets"
    return check


device_wallets = _origin_wallets("device")
ip_wallets = _origin_wallets("ip")


def mule(p: Params, m: Movement, a: Aggregates) -> Values | None:
    if m.kind not in OUTFLOW_KINDS:
        return None
    state = a.parties.get(m.sender)
    if state is None:
        return None
    fan_in = state.fan_in.trim(m.at)
    if fan_in.count < p["min_senders"] or fan_in.total < p["min_in_minor"]:
        return None
    out = state.outflow.trim(m.at).total + m.amount_minor
    if out * 100 < p["out_share_percent"] * fan_in.total:
        return None
    return {
        "party": m.sender,
        "senders": fan_in.count,
        "in_minor": fan_in.total,
        "out_minor": out,
        "window_hours": p["window_hours"],
    }


def dormant(p: Params, m: Movement, a: Aggregates) -> Values | None:
    if m.amount_minor < p["min_minor"]:
        return None
    idle = p["dormant_days"] * DAY
    sides = []
    if m.kind not in SENDER_IS_INSTITUTION:
        sides.append(m.sender)
    if m.kind not in RECEIVER_IS_INSTITUTION:
        sides.append(m.receiver)
    for party in sides:
        state = a.parties.get(party)
        if state is not None and state.last_seen is not None and m.at - state.last_seen >= idle:
            days = (m.at - state.last_seen) // DAY
            return {"party": party, "idle_days": days, "amount_minor": m.amount_minor}
    return None


def new_payee(p: Params, m: Movement, a: Aggregates) -> Values | None:
    if m.kind not in p["kinds"] or m.amount_minor < p["min_minor"]:
        return None
    if a.has_paid(m.sender, m.receiver):
        return None
    return {"party": m.sender, "payee": m.receiver, "amount_minor": m.amount_minor}


def round_trip(p: Params, m: Movement, a: Aggregates) -> Values | None:
    if m.kind not in p["kinds"] or m.amount_minor < p["min_minor"]:
        return None
    found = a.return_path(m, p["window_hours"] * HOUR, p["max_hops"])
    if found is None:
        return None
    hops, first, path = found
    if first < p["min_minor"] or m.amount_minor * 100 < p["return_percent"] * first:
        return None
    return {
        "party": m.receiver,
        "hops": hops,
        "first_minor": first,
        "amount_minor": m.amount_minor,
        "path": path,
    }


def refund_spike(p: Params, m: Movement, a: Aggregates) -> Values | None:
    """Refunds, with the open disputes (claims that may yet become refunds), against sales."""
    if m.kind is not Kind.REFUND:
        return None
    state = a.parties.get(m.sender)
    disputes = 0 if state is None else state.disputes.trim(m.at).count
    refunds = 1 + disputes + (0 if state is None else state.refunds.trim(m.at).count)
    if refunds < p["min_refunds"]:
        return None
    refund_minor = m.amount_minor
    if state is not None:
        refund_minor += state.refunds.total + state.disputes.total
    sales = 0 if state is None else state.sales.trim(m.at).total
    if refund_minor * 100 < p["ratio_percent"] * sales:
        return None
    return {
        "party": m.sender,
        "refunds": refunds,
        "refund_minor": refund_minor,
        "sales_minor": sales,
        "window_days": p["window_days"],
        "open_disputes": disputes,
    }


CHECKS: Mapping[str, Check] = {
    "covered_cash": covered_cash,
    "structuring": structuring,
    "velocity": velocity,
    "device_velocity": device_velocity,
    "ip_velocity": ip_velocity,
    "device_wallets": device_wallets,
    "ip_wallets": ip_wallets,
    "mule": mule,
    "dormant": dormant,
    "new_payee": new_payee,
    "round_trip": round_trip,
    "refund_spike": refund_spike,
}
