"""Withdraw: the merchant moves sales from the settlement wallet to the main wallet, and sets
the automatic daily payout.

The page shows what may be withdrawn now and why not more (what stays for refunds of the last
days' sales and for the loan's next installment: ``services.payouts.payouts.available``).
Withdrawing takes two steps: the amount is checked and shown back with where it goes
(``/m/withdraw/review``), and only "Confirm" moves money — once per form, by the form's
idempotency key, so a double tap withdraws once. The automatic payout's settings are a
second form on the same page. Bank accounts as a destination wait for the rails.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.payouts import payouts, settings
from tindahan.services.unit import Unit
from tindahan.web import forms, i18n, messages, render, session
from tindahan.web.i18n import _
from tindahan.web.merchant import pesos
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()

RECENT = 10
FIELDS = {"amount_minor": "amount", "time_of_day": "time", "keep_minor": "keep"}


def failure_text(payout: dict[str, Any]) -> str:
    """Why an automatic payout was not made, in the reader's language where the code is one
    people meet (``web.messages``)."""
    failure = payout["failure"] or {}
    refusal = RefusalError(Category.REFUSED, failure.get("code", ""), failure.get("message", ""))
    return messages.refusal_text(refusal)


def status_text(payout: dict[str, Any]) -> str:
    if payout["status"] == "succeeded":
        return _("Done")
    return _("Not done")


def _shown(unit: Unit, caller: Caller) -> dict[str, Any]:
    return {
        "figures": payouts.available(unit, caller),
        "settings": settings.get(unit, caller),
        "recent": payouts.list_payouts(unit, caller, RECENT, None)["data"],
    }


def _page(request: Request, viewer: Merchant, status_code: int = 200, **extra: Any) -> Response:
    shown = session.platform(request).run(lambda u: _shown(u, viewer.caller), write=False)
    setting = shown["settings"]
    defaults = {
        "enabled": "1" if setting["enabled"] else "",
        "time": setting["time_of_day"],
        "keep": pesos(setting["keep_minor"]),
    }
    extra["setting_values"] = {**defaults, **extra.get("setting_values", {})}
    extra.setdefault("setting_errors", {})
    return render.page(
        request,
        "merchant/withdraw.html",
        status_code,
        status_text=status_text,
        failure_text=failure_text,
        refund_days=limits.PAYOUT_REFUND_WINDOW_DAYS,
        **shown,
        **extra,
    )


@router.get("/m/withdraw")
def withdraw_page(request: Request, viewer: Merchant) -> Response:
    return _page(request, viewer)


@router.post("/m/withdraw/review")
async def review(request: Request, viewer: Merchant) -> Response:
    """The amount checked against what is available now, and shown back for confirmation;
    nothing moves here."""
    form = await forms.read(request)
    amount = form.money("amount")
    if form.ok and amount is not None:
        figures = await run_in_threadpool(
            session.platform(request).run,
            lambda u: payouts.available(u, viewer.caller),
            write=False,
        )
        if amount > figures["available_minor"]:
            most = i18n.money(figures["available_minor"])
            form.fail("amount", _("You can withdraw at most {amount} now.").format(amount=most))
        else:
            return render.page(
                request,
                "merchant/withdraw_confirm.html",
                amount_minor=amount,
                amount_text=pesos(amount),
                figures=figures,
            )
    return await run_in_threadpool(
        _page, request, viewer, 400, values=form.values, errors=form.errors
    )


@router.post("/m/withdraw")
async def confirm(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    amount = form.money("amount")
    if form.ok and amount is not None:
        caller = viewer.caller
        new = payouts.NewPayout(amount)
        try:
            made = await forms.run_submit(
                request, viewer, form, lambda u: payouts.create(u, caller, new)
            )
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, FIELDS)
        else:
            return RedirectResponse(f"/m/withdraw?done={made['id']}", status_code=303)
    return await run_in_threadpool(
        _page, request, viewer, 400, values=form.values, errors=form.errors
    )


@router.post("/m/withdraw/settings")
async def save_settings(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    keep = form.money("keep", required=False, allow_zero=True)
    clock = form.values.get("time", "")
    if form.ok:
        caller = viewer.caller
        new = settings.NewSettings(
            enabled=form.values.get("enabled") == "1",
            time_of_day=clock,
            keep_minor=keep or 0,
        )
        try:
            await forms.run_submit(
                request, viewer, form, lambda u: settings.update_settings(u, caller, new)
            )
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, FIELDS)
        else:
            return RedirectResponse("/m/withdraw?saved=1", status_code=303)
    return await run_in_threadpool(
        _page,
        request,
        viewer,
        400,
        setting_values=form.values,
        setting_errors=form.errors,
    )
