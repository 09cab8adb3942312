"""Send money to a mobile number (issue 21, item 6): the buyer's "Send money".

Three steps, as GCash and Maya have taught people: the number, the amount and a note; then
a confirmation page that says whom the number reaches (``services.payments.sends.recipient``:
first name and initials) and asks for the PIN (``web.pin``, as paying does); then the send,
once per idempotency key (``forms.run_submit``: a double tap or a resent page sends once;
on a TigerBeetle ledger through the two-store order with ``sends.reserve_mobile``), and its
receipt. Every rule — who may receive, self-sends, the KYC tiers' limits, the risk
gate — is the service's; a refusal lands beside the field it names, and nothing moves.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.services.payments import sends
from tindahan.services.payments.views import PaymentView
from tindahan.services.unit import Unit
from tindahan.web import forms, pin, render, session
from tindahan.web.router import router as make_router
from tindahan.web.session import Customer

router = make_router()
FIELDS = {"mobile": "mobile", "amount_minor": "amount", "note": "note", "pin": "pin"}


def _checked(form: forms.Form) -> tuple[str | None, int | None, str | None]:
    mobile = form.text("mobile", max_length=32)
    amount = form.money("amount")
    note = form.text("note", required=False, max_length=limits.DESCRIPTION_MAX_LENGTH)
    return mobile, amount, note


@router.get("/b/send-money")
async def send_page(request: Request, viewer: Customer) -> Response:
    return render.page(request, "buyer/send_money.html")


@router.post("/b/send-money")
async def to_confirm(request: Request, viewer: Customer) -> Response:
    """The number and amount checked, the recipient named: the confirmation with the PIN."""
    form = await forms.read(request)
    mobile, amount, _note = _checked(form)
    if form.ok and mobile is not None:

        def work(unit: Unit) -> sends.RecipientView:
            return sends.recipient(unit, viewer.caller, mobile)

        try:
            found = await run_in_threadpool(session.platform(request).run, work, write=False)
        except RefusalError as refusal:
            form.refusal(refusal, FIELDS)
        else:
            values = {**form.values, "mobile": found["mobile"]}
            return render.page(
                request, "buyer/send_confirm.html", values=values, recipient=found, amount=amount
            )
    return render.page(
        request, "buyer/send_money.html", 400, values=form.values, errors=form.errors
    )


@router.post("/b/send-money/confirm")
async def send(request: Request, viewer: Customer) -> Response:
    form = await forms.read(request)
    mobile, amount, note = _checked(form)
    if not form.ok or mobile is None or amount is None:
        return render.page(
            request, "buyer/send_money.html", 400, values=form.values, errors=form.errors
        )
    recipient: sends.RecipientView | None = None
    if await pin.confirmed(request, viewer, form):
        new = sends.MobileSend(mobile=mobile, amount_minor=amount, note=note)

        def work(unit: Unit) -> dict[str, Any]:
            return dict(sends.send_to_mobile(unit, viewer.caller, new))

        def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
            return sends.reserve_mobile(unit, ledger, viewer.caller, new)

        try:
            done = await forms.run_submit(request, viewer, form, work, reserve)
        except RefusalError as refusal:
            if refusal.category is Category.IDEMPOTENCY:
                raise
            form.refusal(refusal, FIELDS)
        else:
            return RedirectResponse(f"/b/payments/{done['id']}", status_code=303)
    try:
        recipient = await run_in_threadpool(
            session.platform(request).run,
            lambda unit: sends.recipient(unit, viewer.caller, mobile),
            write=False,
        )
    except RefusalError as refusal:
        form.refusal(refusal, FIELDS)
        return render.page(
            request, "buyer/send_money.html", 400, values=form.values, errors=form.errors
        )
    return render.page(
        request,
        "buyer/send_confirm.html",
        400,
        values=form.values,
        errors=form.errors,
        recipient=recipient,
        amount=amount,
    )
