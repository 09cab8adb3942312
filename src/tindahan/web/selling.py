"""The merchant's selling pages: the storefront, its products and stock, and the orders.

Everything here is the signed-in merchant's own: the storefront is looked up by its owner
(``catalog.own_storefront``), a product through ``catalog.get_own_product`` and an order
through ``orders.get`` — another merchant's id is the services' "not found", which the app
shows as the 404 page. An order page offers exactly the actions the order view lists in
``allowed_actions`` for the merchant (the state machine lives in ``commerce.orders``), and
every form that changes something runs once per idempotency key (``forms.run_submit``), so
a double tap on "Ship" ships once. Amounts are typed in pesos and kept as centavos. On a
TigerBeetle ledger the cancel and refund forms take the API's own A (``escrow_cluster``)
through the two-store order with the order's record (``_Moving``), as the buyer's Pay and
Confirm buttons do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.commerce.orders import OrderStatus
from tindahan.commerce.shipments import REPORTABLE
from tindahan.kernel.refusals import RefusalError, not_found
from tindahan.services.commerce import (
    catalog,
    categories,
    escrow,
    escrow_cluster,
    orders,
    shipments,
)
from tindahan.services.commerce.views import OrderView
from tindahan.services.delivery import couriers
from tindahan.services.insights import products as product_costs
from tindahan.services.payments import two_store
from tindahan.services.platform import fees
from tindahan.services.platform.logins import Viewer
from tindahan.services.unit import Unit
from tindahan.web import forms, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()

#: Blank "option name + stock" rows on the new-product form.
OPTION_ROWS = 4
#: Couriers a merchant picks from (the names stored on the shipment, never translated).
COURIERS = (
    "J&T Express",
    "LBC",
    "Ninja Van",
    "Flash Express",
    "JRS Express",
    "2GO Express",
    "GrabExpress",
    "Lalamove",
)
BADGES = {
    "pending_payment": "wait",
    "paid": "good",
    "shipped": "wait",
    "delivered": "good",
    "completed": "good",
    "cancelled": "",
    "refunded": "bad",
    "disputed": "bad",
}
STORE_FIELDS = {
    "slug": "slug",
    "name": "name",
    "description": "description",
    "shipping_fee_minor": "shipping_fee",
}
PRODUCT_FIELDS = {
    "title": "title",
    "description": "description",
    "price_minor": "price",
    "category_id": "category_id",
    "weight_g": "weight_g",
}


def state_labels() -> dict[str, str]:
    return {
        "pending_payment": _("Waiting for payment"),
        "paid": _("Paid — money in escrow"),
        "shipped": _("Shipped"),
        "delivered": _("Delivered"),
        "completed": _("Completed — money released"),
        "cancelled": _("Cancelled"),
        "refunded": _("Refunded"),
        "disputed": _("Disputed"),
    }


def action_labels() -> dict[str, str]:
    return {
        "checkout": _("Order placed"),
        "pay": _("Paid into escrow"),
        "cancel": _("Cancelled"),
        "expire": _("Cancelled: not paid in time"),
        "ship": _("Shipped"),
        "deliver": _("Delivered"),
        "confirm": _("The buyer confirmed receipt"),
        "auto_release": _("Released automatically"),
        "refund_partial": _("Part refunded"),
        "refund_full": _("Refunded"),
        "dispute": _("The buyer opened a dispute"),
        "resolve_release": _("Dispute settled: released to you"),
        "resolve_refund": _("Dispute settled: refunded to the buyer"),
        "resolve_split": _("Dispute settled: split"),
    }


def role_labels() -> dict[str, str]:
    return {
        "buyer": _("by the buyer"),
        "merchant": _("by you"),
        "operator": _("by Tindahan"),
        "courier": _("by the courier"),
        "worker": _("automatically"),
    }


def shipment_labels() -> dict[str, str]:
    return {
        "label_created": _("Label created"),
        "picked_up": _("Picked up"),
        "in_transit": _("In transit"),
        "out_for_delivery": _("Out for delivery"),
        "delivered": _("Delivered"),
        "failed_attempt": _("Delivery attempt failed"),
        "returned": _("Returned to you"),
    }


def labels() -> dict[str, Any]:
    """The words for states, steps and parcel events, in the reader's language."""
    return {
        "states": state_labels(),
        "actions": action_labels(),
        "roles": role_labels(),
        "parcel": shipment_labels(),
        "badges": BADGES,
    }


def pesos(amount_minor: int | None) -> str:
    """Centavos as the plain figure a form field holds again (``5000`` → ``50.00``)."""
    if amount_minor is None:
        return ""
    return f"{amount_minor // 100}.{amount_minor % 100:02d}"


def _read(request: Request, work: Callable[[Unit], Any]) -> Any:
    return session.platform(request).run(work, write=False)


async def _aread(request: Request, work: Callable[[Unit], Any]) -> Any:
    return await run_in_threadpool(_read, request, work)


def _see(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# --- shipping: the couriers the shop ships with ---------------------------------------------
def _shipping_data(unit: Unit, viewer: Viewer) -> dict[str, Any] | None:
    store = catalog.own_storefront(unit, viewer.caller)
    if store is None:
        return None
    return {
        "store": store,
        "shipping": couriers.shipping(unit, viewer.caller, store["id"]),
        "cards": [c for c in couriers.list_cards(unit, viewer.caller) if c["active"]],
    }


def _shipping_values(found: dict[str, Any]) -> dict[str, str]:
    values = {"free_over": pesos(found["shipping"]["free_shipping_over_minor"])}
    for listed in found["shipping"]["couriers"]:
        values["use-" + listed["courier"]] = "1"
        values["flat-" + listed["courier"]] = pesos(listed["flat_fee_minor"])
    return values


@router.get("/m/shipping")
def shipping_page(request: Request, viewer: Merchant, saved: str = "") -> Response:
    found = _read(request, lambda u: _shipping_data(u, viewer))
    if found is None:
        return _see("/m/store")
    return render.page(
        request, "selling/shipping.html", **found, values=_shipping_values(found), saved=bool(saved)
    )


@router.post("/m/shipping")
async def shipping_save(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    found = await _aread(request, lambda u: _shipping_data(u, viewer))
    if found is None:
        return _see("/m/store")
    choices = []
    for card in found["cards"]:
        if form.values.get("use-" + card["code"]) == "1":
            flat = form.money("flat-" + card["code"], required=False, allow_zero=True)
            choices.append(couriers.Choice(card["code"], flat))
    free = form.money("free_over", required=False)
    if form.ok:
        store_id = found["store"]["id"]

        def work(u: Unit) -> dict[str, Any]:
            return couriers.set_shipping(u, viewer.caller, store_id, choices, free)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, {"free_shipping_over_minor": "free_over"})
        else:
            return _see("/m/shipping?saved=1")
    return render.page(
        request,
        "selling/shipping.html",
        400,
        **found,
        values=form.values,
        errors=form.errors,
        saved=False,
    )


# --- the storefront --------------------------------------------------------------------------
def _store_values(store: dict[str, Any] | None) -> dict[str, str]:
    if store is None:
        return {}
    return {
        "name": store["name"],
        "description": store["description"] or "",
        "shipping_fee": pesos(store["shipping_fee_minor"]),
    }


@router.get("/m/store")
def store_page(request: Request, viewer: Merchant, saved: str = "") -> Response:
    store = _read(request, lambda u: catalog.own_storefront(u, viewer.caller))
    return render.page(
        request, "selling/store.html", store=store, values=_store_values(store), saved=bool(saved)
    )


@router.post("/m/store")
async def store_save(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    store = await _aread(request, lambda u: catalog.own_storefront(u, viewer.caller))
    slug = None
    if store is None:
        slug = form.text("slug", max_length=limits.SLUG_MAX_LENGTH)
    name = form.text("name", max_length=limits.NAME_MAX_LENGTH)
    description = form.text(
        "description", required=False, max_length=limits.PRODUCT_DESCRIPTION_MAX_LENGTH
    )
    fee = form.money("shipping_fee", allow_zero=True)
    if form.ok and name is not None and fee is not None:
        fields = {"name": name, "description": description, "shipping_fee_minor": fee}

        def work(u: Unit) -> dict[str, Any]:
            if store is not None:
                return catalog.update_storefront(u, viewer.caller, store["id"], fields)
            return catalog.create_storefront(
                u,
                viewer.caller,
                slug=(slug or "").lower(),
                name=name,
                description=description,
                shipping_fee_minor=fee,
            )

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, STORE_FIELDS)
        else:
            return _see("/m/store?saved=1")
    return render.page(
        request,
        "selling/store.html",
        400,
        store=store,
        values=form.values,
        errors=form.errors,
        saved=False,
    )


# --- products --------------------------------------------------------------------------------
@router.get("/m/products")
def products_page(request: Request, viewer: Merchant, after: str = "") -> Response:
    def work(u: Unit) -> tuple[Any, Any]:
        store = catalog.own_storefront(u, viewer.caller)
        if store is None:
            return None, None
        found = catalog.list_products(
            u, viewer.caller, store["id"], limits.DEFAULT_PAGE_SIZE, after or None
        )
        return store, found

    store, found = _read(request, work)
    return render.page(request, "selling/products.html", store=store, found=found)


@router.get("/m/products/new")
def new_product_page(request: Request, viewer: Merchant) -> Response:
    store = _read(request, lambda u: catalog.own_storefront(u, viewer.caller))
    return render.page(request, "selling/product_new.html", store=store, rows=OPTION_ROWS)


def _options(form: forms.Form) -> list[catalog.NewVariant]:
    """The filled "option + stock" rows; a half-filled row is an error on the missing half."""
    found = []
    for i in range(OPTION_ROWS):
        name_field, stock_field = f"option_{i}", f"option_stock_{i}"
        has_name = bool(form.values.get(name_field, "").strip())
        has_stock = bool(form.values.get(stock_field, "").strip())
        if not has_name and not has_stock:
            continue
        name = form.text(name_field, max_length=limits.VARIANT_NAME_MAX_LENGTH)
        if not has_name:
            form.errors[name_field] = _("Name this option, like M or 1 kilo.")
        stock = form.whole(stock_field, low=0, high=limits.MAX_STOCK)
        if name is not None and stock is not None:
            found.append(catalog.NewVariant(name, stock))
    return found


def _new_product(form: forms.Form) -> catalog.NewProduct | None:
    title = form.text("title", max_length=limits.TITLE_MAX_LENGTH)
    description = form.text(
        "description", required=False, max_length=limits.PRODUCT_DESCRIPTION_MAX_LENGTH
    )
    price = form.money("price")
    weight = _weight(form)
    options = _options(form)
    stock = None
    has_options = options or any(f.startswith("option_") for f in form.errors)
    if not has_options:
        stock = form.whole("stock", low=0, high=limits.MAX_STOCK)
    elif form.values.get("stock", "").strip():
        form.fail("stock", _("With options, give each option its own stock instead."))
    if not form.ok or title is None or price is None:
        return None
    return catalog.NewProduct(
        title, price, description, stock=stock, variants=options, weight_g=weight
    )


def _weight(form: forms.Form) -> int | None:
    """The packed weight in grams couriers price by (empty: none given)."""
    return form.whole("weight_g", low=1, high=limits.MAX_PARCEL_WEIGHT_G, required=False)


def _product_fields() -> dict[str, str]:
    fields = {**PRODUCT_FIELDS, "stock": "stock", "variants": "option_0"}
    for i in range(OPTION_ROWS):
        fields[f"variants.{i}.stock"] = f"option_stock_{i}"
    fields["variants.name"] = "option_0"
    return fields


@router.post("/m/products")
async def product_create(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    store = await _aread(request, lambda u: catalog.own_storefront(u, viewer.caller))
    new = _new_product(form) if store is not None else None
    if store is not None and new is not None:

        def work(u: Unit) -> dict[str, Any]:
            return catalog.create_product(u, viewer.caller, store["id"], new)

        try:
            made = await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, _product_fields())
        else:
            return _see(f"/m/products/{made['id']}?saved=1")
    return render.page(
        request,
        "selling/product_new.html",
        400,
        store=store,
        rows=OPTION_ROWS,
        values=form.values,
        errors=form.errors,
    )


def product_values(product: dict[str, Any]) -> dict[str, str]:
    return {
        "title": product["title"],
        "description": product["description"] or "",
        "price": pesos(product["price_minor"]),
        "active": "1" if product["active"] else "",
        "category_id": product["category_id"] or "",
        "weight_g": "" if product.get("weight_g") is None else str(product["weight_g"]),
    }


def own_product(request: Request, viewer: Viewer, product_id: str) -> dict[str, Any]:
    return _read(request, lambda u: catalog.get_own_product(u, viewer.caller, product_id))  # type: ignore[no-any-return]


def _product_page(
    request: Request, product: dict[str, Any], status: int = 200, **context: Any
) -> Response:
    """The product's page: its stock, details (with the category), and photos."""
    viewer = request.state.viewer
    shelves = _read(
        request, lambda u: categories.listed(u, viewer.caller, product["storefront_id"])
    )
    context.setdefault("values", product_values(product))
    context.setdefault("saved", "")
    context.setdefault("stock_values", {})
    context.setdefault("photo_values", {})
    if "cost_values" not in context:
        cost = _read(request, lambda u: product_costs.cost_of(u, viewer.caller, product["id"]))
        context["cost_values"] = {"cost": "" if cost is None else pesos(cost)}
    if "lead_values" not in context:
        lead = _read(request, lambda u: product_costs.lead_time_of(u, viewer.caller, product["id"]))
        context["lead_values"] = {"lead_time": "" if lead is None else str(lead)}
    return render.page(
        request,
        "selling/product.html",
        status,
        product=product,
        shelf_options=[("", _("No category"))] + [(c["id"], c["name"]) for c in shelves["data"]],
        max_photos=limits.MAX_PHOTOS_PER_PRODUCT,
        **context,
    )


def product_view_page(
    request: Request, product: dict[str, Any], status: int, context: dict[str, Any]
) -> Response:
    """``_product_page`` for the photo routes (``web.photos``)."""
    return _product_page(request, product, status, **context)


@router.get("/m/products/{product_id}")
def product_page(request: Request, viewer: Merchant, product_id: str, saved: str = "") -> Response:
    product = own_product(request, viewer, product_id)
    return _product_page(request, product, saved=saved)


@router.post("/m/products/{product_id}")
async def product_save(request: Request, viewer: Merchant, product_id: str) -> Response:
    form = await forms.read(request)
    product = await run_in_threadpool(own_product, request, viewer, product_id)
    title = form.text("title", max_length=limits.TITLE_MAX_LENGTH)
    description = form.text(
        "description", required=False, max_length=limits.PRODUCT_DESCRIPTION_MAX_LENGTH
    )
    price = form.money("price")
    weight = _weight(form)
    if form.ok:
        changes = {
            "title": title,
            "description": description,
            "price_minor": price,
            "weight_g": weight,
            "active": form.values.get("active") == "1",
            "category_id": form.values.get("category_id") or None,
        }

        def work(u: Unit) -> dict[str, Any]:
            return catalog.update_product(u, viewer.caller, product_id, changes)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, PRODUCT_FIELDS)
        else:
            return _see(f"/m/products/{product_id}?saved=details")
    return _product_page(request, product, 400, values=form.values, errors=form.errors)


@router.post("/m/products/{product_id}/cost")
async def cost_save(request: Request, viewer: Merchant, product_id: str) -> Response:
    """What one piece costs the merchant (only it sees it): margins on its insights page.
    Empty forgets the cost."""
    form = await forms.read(request)
    product = await run_in_threadpool(own_product, request, viewer, product_id)
    cost = form.money("cost", required=False, allow_zero=True)

    def work(u: Unit) -> dict[str, Any]:
        return product_costs.record_cost(u, viewer.caller, product_id, cost)

    return await _save_setting(request, viewer, product, form, work, ("cost_minor", "cost"))


@router.post("/m/products/{product_id}/lead_time")
async def lead_time_save(request: Request, viewer: Merchant, product_id: str) -> Response:
    """How many days the supplier takes to deliver the product: its reorder advice on the
    insights page uses it. Empty forgets it (the page's lead time is used)."""
    form = await forms.read(request)
    product = await run_in_threadpool(own_product, request, viewer, product_id)
    raw = form.values.get("lead_time", "").strip()
    days: int | None = None
    high = limits.INSIGHTS_MAX_LEAD_TIME_DAYS
    if raw:
        if raw.isdigit() and int(raw) <= high:
            days = int(raw)
        else:
            form.fail(
                "lead_time", _("Write a whole number of days, 0 to {high}.").format(high=high)
            )

    def work(u: Unit) -> dict[str, Any]:
        return product_costs.record_lead_time(u, viewer.caller, product_id, days)

    field = ("lead_time_days", "lead_time")
    return await _save_setting(request, viewer, product, form, work, field, "lead_values")


async def _save_setting(
    request: Request,
    viewer: Viewer,
    product: dict[str, Any],
    form: forms.Form,
    work: Callable[[Unit], dict[str, Any]],
    field: tuple[str, str],
    values_as: str = "cost_values",
) -> Response:
    """Store one of a product's merchant-only settings (its cost, its lead time) when the form
    is good, then back to the product's page with ``?saved=<the form's field>``; else the page
    again, 400, the field's error beside it (``field``: the refusal's name, the form's)."""
    if form.ok:
        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, dict([field]))
        else:
            return _see(f"/m/products/{product['id']}?saved={field[1]}")
    values = {values_as: form.values}
    return _product_page(
        request, product, 400, values=product_values(product), errors=form.errors, **values
    )


def _stock_changes(form: forms.Form, product: dict[str, Any]) -> list[tuple[str, str, int]]:
    """Per option: ("stock", field, counted) or ("stock_change", field, arrived)."""
    found = []
    for variant in product["variants"]:
        count, arrived = f"count_{variant['id']}", f"arrived_{variant['id']}"
        has_count = bool(form.values.get(count, "").strip())
        has_arrived = bool(form.values.get(arrived, "").strip())
        if has_count and has_arrived:
            form.fail(arrived, _("Fill in one: what you counted, or what arrived."))
        elif has_count:
            value = form.whole(count, low=0, high=limits.MAX_STOCK)
            if value is not None:
                found.append(("stock", count, value))
        elif has_arrived:
            value = form.whole(arrived, low=1, high=limits.MAX_STOCK)
            if value is not None:
                found.append(("stock_change", arrived, value))
    if not found and form.ok:
        form.fail(forms.FORM_ERROR, _("Type what you counted, or how many arrived."))
    return found


@router.post("/m/products/{product_id}/stock")
async def stock_save(request: Request, viewer: Merchant, product_id: str) -> Response:
    form = await forms.read(request)
    product = await run_in_threadpool(own_product, request, viewer, product_id)
    changes = _stock_changes(form, product)
    if form.ok:

        def work(u: Unit) -> dict[str, Any]:
            result: dict[str, Any] = product
            for kind, field, value in changes:
                variant_id = field.split("_", 1)[1]
                try:
                    result = catalog.update_variant(
                        u, viewer.caller, product_id, variant_id, **{kind: value}
                    )
                except RefusalError as refusal:
                    raise RefusalError(
                        refusal.category, refusal.code, refusal.message, field
                    ) from None
            return result

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal)
        else:
            return _see(f"/m/products/{product_id}?saved=stock")
    return _product_page(
        request,
        product,
        400,
        values=product_values(product),
        stock_values=form.values,
        errors=form.errors,
    )


# --- orders ----------------------------------------------------------------------------------
@router.get("/m/orders")
def orders_page(request: Request, viewer: Merchant, status: str = "", after: str = "") -> Response:
    wanted = status if status in {s.value for s in OrderStatus} else None

    def work(u: Unit) -> dict[str, Any]:
        return orders.list_orders(u, viewer.caller, limits.DEFAULT_PAGE_SIZE, after or None, wanted)

    found = _read(request, work)
    sales = [o for o in found["data"] if o["merchant_id"] == viewer.party_id]
    return render.page(
        request,
        "selling/orders.html",
        sales=sales,
        has_more=found["has_more"],
        last_id=found["data"][-1]["id"] if found["data"] else None,
        status=wanted or "",
        states=list(OrderStatus),
        words=labels(),
    )


def _order_data(u: Unit, viewer: Viewer, order_id: str) -> dict[str, Any]:
    order = orders.get(u, viewer.caller, order_id)
    if order["merchant_id"] != viewer.party_id:  # the merchant's own purchase is not a sale
        raise not_found("order", "id")
    left = sum(
        n["quantity"] - n["shipped_quantity"] - n["cancelled_quantity"] for n in order["lines"]
    )
    return {
        "order": order,
        "can_ship": "ship" in order["allowed_actions"] and left > 0,
        "parcels": shipments.list_for_order(u, viewer.caller, order_id)["data"],
        "release_days": fees.fees_view(u, viewer.caller)["escrow_auto_release_days"],
    }


def _order_page(
    request: Request, data: dict[str, Any], status: int = 200, **context: Any
) -> Response:
    context.setdefault("confirming", None)
    return render.page(
        request,
        "selling/order.html",
        status,
        couriers=[("", _("Choose a courier")), *((c, c) for c in COURIERS)],
        events=[(s.value, shipment_labels()[s.value]) for s in REPORTABLE],
        words=labels(),
        **data,
        **context,
    )


@router.get("/m/orders/{order_id}")
def order_page(request: Request, viewer: Merchant, order_id: str) -> Response:
    data = _read(request, lambda u: _order_data(u, viewer, order_id))
    return _order_page(request, data)


Work = Callable[[Unit], Mapping[str, Any]]


@dataclass(frozen=True)
class _Moving:
    """An action that moves escrow: its work on the SQL ledger and, on a TigerBeetle ledger,
    its A (``escrow_cluster``'s, the API route's own) for the two-store order."""

    work: Work
    reserve: two_store.Reserve[Any]


async def _act(
    request: Request,
    viewer: Viewer,
    order_id: str,
    check: Callable[[forms.Form, dict[str, Any]], Work | _Moving | None],
    fields: dict[str, str],
    confirm: Callable[[forms.Form, dict[str, Any]], tuple[str, str] | None] | None = None,
) -> Response:
    """An order action: the order must be the merchant's (else 404), the form valid, then
    the work runs once for its idempotency key; errors re-render the order page.

    With ``confirm`` (money going back, an order ended: a slip of the thumb is costly) a
    valid form first comes back as a question — (sentence, button) — with the same fields
    and idempotency key, and only ``confirmed=yes`` from that second form does the work."""
    form = await forms.read(request)
    data = await _aread(request, lambda u: _order_data(u, viewer, order_id))
    work = check(form, data)
    question = None
    if confirm and form.ok and work is not None and form.values.get("confirmed") != "yes":
        question = confirm(form, data)  # None: nothing to ask (the service will refuse)
    if question is not None:
        message, button = question
        kept = {k: v for k, v in form.values.items() if k not in ("csrf_token", "confirmed")}
        asking = {"action": request.url.path, "message": message, "button": button}
        return _order_page(request, data, confirming={**asking, "fields": kept})
    if form.ok and work is not None:
        plain, reserve = (work.work, work.reserve) if isinstance(work, _Moving) else (work, None)
        try:
            await forms.run_submit(request, viewer, form, plain, reserve, escrow_cluster.RECORD)
        except RefusalError as refusal:
            form.refusal(refusal, fields)
        else:
            return _see(f"/m/orders/{order_id}")
    return _order_page(request, data, 400, values=form.values, errors=form.errors)


@router.post("/m/orders/{order_id}/ship")
async def ship(request: Request, viewer: Merchant, order_id: str) -> Response:
    def check(
        form: forms.Form, _data: dict[str, Any]
    ) -> Callable[[Unit], Mapping[str, Any]] | None:
        courier = form.choice("courier", list(COURIERS))
        tracking = form.text("tracking_number", max_length=limits.TRACKING_NUMBER_MAX_LENGTH)
        if courier is None or tracking is None:
            return None
        return lambda u: shipments.ship(u, viewer.caller, order_id, courier, tracking)

    fields = {"courier": "courier", "tracking_number": "tracking_number"}
    return await _act(request, viewer, order_id, check, fields)


@router.post("/m/orders/{order_id}/shipments/{shipment_id}/events")
async def parcel_event(
    request: Request, viewer: Merchant, order_id: str, shipment_id: str
) -> Response:
    event, place, note = f"event_{shipment_id}", f"location_{shipment_id}", f"note_{shipment_id}"

    def check(form: forms.Form, data: dict[str, Any]) -> Callable[[Unit], Mapping[str, Any]] | None:
        if shipment_id not in {p["id"] for p in data["parcels"]}:
            raise not_found("shipment", "id")
        status = form.choice(event, [s.value for s in REPORTABLE])
        location = form.text(place, required=False, max_length=limits.CITY_MAX_LENGTH)
        text = form.text(note, required=False, max_length=limits.DESCRIPTION_MAX_LENGTH)
        if status is None:
            return None
        return lambda u: shipments.post_event(
            u, viewer.caller, shipment_id, status, location=location, note=text
        )

    fields = {"status": event, "location": place, "note": note, "occurred_at": event}
    return await _act(request, viewer, order_id, check, fields)


@router.post("/m/orders/{order_id}/cancel")
async def cancel(request: Request, viewer: Merchant, order_id: str) -> Response:
    def check(form: forms.Form, _data: dict[str, Any]) -> _Moving:
        reason = form.text(
            "cancel_reason", required=False, max_length=limits.DESCRIPTION_MAX_LENGTH
        )
        return _Moving(
            lambda u: escrow.cancel(u, viewer.caller, order_id, reason),
            lambda u, _: escrow_cluster.reserve_cancel(u, viewer.caller, order_id, reason),
        )

    def confirm(_form: forms.Form, _data: dict[str, Any]) -> tuple[str, str] | None:
        return (
            _(
                "Cancel this order? The stock comes back, and any money paid goes back to the "
                "buyer. This cannot be undone."
            ),
            _("Yes, cancel the order"),
        )

    fields = {"reason": "cancel_reason"}
    return await _act(request, viewer, order_id, check, fields, confirm)


@router.post("/m/orders/{order_id}/refund")
async def refund(request: Request, viewer: Merchant, order_id: str) -> Response:
    def check(form: forms.Form, _data: dict[str, Any]) -> _Moving:
        amount = form.money("refund_amount", required=False)
        reason = form.text(
            "refund_reason", required=False, max_length=limits.DESCRIPTION_MAX_LENGTH
        )

        def wanted(u: Unit) -> int:  # empty: everything still held
            held = int(orders.get(u, viewer.caller, order_id)["escrow"]["held_minor"])
            return held if amount is None else amount

        def work(u: Unit) -> OrderView:
            return escrow.refund(u, viewer.caller, order_id, wanted(u), [], reason)

        def reserve(u: Unit, _: Any) -> tuple[dict[str, Any], Any]:
            caller = viewer.caller
            return escrow_cluster.reserve_refund(u, caller, order_id, wanted(u), [], reason)

        return _Moving(work, reserve)

    def confirm(form: forms.Form, data: dict[str, Any]) -> tuple[str, str] | None:
        amount = form.money("refund_amount", required=False)
        held = int(data["order"]["escrow"]["held_minor"])
        if amount is not None and amount > held:
            return None  # refused with the reason, no question first
        wanted = i18n.money(held if amount is None else amount)
        return (
            _(
                "Refund {amount} to the buyer? The money leaves escrow for the buyer's wallet "
                "and cannot be taken back."
            ).format(amount=wanted),
            _("Yes, refund {amount}").format(amount=wanted),
        )

    fields = {"amount_minor": "refund_amount", "reason": "refund_reason"}
    return await _act(request, viewer, order_id, check, fields, confirm)
