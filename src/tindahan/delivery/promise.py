"""Delivery promises learned from shipment histories: an 80% window of pickup-to-delivery
hours (issue 25, item 2).

**The model**: conformalized quantile regression (Romano, Patterson and Candès, 2019).
LightGBM fits the 10th, 50th and 90th percentiles of log hours on the earlier 80% of the
training shipments (by pickup time); the later 20% calibrate: each one's conformity score
is how far it fell outside its predicted 10-90 band (negative inside), and the band is
widened (or narrowed) by the scores' ``ceil((n+1)·0.8)/n`` quantile, so that the window
holds about 80% of deliveries like the calibration ones whatever the quantile models got
wrong. In log hours, so a window widens in proportion: a day on a two-day trip, not on a
two-hour one. The point prediction is the median model's.

**Features**, all from the shipment as known at pickup and the operator's calendar:
the great-circle distance between the two PSGC centroids (barangay points from the
``psgc`` package, HDX 2023; a city's population-weighted centroid for a city code), the
zone and whether the parcel crosses between island groups, each end urban or rural (the
PSA's flag per barangay; a city code counts as urban when it is a city), the courier, the
pickup's weekday and hour (Philippine time), an end in Metro Manila, its rush hours and
number-coding hours, paydays, the Christmas season, holidays in the next three days, a
typhoon advisory on either end's province in the next three days, the weight, both
regions, and a remote end (``traffic`` holds the calendar's rules).

**The baseline** the issue measures it against: the median hours of the training
shipments between the same two regions (the pair of the ends' regions: a courier's zone
maps are drawn by region), else of the same zone, else of all.

**Until a zone has history** (fewer than ``limits.MIN_ZONE_HISTORY`` shipments of a
courier in a zone), ``window`` answers None and the caller shows the rate card's window,
labelled an estimate.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import lightgbm as lgb
import numpy as np

from tindahan import limits
from tindahan.commerce import psgc
from tindahan.commerce.psgc import NCR, Codes
from tindahan.delivery import traffic
from tindahan.delivery.history import Shipment
from tindahan.delivery.simulate import area_of, distance_km
from tindahan.delivery.traffic import NO_ADVISORIES, Advisories
from tindahan.delivery.zones import Zone, is_remote, island_group, zone_between
from tindahan.lending.calendar import PH_TIME

COVERAGE = 0.8
QUANTILES = (0.1, 0.5, 0.9)
CALIBRATION_SHARE = 0.2
FEATURES = (
    "distance_km",
    "zone",
    "island_crossing",
    "origin_urban",
    "destination_urban",
    "courier",
    "weekday",
    "hour",
    "metro_manila_end",
    "rush_hour",
    "number_coding",
    "payday",
    "christmas_season",
    "holidays_ahead",
    "typhoon_ahead",
    "weight_g",
    "origin_region",
    "destination_region",
    "remote_end",
)
CATEGORICAL = ("zone", "courier", "origin_region", "destination_region")
ZONES = tuple(Zone)
PARAMS: dict[str, Any] = {
    "objective": "quantile",
    "learning_rate": 0.08,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.9,
    "cat_smooth": 10.0,
    "max_bin": 127,
    "verbose": -1,
    # one thread: the machine is shared (see credit.gbm)
    "n_jobs": 1,
}
ROUNDS = 200


@dataclass(frozen=True, slots=True)
class Calendar:
    """What the operator told the platform: holidays and typhoon advisories."""

    holidays: frozenset[date] = frozenset()
    advisories: Advisories = NO_ADVISORIES


@dataclass(frozen=True, slots=True)
class Parcel:
    """A shipment as known at pickup: what a window is predicted for."""

    courier: str
    origin: str
    destination: str
    picked_up_at: datetime
    weight_g: int


class Places:
    """Each PSGC code's codes, centroid and urban flag, looked up once."""

    def __init__(self) -> None:
        self._codes: dict[str, Codes] = {}

    def codes(self, code: str) -> Codes:
        found = self._codes.get(code)
        if found is None:
            found = self._codes[code] = psgc.codes_of(code)
        return found


@dataclass
class _Pair:
    zone: Zone
    distance: float
    crossing: float
    origin_urban: float
    destination_urban: float
    metro: bool
    origin_region: int
    destination_region: int
    remote: float
    origin_area: str
    destination_area: str
    region_pair: tuple[str, str]


def _pair(places: Places, origin: str, destination: str, cache: dict[Any, _Pair]) -> _Pair:
    key = (origin, destination)
    found = cache.get(key)
    if found is not None:
        return found
    here, there = places.codes(origin), places.codes(destination)
    zone = zone_between(here, there)
    crossing = zone == Zone.ISLAND_CROSSING or island_group(here) != island_group(there)
    found = _Pair(
        zone,
        distance_km(psgc.centroid(origin), psgc.centroid(destination)),
        float(crossing),
        float(psgc.is_urban(origin)),
        float(psgc.is_urban(destination)),
        here.region == NCR or there.region == NCR,
        int(here.region[:2]),
        int(there.region[:2]),
        float(is_remote(here) or is_remote(there)),
        area_of(here),
        area_of(there),
        (here.region, there.region),
    )
    cache[key] = found
    return found


@dataclass
class PromiseModel:
    """Three quantile boosters and the conformal correction, with what they were fit on."""

    couriers: list[str] = field(default_factory=list)
    boosters: list[lgb.Booster] = field(default_factory=list)
    correction: float = 0.0  # log hours added to each side of the band
    history: Counter[tuple[str, Zone]] = field(default_factory=Counter)
    places: Places = field(default_factory=Places)
    _pairs: dict[Any, _Pair] = field(default_factory=dict)

    def matrix(self, parcels: Sequence[Parcel | Shipment], calendar: Calendar) -> np.ndarray:
        rows = np.empty((len(parcels), len(FEATURES)), dtype=np.float64)
        index = {code: i for i, code in enumerate(self.couriers)}
        zone_index = {zone: i for i, zone in enumerate(ZONES)}
        holidays = calendar.holidays
        for i, p in enumerate(parcels):
            pair = _pair(self.places, p.origin, p.destination, self._pairs)
            at = traffic.local(p.picked_up_at)
            day = at.date()
            typhoon = max(
                calendar.advisories.ahead(pair.origin_area, day),
                calendar.advisories.ahead(pair.destination_area, day),
            )
            rows[i] = (
                pair.distance,
                zone_index[pair.zone],
                pair.crossing,
                pair.origin_urban,
                pair.destination_urban,
                index.get(p.courier, math.nan),
                at.weekday(),
                at.hour + at.minute / 60.0,
                float(pair.metro),
                float(pair.metro and traffic.is_rush_hour(at)),
                float(pair.metro and traffic.is_coding(at, holidays)),
                float(traffic.is_payday(day)),
                float(traffic.is_christmas_season(day)),
                traffic.holidays_ahead(day, holidays),
                typhoon,
                p.weight_g,
                pair.origin_region,
                pair.destination_region,
                pair.remote,
            )
        return rows

    def zone_of(self, parcel: Parcel | Shipment) -> Zone:
        return _pair(self.places, parcel.origin, parcel.destination, self._pairs).zone

    def predict(
        self, parcels: Sequence[Parcel | Shipment], calendar: Calendar
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(median, low, high) hours of each parcel's 80% window."""
        x = self.matrix(parcels, calendar)
        low, mid, high = (b.predict(x) for b in self.boosters)
        low, high = np.minimum(low, mid), np.maximum(high, mid)
        low, high = low - self.correction, high + self.correction
        return np.expm1(mid), np.expm1(np.maximum(low, 0.0)), np.expm1(np.maximum(high, mid))

    def has_history(self, courier: str, zone: Zone) -> bool:
        return self.history[(courier, zone)] >= limits.MIN_ZONE_HISTORY


def _booster(x: np.ndarray, y: np.ndarray, alpha: float, rounds: int, seed: int) -> lgb.Booster:
    params = {**PARAMS, "alpha": alpha, "seed": seed}
    categorical = [FEATURES.index(name) for name in CATEGORICAL]
    data = lgb.Dataset(
        x, y, feature_name=list(FEATURES), categorical_feature=categorical, free_raw_data=True
    )
    return lgb.train(params, data, num_boost_round=rounds)


def fit(
    shipments: Sequence[Shipment], calendar: Calendar, seed: int = 0, rounds: int = ROUNDS
) -> PromiseModel:
    """Train on ``shipments`` (at least 20; they need not be sorted)."""
    if len(shipments) < 20:
        raise ValueError(f"too few shipments to learn from: {len(shipments)}, at least 20")
    ordered = sorted(shipments, key=lambda s: (s.picked_up_at, s.shipment_id))
    model = PromiseModel(couriers=sorted({s.courier for s in ordered}))
    x = model.matrix(ordered, calendar)
    y = np.log1p(np.array([s.hours for s in ordered]))
    cut = len(ordered) - max(10, int(len(ordered) * CALIBRATION_SHARE))
    model.boosters = [_booster(x[:cut], y[:cut], q, rounds, seed) for q in QUANTILES]
    low, mid, high = (b.predict(x[cut:]) for b in model.boosters)
    low, high = np.minimum(low, mid), np.maximum(high, mid)
    scores = np.sort(np.maximum(low - y[cut:], y[cut:] - high))
    n = len(scores)
    rank = min(n, math.ceil((n + 1) * COVERAGE))
    model.correction = float(scores[rank - 1])
    model.history = Counter((s.courier, model.zone_of(s)) for s in ordered)
    return model


class Baseline:
    """The median hours between the same two regions, else in the same zone, else of all."""

    def __init__(self, shipments: Sequence[Shipment], model: PromiseModel) -> None:
        by_pair: dict[tuple[str, str], list[float]] = defaultdict(list)
        by_zone: dict[Zone, list[float]] = defaultdict(list)
        for s in shipments:
            pair = _pair(model.places, s.origin, s.destination, model._pairs)
            by_pair[pair.region_pair].append(s.hours)
            by_zone[pair.zone].append(s.hours)
        self.pair = {k: float(np.median(v)) for k, v in by_pair.items()}
        self.zone = {k: float(np.median(v)) for k, v in by_zone.items()}
        self.all = float(np.median([s.hours for s in shipments]))
        self._model = model

    def predict(self, parcels: Sequence[Parcel | Shipment]) -> np.ndarray:
        out = np.empty(len(parcels))
        for i, p in enumerate(parcels):
            pair = _pair(self._model.places, p.origin, p.destination, self._model._pairs)
            out[i] = self.pair.get(pair.region_pair, self.zone.get(pair.zone, self.all))
        return out


@dataclass(frozen=True, slots=True)
class Evaluation:
    mae_hours: float
    baseline_mae_hours: float
    coverage_80: float
    mean_width_hours: float
    n_test: int
    n_train: int
    test: list[Shipment]
    predicted: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def as_dict(self) -> dict[str, float | int]:
        return {
            "mae_hours": round(self.mae_hours, 2),
            "baseline_mae_hours": round(self.baseline_mae_hours, 2),
            "coverage_80": round(self.coverage_80, 4),
            "mean_width_hours": round(self.mean_width_hours, 2),
            "n_test": self.n_test,
        }


TEST_SHARE = 0.2


def evaluate(
    shipments: Sequence[Shipment], calendar: Calendar, seed: int = 0, rounds: int = ROUNDS
) -> Evaluation:
    """Train on the earliest 80% of ``shipments`` by pickup time, measure on the latest 20%."""
    if len(shipments) < 50:
        raise ValueError(f"too few shipments to evaluate: {len(shipments)}, at least 50")
    ordered = sorted(shipments, key=lambda s: (s.picked_up_at, s.shipment_id))
    cut = len(ordered) - max(1, round(len(ordered) * TEST_SHARE))
    train, test = ordered[:cut], ordered[cut:]
    model = fit(train, calendar, seed, rounds)
    mid, low, high = model.predict(test, calendar)
    actual = np.array([s.hours for s in test])
    baseline = Baseline(train, model).predict(test)
    return Evaluation(
        mae_hours=float(np.mean(np.abs(mid - actual))),
        baseline_mae_hours=float(np.mean(np.abs(baseline - actual))),
        coverage_80=float(np.mean((actual >= low) & (actual <= high))),
        mean_width_hours=float(np.mean(high - low)),
        n_test=len(test),
        n_train=len(train),
        test=test,
        predicted=mid,
        low=low,
        high=high,
    )


def traffic_picture(
    model: PromiseModel,
    calendar: Calendar,
    trips: Sequence[tuple[str, str]],
    couriers: Sequence[str],
    monday: date,
) -> list[list[float]]:
    """Metro Manila's traffic as the model learned it: the median hours it predicts for a
    parcel picked up at each hour (Philippine time) of the week starting ``monday``,
    averaged over ``trips`` (origin and destination PSGC codes) and ``couriers``. Seven
    rows (Monday first) of 24 hours; the caller picks an ordinary week
    (``traffic.ordinary_week``) so that paydays and holidays do not colour it."""
    if not trips or not couriers:
        raise ValueError("the traffic picture needs at least one trip and one courier")
    moments = [
        datetime.combine(monday, datetime.min.time(), PH_TIME).replace(hour=hour)
        + timedelta(days=day)
        for day in range(7)
        for hour in range(24)
    ]
    parcels = [
        Parcel(courier, origin, destination, moment, 1_000)
        for moment in moments
        for courier in couriers
        for origin, destination in trips
    ]
    median, _, _ = model.predict(parcels, calendar)
    per_slot = median.reshape(len(moments), len(couriers) * len(trips)).mean(axis=1)
    return [[float(v) for v in per_slot[day * 24 : day * 24 + 24]] for day in range(7)]
