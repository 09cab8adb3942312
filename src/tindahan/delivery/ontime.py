"""Which couriers keep their promises: the on-time rate by courier and zone (issue 25,
item 3), from delivered parcels' promised and actual times.

A parcel is on time when it was delivered at or before its promised moment. Where the
promise comes from is the caller's: an order's promised date (paid plus its window's last
day, ``services.commerce.orders.promised_at_ns``), or for a shipment in the learning history,
which carries no promise of its own, its pickup plus the courier's card window in that zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tindahan.delivery.zones import Zone


@dataclass(frozen=True, slots=True)
class Delivered:
    courier: str
    zone: Zone
    promised_ns: int
    delivered_ns: int

    @property
    def on_time(self) -> bool:
        return self.delivered_ns <= self.promised_ns


@dataclass(frozen=True, slots=True)
class OnTime:
    courier: str
    zone: Zone
    delivered: int
    on_time: int

    @property
    def rate(self) -> Decimal:
        """The share delivered on time, exact (a fraction from 0 to 1)."""
        return Decimal(self.on_time) / Decimal(self.delivered)


def rates(parcels: Iterable[Delivered]) -> list[OnTime]:
    """The on-time count per (courier, zone) that delivered anything, by courier then in
    the zones' order (nearest first)."""
    counts: dict[tuple[str, Zone], list[int]] = {}
    for parcel in parcels:
        seen = counts.setdefault((parcel.courier, parcel.zone), [0, 0])
        seen[0] += 1
        seen[1] += parcel.on_time
    order = {zone: i for i, zone in enumerate(Zone)}
    keys = sorted(counts, key=lambda key: (key[0], order[key[1]]))
    return [OnTime(c, z, counts[(c, z)][0], counts[(c, z)][1]) for c, z in keys]
