"""Request and response models of the delivery API: couriers' rate cards, a storefront's
couriers, and the shipping offers for a cart (rules: ``tindahan.delivery``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tindahan import limits
from tindahan.api.commerce_schemas import CartLine, OrderAddress
from tindahan.api.schemas import ID_PATTERN, ObjectId, Request

CourierCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=limits.COURIER_CODE_MAX_LENGTH,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        examples=["jnt"],
    ),
]
#: ``delivery.zones.Zone``'s values (a test holds them equal).
ZoneName = Literal[
    "within_city",
    "metro_manila",
    "luzon",
    "visayas",
    "mindanao",
    "island_crossing",
    "remote",
]
Days = Annotated[int, Field(ge=0, le=limits.MAX_DELIVERY_DAYS)]
Centavos = Annotated[int, Field(ge=0, le=limits.MAX_AMOUNT_MINOR)]


class TierIn(Request):
    max_weight_g: Annotated[int, Field(ge=1, le=limits.MAX_PARCEL_WEIGHT_G)]
    fee_minor: Centavos


class ZoneRateIn(Request):
    min_days: Days
    max_days: Days
    tiers: Annotated[list[TierIn], Field(min_length=1, max_length=limits.MAX_RATE_TIERS)]


class RateCardIn(Request):
    name: Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)]
    currency: Literal["PHP"] = "PHP"
    cod_bps: Annotated[int, Field(ge=0, le=limits.MAX_COD_BPS)] | None = Field(
        None, description="Cash-on-delivery fee in basis points of the amount (null: no COD)."
    )
    cod_min_minor: Centavos = 0
    zones: dict[ZoneName, ZoneRateIn] = Field(
        description="By zone: ascending weight tiers and the delivery window in days."
    )


class Tier(BaseModel):
    max_weight_g: int
    fee_minor: int


class ZoneRate(BaseModel):
    min_days: int
    max_days: int
    tiers: list[Tier]


class Courier(BaseModel):
    object: Literal["courier"]
    code: str
    name: str
    currency: str
    cod_bps: int | None
    cod_min_minor: int
    zones: dict[str, ZoneRate]
    active: bool
    created: str
    updated: str


class CourierChoice(Request):
    courier: CourierCode
    flat_fee_minor: Centavos | None = Field(
        None, description="The merchant's own fee with this courier, whatever the zone."
    )


class ShippingSet(Request):
    couriers: Annotated[
        list[CourierChoice], Field(max_length=limits.MAX_COURIERS_PER_STOREFRONT)
    ] = Field(default_factory=list)
    free_shipping_over_minor: Annotated[int, Field(gt=0, le=limits.MAX_AMOUNT_MINOR)] | None = (
        Field(None, description="Items at least this much ship free (null: never).")
    )


class ShipsFrom(BaseModel):
    city: str
    province: str


class ListedCourier(BaseModel):
    courier: str
    name: str
    flat_fee_minor: int | None
    active: bool


class Shipping(BaseModel):
    object: Literal["storefront_shipping"]
    storefront_id: str
    ships_from: ShipsFrom
    flat_fee_minor: int
    free_shipping_over_minor: int | None
    currency: str
    couriers: list[ListedCourier]


class OffersRequest(Request):
    storefront_id: Annotated[
        str, Field(min_length=1, max_length=limits.SLUG_MAX_LENGTH, pattern=ID_PATTERN)
    ]
    lines: Annotated[list[CartLine], Field(min_length=1, max_length=limits.MAX_ORDER_LINES)]
    buyer_id: ObjectId | None = Field(None, description="Operator keys only: who buys.")
    address_id: ObjectId | None = None
    address: OrderAddress | None = None


class Offer(BaseModel):
    courier: str
    name: str
    zone: str
    fee_minor: int = Field(description="What the buyer pays for shipping.")
    courier_fee_minor: int = Field(description="What the courier charges the merchant.")
    currency: str
    min_days: int
    max_days: int
    free: bool
    flat: bool
    estimate: bool = Field(
        description="True: the rate card's window; false: the 80% window learned from deliveries."
    )


class Problem(BaseModel):
    code: str
    message: str


class Offers(BaseModel):
    object: Literal["shipping_offers"]
    storefront_id: str
    items_minor: int
    flat_fee_minor: int | None = Field(
        description="A shop without couriers: its flat fee for this cart (else null)."
    )
    zone: str | None
    offers: list[Offer]
    unavailable: dict[str, str] = Field(description="Courier → why it cannot take this parcel.")
    problem: Problem | None = Field(description="Why no courier can price it, if none can.")
