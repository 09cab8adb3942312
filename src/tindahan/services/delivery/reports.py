"""What the operator sees of delivery (issue 25, item 3): which couriers keep their promises,
and how Metro Manila's traffic moves delivery times as the model learned it.

**On time** (``on_time``), per courier and zone, from two sources, counted together:

* the platform's own courier orders, delivered: on time when delivered by the promised date
  (paid plus the window's last day, ``orders.promised_at_ns``: the promise the buyer saw);
* the learning history (``shipment_history``: the simulator's, or a courier's export), whose
  rows carry no promise of their own: on time when delivered within the courier's card
  window for that zone from pickup (the promise a checkout would have shown before the
  model learned the zone). A history row whose courier has no card, or whose card does not
  serve the zone, is left out: there was no promise to keep.

**The traffic picture** (``traffic``): the model's median pickup-to-delivery hours for a
parcel picked up at each hour of an ordinary week (``traffic.ordinary_week``: no payday,
holiday or Christmas in it) on the Metro Manila trips the history has most (up to
``TRIPS``), by each courier with history there, averaged; shown as the extra hours against
the week's quickest hour. None until a model is trained and a courier has Metro Manila
history.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, select

from tindahan.delivery import ontime
from tindahan.delivery.traffic import ordinary_week
from tindahan.delivery.zones import Zone
from tindahan.kernel.callers import Caller
from tindahan.lending.calendar import business_date
from tindahan.services.delivery import couriers, promises
from tindahan.services.unit import Unit
from tindahan.store.commerce_tables import orders, shipment_history

DAY_NS = 86_400 * 10**9
#: Metro Manila trips the traffic picture averages over (the history's commonest).
TRIPS = 12
ZONES = frozenset(z.value for z in Zone)


def on_time(unit: Unit, caller: Caller) -> list[dict[str, Any]]:
    """Operator: each courier's on-time rate by zone (see the module's note)."""
    caller.require_operator()
    cards = {card["code"]: card for card in couriers.list_cards(unit, caller)}
    parcels: list[ontime.Delivered] = []
    found = unit.conn.execute(
        select(
            orders.c.courier_code,
            orders.c.delivery_zone,
            orders.c.window_max_days,
            orders.c.paid_at_ns,
            orders.c.delivered_at_ns,
        ).where(
            and_(
                orders.c.courier_code.is_not(None),
                orders.c.delivered_at_ns.is_not(None),
                orders.c.paid_at_ns.is_not(None),
            )
        )
    ).mappings()
    for row in found:
        if row["window_max_days"] is None or row["delivery_zone"] not in ZONES:
            continue
        # as ``services.commerce.orders.promised_at_ns`` (commerce imports this package)
        promised = row["paid_at_ns"] + row["window_max_days"] * DAY_NS
        zone = Zone(row["delivery_zone"])
        parcels.append(
            ontime.Delivered(row["courier_code"], zone, promised, row["delivered_at_ns"])
        )
    history = unit.conn.execute(
        select(
            shipment_history.c.courier_code,
            shipment_history.c.zone,
            shipment_history.c.picked_up_at_ns,
            shipment_history.c.delivered_at_ns,
        )
    )
    for courier, zone_name, picked_up, delivered in history:
        rate = cards.get(courier, {}).get("zones", {}).get(zone_name)
        if rate is None or zone_name not in ZONES:
            continue
        promised = picked_up + int(rate["max_days"]) * DAY_NS
        parcels.append(ontime.Delivered(courier, Zone(zone_name), promised, delivered))
    return [
        {
            "courier": r.courier,
            "name": cards[r.courier]["name"] if r.courier in cards else r.courier,
            "zone": r.zone.value,
            "delivered": r.delivered,
            "on_time": r.on_time,
            "rate": r.rate,
        }
        for r in ontime.rates(parcels)
    ]


def traffic(unit: Unit, caller: Caller) -> dict[str, Any] | None:
    """Operator: the week-by-hour picture of Metro Manila delivery times the model learned
    (see the module's note), or None while it has nothing to say."""
    caller.require_operator()
    found = promises.model(unit)
    if found is None:
        return None
    learned, calendar = found
    ready = [c for c in learned.couriers if learned.has_history(c, Zone.METRO_MANILA)]
    if not ready:
        return None
    pairs = Counter(
        (origin, destination)
        for origin, destination in unit.conn.execute(
            select(shipment_history.c.origin_psgc, shipment_history.c.destination_psgc).where(
                shipment_history.c.zone == Zone.METRO_MANILA.value
            )
        )
    )
    trips = [pair for pair, _ in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[:TRIPS]]
    from tindahan.delivery import promise

    today = business_date(unit.now())
    monday = ordinary_week(today, calendar.holidays)
    hours = promise.traffic_picture(learned, calendar, trips, ready, monday)
    quickest = min(min(day) for day in hours)
    return {
        "week_of": monday,
        "couriers": ready,
        "trips": len(trips),
        "quickest_hours": quickest,
        "hours": hours,
        "extra_hours": [[h - quickest for h in day] for day in hours],
    }
