"""Payment requests: the merchant asks for an exact amount, shows the buyer a QR (or sends
the pay link), and watches it turn "paid".

The request is created once per form (``forms.run_submit`` and its idempotency key: a
double tap makes one request). Its page shows the dynamic QR Ph code (the amount and the
request's one-time reference inside: ``services.qr.pay.request_code``) and, while the request
is open, reloads itself every few seconds with a ``<meta http-equiv="refresh">`` — no
script — so the merchant sees "Paid", who paid and when, the moment the buyer's app has paid.
Another merchant's request id is the 404 page (the services' tenancy).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.payments import payments, sales
from tindahan.services.payments import requests as request_service
from tindahan.services.qr import codes as qrcodes
from tindahan.services.qr import pay as qrpay
from tindahan.services.unit import Unit
from tindahan.web import forms, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.merchant import inline_svg
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()

PAGE = 20
#: Seconds between reloads of an open request's page.
REFRESH_SECONDS = 5
RequestId = Annotated[str, Path(max_length=limits.ID_MAX_LENGTH)]
Cursor = Annotated[str | None, Query(max_length=limits.ID_MAX_LENGTH)]
BADGES = {"open": "wait", "paid": "good", "canceled": "bad", "expired": "bad"}


def status_text(status: str) -> str:
    texts = {
        "open": _("Waiting for payment"),
        "paid": _("Paid"),
        "canceled": _("Cancelled"),
        "expired": _("Expired"),
    }
    return texts.get(status, status)


def _listing(unit: Unit, caller: Caller, after: str | None) -> dict[str, Any]:
    found = request_service.list_requests(unit, caller, PAGE, after, None)
    older = found["data"][-1]["id"] if found["has_more"] and found["data"] else None
    return {"requests": found["data"], "older": older}


def _list_page(
    request: Request, viewer: Merchant, after: str | None, status_code: int = 200, **extra: Any
) -> Response:
    found = session.platform(request).run(lambda u: _listing(u, viewer.caller, after), write=False)
    return render.page(
        request,
        "merchant/requests.html",
        status_code,
        badges=BADGES,
        status_text=status_text,
        **found,
        **extra,
    )


@router.get("/m/requests")
def list_page(request: Request, viewer: Merchant, after: Cursor = None) -> Response:
    return _list_page(request, viewer, after)


@router.post("/m/requests")
async def create(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    amount = form.money("amount")
    reference = form.text("reference", required=False, max_length=limits.REFERENCE_MAX_LENGTH)
    description = form.text("description", required=False, max_length=limits.DESCRIPTION_MAX_LENGTH)
    if form.ok and amount is not None:
        caller = viewer.caller

        def work(unit: Unit) -> dict[str, Any]:
            return request_service.create(
                unit,
                caller,
                amount_minor=amount,
                currency="PHP",
                reference=reference,
                description=description,
            )

        try:
            made = await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, {"amount_minor": "amount"})
        else:
            return RedirectResponse(f"/m/requests/{made['id']}", status_code=303)
    return await run_in_threadpool(
        _list_page, request, viewer, None, 400, values=form.values, errors=form.errors
    )


def _detail(unit: Unit, caller: Caller, request_id: str) -> dict[str, Any]:
    found = request_service.get(unit, caller, request_id)
    paid = None
    if found["payment_id"]:
        payment = payments.get(unit, caller, found["payment_id"])
        who = sales.counterparties(unit, caller, [payment["id"]]).get(payment["id"], {})
        paid = {"name": who.get("name"), "when": payment["created"]}
    image = None
    if found["status"] == "open":
        code = qrpay.request_code(unit, caller, request_id)
        image = qrcodes.svg(code["payload"])
    return {"found": found, "paid": paid, "image": image}


@router.get("/m/requests/{request_id}")
def detail(request: Request, viewer: Merchant, request_id: RequestId) -> Response:
    shown = session.platform(request).run(
        lambda u: _detail(u, viewer.caller, request_id), write=False
    )
    found = shown["found"]
    image = None
    if shown["image"] is not None:
        label = _("QR code to pay {amount}").format(amount=i18n.money(found["amount_minor"]))
        image = inline_svg(shown["image"], label)
    return render.page(
        request,
        "merchant/request.html",
        found=found,
        paid=shown["paid"],
        image=image,
        badges=BADGES,
        status_text=status_text,
        refresh=REFRESH_SECONDS if found["status"] == "open" else None,
        pay_link=str(request.base_url).rstrip("/") + f"/pay/{found['id']}",
    )


@router.get("/m/requests/{request_id}/qr.svg")
def qr_svg(request: Request, viewer: Merchant, request_id: RequestId) -> Response:
    code = session.platform(request).run(
        lambda u: qrpay.request_code(u, viewer.caller, request_id), write=False
    )
    headers = {"Content-Disposition": f'attachment; filename="tindahan-{request_id}.svg"'}
    response = Response(qrcodes.svg(code["payload"]), media_type="image/svg+xml", headers=headers)
    render.secure(response, signed_in=True)
    return response


@router.post("/m/requests/{request_id}/cancel")
async def cancel(request: Request, viewer: Merchant, request_id: RequestId) -> Response:
    form = await forms.read(request)
    caller = viewer.caller
    await forms.run_submit(
        request, viewer, form, lambda u: request_service.cancel(u, caller, request_id)
    )
    return RedirectResponse(f"/m/requests/{request_id}", status_code=303)
