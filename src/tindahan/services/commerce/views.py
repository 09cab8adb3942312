"""The shape the commerce services hand to the faces for an order: ``TypedDict``s for the
reasons given in ``services.payments.views`` (the same JSON at run time, every key checked by
mypy). An order carries its lines, what escrow holds and has moved, and its history."""

from __future__ import annotations

from typing import Any, TypedDict


class OrderLineView(TypedDict):
    line_no: int
    product_id: str
    variant_id: str | None
    title: str
    unit_price_minor: int
    quantity: int
    shipped_quantity: int
    cancelled_quantity: int
    amount_minor: int


class EscrowView(TypedDict):
    """``paid_in = held + released + refunded`` (a CHECK on the order row)."""

    account_id: str | None
    paid_in_minor: int
    held_minor: int
    released_minor: int
    fee_minor: int
    refunded_minor: int


class OrderEventView(TypedDict):
    action: str
    from_status: str | None
    to_status: str
    actor_role: str
    actor_id: str | None
    amount_minor: int | None
    note: str | None
    at: str | None


class OrderDeliveryView(TypedDict):
    courier: str  # the courier's code (services.delivery.couriers)
    name: str  # its name, as its rate card says
    zone: str  # delivery.zones.Zone
    min_days: int  # the window promised at checkout (the rate card's, or learned)
    max_days: int
    estimate: bool  # the rate card's window (True), or learned from deliveries (False)
    promised_at: str | None  # paid + the window's last day (None until paid)
    late: bool  # paid or shipped, not delivered, past promised_at


class OrderView(TypedDict):
    id: str
    short_ref: str
    object: str  # "order"
    status: str  # commerce.orders.OrderStatus
    storefront_id: str
    merchant_id: str
    buyer_id: str
    currency: str
    lines: list[OrderLineView]
    items_minor: int
    shipping_minor: int
    delivery: OrderDeliveryView | None  # None: shipped at the storefront's flat fee
    total_minor: int
    escrow: EscrowView
    buyer_currency: str
    buyer_paid_minor: int
    buyer_refunded_minor: int
    quote_id: str | None
    shipping_address: dict[str, Any] | None  # services.commerce.addresses; None in events
    transfer_ids: list[str]
    under_review: bool  # money of the order held for a risk review now
    shipment_ids: list[str]
    dispute_id: str | None
    allowed_actions: list[str]
    history: list[OrderEventView]
    expires_at: str | None
    paid_at: str | None
    delivered_at: str | None
    release_at: str | None
    completed_at: str | None
    created: str | None
    updated: str | None
