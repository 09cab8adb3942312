"""Cash in (issue 21, item 6): the buyer's page saying where to take cash and what to tell
the agent — the nearest agents by place (``services.payments.agents``: same city or
municipality, then province, then the rest) and the buyer's cash-in code, as text and as a
QR code the agent scans into their cash-in. Read-only: the money moves when the agent cashs
in (``POST /v1/cash_ins``), and the buyer sees it on the home page and in notifications.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tindahan.services.payments import agents
from tindahan.services.qr import codes as qrcodes
from tindahan.services.unit import Unit
from tindahan.web import render, session
from tindahan.web.router import router as make_router
from tindahan.web.session import Customer

router = make_router()


async def _guide(request: Request, viewer: Customer) -> dict[str, Any]:
    def work(unit: Unit) -> dict[str, Any]:
        return agents.cash_in_at(unit, viewer.caller)

    found: dict[str, Any] = await run_in_threadpool(
        session.platform(request).run, work, write=False
    )
    return found


@router.get("/b/cash-in")
async def cash_in_page(request: Request, viewer: Customer) -> Response:
    return render.page(request, "buyer/cash_in.html", guide=await _guide(request, viewer))


@router.get("/b/cash-in/qr.svg")
async def cash_in_qr(request: Request, viewer: Customer) -> Response:
    guide = await _guide(request, viewer)
    response = Response(qrcodes.svg(guide["code"]), media_type="image/svg+xml")
    render.secure(response, signed_in=True)
    return response
