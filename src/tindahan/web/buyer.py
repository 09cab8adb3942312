"""The buyer's pages: home, orders (pay, track, confirm delivery, dispute) and paying a
merchant's payment request.

Everything here is read and done as the signed-in customer's own ``Caller``, so tenancy is
the services': another buyer's order id is "no such order" (the 404 page). Every form that
moves money — paying an order from the wallet, confirming delivery (which releases escrow to
the merchant), opening a dispute, paying a request — runs once per idempotency key
(``forms.run_submit``): a double tap or a resent page pays once and lands on the same page.

An unpaid order is paid from the wallet here, or by its dynamic QR Ph code
(``services.qr.pay.order_code``, drawn at ``/b/orders/{id}/qr.svg``) scanned from another
phone. A payment request's id is a bearer reference: any customer holding the link may pay
it (``services.payments.requests.for_payer`` shows it to them first).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import PaymentKind
from tindahan.services.commerce import catalog, disputes, escrow, escrow_cluster, orders, shipments
from tindahan.services.payments import payments, requests, wallets
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform.logins import Viewer
from tindahan.services.qr import codes as qrcodes
from tindahan.services.qr import pay as qrpay
from tindahan.services.unit import Unit
from tindahan.web import forms, pin, render, session
from tindahan.web.messages import refusal_text
from tindahan.web.router import router as make_router
from tindahan.web.session import Customer
from tindahan.web.storefront import PUBLIC

router = make_router()

RECENT = 5
ORDERS_PAGE = 20


def _read(request: Request, work: Any) -> Any:
    return run_in_threadpool(session.platform(request).run, work, write=False)


def main_wallet(unit: Unit, caller: Caller) -> dict[str, Any] | None:
    found = wallets.list_wallets(unit, caller, 10, None, None)["data"]
    return next((w for w in found if w["kind"] == "main"), None)


def _shop_names(unit: Unit, found: list[dict[str, Any]]) -> dict[str, str]:
    """Storefront id → name, read as any visitor would (storefronts are public)."""
    ids = {o["storefront_id"] for o in found}
    return {sid: catalog.get_storefront(unit, PUBLIC, sid)["name"] for sid in ids}


# --- home ----------------------------------------------------------------------------------
@router.get("/b")
async def home(request: Request, viewer: Customer) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        caller = viewer.caller
        recent = orders.list_orders(unit, caller, RECENT, None)["data"]
        paid = payments.list_payments(unit, caller, RECENT, None)["data"]
        merchants = {
            p["payee_id"]
            for p in paid
            if p["kind"] == PaymentKind.MERCHANT and p["payee_id"] != caller.party_id
        }
        wallet = main_wallet(unit, caller)
        return {
            "wallet": wallet,
            "review": wallets.under_review_minor(unit, caller, wallet["id"]) if wallet else 0,
            "orders": recent,
            "shops": _shop_names(unit, recent),
            "payments": paid,
            "names": {m: catalog.merchant_name(unit, m) for m in merchants},
        }

    return render.page(request, "buyer/home.html", **(await _read(request, work)))


# --- orders --------------------------------------------------------------------------------
@router.get("/b/orders")
async def order_list(request: Request, viewer: Customer, after: str = "") -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        found = orders.list_orders(unit, viewer.caller, ORDERS_PAGE, after or None)
        return {"orders": found["data"], "more": found["has_more"], "after": after}

    found = await _read(request, work)
    found["shops"] = await _read(request, lambda u: _shop_names(u, found["orders"]))
    return render.page(request, "buyer/orders.html", **found)


def order_data(unit: Unit, caller: Caller, order_id: str) -> dict[str, Any]:
    """The order page's data, all as the buyer (another's order: not found)."""
    order = orders.get(unit, caller, order_id)
    dispute = disputes.get(unit, caller, order["dispute_id"]) if order["dispute_id"] else None
    return {
        "order": order,
        "store": catalog.get_storefront(unit, PUBLIC, order["storefront_id"]),
        "shipments": shipments.list_for_order(unit, caller, order_id)["data"],
        "dispute": dispute,
        "wallet": main_wallet(unit, caller),
    }


async def _show(
    request: Request,
    template: str,
    load: Callable[[Unit], dict[str, Any]],
    status: int = 200,
    form: forms.Form | None = None,
) -> Response:
    """A page from what ``load`` reads, with a refused form's values and errors on it."""
    found = await _read(request, load)
    if form is not None:
        found.update(values=form.values, errors=form.errors)
    return render.page(request, template, status, **found)


async def _order_page(
    request: Request,
    viewer: Viewer,
    order_id: str,
    status: int = 200,
    form: forms.Form | None = None,
) -> Response:
    load = partial(order_data, caller=viewer.caller, order_id=order_id)
    return await _show(request, "buyer/order.html", load, status, form)


@router.get("/b/orders/{order_id}")
async def order_page(request: Request, viewer: Customer, order_id: str) -> Response:
    return await _order_page(request, viewer, order_id)


@router.get("/b/orders/{order_id}/qr.svg")
async def order_qr(request: Request, viewer: Customer, order_id: str) -> Response:
    code = await _read(request, lambda u: qrpay.order_code(u, viewer.caller, order_id))
    response = Response(qrcodes.svg(code["payload"]), media_type="image/svg+xml")
    render.secure(response, signed_in=True)
    return response


async def _act(
    request: Request,
    viewer: Customer,
    order_id: str,
    slot: str,
    work: Any,
    form: forms.Form,
    reserve: Any = None,
) -> Response:
    """Run an order action once per form; a refusal is shown on the order page, in ``slot``.
    ``reserve``: an escrow movement's A on a TigerBeetle ledger (``escrow_cluster``)."""
    try:
        await forms.run_submit(request, viewer, form, work, reserve, escrow_cluster.RECORD)
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        form.fail("reason" if refusal.param == "reason" else slot, refusal_text(refusal))
        return await _order_page(request, viewer, order_id, 400, form)
    return RedirectResponse(f"/b/orders/{order_id}", status_code=303)


@router.post("/b/orders/{order_id}/pay")
async def pay_order(request: Request, viewer: Customer, order_id: str) -> Response:
    form = await forms.read(request)
    if not await pin.confirmed(request, viewer, form):
        return await _order_page(request, viewer, order_id, 400, form)
    return await _act(
        request,
        viewer,
        order_id,
        "pay",
        lambda u: escrow.pay(u, viewer.caller, order_id, None),
        form,
        lambda u, _: escrow_cluster.reserve_pay(u, viewer.caller, order_id, None),
    )


@router.post("/b/orders/{order_id}/confirm")
async def confirm_order(request: Request, viewer: Customer, order_id: str) -> Response:
    form = await forms.read(request)
    return await _act(
        request,
        viewer,
        order_id,
        "confirm",
        lambda u: escrow.confirm(u, viewer.caller, order_id),
        form,
        lambda u, _: escrow_cluster.reserve_confirm(u, viewer.caller, order_id),
    )


@router.post("/b/orders/{order_id}/dispute")
async def open_dispute(request: Request, viewer: Customer, order_id: str) -> Response:
    form = await forms.read(request)
    reason = form.text("reason", max_length=limits.DESCRIPTION_MAX_LENGTH)
    if reason is None:
        return await _order_page(request, viewer, order_id, 400, form)
    return await _act(
        request,
        viewer,
        order_id,
        "dispute",
        lambda u: disputes.open_dispute(u, viewer.caller, order_id, reason),
        form,
    )


# --- paying a merchant's payment request -----------------------------------------------------
def request_data(unit: Unit, caller: Caller, request_id: str) -> dict[str, Any]:
    found = requests.for_payer(unit, caller, request_id)
    paid = payments.get(unit, caller, found["payment_id"]) if found["payment_id"] else None
    return {"ask": found, "payment": paid, "wallet": main_wallet(unit, caller)}


async def _request_page(
    request: Request,
    viewer: Viewer,
    request_id: str,
    status: int = 200,
    form: forms.Form | None = None,
) -> Response:
    load = partial(request_data, caller=viewer.caller, request_id=request_id)
    return await _show(request, "buyer/pay_request.html", load, status, form)


@router.get("/pay/{request_id}")
async def request_page(request: Request, viewer: Customer, request_id: str) -> Response:
    return await _request_page(request, viewer, request_id)


@router.post("/pay/{request_id}")
async def pay_request(request: Request, viewer: Customer, request_id: str) -> Response:
    form = await forms.read(request)
    if not await pin.confirmed(request, viewer, form):
        return await _request_page(request, viewer, request_id, 400, form)

    def work(unit: Unit) -> PaymentView:
        return requests.pay(unit, viewer.caller, request_id, None)

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        return requests.reserve(unit, ledger, viewer.caller, request_id, None)

    try:
        await forms.run_submit(request, viewer, form, work, reserve)
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        form.fail("pay", refusal_text(refusal))
        return await _request_page(request, viewer, request_id, 400, form)
    return RedirectResponse(f"/pay/{request_id}", status_code=303)
