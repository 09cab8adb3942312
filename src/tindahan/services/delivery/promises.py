"""Delivery promises learned from the platform's shipment history (issue 25, item 2).

``import_history`` stores delivered shipments (the simulator's for the demo, a courier's
export, later the platform's own); ``set_advisory`` / ``clear_advisory`` keep the
operator's typhoon advisories. ``model`` trains ``delivery.promise`` on the whole history
with the operator's holidays (the lending calendar's) and advisories, and keeps it in the
process until the history or the advisories change (a count and the latest pickup are the
key): the first checkout after a change pays the training (about a second for a few
thousand shipments), the others reuse it. ``windows`` answers each courier's learned 80%
window in days for a parcel picked up now, for the couriers that have enough history in
its zone; the others keep their card's window, shown as an estimate.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select

from tindahan.commerce import psgc
from tindahan.delivery.history import Shipment
from tindahan.delivery.traffic import Advisories
from tindahan.delivery.zones import zone_between
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import shipment_history, typhoon_advisories

if TYPE_CHECKING:  # the model (LightGBM, NumPy) is imported when a window is first asked
    from tindahan.delivery import promise

SOURCES = ("simulated", "imported", "platform")
#: Boosting rounds of the model trained at checkout time (the evaluation uses more).
ROUNDS = 120
_NS = 10**9


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * _NS + moment.microsecond * 1_000


def import_history(
    unit: Unit, caller: Caller, shipments: Sequence[Shipment], source: str = "imported"
) -> dict[str, Any]:
    """Operator: store delivered shipments to learn from (none if one id is already there)."""
    caller.require_operator()
    if source not in SOURCES:
        raise invalid("source_invalid", f"source is one of {', '.join(SOURCES)}", "source")
    if not shipments:
        return {"object": "shipment_history_import", "imported": 0}
    ids = [s.shipment_id for s in shipments]
    if len(set(ids)) != len(ids):
        raise invalid("shipment_repeated", "a shipment id appears twice", "shipment_id")
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found = unit.conn.execute(
            select(shipment_history.c.shipment_id).where(shipment_history.c.shipment_id.in_(chunk))
        ).first()
        if found is not None:
            message = f"shipment {found[0]} is already in the history"
            raise conflict("shipment_exists", message, "shipment_id")
    places: dict[str, psgc.Codes] = {}

    def codes(code: str) -> psgc.Codes:
        if code not in places:
            try:
                places[code] = psgc.codes_of(code)
            except KeyError:
                message = f"{code} is no barangay, city or municipality in {psgc.EDITION}"
                raise invalid("psgc_unknown", message, "origin_psgc") from None
        return places[code]

    rows = [
        {
            "shipment_id": s.shipment_id,
            "courier_code": s.courier,
            "origin_psgc": s.origin,
            "destination_psgc": s.destination,
            "zone": zone_between(codes(s.origin), codes(s.destination)).value,
            "picked_up_at_ns": _ns(s.picked_up_at),
            "delivered_at_ns": _ns(s.delivered_at),
            "weight_g": s.weight_g,
            "source": source,
        }
        for s in shipments
    ]
    for start in range(0, len(rows), 1_000):
        unit.conn.execute(insert(shipment_history), rows[start : start + 1_000])
    return {"object": "shipment_history_import", "imported": len(rows)}


def set_advisory(unit: Unit, caller: Caller, area: str, days: Iterable[date]) -> dict[str, Any]:
    """Operator: put a province (or an independent city, or NCR: 1300000000) under a
    typhoon advisory on these days."""
    caller.require_operator()
    if not (len(area) == 10 and area.isdigit()):
        raise invalid("psgc_invalid", "area is a 10-digit PSGC code", "area")
    marked = sorted(set(days))
    if not marked:
        raise invalid("days_missing", "name at least one day", "days")
    have = set(
        unit.conn.execute(
            select(typhoon_advisories.c.day).where(typhoon_advisories.c.area_psgc == area)
        ).scalars()
    )
    rows = [
        {"area_psgc": area, "day": d.isoformat(), "created_at_ns": unit.now()}
        for d in marked
        if d.isoformat() not in have
    ]
    if rows:
        unit.conn.execute(insert(typhoon_advisories), rows)
    return {"object": "typhoon_advisory", "area": area, "days": [d.isoformat() for d in marked]}


def clear_advisory(unit: Unit, caller: Caller, area: str) -> None:
    caller.require_operator()
    unit.conn.execute(delete(typhoon_advisories).where(typhoon_advisories.c.area_psgc == area))


def advisories(unit: Unit) -> Advisories:
    days: dict[str, set[date]] = {}
    for area, day in unit.conn.execute(
        select(typhoon_advisories.c.area_psgc, typhoon_advisories.c.day)
    ):
        days.setdefault(area, set()).add(date.fromisoformat(day))
    return Advisories({area: frozenset(marked) for area, marked in days.items()})


def _moment(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / _NS, UTC)


def history(unit: Unit) -> list[Shipment]:
    rows = unit.conn.execute(select(shipment_history).order_by(shipment_history.c.picked_up_at_ns))
    return [
        Shipment(
            r.shipment_id,
            r.courier_code,
            r.origin_psgc,
            r.destination_psgc,
            _moment(r.picked_up_at_ns),
            _moment(r.delivered_at_ns),
            r.weight_g,
        )
        for r in rows
    ]


_lock = threading.Lock()
_cache: dict[Any, tuple[promise.PromiseModel, promise.Calendar]] = {}


def model(unit: Unit) -> tuple[promise.PromiseModel, promise.Calendar] | None:
    """The model learned from the history (and the calendar it reads), or None while
    there are fewer than ``MIN_TRAINING`` shipments."""
    from tindahan.delivery import promise

    count, latest = unit.conn.execute(
        select(func.count(), func.max(shipment_history.c.picked_up_at_ns))
    ).one()
    if count < MIN_TRAINING:
        return None
    calendar = promise.Calendar(holiday_set(unit), advisories(unit))
    marked = tuple(sorted((a, tuple(sorted(d))) for a, d in calendar.advisories.days.items()))
    key = (id(unit.conn.engine), count, latest, calendar.holidays, marked)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            return found
    learned = promise.fit(history(unit), calendar, seed=0, rounds=ROUNDS)
    with _lock:
        _cache.clear()
        _cache[key] = (learned, calendar)
    return learned, calendar


#: Shipments in the history before any window is learned (a courier and zone then still
#: need ``limits.MIN_ZONE_HISTORY`` of their own).
MIN_TRAINING = 200


def windows(
    unit: Unit,
    couriers: Sequence[str],
    origin: psgc.Codes,
    destination: psgc.Codes,
    weight_g: int,
) -> dict[str, tuple[int, int]]:
    """Each courier's learned 80% window in whole days (low rounded down, at least 1
    day's start; high rounded up) for a parcel picked up now; only couriers with enough
    history in the zone are answered."""
    found = model(unit)
    if found is None:
        return {}
    from tindahan.delivery import promise

    learned, calendar = found
    zone = zone_between(origin, destination)
    ready = [c for c in couriers if learned.has_history(c, zone)]
    if not ready:
        return {}
    now = _moment(unit.now())
    parcels = [
        promise.Parcel(c, origin.barangay, destination.barangay, now, weight_g) for c in ready
    ]
    _, low, high = learned.predict(parcels, calendar)
    out: dict[str, tuple[int, int]] = {}
    for courier, lo, hi in zip(ready, low, high, strict=True):
        low_days = max(1, math.floor(lo / 24))
        out[courier] = (low_days, max(low_days, math.ceil(hi / 24)))
    return out
