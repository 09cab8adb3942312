"""The loan pages: a merchant's offer, disclosed in full before the accept button, the
loan's repayment progress with a repay-from-wallet form, and the operator's portfolio.

Every figure shown is the services' own (``loan_offers``, ``loans``, ``loan_reports``):
the page formats centavos and rates, it computes none. The offer page shows the whole
Truth-in-Lending disclosure (RA 3765, BSP Circular 730) next to a form that needs a tick
in "I have read the disclosure"; accepting and repaying move money, so both run once per
idempotency key (``forms.run_submit``). Another merchant's offer or loan is "not found"
because the services say so for the viewer's caller, not because the page checks.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan.payments.access import Caller
from tindahan.payments.errors import Category, RefusalError
from tindahan.services import loan_offers, loan_reports, loans, wallets
from tindahan.services.platform import Unit
from tindahan.web import charts, forms, i18n, render, session
from tindahan.web.app import router as make_router
from tindahan.web.i18n import _
from tindahan.web.session import Merchant, Operator

router = make_router()
CONFIRM = "confirm"
AMOUNT = "amount"
_PPM = 1_000_000


def _read(request: Request, work: Any) -> Any:
    return session.platform(request).run(work, write=False)


# --- the merchant's offers -------------------------------------------------------------------
def _offers_data(unit: Unit, caller: Caller) -> dict[str, Any]:
    """The open offers, and the merchant's loans (the active one first)."""
    offers = loan_offers.list_offers(unit, caller)["data"]
    made = loans.list_loans(unit, caller)["data"]
    return {
        "offers": [_with_share(o) for o in offers if o["status"] == "open"],
        "active": [x for x in made if x["status"] == "active"],
        "past": [x for x in made if x["status"] != "active"],
    }


def _with_share(found: dict[str, Any]) -> dict[str, Any]:
    """The share of each sale set aside, as a fraction for the ``percent`` filter."""
    return {**found, "auto_deduct_share": Decimal(found["auto_deduct_bps"]) / 10_000}


@router.get("/m/loans")
def merchant_loans(request: Request, viewer: Merchant) -> Response:
    data = _read(request, lambda u: _offers_data(u, viewer.caller))
    return render.page(request, "loans/offers.html", failed=None, **data)


@router.post("/m/loans/offers/{offer_id}/accept")
async def accept_offer(request: Request, viewer: Merchant, offer_id: str) -> Response:
    caller = viewer.caller
    form = await forms.read(request)
    # Someone else's offer (or none) is the 404 page before anything about the form.
    await run_in_threadpool(_read, request, lambda u: loan_offers.get_offer(u, caller, offer_id))
    if form.values.get(CONFIRM) != "yes":
        form.fail(CONFIRM, _("Please tick this box after reading the disclosure."))
    if form.ok:
        try:
            loan = await forms.run_submit(
                request, viewer, form, lambda u: loan_offers.accept(u, caller, offer_id)
            )
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal)
        else:
            return RedirectResponse(f"/m/loans/{loan['id']}?done=accepted", status_code=303)
    data = await run_in_threadpool(_read, request, lambda u: _offers_data(u, caller))
    return render.page(
        request,
        "loans/offers.html",
        400,
        values=form.values,
        errors=form.errors,
        failed=offer_id,
        **data,
    )


# --- one loan --------------------------------------------------------------------------------
def _line_state(line: dict[str, Any], today: date) -> str:
    if line["status"] == "paid":
        return "paid"
    return "late" if date.fromisoformat(line["due_date"]) < today else "due"


def _loan_data(unit: Unit, caller: Caller, loan_id: str) -> dict[str, Any]:
    """The loan, its current schedule (paid lines of earlier versions kept; lines replaced
    by a re-amortisation left out), its transactions, and the main wallet's balance."""
    loan = loans.get(unit, caller, loan_id)
    today = loans.today(unit)
    every = loans.schedule(unit, caller, loan_id)["data"]
    lines = [
        {**line, "state": _line_state(line, today)}
        for line in every
        if line["status"] != "restructured"
    ]
    lines.sort(key=lambda x: (x["due_date"], x["seq"], x["version"]))
    found = wallets.list_wallets(unit, caller, 10, None, None)["data"]
    main = next((w for w in found if w["kind"] == "main"), None)
    paid = sum(loan["paid"].values())
    return {
        "loan": loan,
        "lines": lines,
        "transactions": loans.transactions(unit, caller, loan_id)["data"],
        "paid_minor": paid,
        "left_minor": sum(x["unpaid_minor"] for x in lines),
        "late_count": sum(1 for x in lines if x["state"] == "late"),
        "reworked": any(x["status"] == "restructured" for x in every),
        "wallet": main,
        "today": today.isoformat(),
    }


@router.get("/m/loans/{loan_id}")
def loan_page(request: Request, viewer: Merchant, loan_id: str, done: str = "") -> Response:
    data = _read(request, lambda u: _loan_data(u, viewer.caller, loan_id))
    return render.page(request, "loans/loan.html", done=done, **data)


@router.post("/m/loans/{loan_id}/repayments")
async def repay(request: Request, viewer: Merchant, loan_id: str) -> Response:
    caller = viewer.caller
    form = await forms.read(request)
    data = await run_in_threadpool(_read, request, lambda u: _loan_data(u, caller, loan_id))
    amount = form.money(AMOUNT)
    if form.ok and amount is not None:
        try:
            await forms.run_submit(
                request, viewer, form, lambda u: loans.repay(u, caller, loan_id, amount)
            )
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, {"amount_minor": AMOUNT, "currency": AMOUNT})
        else:
            return RedirectResponse(f"/m/loans/{loan_id}?done=repaid", status_code=303)
    return render.page(
        request, "loans/loan.html", 400, values=form.values, errors=form.errors, done="", **data
    )


# --- the operator's portfolio ------------------------------------------------------------------
def _ppm(ratio: str) -> int:
    """A PAR fraction (6 places, from ``lending.delinquency.par``) as whole millionths."""
    return int(Decimal(ratio) * _PPM)


def _percent_of_ppm(value: int) -> str:
    return i18n.percent(Decimal(value) / _PPM)


def _province(name: str) -> str:
    return _("Unknown") if name == "unknown" else name


def portfolio_charts(report: dict[str, Any]) -> dict[str, charts.Chart]:
    provinces = report["by_province"]
    outstanding = [(_province(p["province"]), p["outstanding_minor"]) for p in provinces]
    par30 = [(_province(p["province"]), _ppm(p["par30"])) for p in provinces]
    return {
        "outstanding": charts.bars(outstanding, text=i18n.money),
        "par30": charts.bars(par30, text=_percent_of_ppm),
    }


@router.get("/op/loans")
def portfolio(request: Request, viewer: Operator) -> Response:
    report = _read(request, lambda u: loan_reports.portfolio(u, viewer.caller))
    return render.page(
        request,
        "loans/portfolio.html",
        report=report,
        charts=portfolio_charts(report),
        province=_province,
    )


@router.get("/op/loans/tape.csv")
def loan_tape(request: Request, viewer: Operator) -> Response:
    """Every loan, one CSV row each: the same text as the API's ``/v1/loan_tape``."""
    text = _read(request, lambda u: loan_reports.tape(u, viewer.caller))
    response = Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="loan-tape.csv"'},
    )
    render.secure(response, signed_in=True)
    return response
