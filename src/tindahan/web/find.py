"""Finding a payment, order or payment request by its short reference (issue 21, item 8):
what a buyer reads out at the counter, typed by the merchant (``/m/find``) or the operator
(``/op/find``).

The search is the service's (``services.platform.shortrefs.find``), as the signed-in
person's own ``Caller``: a merchant finds only its own, the operator every one, and another
merchant's reference reads "nothing found", like one that does not exist. One order or
request found goes straight to its page where there is one; otherwise the facts are shown
here, each with its short reference large and its long id beside it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import orders
from tindahan.services.payments import payments, requests
from tindahan.services.platform import shortrefs
from tindahan.services.unit import Unit
from tindahan.web import render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant, Operator

router = make_router()
#: Where a merchant sees each kind of object (the operator has no page of its own for them).
MERCHANT_PAGES = {"order": "/m/orders/{id}", "payment_request": "/m/requests/{id}"}


def _load(unit: Unit, caller: Caller, found: list[shortrefs.Found]) -> list[dict[str, Any]]:
    readers = {"payment": payments.get, "order": orders.get, "payment_request": requests.get}
    return [{"object": f.object, **readers[f.object](unit, caller, f.id)} for f in found]


async def _find(request: Request, caller: Caller, text: str) -> tuple[list[Any], str]:
    """The objects found (read as the caller), or an error to show beside the box."""
    if not text.strip():
        return [], ""
    platform = session.platform(request)

    def work(unit: Unit) -> list[dict[str, Any]]:
        return _load(unit, caller, shortrefs.find(unit, caller, text))

    try:
        return await run_in_threadpool(platform.run, work, write=False), ""
    except RefusalError:
        return [], _("A reference is 8 letters and digits, like 7KQ2-M9XD.")


async def _page(request: Request, caller: Caller, ref: str, pages: dict[str, str]) -> Response:
    found, error = await _find(request, caller, ref)
    if len(found) == 1 and found[0]["object"] in pages:
        return RedirectResponse(pages[found[0]["object"]].format(id=found[0]["id"]), 303)
    errors = {"ref": error} if error else {}
    return render.page(
        request, "find.html", values={"ref": ref}, errors=errors, found=found, searched=bool(ref)
    )


@router.get("/m/find")
async def merchant_find(request: Request, viewer: Merchant, ref: str = "") -> Response:
    return await _page(request, viewer.caller, ref[:40], MERCHANT_PAGES)


@router.get("/op/find")
async def operator_find(request: Request, viewer: Operator, ref: str = "") -> Response:
    return await _page(request, viewer.caller, ref[:40], {})
