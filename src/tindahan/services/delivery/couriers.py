"""Couriers' rate cards (the operator's), the couriers a storefront ships with (the
merchant's), and the offers one checkout gets from them.

Where a parcel starts: the storefront's city and province (the merchant's, as registered),
located at city level in the PSGC (``psgc.city_codes``). A storefront whose city is not one
place in the list cannot be priced by courier, and its checkout says so rather than guess.

A storefront with no courier keeps its one flat fee per order (what it had before couriers
existed); once it lists couriers, a checkout with an address must choose one of them, and
the order keeps the courier, its zone, its fee and its window.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select, update

from tindahan import limits
from tindahan.commerce import psgc
from tindahan.delivery import rates
from tindahan.delivery.zones import Zone, zone_between
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, invalid, not_found
from tindahan.services.delivery import promises
from tindahan.services.platform import audit
from tindahan.services.unit import Unit, iso
from tindahan.store.commerce_tables import rate_cards, storefront_couriers, storefronts


# --- rate cards (operator) -----------------------------------------------------------------
def set_card(
    unit: Unit, caller: Caller, code: str, body: object, note: str | None = None
) -> dict[str, Any]:
    """Create or replace a courier's rate card (the whole card: what the operator sees is
    what is priced). The audit log keeps the card before and after, in the same
    transaction (``courier.rates_set``), with the operator's note."""
    caller.require_operator()
    card = rates.parse_card(code, body)
    now = unit.now()
    stored = json.dumps(card.as_dict(), sort_keys=True)
    found = unit.conn.execute(
        select(rate_cards.c.code, rate_cards.c.card).where(rate_cards.c.code == card.code)
    ).first()
    before = None if found is None else json.loads(found[1])
    details = {"before": before, "after": card.as_dict()}
    audit.record(unit, caller.key_id, "courier.rates_set", "courier", card.code, note, details)
    if found is None:
        unit.conn.execute(
            insert(rate_cards).values(
                code=card.code,
                name=card.name,
                card=stored,
                active=1,
                created_at_ns=now,
                updated_at_ns=now,
            )
        )
    else:
        unit.conn.execute(
            update(rate_cards)
            .where(rate_cards.c.code == card.code)
            .values(name=card.name, card=stored, active=1, updated_at_ns=now)
        )
    return get_card(unit, caller, card.code)


def retire(unit: Unit, caller: Caller, code: str) -> dict[str, Any]:
    """A courier no longer offered: storefronts keep it listed but checkouts skip it."""
    caller.require_operator()
    _row(unit, code)
    now = unit.now()
    audit.record(unit, caller.key_id, "courier.retired", "courier", code)
    unit.conn.execute(
        update(rate_cards).where(rate_cards.c.code == code).values(active=0, updated_at_ns=now)
    )
    return get_card(unit, caller, code)


def _row(unit: Unit, code: str, param: str = "code") -> Any:
    row = unit.conn.execute(select(rate_cards).where(rate_cards.c.code == code)).mappings().first()
    if row is None:
        raise not_found("courier", param)
    return row


@lru_cache(maxsize=256)
def _parsed(code: str, stored: str) -> rates.RateCard:
    return rates.parse_card(code, json.loads(stored))


def _view(row: Any) -> dict[str, Any]:
    card = _parsed(row["code"], row["card"])
    return {
        "object": "courier",
        **card.as_dict(),
        "active": bool(row["active"]),
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }


def name_of(unit: Unit, code: str) -> str:
    """A courier's name as its card says (the code, if the card is gone)."""
    query = select(rate_cards.c.name).where(rate_cards.c.code == code)
    found = unit.conn.execute(query).scalar_one_or_none()
    return code if found is None else str(found)


def get_card(unit: Unit, caller: Caller, code: str) -> dict[str, Any]:
    return _view(_row(unit, code))


def list_cards(unit: Unit, caller: Caller) -> list[dict[str, Any]]:
    rows = unit.conn.execute(select(rate_cards).order_by(rate_cards.c.code)).mappings()
    return [_view(r) for r in rows]


# --- a storefront's couriers (merchant) ----------------------------------------------------
@dataclass(frozen=True)
class Choice:
    courier: str
    flat_fee_minor: int | None = None


def _owned(unit: Unit, caller: Caller, storefront_id: str) -> Any:
    column = storefronts.c.id if storefront_id.startswith("sto_") else storefronts.c.slug
    row = unit.conn.execute(select(storefronts).where(column == storefront_id)).mappings().first()
    if row is None or not caller.reaches(row["merchant_id"]):
        raise not_found("storefront", "id")
    return row


def set_shipping(
    unit: Unit,
    caller: Caller,
    storefront_id: str,
    choices: Sequence[Choice],
    free_over_minor: int | None,
) -> dict[str, Any]:
    """The couriers a storefront ships with (replacing the list), each optionally at the
    merchant's flat fee, and the amount over which its orders ship free (None: never)."""
    caller.require("catalog:write")
    store = _owned(unit, caller, storefront_id)
    if len(choices) > limits.MAX_COURIERS_PER_STOREFRONT:
        message = f"a storefront ships with at most {limits.MAX_COURIERS_PER_STOREFRONT} couriers"
        raise invalid("too_many_couriers", message, "couriers")
    seen: set[str] = set()
    for i, choice in enumerate(choices):
        code = rates.courier_code(choice.courier, f"couriers.{i}.courier")
        if code in seen:
            raise invalid("courier_repeated", f"{code} is listed twice", f"couriers.{i}.courier")
        seen.add(code)
        _row(unit, code, f"couriers.{i}.courier")
        fee = choice.flat_fee_minor
        if fee is not None and (
            isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= 10**12
        ):
            message = "a flat fee is a whole number of centavos, 0 or more"
            raise invalid("flat_fee_invalid", message, f"couriers.{i}.flat_fee_minor")
    if free_over_minor is not None and (
        isinstance(free_over_minor, bool)
        or not isinstance(free_over_minor, int)
        or not 0 < free_over_minor <= limits.MAX_AMOUNT_MINOR
    ):
        message = "free shipping starts at a whole number of centavos above 0"
        raise invalid("free_shipping_invalid", message, "free_shipping_over_minor")
    now = unit.now()
    unit.conn.execute(
        delete(storefront_couriers).where(storefront_couriers.c.storefront_id == store["id"])
    )
    if choices:
        unit.conn.execute(
            insert(storefront_couriers),
            [
                {
                    "storefront_id": store["id"],
                    "courier_code": c.courier,
                    "flat_fee_minor": c.flat_fee_minor,
                    "created_at_ns": now,
                }
                for c in choices
            ],
        )
    unit.conn.execute(
        update(storefronts)
        .where(storefronts.c.id == store["id"])
        .values(free_shipping_over_minor=free_over_minor, updated_at_ns=now)
    )
    return shipping(unit, caller, store["id"])


def shipping(unit: Unit, caller: Caller, storefront_id: str) -> dict[str, Any]:
    """How a storefront ships: public (a buyer reads it before checkout)."""
    column = storefronts.c.id if storefront_id.startswith("sto_") else storefronts.c.slug
    store = unit.conn.execute(select(storefronts).where(column == storefront_id)).mappings().first()
    if store is None:
        raise not_found("storefront", "id")
    listed = _listed(unit, store["id"])
    return {
        "object": "storefront_shipping",
        "storefront_id": store["id"],
        "ships_from": {"city": store["city"], "province": store["province"]},
        "flat_fee_minor": store["shipping_fee_minor"],
        "free_shipping_over_minor": store["free_shipping_over_minor"],
        "currency": rates.CURRENCY,
        "couriers": [
            {
                "courier": row["courier_code"],
                "name": row["name"],
                "flat_fee_minor": row["flat_fee_minor"],
                "active": bool(row["active"]),
            }
            for row in listed
        ],
    }


def _listed(unit: Unit, storefront_id: str) -> list[Any]:
    query = (
        select(
            storefront_couriers.c.courier_code,
            storefront_couriers.c.flat_fee_minor,
            rate_cards.c.name,
            rate_cards.c.card,
            rate_cards.c.active,
        )
        .join(rate_cards, rate_cards.c.code == storefront_couriers.c.courier_code)
        .where(storefront_couriers.c.storefront_id == storefront_id)
        .order_by(storefront_couriers.c.courier_code)
    )
    return list(unit.conn.execute(query).mappings())


def ships_by_courier(unit: Unit, storefront_id: str) -> bool:
    query = select(storefront_couriers.c.courier_code).where(
        storefront_couriers.c.storefront_id == storefront_id
    )
    return unit.conn.execute(query.limit(1)).first() is not None


# --- offers at checkout --------------------------------------------------------------------
@dataclass(frozen=True)
class Offers:
    """What a checkout can be shipped by: the offers, and for each courier that cannot
    price it, why (``{courier: message}``); ``problem`` when none can be priced at all."""

    zone: Zone | None
    offers: tuple[rates.Offer, ...]
    unavailable: dict[str, str]
    problem: RefusalError | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "object": "shipping_offers",
            "zone": None if self.zone is None else self.zone.value,
            "offers": [o.as_dict() for o in self.offers],
            "unavailable": dict(self.unavailable),
            "problem": None
            if self.problem is None
            else {"code": self.problem.code, "message": self.problem.message},
        }


def origin_of(store: Any) -> psgc.Codes | None:
    return psgc.city_codes(store["city"], store["province"])


def offers(
    unit: Unit,
    store: Any,
    destination: psgc.Codes | None,
    weight_g: int | None,
    items_minor: int,
) -> Offers:
    """Each active courier the storefront lists, priced for this parcel (cheapest first)."""
    if destination is None:
        problem = invalid(
            "address_not_located",
            "the delivery address is not matched to a PSGC place, so couriers cannot price it",
            "address",
        )
        return Offers(None, (), {}, problem)
    origin = origin_of(store)
    if origin is None:
        problem = invalid(
            "origin_not_located",
            f"the shop's city {store['city']!r} is not one place in the PSGC list,"
            " so couriers cannot price from it",
            "storefront_id",
        )
        return Offers(None, (), {}, problem)
    zone = zone_between(origin, destination)
    if weight_g is None:
        problem = invalid(
            "weight_missing",
            "a product in the cart has no weight, so couriers cannot price it",
            "lines",
        )
        return Offers(zone, (), {}, problem)
    if weight_g > limits.MAX_PARCEL_WEIGHT_G:
        problem = invalid(
            "parcel_too_heavy",
            f"the parcel weighs {weight_g} g; couriers take at most"
            f" {limits.MAX_PARCEL_WEIGHT_G} g in one parcel",
            "lines",
        )
        return Offers(zone, (), {}, problem)
    listed = _listed(unit, store["id"])
    flat = {
        r["courier_code"]: r["flat_fee_minor"] for r in listed if r["flat_fee_minor"] is not None
    }
    terms = rates.Terms(flat, store["free_shipping_over_minor"])
    found: list[rates.Offer] = []
    unavailable: dict[str, str] = {}
    for row in listed:
        if not row["active"]:
            unavailable[row["courier_code"]] = f"{row['name']} is not taking parcels now"
            continue
        card = _parsed(row["courier_code"], row["card"])
        try:
            found.append(rates.offer(card, zone, weight_g, items_minor, terms))
        except RefusalError as refusal:
            unavailable[row["courier_code"]] = refusal.message
    learned = promises.windows(unit, [o.courier for o in found], origin, destination, weight_g)
    found = [
        replace(o, min_days=learned[o.courier][0], max_days=learned[o.courier][1], estimate=False)
        if o.courier in learned
        else o
        for o in found
    ]
    found.sort(key=lambda o: (o.fee_minor, o.max_days, o.courier))
    if found:
        return Offers(zone, tuple(found), unavailable)
    reasons = "; ".join(unavailable.values()) or "the shop lists no courier"
    none = invalid("no_courier_for_address", f"no courier can deliver this: {reasons}", "courier")
    return Offers(zone, (), unavailable, none)


def chosen_offer(found: Offers, courier: str | None) -> rates.Offer:
    """The buyer's courier among the offers, or a refusal saying why it cannot be used."""
    if found.problem is not None and not found.offers:
        raise found.problem
    if courier is None:
        raise invalid("courier_missing", "choose a courier for this order", "courier")
    for offer in found.offers:
        if offer.courier == courier:
            return offer
    reason = found.unavailable.get(courier)
    if reason is not None:
        raise invalid("courier_unavailable", reason, "courier")
    raise invalid("courier_unavailable", f"this shop does not ship with {courier!r}", "courier")
