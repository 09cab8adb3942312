"""Couriers' rate cards, and what one parcel costs and how long it takes by each.

A rate card is data the operator edits (``tindahan delivery rates set``, ``PUT
/v1/couriers/{code}``), never code: for each zone (``zones.Zone``) the card lists weight
tiers — a fee for parcels up to so many grams, ascending — and the delivery window in days
that courier promises there (until issue 25's learned windows exist, the card's window is
the one shown, as an estimate). A zone missing from a card is a zone that courier does not
serve: a checkout there is refused with that reason, never priced by guess. A parcel
heavier than a zone's last tier is refused the same way.

Cash on delivery, where the courier offers it: ``cod_bps`` of the amount collected, at
least ``cod_min_minor``, rounded once with ``COD_ROUNDING`` (half up, as couriers print
their fees). Money is integer centavos throughout.

The merchant's terms (``Terms``) sit over the cards: a flat fee the merchant charges with a
courier whatever the zone (the merchant absorbs the difference), and free shipping when the
items come to at least an amount. Either way the courier's own price is kept on the offer
(``courier_fee_minor``): what the merchant will pay the courier.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tindahan import limits
from tindahan.delivery.zones import Zone
from tindahan.kernel.refusals import invalid
from tindahan.money.rate import bps_of
from tindahan.money.rounding import Rounding

COD_ROUNDING = Rounding.HALF_UP
CURRENCY = "PHP"
_CODE = re.compile(r"[a-z0-9][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class Tier:
    max_weight_g: int
    fee_minor: int


@dataclass(frozen=True, slots=True)
class ZoneRate:
    tiers: tuple[Tier, ...]
    min_days: int
    max_days: int

    def fee(self, weight_g: int) -> int | None:
        for tier in self.tiers:
            if weight_g <= tier.max_weight_g:
                return tier.fee_minor
        return None


@dataclass(frozen=True, slots=True)
class RateCard:
    code: str
    name: str
    zones: Mapping[Zone, ZoneRate]
    cod_bps: int | None  # None: no cash on delivery
    cod_min_minor: int = 0
    currency: str = CURRENCY

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "currency": self.currency,
            "cod_bps": self.cod_bps,
            "cod_min_minor": self.cod_min_minor,
            "zones": {
                zone.value: {
                    "min_days": rate.min_days,
                    "max_days": rate.max_days,
                    "tiers": [
                        {"max_weight_g": t.max_weight_g, "fee_minor": t.fee_minor}
                        for t in rate.tiers
                    ],
                }
                for zone, rate in sorted(self.zones.items())
            },
        }


def _int(value: object, param: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = f"{param} is {what}, a whole number from {low} to {high}"
        raise invalid("rate_card_invalid", message, param)
    return value


def courier_code(value: object, param: str = "code") -> str:
    if (
        not isinstance(value, str)
        or len(value) > limits.COURIER_CODE_MAX_LENGTH
        or not _CODE.fullmatch(value)
    ):
        message = (
            f"{param} is a courier's code: lowercase letters, digits and dashes, at most"
            f" {limits.COURIER_CODE_MAX_LENGTH}"
        )
        raise invalid("courier_code_invalid", message, param)
    return value


def _zone_rate(value: object, param: str) -> ZoneRate:
    if not isinstance(value, Mapping):
        raise invalid("rate_card_invalid", f"{param} is an object", param)
    low = _int(value.get("min_days"), f"{param}.min_days", 0, limits.MAX_DELIVERY_DAYS, "days")
    high = _int(value.get("max_days"), f"{param}.max_days", 0, limits.MAX_DELIVERY_DAYS, "days")
    if high < low:
        message = f"{param}.max_days is before min_days"
        raise invalid("rate_card_invalid", message, f"{param}.max_days")
    tiers = value.get("tiers")
    if not isinstance(tiers, Sequence) or isinstance(tiers, str) or not tiers:
        raise invalid("rate_card_invalid", f"{param}.tiers is a non-empty list", f"{param}.tiers")
    if len(tiers) > limits.MAX_RATE_TIERS:
        message = f"{param}.tiers has at most {limits.MAX_RATE_TIERS} tiers"
        raise invalid("rate_card_invalid", message, f"{param}.tiers")
    parsed: list[Tier] = []
    for i, tier in enumerate(tiers):
        where = f"{param}.tiers.{i}"
        if not isinstance(tier, Mapping):
            raise invalid("rate_card_invalid", f"{where} is an object", where)
        weight = _int(
            tier.get("max_weight_g"),
            f"{where}.max_weight_g",
            1,
            limits.MAX_PARCEL_WEIGHT_G,
            "grams",
        )
        fee = _int(
            tier.get("fee_minor"), f"{where}.fee_minor", 0, limits.MAX_AMOUNT_MINOR, "centavos"
        )
        if parsed and weight <= parsed[-1].max_weight_g:
            message = f"{where}.max_weight_g must be heavier than the tier before"
            raise invalid("rate_card_invalid", message, f"{where}.max_weight_g")
        if parsed and fee < parsed[-1].fee_minor:
            message = f"{where}.fee_minor is less than a lighter tier's"
            raise invalid("rate_card_invalid", message, f"{where}.fee_minor")
        parsed.append(Tier(weight, fee))
    return ZoneRate(tuple(parsed), low, high)


def parse_card(code: object, value: object) -> RateCard:
    """A rate card from JSON-like data (the API's body, the CLI's file), or a refusal that
    names the field."""
    checked = courier_code(code)
    if not isinstance(value, Mapping):
        raise invalid("rate_card_invalid", "a rate card is an object", None)
    name = value.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > limits.NAME_MAX_LENGTH:
        message = f"name is the courier's name, 1 to {limits.NAME_MAX_LENGTH} characters"
        raise invalid("rate_card_invalid", message, "name")
    currency = value.get("currency", CURRENCY)
    if currency != CURRENCY:
        raise invalid("rate_card_invalid", "rate cards are in PHP", "currency")
    cod = value.get("cod_bps")
    cod_bps = None if cod is None else _int(cod, "cod_bps", 0, limits.MAX_COD_BPS, "basis points")
    cod_min = _int(
        value.get("cod_min_minor", 0), "cod_min_minor", 0, limits.MAX_AMOUNT_MINOR, "centavos"
    )
    zones = value.get("zones")
    if not isinstance(zones, Mapping) or not zones:
        raise invalid("rate_card_invalid", "zones is a non-empty object by zone", "zones")
    parsed: dict[Zone, ZoneRate] = {}
    for key, rate in zones.items():
        try:
            zone = Zone(key)
        except ValueError:
            names = ", ".join(z.value for z in Zone)
            message = f"zones.{key} is not a zone (one of {names})"
            raise invalid("rate_card_invalid", message, f"zones.{key}") from None
        parsed[zone] = _zone_rate(rate, f"zones.{zone.value}")
    return RateCard(checked, name.strip(), parsed, cod_bps, cod_min)


@dataclass(frozen=True, slots=True)
class Quote:
    """What one courier charges for one parcel in one zone."""

    courier: str
    name: str
    zone: Zone
    fee_minor: int
    min_days: int
    max_days: int
    cod_fee_minor: int | None  # None: the courier does not collect cash


def weight_of(weight_g: object, param: str = "weight_g") -> int:
    return _int(weight_g, param, 1, limits.MAX_PARCEL_WEIGHT_G, "a parcel's weight in grams")


def quote(card: RateCard, zone: Zone, weight_g: int, cod_amount_minor: int = 0) -> Quote:
    """The card's price for a parcel, or a refusal saying why it has none."""
    weight = weight_of(weight_g)
    rate = card.zones.get(zone)
    if rate is None:
        message = f"{card.name} has no rate for the {zone.value} zone"
        raise invalid("no_rate_for_zone", message, "courier")
    fee = rate.fee(weight)
    if fee is None:
        top = rate.tiers[-1].max_weight_g
        message = f"{card.name} takes at most {top} g in the {zone.value} zone, not {weight} g"
        raise invalid("too_heavy_for_courier", message, "courier")
    cod: int | None = None
    if card.cod_bps is not None:
        cod = max(card.cod_min_minor, bps_of(cod_amount_minor, card.cod_bps, COD_ROUNDING))
    return Quote(card.code, card.name, zone, fee, rate.min_days, rate.max_days, cod)


@dataclass(frozen=True, slots=True)
class Terms:
    """The merchant's terms over the couriers' cards."""

    flat_fee_minor: Mapping[str, int]  # courier code → the flat fee charged with it
    free_over_minor: int | None = None  # items at least this much ship free


@dataclass(frozen=True, slots=True)
class Offer:
    """One way to ship an order, as the buyer sees it at checkout."""

    courier: str
    name: str
    zone: Zone
    fee_minor: int  # what the buyer pays for shipping
    courier_fee_minor: int  # what the courier charges (the merchant pays the difference)
    min_days: int
    max_days: int
    free: bool  # free shipping over the merchant's amount
    flat: bool  # the merchant's flat fee
    estimate: bool = True  # the card's window; False: learned from deliveries

    def as_dict(self) -> dict[str, Any]:
        return {
            "courier": self.courier,
            "name": self.name,
            "zone": self.zone.value,
            "fee_minor": self.fee_minor,
            "courier_fee_minor": self.courier_fee_minor,
            "currency": CURRENCY,
            "min_days": self.min_days,
            "max_days": self.max_days,
            "free": self.free,
            "flat": self.flat,
            "estimate": self.estimate,
        }


def offer(card: RateCard, zone: Zone, weight_g: int, items_minor: int, terms: Terms) -> Offer:
    """One courier's offer for an order (a refusal if the card cannot price it)."""
    priced = quote(card, zone, weight_g)
    flat = terms.flat_fee_minor.get(card.code)
    free = terms.free_over_minor is not None and items_minor >= terms.free_over_minor
    fee = 0 if free else (flat if flat is not None else priced.fee_minor)
    return Offer(
        card.code,
        card.name,
        zone,
        fee,
        priced.fee_minor,
        priced.min_days,
        priced.max_days,
        free,
        flat is not None and not free,
    )
