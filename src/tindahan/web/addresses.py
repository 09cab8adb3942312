"""The buyer's address book page: the addresses they deliver to, adding one, removing one.

The book is also filled from the checkout (a new address typed there is saved). Everything
is done as the signed-in customer's own ``Caller``, so another buyer's address id is "no
such address" (the 404 page). Each form runs once per idempotency key; the stored answer is
the address id only, so no personal data rests in the idempotency table.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import addresses
from tindahan.services.unit import Unit
from tindahan.web import delivery, forms, render, session
from tindahan.web.router import router as make_router
from tindahan.web.session import Customer

router = make_router()


async def _page(
    request: Request, viewer: Any, status: int = 200, form: forms.Form | None = None
) -> Response:
    book = await run_in_threadpool(
        session.platform(request).run, lambda u: delivery.book_of(u, viewer), write=False
    )
    context: dict[str, Any] = {"book": book, "address_labels": delivery.labels()}
    if form is not None:
        context.update(values=form.values, errors=form.errors)
    return render.page(request, "buyer/addresses.html", status, **context)


@router.get("/b/addresses")
async def show(request: Request, viewer: Customer) -> Response:
    return await _page(request, viewer)


@router.post("/b/addresses")
async def add(request: Request, viewer: Customer) -> Response:
    form = await forms.read(request)
    raw = delivery.typed(form)
    if raw is None:
        return await _page(request, viewer, 400, form)

    def work(unit: Unit) -> dict[str, Any]:
        return {"id": addresses.add(unit, viewer.caller, raw)["id"]}

    try:
        await forms.run_submit(request, viewer, form, work)
    except RefusalError as refusal:
        if not delivery.place(form, refusal):
            form.refusal(refusal)
        return await _page(request, viewer, 400, form)
    return RedirectResponse("/b/addresses", status_code=303)


@router.post("/b/addresses/{address_id}/remove")
async def remove(request: Request, viewer: Customer, address_id: str) -> Response:
    form = await forms.read(request)

    def work(unit: Unit) -> dict[str, Any]:
        return {"id": addresses.remove(unit, viewer.caller, address_id)["id"]}

    await forms.run_submit(request, viewer, form, work)
    return RedirectResponse("/b/addresses", status_code=303)
