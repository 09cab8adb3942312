"""The loan pages: a merchant's offer, disclosed in full before the accept button, the
loan's repayment progress with a repay-from-wallet form, and the operator's portfolio.

Every figure shown is the services' own (``loan_offers``, ``loans``, ``loan_reports``):
the page formats centavos and rates, it computes none. The offer page shows the whole
Truth-in-Lending disclosure (RA 3765, BSP Circular 730) next to a form that needs a tick
in "I have read the disclosure"; accepting and repaying move money, so both run once per
idempotency key (``forms.run_submit``); on a TigerBeetle deployment both hand the API
route's own A (``loan_cluster.reserving``, ``repayment_cluster.reserving``) with its record
to the two-store order. Another merchant's offer or loan is "not found" because the services
say so for the viewer's caller, not because the page checks.

**The merchant's own credit check.** The Data Privacy Act (RA 10173) lets a person see the
reasons for an automated decision about them, and credit scoring is one: the loans page shows
the newest assessment (``credit.latest``) — when it was made, the score in points or "not
enough history yet", and its reasons in the reader's language (``web.reasons``). The
probability of default is **not** shown to the merchant, as a bare number or otherwise: a
score in points with the reasons behind it is what lenders usually show (a "7.3%" reads like
an interest rate or a verdict on the person, and gives no way to act on it); the reasons say
what to change. The probability stays in the assessment for the operator and the API, and a
refused offer is explained without it (``messages``' text for ``credit_not_approved``, not
the service's sentence that quotes it). "Check my credit now" assesses again, once per
idempotency key, and — when the check is scored, the merchant has no open loan or offer,
and an active product lends at that probability — asks for an offer in the same
transaction; a refused offer is reported beside the check, never as its failure.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan.insights import score as score_actions
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.credit import assessments as credit
from tindahan.services.insights import loan_fit
from tindahan.services.lending import loans
from tindahan.services.lending import offers as loan_offers
from tindahan.services.lending import reports as loan_reports
from tindahan.services.payments import loan_cluster, repayment_cluster, wallets
from tindahan.services.unit import Unit
from tindahan.web import charts, forms, i18n, messages, pin, reasons, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant, Operator

router = make_router()
CONFIRM = "confirm"
AMOUNT = "amount"
_PPM = 1_000_000


def _read(request: Request, work: Any) -> Any:
    return session.platform(request).run(work, write=False)


# --- the merchant's offers -------------------------------------------------------------------
def _offers_data(unit: Unit, caller: Caller) -> dict[str, Any]:
    """The open offers, the merchant's loans (the active one first), and their newest
    credit check with its reasons in words."""
    offers = loan_offers.list_offers(unit, caller)["data"]
    made = loans.list_loans(unit, caller)["data"]
    check = credit.latest(unit, caller)
    open_offers = [_with_share(o) for o in offers if o["status"] == "open"]
    daily: list[int] = []
    if open_offers and caller.party_id is not None:
        daily = loan_fit.daily_sales(unit, caller, caller.party_id)
    return {
        "offers": [{**o, "fit": _fit(o, daily)} for o in open_offers],
        "active": [x for x in made if x["status"] == "active"],
        "past": [x for x in made if x["status"] != "active"],
        "check": check,
        "check_reasons": _reason_sentences(check) if check else [],
        "check_actions": _actions(check) if check else [],
        "check_error": None,
    }


def _fit(offer: dict[str, Any], daily: list[int]) -> dict[str, Any] | None:
    """Whether the largest installment fits the merchant's usual sales: the advice's words."""
    found = loan_fit.advice(offer, daily)
    if found is None:
        return None
    times = i18n.number(found.cover) if found.cover is not None else ""
    words = {
        "comfortable": _(
            "Your sales usually cover this installment {times} times: it fits with room to spare."
        ),
        "fits": _(
            "Your sales usually cover this installment {times} times: it fits, with a small margin."
        ),
        "tight": _(
            "Your sales usually cover this installment only {times} times: it may be hard to "
            "pay. Think about a smaller amount."
        ),
        "rarely": _(
            "In most periods your sales did not reach this installment: it may be hard to pay. "
            "Think about a smaller amount."
        ),
        "unknown": _("You have no sales on Tindahan yet to compare this installment with."),
    }
    return {"level": found.level, "text": words[found.level].format(times=times)}


def _action_words() -> dict[str, str]:
    """What would raise the score (``insights.score``), as actions in the reader's language."""
    return {
        "sell_here": _(
            "Take more of your sales through Tindahan: QR, payment requests and your online shop."
        ),
        "regular_days": _(
            "Sell on more days each week, even small amounts: steady sales days count."
        ),
        "buyers_by_qr": _("Ask more of your buyers, your regulars too, to pay by your QR code."),
        "fewer_refunds": _(
            "Describe your products fully and ship on time, so fewer orders end in a refund "
            "or a dispute."
        ),
        "keep_balance": _(
            "Leave part of your sales in your wallet instead of cashing out all of it at once."
        ),
        "pay_on_time": _("Pay each installment on or before its due date."),
    }


def _actions(check: dict[str, Any]) -> list[str]:
    words = _action_words()
    return [words[a] for a in score_actions.actions(r.get("code", "") for r in check["reasons"])]


def _reason_sentences(check: dict[str, Any]) -> list[str]:
    found = (reasons.reason_text(r, check["features"]) for r in check["reasons"])
    return [text[:1].upper() + text[1:] for text in found if text]


def _with_share(found: dict[str, Any]) -> dict[str, Any]:
    """The share of each sale set aside, as a fraction for the ``percent`` filter."""
    return {**found, "auto_deduct_share": Decimal(found["auto_deduct_bps"]) / 10_000}


@router.get("/m/loans")
def merchant_loans(
    request: Request, viewer: Merchant, checked: str = "", offer: str = ""
) -> Response:
    data = _read(request, lambda u: _offers_data(u, viewer.caller))
    notice = _checked_notice(offer) if checked else ""
    return render.page(request, "loans/offers.html", failed=None, notice=notice, **data)


# --- the merchant's credit check -------------------------------------------------------------
OFFER_MADE = "made"


def _checked_notice(offer: str) -> str:
    """What the check after "Check my credit now" led to. ``offer`` comes from the URL: only
    a refusal code with a sentence in ``messages`` is put in words, never the URL's text."""
    if offer == OFFER_MADE:
        return _("Your credit was checked. A loan offer is ready for you: read it below.")
    if not offer:
        return _("Your credit was checked.")
    why = messages.refusal_text(RefusalError(Category.CONFLICT, offer, "", None))
    if why:
        return _("Your credit was checked, but no loan offer could be made. {why}").format(why=why)
    return _("Your credit was checked, but no loan offer could be made this time.")


def _product_for(unit: Unit, caller: Caller, probability: Decimal) -> dict[str, Any] | None:
    """Of the active products that lend at this probability of default, the one that lends
    the most (then the cheapest, then the oldest)."""
    found = [
        p
        for p in loan_offers.list_products(unit, caller)["data"]
        if p["status"] == "active" and probability <= Decimal(p["max_probability"])
    ]
    found.sort(key=lambda p: (-p["max_principal_minor"], Decimal(p["rate_min"])))
    return found[0] if found else None


def _offer_after(unit: Unit, caller: Caller, check: dict[str, Any]) -> str:
    """``OFFER_MADE``, a refusal code, or "" when there was nothing to ask for (not scored,
    a loan or an offer already open, or no product on offer at all)."""
    if check["decision"] != "scored" or check["probability_of_default"] is None:
        return ""
    if any(o["status"] == "open" for o in loan_offers.list_offers(unit, caller)["data"]):
        return ""
    if any(x["status"] == "active" for x in loans.list_loans(unit, caller)["data"]):
        return ""
    products = loan_offers.list_products(unit, caller)["data"]
    if not any(p["status"] == "active" for p in products):
        return ""
    product = _product_for(unit, caller, Decimal(check["probability_of_default"]))
    if product is None:
        return "credit_not_approved"
    try:  # every refusal of create_offer comes before it writes anything
        loan_offers.create_offer(unit, caller, loan_offers.NewOffer(product["id"]))
    except RefusalError as refusal:
        return refusal.code
    return OFFER_MADE


def _check_now(unit: Unit, caller: Caller) -> dict[str, Any]:
    made = credit.assess(unit, caller, None)
    return {"assessment_id": made["id"], "offer": _offer_after(unit, caller, made)}


@router.post("/m/loans/assess")
async def check_credit(request: Request, viewer: Merchant) -> Response:
    caller = viewer.caller
    form = await forms.read(request)
    try:
        done = await forms.run_submit(request, viewer, form, lambda u: _check_now(u, caller))
    except RefusalError as refusal:
        if refusal.category is Category.NOT_FOUND:
            raise
        data = await run_in_threadpool(_read, request, lambda u: _offers_data(u, caller))
        data["check_error"] = messages.refusal_text(refusal)
        return render.page(request, "loans/offers.html", 400, failed=None, notice="", **data)
    query = urlencode({"checked": "1", "offer": done["offer"]})
    return RedirectResponse(f"/m/loans?{query}", status_code=303)


@router.post("/m/loans/offers/{offer_id}/accept")
async def accept_offer(request: Request, viewer: Merchant, offer_id: str) -> Response:
    caller = viewer.caller
    form = await forms.read(request)
    # Someone else's offer (or none) is the 404 page before anything about the form.
    await run_in_threadpool(_read, request, lambda u: loan_offers.get_offer(u, caller, offer_id))
    if form.values.get(CONFIRM) != "yes":
        form.fail(CONFIRM, _("Please tick this box after reading the disclosure."))
    if form.ok and await pin.confirmed(request, viewer, form):
        try:
            loan = await forms.run_submit(
                request,
                viewer,
                form,
                lambda u: loan_offers.accept(u, caller, offer_id),
                loan_cluster.reserving(caller, offer_id),  # on a TigerBeetle ledger
                loan_cluster.RECORD,
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
        notice="",
        **data,
    )


# --- one loan --------------------------------------------------------------------------------
def _line_state(line: dict[str, Any], today: date, cancelled: bool = False) -> str:
    if line["status"] == "paid":
        return "paid"
    if cancelled:  # its disbursement was returned: nothing of the schedule is due
        return "cancelled"
    return "late" if date.fromisoformat(line["due_date"]) < today else "due"


def _loan_data(unit: Unit, caller: Caller, loan_id: str) -> dict[str, Any]:
    """The loan, its current schedule (paid lines of earlier versions kept; lines replaced
    by a re-amortisation left out), its transactions, and the main wallet's balance."""
    loan = loans.get(unit, caller, loan_id)
    today = loans.today(unit)
    every = loans.schedule(unit, caller, loan_id)["data"]
    lines = [
        {**line, "state": _line_state(line, today, loan["status"] == "cancelled")}
        for line in every
        if line["status"] != "restructured"
    ]
    lines.sort(key=lambda x: (x["due_date"], x["seq"], x["version"]))
    found = wallets.list_wallets(unit, caller, 10, None, None)["data"]
    main = next((w for w in found if w["kind"] == "main"), None)
    done = loan["paid"]
    paid = (
        done["principal_minor"] + done["interest_minor"] + done["fee_minor"] + done["penalty_minor"]
    )
    return {
        "loan": loan,
        "lines": lines,
        "transactions": loans.transactions(unit, caller, loan_id)["data"],
        "paid_minor": paid,
        "left_minor": sum(x["unpaid_minor"] for x in lines if x["state"] != "cancelled"),
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
                request,
                viewer,
                form,
                lambda u: loans.repay(u, caller, loan_id, amount),
                repayment_cluster.reserving(caller, loan_id, amount),  # on a TigerBeetle ledger
                repayment_cluster.RECORD,
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
