"""Scan to pay (issue 21, item 6): the buyer's "Scan QR" — a shop's printed QR Ph code, a
payment request's or an order's — then what it pays, the amount for a static code, the PIN,
and pay.

A QR Ph merchant code of another bank or e-wallet (``qr_off_us`` from ``describe``) goes on
to ``services.qr.interbank``: the amount (a static code's, typed), then a review with the
InstaPay fee and the total before the PIN, then an InstaPay transfer from the main wallet
whose page (``/b/transfers/{id}``) follows the clearing house's answer.

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
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import PaymentKind
from tindahan.payments.sends import masked_name
from tindahan.qr.image import QrImageError
from tindahan.qr.image import read as read_image
from tindahan.services.commerce import catalog, escrow_cluster
from tindahan.services.payments import payments
from tindahan.services.payments.views import PaymentView
from tindahan.services.qr import interbank
from tindahan.services.qr import pay as qrpay
from tindahan.services.rails import cluster as rails_cluster
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
        "qr_not_payable": _(
            "This code is from another bank or e-wallet and is not a shop's code. "
            "To send to a person, use Send to a bank account."
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
            if refusal.code != "qr_off_us":
                form.fail("payload", _scan_text(refusal))
            else:
                return await _bank_step(request, viewer, form, payload)
        else:
            return render.page(request, "buyer/scan_pay.html", code=code)
    return render.page(request, "buyer/scan.html", 400, values=form.values, errors=form.errors)


# --- another institution's code: an InstaPay transfer ----------------------------------------
def _read(request: Request, work: Any) -> Any:
    return run_in_threadpool(session.platform(request).run, work, write=False)


async def _bank_step(
    request: Request, viewer: Customer, form: forms.Form, payload: str
) -> Response:
    """The first page for another institution's code: the amount to type (a static code),
    or straight to the review (a dynamic one); a refusal goes back to the scan page."""
    try:
        code = await _read(request, lambda u: interbank.describe(u, viewer.caller, payload))
    except RefusalError as refusal:
        form.fail("payload", _scan_text(refusal))
        return render.page(request, "buyer/scan.html", 400, values={}, errors=form.errors)
    if code["amount_minor"] is None:
        return render.page(request, "buyer/scan_bank.html", code=code, quote=None)
    return await _bank_review(request, viewer, form, code, None)


async def _bank_review(
    request: Request,
    viewer: Customer,
    form: forms.Form,
    code: dict[str, Any],
    amount: int | None,
    status: int = 200,
) -> Response:
    """The review: merchant, bank, amount, the InstaPay fee and the total, then the PIN."""
    caller, payload = viewer.caller, code["payload"]
    try:
        quote = await _read(request, lambda u: interbank.quote(u, caller, payload, amount))
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        if code["amount_minor"] is not None:  # nothing to type: back to the scan page
            form.fail("payload", _scan_text(refusal))
            return render.page(request, "buyer/scan.html", 400, values={}, errors=form.errors)
        form.refusal(refusal, {"amount_minor": "amount", "payload": "amount"})
        return render.page(
            request,
            "buyer/scan_bank.html",
            400,
            code=code,
            quote=None,
            values=form.values,
            errors=form.errors,
        )
    return render.page(
        request,
        "buyer/scan_bank.html",
        status,
        code=code,
        quote=quote,
        amount_text=form.values.get("amount", ""),
        values=form.values,
        errors=form.errors,
    )


async def _bank_code(
    request: Request, viewer: Customer, form: forms.Form
) -> dict[str, Any] | Response:
    payload = form.values.get("payload", "")[:PAYLOAD_MAX]
    try:
        found: dict[str, Any] = await _read(
            request, lambda u: interbank.describe(u, viewer.caller, payload)
        )
    except RefusalError as refusal:
        form.fail("payload", _scan_text(refusal))
        return render.page(request, "buyer/scan.html", 400, values={}, errors=form.errors)
    return found


@router.post("/b/scan/bank/review")
async def bank_review(request: Request, viewer: Customer) -> Response:
    form = await forms.read(request)
    code = await _bank_code(request, viewer, form)
    if isinstance(code, Response):
        return code
    amount = form.money("amount") if code["amount_minor"] is None else None
    if not form.ok:
        return render.page(
            request,
            "buyer/scan_bank.html",
            400,
            code=code,
            quote=None,
            values=form.values,
            errors=form.errors,
        )
    return await _bank_review(request, viewer, form, code, amount)


@router.post("/b/scan/bank/pay")
async def bank_pay(request: Request, viewer: Customer) -> Response:
    form = await forms.read(request)
    code = await _bank_code(request, viewer, form)
    if isinstance(code, Response):
        return code
    amount = form.money("amount") if code["amount_minor"] is None else None
    if not form.ok:
        return await _bank_review(request, viewer, form, code, None, 400)
    if not await pin.confirmed(request, viewer, form):
        return await _bank_review(request, viewer, form, code, amount, 400)
    caller, payload = viewer.caller, code["payload"]

    def work(unit: Unit) -> dict[str, Any]:
        return {"id": interbank.pay(unit, caller, payload, amount)["id"]}

    def checked(unit: Unit) -> rails_cluster.Checked:
        return interbank.checked(unit, caller, payload, amount)

    reserve = rails_cluster.reserve(checked)  # a TigerBeetle ledger: the transfers' order
    try:
        made = await forms.run_submit(
            request, viewer, form, work, reserve, record=rails_cluster.RECORD
        )
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        form.refusal(refusal, {"amount_minor": "amount", "pin": "pin"})
        return await _bank_review(request, viewer, form, code, amount, 400)
    return RedirectResponse(f"/b/transfers/{made['id']}", status_code=303)


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

        typed = None if code["amount_minor"] is not None else amount

        def work(unit: Unit) -> dict[str, Any]:
            if code["order_id"]:
                return dict(qrpay.pay_order(unit, caller, payload))
            return dict(qrpay.pay(unit, caller, payload, typed, None))

        def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
            return qrpay.reserve(unit, ledger, caller, payload, typed, None)

        def into_escrow(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], Any]:
            return qrpay.reserve_order(unit, caller, payload)

        # an order's code pays into its escrow (``escrow_cluster``'s record on a cluster)
        on_cluster: Any = into_escrow if code["order_id"] else reserve
        record = escrow_cluster.RECORD if code["order_id"] else "payment"
        try:
            done = await forms.run_submit(request, viewer, form, work, on_cluster, record)
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
