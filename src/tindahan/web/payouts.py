"""Withdraw: the merchant moves sales from the settlement wallet to the main wallet, and sets
the automatic daily payout.

The page shows what may be withdrawn now and why not more (what stays for refunds of the last
days' sales and for the loan's next installment: ``services.payouts.payouts.available``).
Withdrawing takes two steps: the amount is checked and shown back with where it goes
(``/m/withdraw/review``), and only "Confirm" moves money — once per form, by the form's
idempotency key, so a double tap withdraws once. The automatic payout's settings are a
second form on the same page.

"To a bank account" (a third form) takes the amount the same way, to one of the merchant's
bank accounts: the review shows the rail, fee and arrival (``web.banks``' confirmation
page), and "Confirm" makes the payout and the transfer together
(``services.payouts.banks``); the merchant lands on the transfer's status page.

On a TigerBeetle ledger "Confirm" runs the API route's own A (``payouts.cluster.reserving``)
through the two-store order (``forms.submit``'s ``reserve``/``record``); "To a bank account"
runs ``bank_cluster.reserving`` (the payout and the transfer as one movement).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.payouts import bank_cluster, cluster, payouts, settings
from tindahan.services.payouts import banks as bank_payouts
from tindahan.services.unit import Unit
from tindahan.web import banks, forms, i18n, messages, pin, render, session
from tindahan.web.i18n import _
from tindahan.web.merchant import pesos
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()

RECENT = 10
FIELDS = {
    "amount_minor": "amount",
    "time_of_day": "time",
    "keep_minor": "keep",
    "bank_account_id": "destination",
}


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
        "accounts": banks.account_options(banks.accounts_of(unit, caller)),
        "transfers": banks.recent_transfers(unit, caller),
    }


def _page(request: Request, viewer: Merchant, status_code: int = 200, **extra: Any) -> Response:
    shown = session.platform(request).run(lambda u: _shown(u, viewer.caller), write=False)
    setting = shown["settings"]
    defaults = {
        "enabled": "1" if setting["enabled"] else "",
        "time": setting["time_of_day"],
        "keep": pesos(setting["keep_minor"]),
        "destination": setting["bank_account_id"] or "wallet",
    }
    extra["setting_values"] = {**defaults, **extra.get("setting_values", {})}
    extra.setdefault("setting_errors", {})
    extra.setdefault("bank_values", {})
    extra.setdefault("bank_errors", {})
    return render.page(
        request,
        "merchant/withdraw.html",
        status_code,
        status_text=status_text,
        failure_text=failure_text,
        refund_days=limits.PAYOUT_REFUND_WINDOW_DAYS,
        status_words=banks.status_words,
        rail_name=banks.rail_name,
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
        figures = await _figures(request, viewer)
        if _fits(form, "amount", amount, figures):
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


async def _figures(request: Request, viewer: Merchant) -> dict[str, Any]:
    return await run_in_threadpool(
        session.platform(request).run,
        lambda u: payouts.available(u, viewer.caller),
        write=False,
    )


def _fits(form: forms.Form, field: str, amount: int, figures: dict[str, Any]) -> bool:
    """Whether ``amount`` is at most what may be withdrawn now; else said beside ``field``."""
    if amount <= figures["available_minor"]:
        return True
    most = i18n.money(figures["available_minor"])
    form.fail(field, _("You can withdraw at most {amount} now.").format(amount=most))
    return False


@router.post("/m/withdraw/bank/review")
async def bank_review(request: Request, viewer: Merchant) -> Response:
    """To a bank account: the amount against what is available, then the transfer's rail,
    fee and arrival shown for confirmation; nothing moves here."""
    form = await forms.read(request)
    form.values["amount"] = form.values.pop("bank_amount", "")
    typed = banks.read_transfer_form(form)
    figures = await _figures(request, viewer) if typed is not None else {}
    if typed is not None and _fits(form, "amount", typed[1], figures):
        shown = await banks.review_page(
            request,
            viewer,
            *typed,
            action="/m/withdraw/bank",
            source=_("Settlement wallet"),
            back="/m/withdraw",
            kind="payout",
            available_minor=figures["available_minor"],
        )
        if isinstance(shown, Response):
            return shown
        form.errors.update(shown.errors)
    return await _bank_refused(request, viewer, form)


async def _bank_refused(request: Request, viewer: Merchant, form: forms.Form) -> Response:
    """The page again with the bank form's values and errors (its amount is ``bank_amount``)."""

    def renamed(values: dict[str, str]) -> dict[str, str]:
        return {("bank_amount" if k == "amount" else k): v for k, v in values.items()}

    return await run_in_threadpool(
        _page,
        request,
        viewer,
        400,
        bank_values=renamed(form.values),
        bank_errors=renamed(form.errors),
    )


@router.post("/m/withdraw/bank")
async def bank_confirm(request: Request, viewer: Merchant) -> Response:
    """The payout and the transfer, together, once per form; then the transfer's page."""
    form = await forms.read(request)
    typed = banks.read_transfer_form(form)
    if typed is not None and not await pin.confirmed(request, viewer, form):
        shown = await banks.review_page(
            request,
            viewer,
            *typed,
            action="/m/withdraw/bank",
            source=_("Settlement wallet"),
            back="/m/withdraw",
            errors=form.errors,
            kind="payout",
        )
        if isinstance(shown, Response):
            return shown
        form.errors.update(shown.errors)
        typed = None
    if typed is not None:
        new = bank_payouts.NewBankPayout(*typed)

        def work(unit: Unit) -> dict[str, Any]:
            made = bank_payouts.create(unit, viewer.caller, new)
            return {"id": made["bank_transfer"]["id"]}

        try:  # a TigerBeetle ledger: one two-store movement (``bank_cluster``)
            made = await forms.run_submit(
                request,
                viewer,
                form,
                work,
                bank_cluster.reserving(viewer.caller, new),
                bank_cluster.RECORD,
            )
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, FIELDS | banks.FIELDS)
        else:
            return RedirectResponse(f"/m/transfers/{made['id']}", status_code=303)
    return await _bank_refused(request, viewer, form)


@router.post("/m/withdraw")
async def confirm(request: Request, viewer: Merchant) -> Response:
    form = await forms.read(request)
    amount = form.money("amount")
    if form.ok and amount is not None:
        caller = viewer.caller
        new = payouts.NewPayout(amount)
        try:
            made = await forms.run_submit(
                request,
                viewer,
                form,
                lambda u: payouts.create(u, caller, new),
                cluster.reserving(caller, new),  # a TigerBeetle ledger: the API's A
                cluster.RECORD,
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
        where = form.values.get("destination", "wallet") or "wallet"
        new = settings.NewSettings(
            enabled=form.values.get("enabled") == "1",
            time_of_day=clock,
            keep_minor=keep or 0,
            destination="wallet" if where == "wallet" else "bank_account",
            bank_account_id=None if where == "wallet" else where,
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
