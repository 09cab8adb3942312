"""The delivery API: the operator's couriers' rate cards, a storefront's couriers and terms,
and the shipping offers for a cart to an address (``services.delivery``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.api import delivery_schemas as d
from tindahan.api import schemas as s
from tindahan.api.deps import CallerDep, IdempotencyKey, PathId, idempotent, read
from tindahan.services.commerce import addresses, orders
from tindahan.services.delivery import couriers
from tindahan.services.platform.listing import page

router = APIRouter(prefix="/v1")
Code = Annotated[
    str, Path(max_length=limits.COURIER_CODE_MAX_LENGTH, pattern=r"^[a-z0-9][a-z0-9-]*$")
]


@router.get("/couriers", response_model=s.Page[d.Courier], tags=["delivery"])
def list_couriers(request: Request, who: CallerDep) -> Any:
    """Every courier's rate card (public to any key: a shop chooses among them)."""
    return read(request, lambda u: page(couriers.list_cards(u, who), False))


@router.get("/couriers/{code}", response_model=d.Courier, tags=["delivery"])
def get_courier(request: Request, who: CallerDep, code: Code) -> Any:
    return read(request, lambda u: couriers.get_card(u, who, code))


@router.post("/couriers/{code}", response_model=d.Courier, tags=["delivery"])
def set_courier(
    request: Request, who: CallerDep, key: IdempotencyKey, code: Code, payload: d.RateCardIn
) -> JSONResponse:
    """Operator keys: create or replace a courier's whole rate card."""
    body = payload.model_dump(mode="json")
    return idempotent(request, who, key, payload, lambda u: couriers.set_card(u, who, code, body))


@router.post("/couriers/{code}/retire", response_model=d.Courier, tags=["delivery"])
def retire_courier(
    request: Request, who: CallerDep, key: IdempotencyKey, code: Code
) -> JSONResponse:
    """Operator keys: checkouts stop offering this courier (shops keep it listed)."""
    return idempotent(request, who, key, None, lambda u: couriers.retire(u, who, code))


@router.get("/storefronts/{storefront}/shipping", response_model=d.Shipping, tags=["delivery"])
def get_shipping(request: Request, who: CallerDep, storefront: PathId) -> Any:
    return read(request, lambda u: couriers.shipping(u, who, storefront))


@router.post("/storefronts/{storefront}/shipping", response_model=d.Shipping, tags=["delivery"])
def set_shipping(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    storefront: PathId,
    payload: d.ShippingSet,
) -> JSONResponse:
    """The merchant: the couriers the shop ships with (the whole list), each at the card's
    price or a flat fee, and free shipping over an amount."""
    choices = [couriers.Choice(c.courier, c.flat_fee_minor) for c in payload.couriers]
    free = payload.free_shipping_over_minor
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: couriers.set_shipping(u, who, storefront, choices, free),
    )


@router.post("/shipping_offers", response_model=d.Offers, tags=["delivery"])
def shipping_offers(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: d.OffersRequest
) -> JSONResponse:
    """What each of the shop's couriers charges for this cart to this address and when it
    arrives (writes nothing but the idempotent response)."""
    lines = [orders.CartLine(**line.model_dump()) for line in payload.lines]
    delivery = addresses.Delivery(
        payload.address_id, payload.address.model_dump() if payload.address else None, False
    )
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: orders.shipping_offers(
            u, who, payload.storefront_id, lines, delivery, payload.buyer_id
        ),
    )
