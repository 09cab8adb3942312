"""The console's onboarding: a merchant or a cash agent made in one form, and its ID images.

* ``/op/onboard``: one page in four numbered steps (who, the business, KYC with the ID
  images, the sign-in), sent once. The service (``services.platform.onboarding``) makes the
  party, its wallets, its login and its documents in one transaction, so a refusal (a phone
  already taken, a bad number, a file that is not an image) is said beside its field and
  nothing is made. The images are checked and re-encoded before the transaction opens.
* The answer is the new party's page of first things: its first PIN, shown this once (only
  its Argon2 hash is kept), and for a merchant the link to print its QR poster. The form is
  not replayed from a stored answer (that would keep the PIN); a second send of the same
  form is refused by the phone number, already taken.
* ``/op/parties/{id}/documents/{name}``: an ID image, opened from the private store for
  operator staff only (``Operator``: anyone else gets the 404 page), never cached.
* ``/op/parties/{id}/qr``: a merchant's QR poster, to print for the shop.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.platform import onboarding, parties, tiers
from tindahan.services.qr import codes as qrcodes
from tindahan.services.qr import pay as qrpay
from tindahan.services.unit import Unit
from tindahan.web import forms, render, session
from tindahan.web.console import labels
from tindahan.web.i18n import _
from tindahan.web.merchant import inline_svg
from tindahan.web.router import router as make_router
from tindahan.web.session import Operator

router = make_router()
_FIELDS = {
    "kind": "kind",
    "name": "name",
    "phone": "phone",
    "mcc": "mcc",
    "city": "city",
    "province": "province",
    "tier": "tier",
    "id_number": "id_number",
    "id_front": "id_front",
    "id_back": "id_back",
}


def _tier_names(request: Request, viewer: Any) -> list[str]:
    found = session.platform(request).run(
        lambda unit: tiers.list_tiers(unit, viewer.caller), write=False
    )
    return [t["name"] for t in found["data"]]


def _form_page(
    request: Request, tier_names: list[str], status: int = 200, **context: Any
) -> Response:
    kinds = labels()["kind"]
    return render.page(
        request,
        "console/onboard.html",
        status,
        kind_options=[(k, kinds[k]) for k in onboarding.KINDS],
        tier_options=[(t, t) for t in tier_names],
        **context,
    )


@router.get("/op/onboard")
def onboard_form(request: Request, viewer: Operator) -> Response:
    names = _tier_names(request, viewer)
    return _form_page(request, names, values={}, errors={})


async def _documents(form: forms.Form, parsed: FormData) -> list[onboarding.Document]:
    """The ID images sent, checked and re-encoded; a refusal beside its file field."""
    found: list[onboarding.Document] = []
    for kind in onboarding.DOCUMENT_KINDS:
        sent = parsed.get(kind)
        if not isinstance(sent, UploadFile) or not sent.filename:
            if kind == "id_front":
                form.fail(kind, _("Attach a photo of the front of the ID (JPEG, PNG or WebP)."))
            continue
        data = await sent.read(limits.PHOTO_MAX_BYTES + 1)
        if not data:
            form.fail(kind, _("This file is empty."))
            continue
        try:
            found.append(await run_in_threadpool(onboarding.prepare_document, kind, data))
        except RefusalError as refusal:
            form.refusal(refusal, _FIELDS)
    return found


@router.post("/op/onboard")
async def onboard(request: Request, viewer: Operator) -> Response:
    form = await forms.read(request)
    parsed = await request.form()
    try:
        documents = await _documents(form, parsed)
    finally:
        await parsed.close()
    names = await run_in_threadpool(_tier_names, request, viewer)
    kind = form.choice("kind", list(onboarding.KINDS))
    tier = form.choice("tier", names)
    name = form.text("name", max_length=limits.NAME_MAX_LENGTH)
    phone = form.text("phone", max_length=32)
    merchant = kind == "merchant"
    mcc = form.text("mcc", required=merchant, max_length=4)
    city = form.text("city", required=merchant, max_length=limits.CITY_MAX_LENGTH)
    province = form.text("province", required=merchant, max_length=limits.CITY_MAX_LENGTH)
    id_number = form.text("id_number", max_length=40)
    if form.ok:
        assert kind is not None and name is not None
        new = parties.NewParty(
            kind=kind,
            name=name,
            phone=phone,
            id_number=id_number,
            tier=tier,
            mcc=mcc if merchant else None,
            city=city,
            province=province,
        )
        pin = onboarding.first_pin()

        def work(unit: Unit) -> dict[str, Any]:
            return onboarding.onboard(unit, viewer.caller, new, documents, pin)

        try:
            made = await run_in_threadpool(session.platform(request).run, work)
        except RefusalError as refusal:
            if refusal.category is Category.PERMISSION:
                raise
            form.refusal(refusal, _FIELDS)
        else:
            response = render.page(
                request, "console/onboarded.html", party=made, pin=pin, labels=labels()
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return _form_page(request, names, 400, values=form.values, errors=form.errors)


@router.get("/op/parties/{party_id}/documents/{name}")
def document(request: Request, viewer: Operator, party_id: str, name: str) -> Response:
    data = session.platform(request).run(
        lambda unit: onboarding.document_image(unit, viewer.caller, party_id, name), write=False
    )
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/webp", headers=headers)


@router.get("/op/parties/{party_id}/qr")
def poster(request: Request, viewer: Operator, party_id: str) -> Response:
    def work(unit: Unit) -> tuple[bytes, str]:
        code = qrpay.merchant_code(unit, viewer.caller, party_id)
        merchant = qrpay.merchant_name(unit, viewer.caller, party_id)
        short = qrpay.merchant_short_code(unit, viewer.caller, party_id)
        note = _("Merchant code {code}").format(code=short) if short else None
        return qrcodes.svg(code["payload"], merchant, note=note), merchant

    image, merchant = session.platform(request).run(work, write=False)
    label = _("QR Ph code of {name}").format(name=merchant)
    return render.page(
        request, "console/qr.html", image=inline_svg(image, label), party_id=party_id
    )
