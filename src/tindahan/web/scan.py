"""Scan to pay (issue 21, item 6): the buyer's "Scan QR" — a shop's printed QR Ph code, a
payment request's or an order's — then what it pays, the amount for a static code, the PIN,
and pay.

How a code gets here, in order of what the phone has: the camera, read in the page by the
browser's ``BarcodeDetector`` (``static/scan.js``, where it exists: Chrome on Android);
a photo taken or chosen with the file box (``capture`` opens the camera on a phone) and
decoded here (``qr.image``: zxing-cpp, every bound checked first); or the code's text
pasted. Then ``services.qr.pay.describe`` says what the code pays before anything moves,
and the payment runs once per idempotency key behind the PIN (``web.pin``), through the
same services as ``POST /v1/qr/payments``. Nothing is kept of the picture.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.payments.model import PaymentKind
from tindahan.payments.sends import masked_name
from tindahan.qr.image import QrImageError
from tindahan.qr.image import read as read_image
from tindahan.services.commerce import catalog
from tindahan.services.payments import payments
from tindahan.services.qr import pay as qrpay
from tindahan.services.unit import Unit
from tindahan.web import forms, pin, render, session
from tindahan.web.i18n import _
from tindahan.web.messages import refusal_text
from tindahan.web.router import router as make_router
from tindahan.web.session import Customer

router = make_router()
PAYLOAD_MAX = 512  # an EMVCo payload is at most 512 characters


def _image_text(error: QrImageError) -> str:
    texts = {
        "image_too_large": _("This picture is too large. Take a closer photo of the code."),
        "image_invalid": _("This is not a picture we can read. Use a JPEG, PNG or WebP photo."),
        "qr_not_found": _("No QR code could be read in this picture. Try a sharper photo."),
    }
    return texts.get(error.code, _("No QR code could be read in this picture."))


def _scan_text(refusal: RefusalError) -> str:
    texts = {
        "qr_invalid": _("This is not a QR code that can be paid here."),
        "qr_off_us": _(
            "This code is from another bank or e-wallet. Paying it is not possible yet."
        ),
    }
    return texts.get(refusal.code, refusal_text(refusal))


@router.get("/b/scan")
async def scan_page(request: Request, viewer: Customer) -> Response:
    return render.page(request, "buyer/scan.html")


async def _payload(request: Request, form: forms.Form) -> str | None:
    """The code's text: from the picture sent, else as pasted (the error on the form)."""
    data = await request.form()
    picture = data.get("image")
    if isinstance(picture, UploadFile) and picture.filename:
        try:
            content = await picture.read(limits.QR_IMAGE_MAX_BYTES + 1)
        finally:
            await data.close()  # the upload's temporary file, now read
        try:
            return await run_in_threadpool(read_image, content)
        except QrImageError as error:
            form.fail("image", _image_text(error))
            return None
    text = "".join(form.values.get("payload", "").split("\n")).strip()
    if not text:
        form.fail("payload", _("Take or choose a photo of the QR code, or paste its text."))
        return None
    if len(text) > PAYLOAD_MAX:
        form.fail("payload", _("This is not a QR code that can be paid here."))
        return None
    return text


async def _describe(request: Request, viewer: Customer, payload: str) -> dict[str, Any]:
    def work(unit: Unit) -> dict[str, Any]:
        return qrpay.describe(unit, viewer.caller, payload)

    found: dict[str, Any] = await run_in_threadpool(
        session.platform(request).run, work, write=False
    )
    return found


@router.post("/b/scan")
async def scanned(request: Request, viewer: Customer) -> Response:
    form = await forms.read(request)
    payload = await _payload(request, form)
    if payload is not None:
        try:
            code = await _describe(request, viewer, payload)
        except RefusalError as refusal:
            form.fail("payload", _scan_text(refusal))
        else:
            return render.page(request, "buyer/scan_pay.html", code=code)
    return render.page(request, "buyer/scan.html", 400, values=form.values, errors=form.errors)


@router.post("/b/scan/pay")
async def pay_scanned(request: Request, viewer: Customer) -> Response:
    form = await forms.read(request)
    payload = form.values.get("payload", "")[:PAYLOAD_MAX]
    try:
        code = await _describe(request, viewer, payload)
    except RefusalError as refusal:
        form.fail("payload", _scan_text(refusal))
        return render.page(request, "buyer/scan.html", 400, values={}, errors=form.errors)
    amount = code["amount_minor"]
    if amount is None:
        amount = form.money("amount")
    if form.ok and await pin.confirmed(request, viewer, form):
        caller = viewer.caller

        def work(unit: Unit) -> dict[str, Any]:
            if code["order_id"]:
                return dict(qrpay.pay_order(unit, caller, payload))
            typed = None if code["amount_minor"] is not None else amount
            return dict(qrpay.pay(unit, caller, payload, typed, None))

        try:
            done = await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, {"amount_minor": "amount", "pin": "pin"})
        else:
            if code["order_id"]:
                return RedirectResponse(f"/b/orders/{code['order_id']}", status_code=303)
            return RedirectResponse(f"/b/payments/{done['id']}", status_code=303)
    return render.page(
        request, "buyer/scan_pay.html", 400, values=form.values, errors=form.errors, code=code
    )


@router.get("/b/payments/{payment_id}")
async def receipt(request: Request, viewer: Customer, payment_id: str) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        paid = payments.get(unit, viewer.caller, payment_id)
        name = catalog.merchant_name(unit, paid["payee_id"])
        if paid["kind"] == PaymentKind.P2P:  # a person: first name and initials (sends)
            name = masked_name(name)
        return {"payment": paid, "shop": name}

    found = await run_in_threadpool(session.platform(request).run, work, write=False)
    return render.page(request, "buyer/receipt.html", **found)
