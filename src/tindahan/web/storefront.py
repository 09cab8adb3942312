"""The public storefront, its cart and checkout: where a buyer finds a shop and orders.

Anyone may look at a storefront and fill a cart without signing in (``/s/{slug}``); the
cart lives in the ``tdh_cart`` cookie (``web.cart``) and holds ids and quantities only, so
every price shown here comes from the catalog, read again on each page. Checking out needs
a signed-in buyer: a visitor is sent to sign in and comes back to the cart. Checkout is one
service call (``services.commerce.orders.checkout``: stock reserved, priced again by the service)
run once per form (the idempotency key), and the order's page is where it is paid.

The catalog is read as ``PUBLIC``: a caller that is no party and holds no scope, so the
page shows exactly what any visitor may see (active products only), whoever is signed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, not_found
from tindahan.services.commerce import catalog, categories, orders
from tindahan.services.commerce.addresses import Delivery
from tindahan.services.delivery import couriers
from tindahan.services.unit import Unit
from tindahan.web import cart, delivery, forms, render, session
from tindahan.web.i18n import _
from tindahan.web.messages import refusal_text
from tindahan.web.router import router as make_router
from tindahan.web.session import MaybeViewer

router = make_router()
# Every route takes ``MaybeViewer`` (even where it does not use it): the page's header and
# its forms' CSRF token depend on who is signed in.

#: The visitor's view of the catalog: no party's objects, no scopes, active products only.
PUBLIC = Caller("web:storefront", "~public", frozenset())
#: At or under this many left, the page says "only N left".
FEW_LEFT = 5
_LINE_PARAM = re.compile(r"^lines\.(\d+)\.")


# --- reading the catalog -------------------------------------------------------------------
@dataclass(frozen=True)
class Shelf:
    """What the buyer asked the storefront page for: a category, a search, and where the
    page starts (``after``: the last product of the page before, a keyset cursor)."""

    category: str = ""
    q: str = ""
    after: str = ""


def shop(
    unit: Unit, slug: str, lines: list[cart.Line] | None = None, shelf: Shelf = Shelf()
) -> dict[str, Any]:
    """The storefront, one page of its products on sale (each with its stock state), its
    categories that hold any, and the buyer's cart priced (for the cart button)."""
    store = catalog.get_storefront(unit, PUBLIC, slug)
    shelves = [
        c for c in categories.listed(unit, PUBLIC, store["id"])["data"] if c["product_count"]
    ]
    category = shelf.category if any(c["id"] == shelf.category for c in shelves) else ""
    wanted = catalog.Filter(category or None, shelf.q or None)
    found = catalog.list_products(
        unit, PUBLIC, store["id"], limits.STOREFRONT_PAGE_SIZE, shelf.after or None, wanted
    )
    return {
        "store": store,
        "products": [_stocked(p) for p in found["data"] if p["active"]],
        "has_more": found["has_more"],
        "shelves": shelves,
        "shelf": Shelf(category, shelf.q, shelf.after),
        "cart": priced_cart(unit, store, lines or []),
    }


def _stocked(product: dict[str, Any]) -> dict[str, Any]:
    left = sum(v["stock"] for v in product["variants"])
    prices = {v["price_minor"] for v in product["variants"]}
    return {
        **product,
        "variants": [{**v, "few_left": 0 < v["stock"] <= FEW_LEFT} for v in product["variants"]],
        "left": left,
        "few_left": 0 < left <= FEW_LEFT,
        "sold_out": left == 0,
        "has_options": len(product["variants"]) > 1 or bool(product["variants"][0]["name"]),
        "from_price_minor": min(prices),
        "one_price": len(prices) == 1,
    }


def product_in(unit: Unit, store: dict[str, Any], product_id: str) -> dict[str, Any]:
    """A product on sale in this storefront (any other id: not found)."""
    product = catalog.get_product(unit, PUBLIC, product_id)
    if product["storefront_id"] != store["id"] or not product["active"]:
        raise not_found("product", "product_id")
    return _stocked(product)


def priced_cart(unit: Unit, store: dict[str, Any], lines: list[cart.Line]) -> dict[str, Any]:
    """The cart's lines priced from the catalog; lines no longer on sale are left out."""
    rows, kept = [], []
    for line in lines:
        try:
            product = product_in(unit, store, line.product_id)
        except RefusalError:
            continue
        variant = next((v for v in product["variants"] if v["id"] == line.variant_id), None)
        if variant is None:
            continue
        kept.append(line)
        rows.append(
            {
                "product_id": product["id"],
                "variant_id": variant["id"],
                "title": product["title"],
                "option": variant["name"],
                "unit_price_minor": variant["price_minor"],
                "quantity": line.quantity,
                "amount_minor": variant["price_minor"] * line.quantity,
                "stock": variant["stock"],
            }
        )
    items = sum(r["amount_minor"] for r in rows)
    shipping = store["shipping_fee_minor"] if rows else 0
    return {
        "rows": rows,
        "lines": kept,
        "dropped": len(kept) < len(lines),
        "items_minor": items,
        "shipping_minor": shipping,
        "total_minor": items + shipping,
        "count": cart.count(kept),
    }


def _read(request: Request, work: Any) -> Any:
    return run_in_threadpool(session.platform(request).run, work, write=False)


# --- the storefront ------------------------------------------------------------------------
@router.get("/s/{slug}")
async def storefront(
    request: Request,
    _viewer: MaybeViewer,
    slug: str,
    added: str = "",
    category: str = "",
    q: str = "",
    after: str = "",
) -> Response:
    """One page of the shop: a category's products, a search's, or all of them."""
    shelf = Shelf(category[:40], q[: limits.SEARCH_QUERY_MAX_LENGTH], after[:40])
    lines = cart.read(request)
    try:
        found = await _read(request, lambda u: shop(u, slug, _lines_of(u, slug, lines), shelf))
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND or refusal.param != "q":
            raise
        found = await _read(request, lambda u: shop(u, slug, _lines_of(u, slug, lines)))
        return _store_page(request, found, 400, search_error=refusal_text(refusal))
    return _store_page(request, found, notice=bool(added))


def _lines_of(unit: Unit, slug: str, carts: cart.Carts) -> list[cart.Line]:
    return carts.get(catalog.get_storefront(unit, PUBLIC, slug)["id"], [])


def _store_page(
    request: Request,
    found: dict[str, Any],
    status: int = 200,
    notice: bool = False,
    form: forms.Form | None = None,
    product: dict[str, Any] | None = None,
    search_error: str = "",
) -> Response:
    context: dict[str, Any] = {
        **found,
        "pages": _pages(found),
        "in_cart": found["cart"]["count"],
        "added": notice,
        "search_error": search_error,
        "failed_product": form.values.get("product_id") if form else None,
    }
    if form is not None:
        context.update(values=form.values, errors=form.errors)
    template = "store/storefront.html"
    if product is not None:
        template, context["product"] = "store/product.html", product
    return render.page(request, template, status, **context)


def _pages(found: dict[str, Any]) -> dict[str, str | None]:
    """The links to the first page and the next one, keeping the category and search."""
    shelf: Shelf | None = found.get("shelf")
    if shelf is None:
        return {"first": None, "next": None}
    base = f"/s/{found['store']['slug']}"
    kept = {k: v for k, v in (("category", shelf.category), ("q", shelf.q)) if v}
    first = base + ("?" + urlencode(kept) if kept else "") if shelf.after else None
    following = None
    if found.get("has_more") and found["products"]:
        following = base + "?" + urlencode({**kept, "after": found["products"][-1]["id"]})
    return {"first": first, "next": following}


@router.get("/s/{slug}/p/{product_id}")
async def product_page(
    request: Request, _viewer: MaybeViewer, slug: str, product_id: str
) -> Response:
    lines = cart.read(request)

    def work(unit: Unit) -> dict[str, Any]:
        store = catalog.get_storefront(unit, PUBLIC, slug)
        return {
            "store": store,
            "product": product_in(unit, store, product_id),
            "cart": priced_cart(unit, store, lines.get(store["id"], [])),
        }

    found = await _read(request, work)
    page = {"store": found["store"], "cart": found["cart"]}
    return _store_page(request, page, product=found["product"])


@router.post("/s/{slug}/cart")
async def add_to_cart(request: Request, _viewer: MaybeViewer, slug: str) -> Response:
    form = await forms.read(request)
    product_id = form.values.get("product_id", "")

    def work(unit: Unit) -> dict[str, Any]:
        store = catalog.get_storefront(unit, PUBLIC, slug)
        return {"store": store, "product": product_in(unit, store, product_id)}

    found = await _read(request, work)
    store, product = found["store"], found["product"]
    quantity = form.whole("quantity", low=1, high=limits.CART_MAX_QUANTITY)
    variant = _chosen_variant(form, product)
    if variant is not None and quantity is not None:
        if variant["stock"] == 0:
            form.fail("quantity", _("Sorry, this is sold out."))
        elif quantity > variant["stock"]:
            form.fail("quantity", _("Only {n} left.").format(n=variant["stock"]))
    carts = cart.read(request)
    if form.ok and variant is not None and quantity is not None:
        try:
            carts = cart.add(carts, store["id"], cart.Line(product["id"], variant["id"], quantity))
        except cart.CartFullError:
            text = _(
                "Your cart is full: at most {n} different items. Check out first, or remove some."
            )
            form.fail("quantity", text.format(n=limits.CART_MAX_LINES))
    if not form.ok:
        on_page = form.values.get("from") == "product"
        mine = carts.get(store["id"], [])
        listed = await _read(request, lambda u: shop(u, slug, mine))
        return _store_page(request, listed, 400, form=form, product=product if on_page else None)
    back = {k: form.values[k] for k in ("category", "q", "after") if form.values.get(k)}
    query = urlencode({**back, "added": "1"})
    response = RedirectResponse(f"/s/{store['slug']}?{query}", status_code=303)
    cart.write(request, response, carts)
    return response


def _chosen_variant(form: forms.Form, product: dict[str, Any]) -> dict[str, Any] | None:
    options: dict[str, dict[str, Any]] = {v["id"]: v for v in product["variants"]}
    if not product["has_options"]:
        return next(iter(options.values()))
    chosen = form.choice("variant_id", list(options))
    return options.get(chosen or "")


# --- the cart ------------------------------------------------------------------------------
def _cart_data(request: Request, slug: str, viewer: Any = None) -> Any:
    lines = cart.read(request)

    def work(unit: Unit) -> dict[str, Any]:
        store = catalog.get_storefront(unit, PUBLIC, slug)
        priced = priced_cart(unit, store, lines.get(store["id"], []))
        book = delivery.book_of(unit, viewer)
        offered = _couriers(unit, viewer, store, priced, book)
        if offered is not None and priced["rows"]:
            # by courier: the cheapest offer's fee, or none yet (priced for the address)
            fee = offered["offers"][0]["fee_minor"] if offered["offers"] else None
            priced["shipping_minor"] = fee
            priced["total_minor"] = priced["items_minor"] + (fee or 0)
        return {
            "store": store,
            "cart": priced,
            "book": book,
            "address_labels": delivery.labels(),
            "couriers": offered,
        }

    return _read(request, work)


def _couriers(
    unit: Unit, viewer: Any, store: dict[str, Any], priced: dict[str, Any], book: list[Any]
) -> dict[str, Any] | None:
    """The shop's couriers for the cart, priced for the buyer's first saved address (None:
    the shop ships at its flat fee). Without a saved address the couriers are listed unpriced:
    the order, before it is paid, shows the fee for the address typed."""
    listed = couriers.shipping(unit, PUBLIC, store["id"])["couriers"]
    if not listed:
        return None
    names = [c for c in listed if c["active"]]
    if viewer is None or viewer.kind != "customer" or not book or not priced["lines"]:
        return {"offers": [], "listed": names, "unavailable": {}, "problem": None, "to": None}
    lines = [orders.CartLine(x.product_id, x.quantity, x.variant_id) for x in priced["lines"]]
    to = book[0]
    try:
        found = orders.shipping_offers(
            unit, viewer.caller, store["id"], lines, Delivery(address_id=to["id"])
        )
    except RefusalError as refusal:
        said = refusal_text(refusal)
        return {"offers": [], "listed": names, "unavailable": {}, "problem": said, "to": to}
    problem: str | None = found["problem"]["message"] if found["problem"] else None
    return {
        "offers": found["offers"],
        "listed": names,
        "unavailable": found["unavailable"],
        "problem": problem,
        "to": to,
    }


def _cart_page(
    request: Request, found: dict[str, Any], status: int = 200, form: forms.Form | None = None
) -> Response:
    context: dict[str, Any] = dict(found)
    if form is not None:
        context.update(values=form.values, errors=form.errors)
    return render.page(request, "store/cart.html", status, **context)


@router.get("/s/{slug}/cart")
async def show_cart(request: Request, viewer: MaybeViewer, slug: str) -> Response:
    return _cart_page(request, await _cart_data(request, slug, viewer))


@router.post("/s/{slug}/cart/update")
async def update_cart(request: Request, viewer: MaybeViewer, slug: str) -> Response:
    form = await forms.read(request)
    found = await _cart_data(request, slug, viewer)
    store, priced = found["store"], found["cart"]
    removed = form.values.get("remove", "")
    kept: list[cart.Line] = []
    for row in priced["rows"]:
        if row["variant_id"] == removed:
            continue
        field = "qty-" + row["variant_id"]
        quantity = form.whole(field, low=0, high=limits.CART_MAX_QUANTITY, required=False)
        if quantity is None and field not in form.errors:
            quantity = row["quantity"]  # not sent (the remove button's form): unchanged
        elif quantity is not None and quantity > max(row["stock"], row["quantity"]):
            form.fail(field, _("Only {n} left.").format(n=row["stock"]))
        if quantity:
            kept.append(cart.Line(row["product_id"], row["variant_id"], quantity))
    if not form.ok:
        return _cart_page(request, found, 400, form)
    carts = cart.replace(cart.read(request), store["id"], kept)
    response = RedirectResponse(f"/s/{store['slug']}/cart", status_code=303)
    cart.write(request, response, carts)
    return response


# --- checkout ------------------------------------------------------------------------------
@router.post("/s/{slug}/checkout")
async def checkout(request: Request, slug: str, viewer: MaybeViewer) -> Response:
    form = await forms.read(request)
    if viewer is None:
        return RedirectResponse(session.signin_url(f"/s/{slug}/cart"), status_code=303)
    found = await _cart_data(request, slug, viewer)
    store, priced = found["store"], found["cart"]
    if viewer.kind != "customer":
        form.fail(forms.FORM_ERROR, _("Sign in with a buyer's account to check out."))
        return _cart_page(request, found, 400, form)
    lines = [orders.CartLine(x.product_id, x.quantity, x.variant_id) for x in priced["lines"]]
    where = delivery.chosen(form, found["book"])
    if where is None:
        return _cart_page(request, found, 400, form)

    def work(unit: Unit) -> dict[str, Any]:
        courier = form.values.get("courier") or None
        placed = orders.checkout(unit, viewer.caller, store["id"], lines, None, where, courier)
        return {"id": placed["id"]}  # what the redirect needs (the form's stored answer)

    try:
        order = await forms.run_submit(request, viewer, form, work)
    except RefusalError as refusal:
        if delivery.place(form, refusal):
            return _cart_page(request, await _cart_data(request, slug, viewer), 400, form)
        if refusal.param == "courier":
            form.fail("courier", refusal_text(refusal))
            return _cart_page(request, await _cart_data(request, slug, viewer), 400, form)
        if refusal.category is Category.NOT_FOUND and not _line_of(refusal):
            raise
        _place(form, refusal, priced["lines"])
        return _cart_page(request, await _cart_data(request, slug, viewer), 400, form)
    response = RedirectResponse(f"/b/orders/{order['id']}", status_code=303)
    cart.write(request, response, cart.replace(cart.read(request), store["id"], []))
    return response


def _line_of(refusal: RefusalError) -> int | None:
    match = _LINE_PARAM.match(refusal.param or "")
    return int(match.group(1)) if match else None


def _place(form: forms.Form, refusal: RefusalError, lines: list[cart.Line]) -> None:
    """A checkout refusal beside the cart line it names, else above the cart."""
    index = _line_of(refusal)
    if index is not None and index < len(lines):
        form.fail("qty-" + lines[index].variant_id, refusal_text(refusal))
    else:
        form.fail(forms.FORM_ERROR, refusal_text(refusal))
