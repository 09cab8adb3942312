"""A shipment simulator: realistic pickup-to-delivery histories for the demo, the tests and
``tindahan delivery evaluate`` (issue 25, item 4).

Not any courier's data: a model of what moves delivery times, with the effects sized by
judgement, so that a learner has something true to find. Same seed, same shipments.

* **Where**: shops in Metro Manila (most), Bulacan, Cebu and Davao send to barangays drawn
  from cities across the country: Metro Manila 40%, the rest of Luzon 25%, the Visayas
  14%, Mindanao 13%, islands off Luzon (Palawan, Mindoro, Catanduanes) 5%, Batanes and
  Sulu 3%. A time grows with the zone (``zones.zone_between``), the distance between the
  two barangays' centroids and a rural end.
* **Couriers** of different speeds and spreads: ``jnt`` fast, ``lbc`` steady, ``flash``
  cheaper, slower and less predictable (``COURIERS``).
* **Metro Manila's traffic**: a parcel with an end in NCR picked up in the weekday rush
  hours misses the linehaul (evening worse than morning, Friday evening worst); number
  coding hours take a fifth of a fleet off the road.
* **The calendar**: paydays (the 15th and 30th) and the Christmas season load the
  network; couriers deliver 08:00-20:00, not on holidays (RA 9492's regular ones), and
  not on Sundays outside Metro Manila.
* **A typhoon week**: from ``typhoon_start`` (default: the fortieth day) for seven days,
  Bicol, Eastern Visayas and NCR are under a storm signal; parcels to or from them wait
  two to four days. The advisories are returned, for a model to be told of them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from tindahan.commerce import psgc
from tindahan.commerce.psgc import NCR, Codes
from tindahan.delivery import traffic
from tindahan.delivery.history import Shipment
from tindahan.delivery.traffic import Advisories
from tindahan.delivery.zones import Zone, zone_between
from tindahan.lending.calendar import PH_TIME, philippine_regular_holidays


@dataclass(frozen=True, slots=True)
class Courier:
    code: str
    speed: float  # a multiplier on the base time: lower is faster
    spread: float  # the log-normal noise's sigma
    sunday: bool  # delivers on Sundays in Metro Manila


COURIERS = (
    Courier("jnt", 0.85, 0.22, True),
    Courier("lbc", 1.0, 0.15, False),
    Courier("flash", 1.15, 0.32, True),
)
COURIER_SHARES = (0.45, 0.3, 0.25)

#: Shops' cities (PSGC) and their shares of the shipments.
ORIGINS = {
    "1380700000": 3,  # Marikina
    "1381300000": 3,  # Quezon City
    "1380600000": 2,  # Manila
    "1381200000": 1,  # Pasig
    "1380300000": 1,  # Makati
    "0301410000": 1,  # Malolos, Bulacan
    "0730600000": 1,  # Cebu City
    "1130700000": 1,  # Davao City
}
#: Buyers' cities by kind of place, and each kind's share.
DESTINATIONS: dict[str, tuple[float, tuple[str, ...]]] = {
    "metro_manila": (
        0.40,
        (
            "1380100000",  # Caloocan
            "1380200000",  # Las Piñas
            "1380300000",  # Makati
            "1380600000",  # Manila
            "1380700000",  # Marikina
            "1381000000",  # Parañaque
            "1381200000",  # Pasig
            "1381300000",  # Quezon City
            "1381500000",  # Taguig
            "1381600000",  # Valenzuela
        ),
    ),
    "luzon": (
        0.25,
        (
            "0405802000",  # Antipolo
            "0403405000",  # Calamba
            "0301410000",  # Malolos
            "0301423000",  # Santa Maria, Bulacan
            "0405812000",  # Tanay
            "1430300000",  # Baguio
            "0105518000",  # Dagupan
            "0305416000",  # San Fernando, Pampanga
            "0431200000",  # Lucena
            "0501724000",  # Naga, Camarines Sur
            "0500506000",  # Legazpi
            "1404409000",  # Sagada
        ),
    ),
    "visayas": (
        0.14,
        (
            "0730600000",  # Cebu City
            "0631000000",  # Iloilo City
            "1830200000",  # Bacolod
            "0831600000",  # Tacloban
            "0701242000",  # Tagbilaran
            "1804610000",  # Dumaguete
            "0600407000",  # Kalibo
        ),
    ),
    "mindanao": (
        0.13,
        (
            "1130700000",  # Davao City
            "1030500000",  # Cagayan de Oro
            "1230800000",  # General Santos
            "0931700000",  # Zamboanga
            "1630400000",  # Butuan
            "1030900000",  # Iligan
            "1206306000",  # Koronadal
            "1001312000",  # Malaybalay
        ),
    ),
    "islands": (
        0.05,
        (
            "1731500000",  # Puerto Princesa
            "1705205000",  # Calapan
            "1705203000",  # Bongabong
            "0502011000",  # Virac
        ),
    ),
    "remote": (0.03, ("0200901000", "0906602000")),  # Basco, Jolo
}
#: Base hours by zone, before distance, a rural end, traffic and the calendar.
BASE_HOURS = {
    Zone.WITHIN_CITY: 8.0,
    Zone.METRO_MANILA: 14.0,
    Zone.LUZON: 22.0,
    Zone.VISAYAS: 34.0,
    Zone.MINDANAO: 34.0,
    Zone.ISLAND_CROSSING: 44.0,
    Zone.REMOTE: 90.0,
}
HOURS_PER_KM = 0.045
RURAL_HOURS = 8.0
#: Provinces (NCR: its region's code) under a storm signal in the typhoon week.
TYPHOON_AREAS = (
    "0500500000",  # Albay
    "0501700000",  # Camarines Sur
    "0502000000",  # Catanduanes
    "0506200000",  # Sorsogon
    "0803700000",  # Leyte
    "0831600000",  # Tacloban (independent city)
    "0806000000",  # Samar
    "0802600000",  # Eastern Samar
    NCR,
)
TYPHOON_DAYS = 7
DELIVERY_HOURS = (8, 20)
#: The first pickup day of a simulation unless told.
START = date(2025, 9, 1)


@dataclass(frozen=True, slots=True)
class Simulation:
    shipments: list[Shipment]
    advisories: Advisories
    holidays: frozenset[date]


def area_of(codes: Codes) -> str:
    """The unit an advisory names: the province, or the independent city, or NCR."""
    if codes.region == NCR:
        return NCR
    return codes.province or codes.city


def distance_km(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float:
    """Great-circle distance between two centroids (0 when either has none)."""
    if a is None or b is None:
        return 0.0
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _pick_barangay(rng: random.Random, city: str, cache: dict[str, list[str]]) -> str:
    if city not in cache:
        cache[city] = psgc.barangays_of(city) or [city]
    return rng.choice(cache[city])


def _pickup(rng: random.Random, start: date, days: int) -> datetime:
    """A pickup moment: more on paydays and in the Christmas season, 08:00-20:00."""
    while True:
        day = start + timedelta(days=rng.randrange(days))
        weight = 1.0
        weight *= 1.6 if traffic.is_payday(day) else 1.0
        weight *= 1.5 if traffic.is_christmas_season(day) else 1.0
        weight *= 0.5 if day.weekday() == 6 else 1.0
        if rng.random() * 2.4 < weight:
            break
    hour = min(19, max(8, int(rng.gauss(13.0, 3.0))))
    return datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=PH_TIME)


def _traffic_hours(pickup: datetime, holidays: frozenset[date]) -> float:
    """Hours Metro Manila's traffic adds to a parcel with an end there."""
    at = traffic.local(pickup)
    extra = 0.0
    if traffic.is_rush_hour(at):
        extra += 7.0 if at.hour >= 16 else 3.0
        if at.weekday() == 4 and at.hour >= 16:
            extra += 5.0
    if traffic.is_coding(at, holidays):
        extra += 2.5
    return extra


def _open_hours(moment: datetime, holidays: frozenset[date], metro: bool, sunday: bool) -> datetime:
    """The first moment at or after ``moment`` a courier delivers."""
    at = traffic.local(moment)
    for _ in range(60):
        day = at.date()
        closed = day in holidays or (day.weekday() == 6 and not (metro and sunday))
        if not closed and at.hour < DELIVERY_HOURS[1]:
            if at.hour < DELIVERY_HOURS[0]:
                at = at.replace(hour=DELIVERY_HOURS[0], minute=0) + timedelta(
                    minutes=(at.minute * 7) % 90
                )
            return at
        following = day + timedelta(days=1)
        at = datetime(following.year, following.month, following.day, 7, 0, tzinfo=PH_TIME)
        at += timedelta(minutes=60 + (moment.minute * 13) % 180)
    return at


def simulate(
    count: int,
    seed: int = 0,
    start: date = START,
    days: int = 180,
    typhoon_start: int | None = 40,
) -> Simulation:
    """``count`` delivered shipments picked up over ``days`` days from ``start``."""
    if count < 1 or days < 1:
        raise ValueError("a simulation has at least one shipment over at least one day")
    rng = random.Random(seed)
    end = start + timedelta(days=days + 70)
    holidays = frozenset(
        d for y in range(start.year, end.year + 1) for d in philippine_regular_holidays(y)
    )
    storm: frozenset[date] = frozenset()
    if typhoon_start is not None:
        first = start + timedelta(days=typhoon_start)
        storm = frozenset(first + timedelta(days=i) for i in range(TYPHOON_DAYS))
    advisories = Advisories({area: storm for area in TYPHOON_AREAS} if storm else {})
    origins, origin_weights = list(ORIGINS), list(ORIGINS.values())
    kinds = list(DESTINATIONS)
    kind_weights = [DESTINATIONS[k][0] for k in kinds]
    barangays: dict[str, list[str]] = {}
    codes: dict[str, Codes] = {}
    shipments: list[Shipment] = []
    for n in range(count):
        courier = rng.choices(COURIERS, COURIER_SHARES)[0]
        origin = _pick_barangay(rng, rng.choices(origins, origin_weights)[0], barangays)
        kind = rng.choices(kinds, kind_weights)[0]
        destination = _pick_barangay(rng, rng.choice(DESTINATIONS[kind][1]), barangays)
        for code in (origin, destination):
            if code not in codes:
                codes[code] = psgc.codes_of(code)
        here, there = codes[origin], codes[destination]
        zone = zone_between(here, there)
        pickup = _pickup(rng, start, days)
        day = pickup.date()
        hours = BASE_HOURS[zone] + HOURS_PER_KM * distance_km(
            psgc.centroid(origin), psgc.centroid(destination)
        )
        hours += sum(RURAL_HOURS for c in (origin, destination) if not psgc.is_urban(c))
        metro = here.region == NCR or there.region == NCR
        if metro:
            hours += _traffic_hours(pickup, holidays)
        load = 1.0
        load += 0.15 if traffic.is_payday(day) else 0.0
        load += 0.35 if traffic.is_christmas_season(day) else 0.0
        hours *= load * courier.speed
        hours += 12.0 * traffic.holidays_ahead(day, holidays)
        storm_days = max(
            advisories.ahead(area_of(here), day), advisories.ahead(area_of(there), day)
        )
        if storm_days:
            hours += 24.0 * (1 + storm_days) * rng.uniform(0.7, 1.3)
        hours *= math.exp(rng.gauss(0.0, courier.spread))
        both_metro = here.region == NCR and there.region == NCR
        delivered = _open_hours(
            pickup + timedelta(hours=max(2.0, hours)), holidays, both_metro, courier.sunday
        )
        delivered = delivered.replace(microsecond=0)
        transit = (pickup + (delivered - pickup) * rng.uniform(0.15, 0.4)).replace(microsecond=0)
        shipments.append(
            Shipment(
                f"sim{seed}-{n:06d}",
                courier.code,
                origin,
                destination,
                pickup,
                delivered,
                _weight(rng),
                transit,
            )
        )
    shipments.sort(key=lambda s: (s.picked_up_at, s.shipment_id))
    return Simulation(shipments, advisories, holidays)


def _weight(rng: random.Random) -> int:
    """A parcel's packed grams: mostly under a kilo, a few heavy boxes."""
    grams = int(math.exp(rng.gauss(6.4, 0.9)))
    return max(50, min(30_000, grams))


def advisory_rows(advisories: Advisories) -> Sequence[tuple[str, str]]:
    """The advisories as (area PSGC code, ISO day) rows, sorted."""
    return sorted(
        (area, day.isoformat()) for area, marked in advisories.days.items() for day in marked
    )
