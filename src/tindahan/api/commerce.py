"""Selling online: storefronts and products, orders with escrow, shipments, disputes, FX.

Catalog reads are open to any key (a storefront is public); orders, shipments and disputes
answer only their buyer, their merchant and the operator (404 for anyone else). Every POST
takes an ``Idempotency-Key``. Couriers post signed events without an API key: the signature
is their credential.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.api import commerce_schemas as c
from tindahan.api import schemas as s
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PartyFilter,
    PathId,
    QueryId,
    idempotent,
    platform,
    read,
    timestamp_ns,
)
from tindahan.commerce.addresses import FIELDS
from tindahan.commerce.orders import OrderStatus
from tindahan.kernel.refusals import invalid
from tindahan.services.commerce import (
    addresses,
    catalog,
    categories,
    disputes,
    escrow,
    escrow_cluster,
    orders,
    photos,
    shipments,
)
from tindahan.services.commerce.escrow import LineCancel
from tindahan.services.commerce.shipments import LineShip
from tindahan.services.payments import fx
from tindahan.webhooks.signature import HEADER

router = APIRouter(prefix="/v1")
Id = PathId
StoreRef = Annotated[str, Query(max_length=limits.SLUG_MAX_LENGTH)]


# --- storefronts and products ----------------------------------------------------------------
@router.post("/storefronts", response_model=c.Storefront, tags=["storefronts"])
def create_storefront(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: c.StorefrontCreate
) -> JSONResponse:
    """A merchant opens its storefront (one per merchant; the slug is its public address)."""
    fields = payload.model_dump()
    return idempotent(
        request, who, key, payload, lambda u: catalog.create_storefront(u, who, **fields)
    )


@router.get("/storefronts", response_model=s.Page[c.Storefront], tags=["storefronts"])
def list_storefronts(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
) -> Any:
    return read(request, lambda u: catalog.list_storefronts(u, who, limit, starting_after))


@router.get("/storefronts/{storefront}", response_model=c.Storefront, tags=["storefronts"])
def get_storefront(
    request: Request,
    who: CallerDep,
    storefront: Id,
) -> Any:
    """By id (``sto_…``) or by slug."""
    return read(request, lambda u: catalog.get_storefront(u, who, storefront))


@router.post("/storefronts/{storefront_id}", response_model=c.Storefront, tags=["storefronts"])
def update_storefront(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    storefront_id: Id,
    payload: c.StorefrontUpdate,
) -> JSONResponse:
    changes = payload.model_dump(exclude_unset=True)
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: catalog.update_storefront(u, who, storefront_id, changes),
    )


@router.post(
    "/storefronts/{storefront_id}/products", response_model=c.Product, tags=["storefronts"]
)
def create_product(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    storefront_id: Id,
    payload: c.ProductCreate,
) -> JSONResponse:
    fields = payload.model_dump()
    fields["variants"] = [catalog.NewVariant(**v) for v in fields["variants"]]
    new = catalog.NewProduct(**fields)
    return idempotent(
        request, who, key, payload, lambda u: catalog.create_product(u, who, storefront_id, new)
    )


@router.get(
    "/storefronts/{storefront}/products",
    response_model=s.Page[c.Product],
    tags=["storefronts"],
)
def list_products(
    request: Request,
    who: CallerDep,
    storefront: Id,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    category_id: QueryId = None,
    q: Annotated[
        str | None,
        Query(
            max_length=limits.SEARCH_QUERY_MAX_LENGTH,
            description="Words each beginning a word of the title or description.",
        ),
    ] = None,
) -> Any:
    """What a storefront sells, by id (page with ``starting_after``); its owner sees
    inactive products too. ``category_id`` keeps one category's, ``q`` searches (SQLite
    FTS5 or PostgreSQL full-text: the same products either way)."""
    wanted = catalog.Filter(category_id, q)
    return read(
        request,
        lambda u: catalog.list_products(u, who, storefront, limit, starting_after, wanted),
    )


@router.get("/products/{product_id}", response_model=c.Product, tags=["storefronts"])
def get_product(request: Request, who: CallerDep, product_id: Id) -> Any:
    return read(request, lambda u: catalog.get_product(u, who, product_id))


@router.post("/products/{product_id}", response_model=c.Product, tags=["storefronts"])
def update_product(
    request: Request, who: CallerDep, key: IdempotencyKey, product_id: Id, payload: c.ProductUpdate
) -> JSONResponse:
    changes = payload.model_dump(exclude_unset=True)
    return idempotent(
        request, who, key, payload, lambda u: catalog.update_product(u, who, product_id, changes)
    )


@router.post(
    "/products/{product_id}/variants/{variant_id}",
    response_model=c.Product,
    tags=["storefronts"],
)
def update_variant(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    product_id: Id,
    variant_id: Id,
    payload: c.VariantUpdate,
) -> JSONResponse:
    """Set the stock you counted, add or remove some (atomic beside checkouts), or a price."""
    fields = payload.model_dump()
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: catalog.update_variant(u, who, product_id, variant_id, **fields),
    )


class _PhotoSent(BaseModel):
    """What an upload's idempotency fingerprint covers: the alt text and the file's hash."""

    alt: str
    sha256: str


@router.post("/products/{product_id}/photos", response_model=c.Photo, tags=["storefronts"])
async def add_photo(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    product_id: Id,
    file: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MB.")],
    alt: Annotated[
        str, Form(max_length=limits.PHOTO_ALT_MAX_LENGTH, description="What the photo shows.")
    ],
) -> JSONResponse:
    """Upload a photo (multipart/form-data): checked, stripped of its metadata (EXIF, GPS)
    and kept as WebP at a few widths, served from content-hashed ``/media/…`` addresses."""
    await run_in_threadpool(read, request, lambda u: photos.may_add(u, who, product_id, alt))
    data = await file.read(limits.PHOTO_MAX_BYTES + 1)
    prepared = await run_in_threadpool(photos.prepare, data)
    sent = _PhotoSent(alt=alt, sha256=hashlib.sha256(data).hexdigest())
    return await run_in_threadpool(
        idempotent,
        request,
        who,
        key,
        sent,
        lambda u: photos.add(u, who, product_id, prepared, alt),
    )


@router.post(
    "/products/{product_id}/photos/{photo_id}/remove",
    response_model=c.Product,
    tags=["storefronts"],
)
def remove_photo(
    request: Request, who: CallerDep, key: IdempotencyKey, product_id: Id, photo_id: Id
) -> JSONResponse:
    return idempotent(
        request, who, key, None, lambda u: photos.remove(u, who, product_id, photo_id)
    )


# --- categories ------------------------------------------------------------------------------
@router.post(
    "/storefronts/{storefront_id}/categories", response_model=c.Category, tags=["storefronts"]
)
def create_category(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    storefront_id: Id,
    payload: c.CategoryCreate,
) -> JSONResponse:
    """A shelf to group products on (a product is on at most one)."""
    return idempotent(
        request, who, key, payload, lambda u: categories.create(u, who, storefront_id, payload.name)
    )


@router.get(
    "/storefronts/{storefront}/categories",
    response_model=s.Page[c.Category],
    tags=["storefronts"],
)
def list_categories(request: Request, who: CallerDep, storefront: Id) -> Any:
    """All of them (at most 50), in the order they were made, with their product counts."""
    return read(request, lambda u: categories.listed(u, who, storefront))


@router.get("/categories/{category_id}", response_model=c.Category, tags=["storefronts"])
def get_category(request: Request, who: CallerDep, category_id: Id) -> Any:
    return read(request, lambda u: categories.get(u, who, category_id))


@router.post("/categories/{category_id}", response_model=c.Category, tags=["storefronts"])
def rename_category(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    category_id: Id,
    payload: c.CategoryUpdate,
) -> JSONResponse:
    return idempotent(
        request, who, key, payload, lambda u: categories.rename(u, who, category_id, payload.name)
    )


@router.post("/categories/{category_id}/remove", response_model=c.Category, tags=["storefronts"])
def remove_category(
    request: Request, who: CallerDep, key: IdempotencyKey, category_id: Id
) -> JSONResponse:
    """The category goes; its products stay on sale, in no category."""
    return idempotent(request, who, key, None, lambda u: categories.remove(u, who, category_id))


# --- orders ----------------------------------------------------------------------------------
@router.post("/orders", response_model=c.Order, tags=["orders"], summary="Check out a cart")
def create_order(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: c.OrderCreate
) -> JSONResponse:
    """Reserve the items' stock and create the order, ``pending_payment`` for
    ``ORDER_PAYMENT_SECONDS`` (30 minutes): pay it, or it is cancelled and restocked."""
    lines = [orders.CartLine(**line.model_dump()) for line in payload.lines]
    delivery = None
    if payload.address_id is not None or payload.address is not None:
        delivery = addresses.Delivery(
            payload.address_id,
            payload.address.model_dump() if payload.address else None,
            payload.save_address,
        )
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: orders.checkout(
            u, who, payload.storefront_id, lines, payload.buyer_id, delivery, payload.courier
        ),
    )


# --- the buyer's address book ------------------------------------------------------------------
@router.post("/addresses", response_model=c.Address, tags=["addresses"])
def create_address(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: c.AddressCreate
) -> JSONResponse:
    """Add a delivery address to your book (personal data: stored encrypted)."""
    fields = payload.model_dump(exclude={"party_id"})
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: addresses.add(u, who, fields, payload.party_id),
        shown_once=FIELDS,  # personal data: a replay answers the id, GET shows the rest
    )


@router.get("/addresses", response_model=s.Page[c.Address], tags=["addresses"])
def list_addresses(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    party_id: PartyFilter = None,
) -> Any:
    """Your active addresses, oldest first (operator keys name the party)."""
    return read(
        request,
        lambda u: addresses.list_addresses(u, who, limit, starting_after, party_id=party_id),
    )


@router.get("/addresses/{address_id}", response_model=c.Address, tags=["addresses"])
def get_address(request: Request, who: CallerDep, address_id: PathId) -> Any:
    return read(request, lambda u: addresses.get(u, who, address_id))


@router.post("/addresses/{address_id}", response_model=c.Address, tags=["addresses"])
def update_address(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    address_id: PathId,
    payload: c.AddressUpdate,
) -> JSONResponse:
    """Change some fields; orders already placed keep the address they were placed with."""
    fields = payload.model_dump(exclude_unset=True)
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: addresses.change(u, who, address_id, fields),
        shown_once=FIELDS,
    )


@router.post("/addresses/{address_id}/remove", response_model=c.Address, tags=["addresses"])
def remove_address(
    request: Request, who: CallerDep, key: IdempotencyKey, address_id: PathId
) -> JSONResponse:
    return idempotent(
        request,
        who,
        key,
        None,
        lambda u: addresses.remove(u, who, address_id),
        shown_once=FIELDS,
    )


@router.get("/orders", response_model=s.Page[c.Order], tags=["orders"])
def list_orders(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    status: OrderStatus | None = None,
    party_id: PartyFilter = None,
) -> Any:
    """Newest first: your purchases and your sales."""
    return read(
        request,
        lambda u: orders.list_orders(
            u, who, limit, starting_after, status.value if status else None, party_id
        ),
    )


@router.get("/orders/{order_id}", response_model=c.Order, tags=["orders"])
def get_order(request: Request, who: CallerDep, order_id: Id) -> Any:
    """The order with its escrow figures, history and the actions you may take next."""
    return read(request, lambda u: orders.get(u, who, order_id))


@router.post("/orders/{order_id}/fx_quotes", response_model=c.FxQuote, tags=["orders"])
def create_quote(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: c.QuoteCreate
) -> JSONResponse:
    """Buyers abroad: the order's PHP total in your wallet's currency, valid 10 minutes."""
    return idempotent(
        request, who, key, payload, lambda u: escrow.quote(u, who, order_id, payload.currency)
    )


@router.post("/orders/{order_id}/pay", response_model=c.Order, tags=["orders"])
def pay_order(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: c.OrderPay
) -> JSONResponse:
    """Pay the order into escrow from your wallet, exactly once (with ``quote_id`` when the
    wallet is in another currency)."""
    quote_id = payload.quote_id
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: escrow.pay(u, who, order_id, quote_id),
        reserve=lambda u, _: escrow_cluster.reserve_pay(u, who, order_id, quote_id),
        record=escrow_cluster.RECORD,
        # grouped on the SQL ledger only: on TigerBeetle the reserve's two-store order runs
        grouped=True,
        locks=escrow.pay_locks(order_id, quote_id),
    )


@router.post("/orders/{order_id}/cancel", response_model=c.Order, tags=["orders"])
def cancel_order(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: c.Reason
) -> JSONResponse:
    """Before shipping: the stock comes back and, if paid, the money from escrow."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: escrow.cancel(u, who, order_id, payload.reason),
        reserve=lambda u, _: escrow_cluster.reserve_cancel(u, who, order_id, payload.reason),
        record=escrow_cluster.RECORD,
    )


@router.post("/orders/{order_id}/confirm", response_model=c.Order, tags=["orders"])
def confirm_order(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: s.Empty
) -> JSONResponse:
    """The buyer confirms receipt: escrow is released to the merchant now."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: escrow.confirm(u, who, order_id),
        reserve=lambda u, _: escrow_cluster.reserve_confirm(u, who, order_id),
        record=escrow_cluster.RECORD,
    )


@router.post("/orders/{order_id}/refunds", response_model=c.Order, tags=["orders"])
def refund_order(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: c.OrderRefund
) -> JSONResponse:
    """The merchant refunds from escrow: an amount, or lines it will not ship (restocked)."""
    lines = [LineCancel(item.line_no, item.quantity) for item in payload.lines]
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: escrow.refund(u, who, order_id, payload.amount_minor, lines, payload.reason),
        reserve=lambda u, _: escrow_cluster.reserve_refund(
            u, who, order_id, payload.amount_minor, lines, payload.reason
        ),
        record=escrow_cluster.RECORD,
    )


@router.post("/orders/{order_id}/shipments", response_model=c.Shipment, tags=["shipments"])
def ship_order(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: c.ShipmentCreate
) -> JSONResponse:
    """Ship some or all of what is left (``lines``; default everything)."""
    lines = [LineShip(item.line_no, item.quantity) for item in payload.lines]

    def work(u: Any) -> dict[str, Any]:
        promised = timestamp_ns(payload.promised_at, "promised_at")
        return shipments.ship(
            u, who, order_id, payload.courier, payload.tracking_number, lines, promised
        )

    return idempotent(request, who, key, payload, work)


@router.get("/orders/{order_id}/shipments", response_model=s.Page[c.Shipment], tags=["shipments"])
def order_shipments(request: Request, who: CallerDep, order_id: Id) -> Any:
    return read(request, lambda u: shipments.list_for_order(u, who, order_id))


@router.get("/shipments/{shipment_id}", response_model=c.Shipment, tags=["shipments"])
def get_shipment(request: Request, who: CallerDep, shipment_id: Id) -> Any:
    return read(request, lambda u: shipments.get(u, who, shipment_id))


@router.post("/shipments/{shipment_id}/events", response_model=c.Shipment, tags=["shipments"])
def shipment_event(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    shipment_id: Id,
    payload: c.ShipmentEvent,
) -> JSONResponse:
    """The merchant reports the parcel's progress; ``delivered`` may move the order on."""

    def work(u: Any) -> dict[str, Any]:
        at = timestamp_ns(payload.occurred_at, "occurred_at")
        return shipments.post_event(
            u, who, shipment_id, payload.status, at, payload.location, payload.note
        )

    return idempotent(request, who, key, payload, work)


@router.post("/couriers", response_model=c.Courier, tags=["shipments"])
def create_courier(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: c.CourierCreate
) -> JSONResponse:
    """Operator: register a courier; its signing secret is in this response only."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: shipments.register_courier(u, who, payload.name),
        shown_once=("secret",),
    )


@router.post(
    "/couriers/{courier_id}/events",
    response_model=c.Shipment,
    tags=["shipments"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": c.CourierEvent.model_json_schema()}},
        }
    },
)
async def courier_event(
    request: Request,
    courier_id: Id,
    signature: Annotated[str | None, Header(alias=HEADER, max_length=512)] = None,
) -> JSONResponse:
    """A courier's status report, signed ``Tindahan-Signature: t=…,v1=HMAC-SHA256(secret,
    "t.body")`` with the secret it was given; no API key."""
    body = await request.body()

    def work(u: Any) -> dict[str, Any]:
        return shipments.courier_event(u, courier_id, signature, body, _courier_fields)

    return JSONResponse(await run_in_threadpool(platform(request).run, work))


def _courier_fields(body: bytes) -> dict[str, Any]:
    try:
        event = c.CourierEvent.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"]) or "body"
        raise invalid("parameter_invalid", f"{param}: {first['msg']}", param) from None
    return {
        "tracking_number": event.tracking_number,
        "status": event.status,
        "occurred_at_ns": timestamp_ns(event.occurred_at, "occurred_at"),
        "location": event.location,
        "note": event.note,
    }


# --- disputes --------------------------------------------------------------------------------
@router.post("/orders/{order_id}/disputes", response_model=c.Dispute, tags=["disputes"])
def open_dispute(
    request: Request, who: CallerDep, key: IdempotencyKey, order_id: Id, payload: c.DisputeCreate
) -> JSONResponse:
    """The buyer: escrow stays frozen until the operator resolves it."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: disputes.open_dispute(u, who, order_id, payload.reason),
    )


@router.get("/disputes/{dispute_id}", response_model=c.Dispute, tags=["disputes"])
def get_dispute(request: Request, who: CallerDep, dispute_id: Id) -> Any:
    return read(request, lambda u: disputes.get(u, who, dispute_id))


@router.post("/disputes/{dispute_id}/resolve", response_model=c.Dispute, tags=["disputes"])
def resolve_dispute(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    dispute_id: Id,
    payload: c.DisputeResolve,
) -> JSONResponse:
    """Operator: release to the merchant, refund the buyer, or split."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: disputes.resolve(
            u, who, dispute_id, payload.resolution, payload.refund_minor, payload.note
        ),
        reserve=lambda u, _: escrow_cluster.reserve_resolve(
            u, who, dispute_id, payload.resolution, payload.refund_minor, payload.note
        ),
        record=escrow_cluster.RECORD,
    )


# --- FX --------------------------------------------------------------------------------------
@router.get("/fx_rates", response_model=s.Page[c.FxRate], tags=["fx"])
def list_rates(request: Request, who: CallerDep) -> Any:
    return read(request, lambda u: fx.list_rates(u, who))


@router.post("/fx_rates/{currency}", response_model=c.FxRate, tags=["fx"])
def put_rate(
    request: Request,
    who: CallerDep,
    key: IdempotencyKey,
    currency: Id,
    payload: c.FxRateUpdate,
) -> JSONResponse:
    """Operator: the mid rate (PHP per unit of ``currency``) and spread for buyers abroad."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: fx.put_rate(u, who, currency, payload.mid_rate, payload.spread_bps),
    )
