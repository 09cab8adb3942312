"""The merchant's categories page: make, rename and remove the shelves products go on.

Which shelf a product is on is chosen on the product's own page (``web.selling``); this
page lists the shelves with how many products each holds. Removing one asks first (a
second step names what happens: the products stay on sale, on no shelf).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog, categories
from tindahan.services.unit import Unit
from tindahan.web import forms, render, session
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()


def _data(request: Request, viewer: Any) -> dict[str, Any]:
    def work(u: Unit) -> dict[str, Any]:
        store = catalog.own_storefront(u, viewer.caller)
        shelves = [] if store is None else categories.listed(u, viewer.caller, store["id"])["data"]
        return {"store": store, "shelves": shelves}

    return session.platform(request).run(work, write=False)


def _page(request: Request, found: dict[str, Any], status: int = 200, **context: Any) -> Response:
    context.setdefault("saved", "")
    context.setdefault("confirm", None)
    return render.page(
        request,
        "selling/categories.html",
        status,
        max_categories=limits.MAX_CATEGORIES,
        **found,
        **context,
    )


@router.get("/m/categories")
def categories_page(
    request: Request, viewer: Merchant, saved: str = "", remove: str = ""
) -> Response:
    found = _data(request, viewer)
    confirm = next((c for c in found["shelves"] if c["id"] == remove), None)
    return _page(request, found, saved=saved, confirm=confirm)


@router.post("/m/categories")
async def category_add(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    found = await run_in_threadpool(_data, request, viewer)
    name = form.text("name", max_length=limits.CATEGORY_NAME_MAX_LENGTH)
    store = found["store"]
    if form.ok and store is not None:

        def work(u: Unit) -> dict[str, Any]:
            return categories.create(u, viewer.caller, store["id"], name)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, {"name": "name"})
        else:
            return RedirectResponse("/m/categories?saved=added", status_code=303)
    return _page(request, found, 400, values=form.values, errors=form.errors)


@router.post("/m/categories/{category_id}")
async def category_rename(request: Request, viewer: Merchant, category_id: str) -> Response:
    form = await forms.read(request)
    field = "name_" + category_id
    name = form.text(field, max_length=limits.CATEGORY_NAME_MAX_LENGTH)
    if form.ok:

        def work(u: Unit) -> dict[str, Any]:
            return categories.rename(u, viewer.caller, category_id, name)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            form.refusal(refusal, {"name": field})
        else:
            return RedirectResponse("/m/categories?saved=renamed", status_code=303)
    found = await run_in_threadpool(_data, request, viewer)
    return _page(request, found, 400, values=form.values, errors=form.errors)


@router.post("/m/categories/{category_id}/remove")
async def category_remove(request: Request, viewer: Merchant, category_id: str) -> Response:
    form = await forms.read(request)

    def work(u: Unit) -> dict[str, Any]:
        return categories.remove(u, viewer.caller, category_id)

    await forms.run_submit(request, viewer, form, work)
    return RedirectResponse("/m/categories?saved=removed", status_code=303)
