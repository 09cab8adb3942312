"""Product photos on the pages: the merchant uploads and removes them on the product's
page, and ``/media/{name}`` serves every stored rendition.

An upload is checked and re-encoded by the service (``services.commerce.photos``) before
anything is stored; what is wrong with the file (not an image, an SVG, too large, too many
pixels, cut short) is said beside the file field, in the reader's language. A rendition's
name is the SHA-256 of its bytes, so its response may be cached for a year (``immutable``):
a changed photo is a new name.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import photos
from tindahan.services.unit import Unit
from tindahan.web import forms, selling, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import MaybeViewer, Merchant

router = make_router()
#: A year: the longest a cache is asked to keep anything (RFC 9111 §5.2.2.1 allows more).
CACHE_FOREVER = "public, max-age=31536000, immutable"


@router.get("/media/{name}")
async def media(request: Request, _viewer: MaybeViewer, name: str) -> Response:
    data = await run_in_threadpool(
        session.platform(request).run, lambda u: photos.rendition(u, name), write=False
    )
    if data is None:
        return Response(status_code=404, headers={"Cache-Control": "no-store"})
    headers = {"Cache-Control": CACHE_FOREVER, "X-Content-Type-Options": "nosniff"}
    return Response(data, media_type="image/webp", headers=headers)


@router.post("/m/products/{product_id}/photos")
async def upload(request: Request, viewer: Merchant, product_id: str) -> Response:
    form = await forms.read(request)
    parsed = await request.form()
    try:
        data = await _bytes(form, parsed.get("file"))
    finally:
        await parsed.close()  # the upload's temporary file, now read
    alt = form.text("alt", max_length=limits.PHOTO_ALT_MAX_LENGTH)
    product = await run_in_threadpool(selling.own_product, request, viewer, product_id)
    if form.ok and data is not None:
        form.values["photo_sha256"] = hashlib.sha256(data).hexdigest()  # the key's fingerprint
        try:
            await run_in_threadpool(
                session.platform(request).run,
                lambda u: photos.may_add(u, viewer.caller, product_id, alt),
                write=False,
            )
            prepared = await run_in_threadpool(photos.prepare, data)

            def work(u: Unit) -> dict[str, Any]:
                return photos.add(u, viewer.caller, product_id, prepared, alt)

            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, {"file": "file", "alt": "alt"})
        else:
            return RedirectResponse(f"/m/products/{product_id}?saved=photo", status_code=303)
    context = {
        "values": selling.product_values(product),
        "photo_values": form.values,
        "errors": form.errors,
    }
    return await run_in_threadpool(selling.product_view_page, request, product, 400, context)


async def _bytes(form: forms.Form, sent: object) -> bytes | None:
    if not isinstance(sent, UploadFile) or not sent.filename:
        form.fail("file", _("Choose a photo (JPEG, PNG or WebP)."))
        return None
    data = await sent.read(limits.PHOTO_MAX_BYTES + 1)
    if not data:
        form.fail("file", _("This file is empty."))
        return None
    return data


@router.post("/m/products/{product_id}/photos/{photo_id}/remove")
async def remove(request: Request, viewer: Merchant, product_id: str, photo_id: str) -> Response:
    form = await forms.read(request)

    def work(u: Unit) -> dict[str, Any]:
        return photos.remove(u, viewer.caller, product_id, photo_id)

    await forms.run_submit(request, viewer, form, work)
    return RedirectResponse(f"/m/products/{product_id}?saved=photo_removed", status_code=303)
