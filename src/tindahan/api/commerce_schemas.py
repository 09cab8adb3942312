"""Request and response bodies of the commerce API (storefronts to disputes), strict as in
``api.schemas``: unknown fields refused, integers must be JSON integers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from tindahan import limits
from tindahan.api.schemas import ID_PATTERN, AmountMinor, ObjectId, Request
from tindahan.commerce.orders import Action, OrderStatus, Role
from tindahan.commerce.shipments import REPORTABLE, ShipmentStatus

Title = Annotated[str, Field(min_length=1, max_length=limits.TITLE_MAX_LENGTH)]
LongText = Annotated[str, Field(max_length=limits.PRODUCT_DESCRIPTION_MAX_LENGTH)]
Note = Annotated[str, Field(max_length=limits.DESCRIPTION_MAX_LENGTH)]
Stock = Annotated[int, Field(strict=True, ge=0, le=limits.MAX_STOCK)]
StockChange = Annotated[int, Field(strict=True, ge=-limits.MAX_STOCK, le=limits.MAX_STOCK)]
Quantity = Annotated[int, Field(strict=True, ge=1, le=limits.MAX_LINE_QUANTITY)]
LineNo = Annotated[int, Field(strict=True, ge=1, le=limits.MAX_ORDER_LINES)]
ShippingFee = Annotated[int, Field(strict=True, ge=0, le=limits.MAX_AMOUNT_MINOR)]
ForeignCurrency = Literal["CNY", "EUR", "USD"]
Reportable = Literal[
    "picked_up", "in_transit", "out_for_delivery", "delivered", "failed_attempt", "returned"
]
assert set(Reportable.__args__) == {s.value for s in REPORTABLE}  # type: ignore[attr-defined]


# --- requests --------------------------------------------------------------------------------
class StorefrontCreate(Request):
    slug: Annotated[str, Field(max_length=limits.SLUG_MAX_LENGTH, examples=["aling-nena"])]
    name: Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)]
    description: LongText | None = None
    shipping_fee_minor: ShippingFee = 0
    merchant_id: ObjectId | None = Field(None, description="Operator keys only.")


class StorefrontUpdate(Request):
    name: Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)] | None = None
    description: LongText | None = None
    shipping_fee_minor: ShippingFee | None = None


class VariantCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=limits.VARIANT_NAME_MAX_LENGTH)]
    stock: Stock = 0
    price_minor: AmountMinor | None = None


class ProductCreate(Request):
    title: Title
    price_minor: AmountMinor
    currency: Literal["PHP"] = "PHP"
    description: LongText | None = None
    active: bool = True
    stock: Stock | None = Field(None, description="For a product without variants.")
    variants: Annotated[list[VariantCreate], Field(max_length=limits.MAX_VARIANTS)] = Field(
        default_factory=list
    )
    category_id: ObjectId | None = Field(None, description="One of the storefront's categories.")
    weight_g: int | None = Field(
        None, description="Packed weight in grams: what couriers' rate cards price by."
    )


class ProductUpdate(Request):
    title: Title | None = None
    description: LongText | None = None
    price_minor: AmountMinor | None = None
    active: bool | None = None
    category_id: ObjectId | None = Field(
        None, description="One of the storefront's categories; null takes it off any."
    )
    weight_g: int | None = Field(None, description="Packed weight in grams.")


CategoryName = Annotated[str, Field(min_length=1, max_length=limits.CATEGORY_NAME_MAX_LENGTH)]


class CategoryCreate(Request):
    name: CategoryName = Field(examples=["Inumin"])


class CategoryUpdate(Request):
    name: CategoryName


class VariantUpdate(Request):
    stock: Stock | None = Field(None, description="What you counted on the shelf.")
    stock_change: StockChange | None = Field(None, description="What arrived (+) or left (-).")
    price_minor: AmountMinor | None = None


class CartLine(Request):
    product_id: ObjectId
    variant_id: ObjectId | None = None
    quantity: Quantity


AddressText = Annotated[str, Field(max_length=limits.ADDRESS_LINE_MAX_LENGTH)]


class AddressCreate(Request):
    """A Philippine delivery address; each field is checked by ``commerce.addresses``.

    The barangay, city or municipality and province must name official places (the PSGC
    list) in that order of containment; how people type them is forgiven (case, accents,
    "Brgy.", "City of", "QC"), a misspelling is refused with the nearest names in the
    message (code ``barangay_unknown``, ``city_unknown``, ``province_unknown``,
    ``province_needed``, ``barangay_ambiguous``), and a postal code PHLPost ties to another
    city is refused (``postal_code_mismatch``). The province may be empty in Metro Manila and
    for independent cities. The stored names are the official ones."""

    recipient: AddressText = Field(examples=["Maria Santos"])
    phone: AddressText = Field(description="A Philippine mobile number.", examples=["09171234567"])
    street: AddressText = Field(description="House number, street, building, unit.")
    barangay: AddressText
    city: AddressText = Field(description="City or municipality.")
    province: AddressText = Field(
        description="Empty allowed in Metro Manila and for independent cities."
    )
    postal_code: AddressText = Field(description="Four digits.", examples=["1805"])
    notes: Annotated[str, Field(max_length=limits.ADDRESS_NOTES_MAX_LENGTH)] | None = Field(
        None, description="Landmarks for the courier."
    )
    party_id: ObjectId | None = Field(None, description="Operator keys only: whose book.")


class AddressUpdate(Request):
    recipient: AddressText | None = None
    phone: AddressText | None = None
    street: AddressText | None = None
    barangay: AddressText | None = None
    city: AddressText | None = None
    province: AddressText | None = None
    postal_code: AddressText | None = None
    notes: Annotated[str, Field(max_length=limits.ADDRESS_NOTES_MAX_LENGTH)] | None = None


class OrderAddress(Request):
    recipient: AddressText
    phone: AddressText
    street: AddressText
    barangay: AddressText
    city: AddressText
    province: AddressText
    postal_code: AddressText
    notes: Annotated[str, Field(max_length=limits.ADDRESS_NOTES_MAX_LENGTH)] | None = None


class OrderCreate(Request):
    storefront_id: Annotated[
        str, Field(min_length=1, max_length=limits.SLUG_MAX_LENGTH, pattern=ID_PATTERN)
    ]
    lines: Annotated[list[CartLine], Field(max_length=limits.MAX_ORDER_LINES)]
    buyer_id: ObjectId | None = Field(None, description="Operator keys only: who buys.")
    address_id: ObjectId | None = Field(
        None, description="Deliver to this address of the buyer's book."
    )
    address: OrderAddress | None = Field(None, description="Or deliver to a new address.")
    save_address: bool = Field(True, description="Add a new address to the buyer's book.")
    courier: str | None = Field(
        None,
        max_length=limits.COURIER_CODE_MAX_LENGTH,
        description="One of the couriers the shop ships with (required when it lists any and "
        "the order has an address): see POST /v1/shipping_offers.",
    )


class OrderPay(Request):
    quote_id: ObjectId | None = Field(None, description="Buyers abroad: the FX quote to use.")


class QuoteCreate(Request):
    currency: ForeignCurrency | None = Field(None, description="Default: the wallet's.")


class Reason(Request):
    reason: Note | None = None


class LineQuantity(Request):
    line_no: LineNo
    quantity: Quantity


class OrderRefund(Request):
    amount_minor: AmountMinor | None = None
    lines: Annotated[list[LineQuantity], Field(max_length=limits.MAX_ORDER_LINES)] = Field(
        default_factory=list
    )
    reason: Note | None = None


class ShipmentCreate(Request):
    courier: Annotated[str, Field(min_length=1, max_length=limits.COURIER_NAME_MAX_LENGTH)]
    tracking_number: Annotated[
        str, Field(min_length=1, max_length=limits.TRACKING_NUMBER_MAX_LENGTH)
    ]
    lines: Annotated[list[LineQuantity], Field(max_length=limits.MAX_ORDER_LINES)] = Field(
        default_factory=list, description="Default: everything not yet shipped."
    )
    promised_at: datetime | None = Field(
        None, description="ISO 8601: when the courier promised delivery."
    )


class ShipmentEvent(Request):
    status: Reportable
    occurred_at: datetime | None = None
    location: Annotated[str, Field(max_length=limits.CITY_MAX_LENGTH)] | None = None
    note: Note | None = None


class CourierEvent(ShipmentEvent):
    tracking_number: Annotated[
        str, Field(min_length=1, max_length=limits.TRACKING_NUMBER_MAX_LENGTH)
    ]


class CourierCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=limits.COURIER_NAME_MAX_LENGTH)]


class DisputeCreate(Request):
    reason: Annotated[str, Field(min_length=1, max_length=limits.DESCRIPTION_MAX_LENGTH)]


class DisputeResolve(Request):
    resolution: Literal["release", "refund", "split"]
    refund_minor: AmountMinor | None = Field(None, description="A split: the buyer's part.")
    note: Note | None = None


class FxRateUpdate(Request):
    mid_rate: Annotated[
        str, Field(min_length=1, max_length=40, examples=["58.25"], description="PHP per unit")
    ]
    spread_bps: Annotated[int, Field(strict=True, ge=0, le=limits.MAX_FX_SPREAD_BPS)] | None = None


# --- responses -------------------------------------------------------------------------------
class Storefront(BaseModel):
    id: str
    object: Literal["storefront"]
    merchant_id: str
    slug: str
    name: str
    description: str | None
    city: str | None
    province: str | None
    shipping_fee_minor: int
    currency: str
    created: str
    updated: str


class Variant(BaseModel):
    id: str
    name: str | None
    price_minor: int
    stock: int
    in_stock: bool


class PhotoSize(BaseModel):
    width: int
    height: int
    url: str = Field(description="WebP, content-hashed: cacheable for a year.")


class Photo(BaseModel):
    id: str
    object: Literal["product_photo"]
    alt: str
    width: int
    height: int
    sizes: list[PhotoSize] = Field(description="Narrowest first (for an img srcset).")


class Product(BaseModel):
    id: str
    object: Literal["product"]
    storefront_id: str
    title: str
    description: str | None
    price_minor: int
    currency: str
    active: bool
    category_id: str | None
    weight_g: int | None = Field(description="Packed weight in grams (null: not given).")
    variants: list[Variant]
    photos: list[Photo]
    created: str
    updated: str


class Category(BaseModel):
    id: str
    object: Literal["category"]
    storefront_id: str
    name: str
    created: str
    product_count: int | None = Field(None, description="In lists: products on it.")
    deleted: bool | None = None


class OrderLine(BaseModel):
    line_no: int
    product_id: str
    variant_id: str
    title: str
    unit_price_minor: int
    quantity: int
    shipped_quantity: int
    cancelled_quantity: int
    amount_minor: int


class Escrow(BaseModel):
    account_id: str | None
    paid_in_minor: int
    held_minor: int
    released_minor: int
    fee_minor: int
    refunded_minor: int


class OrderEvent(BaseModel):
    action: str
    from_status: OrderStatus | None
    to_status: OrderStatus
    actor_role: Role
    actor_id: str | None
    amount_minor: int | None
    note: str | None
    at: str


class AddressCodes(BaseModel):
    """Where an address is by the Philippine Standard Geographic Code (10 digits each; the
    first two are the region's). For delivery zones."""

    barangay_code: str = Field(examples=["1380700005"])
    city_code: str = Field(description="City or municipality.", examples=["1380700000"])
    province_code: str | None = Field(
        description="Null in Metro Manila and for independent cities (no province in the PSGC)."
    )
    region_code: str = Field(examples=["1300000000"])


class ShippingAddress(BaseModel):
    recipient: str
    phone: str = Field(description="E.164, e.g. +639171234567.")
    street: str
    barangay: str = Field(description="The official name (PSGC).")
    city: str = Field(description="The official name, e.g. City of Marikina.")
    province: str = Field(description="Metro Manila in NCR; may be empty for independent cities.")
    postal_code: str
    notes: str
    psgc: AddressCodes | None = Field(
        description="The place's PSGC codes (null: stored before the check and not matched)."
    )


class Address(ShippingAddress):
    id: str
    object: Literal["address"]
    party_id: str
    status: Literal["active", "removed"]
    created: str
    updated: str


class OrderDelivery(BaseModel):
    courier: str
    name: str
    zone: str
    min_days: int
    max_days: int
    estimate: bool = Field(
        description="True: the rate card's window; false: the 80% window learned from deliveries."
    )
    promised_at: str | None = Field(
        description="The end of the window: paid plus its last day (null until paid)."
    )
    late: bool = Field(description="Paid or shipped, not delivered, and past promised_at.")


class Order(BaseModel):
    id: str
    short_ref: str  # 8 characters for people: services.platform.shortrefs
    object: Literal["order"]
    status: OrderStatus
    storefront_id: str
    merchant_id: str
    buyer_id: str
    currency: str
    lines: list[OrderLine]
    items_minor: int
    shipping_minor: int
    delivery: OrderDelivery | None = Field(
        description="The courier chosen at checkout, its zone and delivery window in days "
        "(null: shipped at the storefront's flat fee)."
    )
    total_minor: int
    escrow: Escrow
    buyer_currency: str
    buyer_paid_minor: int
    buyer_refunded_minor: int
    quote_id: str | None
    shipping_address: ShippingAddress | None = Field(
        description="A copy taken at checkout (null: placed without one); never in events."
    )
    transfer_ids: list[str]
    under_review: bool = Field(
        description="Money of the order (its payment into escrow, or a refund out of it) is "
        "held for a review, for the customer's safety, until an analyst decides. Never says why."
    )
    shipment_ids: list[str]
    dispute_id: str | None
    allowed_actions: list[Action]
    history: list[OrderEvent]
    expires_at: str | None
    paid_at: str | None
    delivered_at: str | None
    release_at: str | None
    completed_at: str | None
    created: str
    updated: str


class FxQuote(BaseModel):
    id: str
    object: Literal["fx_quote"]
    order_id: str
    pair: str
    currency: str
    mid_rate: str
    spread_bps: int
    customer_rate: str
    php_minor: int
    buyer_minor: int
    expires_at: str
    created: str


class FxRate(BaseModel):
    object: Literal["fx_rate"]
    pair: str
    currency: str
    mid_rate: str
    spread_bps: int
    customer_rate: str
    updated: str


class ShipmentLine(BaseModel):
    line_no: int
    quantity: int


class TimelineEntry(BaseModel):
    status: ShipmentStatus
    location: str | None
    note: str | None
    source: str
    occurred_at: str
    recorded_at: str


class Shipment(BaseModel):
    id: str
    object: Literal["shipment"]
    order_id: str
    courier: str
    tracking_number: str
    status: ShipmentStatus
    lines: list[ShipmentLine]
    promised_at: str | None
    delivered_at: str | None
    timeline: list[TimelineEntry]
    created: str
    updated: str


class Courier(BaseModel):
    id: str
    object: Literal["courier"]
    name: str
    secret: str | None = Field(description="Shown once: sign your events with it.")
    created: str


class Dispute(BaseModel):
    id: str
    object: Literal["dispute"]
    order_id: str
    status: Literal["open", "resolved"]
    reason: str
    opened_by: str
    status_before: OrderStatus
    resolution: Literal["release", "refund", "split"] | None
    refund_minor: int | None
    release_minor: int | None
    note: str | None
    opened: str
    resolved: str | None
