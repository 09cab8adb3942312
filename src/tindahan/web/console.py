"""The operator console: the books, the parties and their KYC tiers, webhooks, the audit log.

For operator staff only (the ``Operator`` dependency: anyone else gets the same 404 page as
a wrong id, so the console's addresses reveal nothing). The figures come from the services
with the staff login's own ``Caller``, which the services check too (``require_operator``).

* ``/op``: the trial balance per currency ledger (``services.platform.books``, computed by the
  database), the escrow held by open orders, and the last ``verify`` run with a button to
  run it now. The last run is kept in the audit log (``ledger.verified``; see
  ``services.platform.books``), not in the page or the session: every process and every staff
  member sees the same last run, with who ran it and when.
* ``/op/parties``, ``/op/parties/{id}``: parties by kind and name; one party's wallets, its
  audit history and the tier/status change, which needs a note and runs once per form
  (``forms.run_submit``), so a double submit writes one audit entry. A party's phone and ID
  numbers are never shown: its view has the phone's last four digits and "ID verified".
* ``/op/disputes``, ``/op/disputes/{id}``: the buyers' disputes, the open ones first, each
  with its order, who sells and who buys, and what escrow holds; one dispute's order (lines,
  parcels, history) and its three resolutions — release to the merchant, refund the buyer
  everything held, or split — each with a required note and run once per form
  (``forms.run_submit``), so a double submit moves the money once. The amounts and the fee
  are the service's (``services.commerce.disputes.resolve``; on a TigerBeetle ledger the API's
  A, ``escrow_cluster.reserve_resolve``, through the two-store order); the page only says
  what it did.
* ``/op/rails``: the rails monitor — bank transfers in flight, rejected and returned (with
  the reason in the viewer's language), the PESONet batches and what waits for the next
  cut-off, inbound transfers and their recalls, and the last reconciled days with their
  breaks (``services.rails.monitor``).
* ``/op/webhooks``: the endpoints and the delivery log of all of them.
* ``/op/sms``: "Sent SMS", the SMS outbox newest first, with the text of what went out (a
  one-time code's digits hidden in a live environment; ``services.platform.sms``).
* ``/op/insights``: the merchants across the country by province and category — merchants,
  active merchants, digital sales and growth, borrowers, outstanding and PAR — over the last
  7, 30, 90 or 365 days, with every figure about fewer than ten merchants withheld ("—")
  and the complementary withholding that keeps it from being subtracted out
  (``insights.aggregates``), and ``/op/insights.csv``, the same table to download.
* ``/op/audit``: the audit log, newest first.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.commerce import disputes, escrow_cluster, orders, shipments
from tindahan.services.insights import aggregates
from tindahan.services.payments import wallets
from tindahan.services.platform import (
    audit,
    books,
    logins,
    onboarding,
    parties,
    sms,
    tiers,
    webhooks,
)
from tindahan.services.rails import monitor
from tindahan.services.unit import Unit
from tindahan.web import forms, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Operator

router = make_router()
PAGE = 25
#: What the console may set a party's status to (closing is done through the API or CLI,
#: with the wallets emptied first).
STATUSES = ("active", "frozen")
_PARTY_FIELDS = {"tier": "tier", "status": "status", "note": "note"}


def _read(request: Request, work: Any) -> Any:
    return session.platform(request).run(work, write=False)


def _cursor(value: str | None) -> str | None:
    """A ``starting_after`` from the address: an id, or nothing."""
    if not value or len(value) > limits.ID_MAX_LENGTH:
        return None
    return value


def labels() -> dict[str, dict[Any, str]]:
    """The words for the services' codes, in the reader's language."""
    return {
        "kind": {"customer": _("Buyer"), "merchant": _("Merchant"), "agent": _("Cash agent")},
        "status": {"active": _("Active"), "frozen": _("Frozen"), "closed": _("Closed")},
        "group": {
            "wallets": _("Wallets"),
            "escrow": _("Escrow"),
            "fees": _("Fees earned"),
            "commissions": _("Agent commissions"),
            "bank": _("Bank"),
            "fx": _("Foreign exchange"),
            "loan_income": _("Loan income"),
            "loans": _("Loans receivable"),
            "loan_losses": _("Loan losses"),
            "equity": _("Operator equity"),
            "other": _("Other"),
        },
        "delivery": {
            "pending": _("Waiting"),
            "delivered": _("Delivered"),
            "failed": _("Failed"),
        },
        "limit": {
            "per_transaction_max_minor": _("Per payment"),
            "daily_outgoing_max_minor": _("Out per day"),
            "monthly_outgoing_max_minor": _("Out per month"),
            "monthly_incoming_max_minor": _("In per month"),
            "max_balance_minor": _("Wallet balance"),
        },
    }


def code_labels() -> dict[int, str]:
    return {
        100: _("Main wallets"),
        110: _("Merchant settlement wallets"),
        120: _("Agent cash float"),
        200: _("Escrow for orders"),
        300: _("Fees earned"),
        310: _("Loan interest earned"),
        320: _("Loan penalties earned"),
        330: _("Recoveries of written-off loans"),
        400: _("Loan principal owed"),
        401: _("Loan interest owed"),
        402: _("Loan fees owed"),
        403: _("Loan penalties owed"),
        410: _("Loan repayment reserve"),
        500: _("Cash-in clearing"),
        510: _("Bank settlement"),
        600: _("FX liquidity"),
        700: _("Agent commissions"),
        720: _("Loan losses"),
        900: _("Operator equity"),
    }


def _names(unit: Unit, viewer: Any, actors: list[str]) -> dict[str, str]:
    return logins.actor_names(unit, viewer.caller, actors)


# --- overview ----------------------------------------------------------------------------------
@router.get("/op")
def overview(request: Request, viewer: Operator) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        last = books.last_verify(unit, viewer.caller)
        return {
            "trial": books.trial_balance(unit, viewer.caller),
            "escrow": books.escrow_held(unit, viewer.caller),
            "last": last,
            "names": _names(unit, viewer, [last["actor"]] if last else []),
        }

    return render.page(
        request,
        "console/overview.html",
        labels=labels(),
        codes=code_labels(),
        **_read(request, work),
    )


@router.post("/op/verify")
def run_verify(request: Request, viewer: Operator) -> Response:
    """Run ``verify`` now (CSRF-checked by the router); the result is on ``/op``."""
    books.run_verify(session.platform(request), viewer.caller)
    return RedirectResponse("/op#verify", status_code=303)


# --- parties -----------------------------------------------------------------------------------
@router.get("/op/parties")
def party_list(
    request: Request,
    viewer: Operator,
    kind: str = "",
    q: str = "",
    starting_after: str = "",
) -> Response:
    chosen = kind if kind in ("customer", "merchant", "agent") else None
    search = " ".join(q.split())[: limits.NAME_MAX_LENGTH] or None
    found = _read(
        request,
        lambda unit: parties.list_parties(
            unit,
            viewer.caller,
            PAGE,
            _cursor(starting_after),
            kind=chosen,
            name_contains=search,
        ),
    )
    return render.page(
        request,
        "console/parties.html",
        parties=found,
        kind=chosen or "",
        q=search or "",
        first=not starting_after,
        labels=labels(),
    )


def _party_context(request: Request, viewer: Any, party_id: str) -> dict[str, Any]:
    """Everything the party page shows; "not found" (the 404 page) for an unknown id."""

    def work(unit: Unit) -> dict[str, Any]:
        caller = viewer.caller
        party = parties.get(unit, caller, party_id)
        history = audit.list_entries(unit, caller, PAGE, object_id=party_id)["data"]
        return {
            "party": party,
            "wallets": wallets.list_wallets(unit, caller, 10, None, party_id)["data"],
            "history": history,
            "tiers": tiers.list_tiers(unit, caller)["data"],
            "documents": onboarding.documents(unit, caller, party_id),
            "names": _names(unit, viewer, [e["actor"] for e in history]),
        }

    context: dict[str, Any] = _read(request, work)
    context["labels"] = labels()
    context["tier_options"] = [(t["name"], t["name"]) for t in context["tiers"]]
    return context


@router.get("/op/parties/{party_id}")
def party_page(request: Request, party_id: str, viewer: Operator, saved: str = "") -> Response:
    context = _party_context(request, viewer, party_id)
    return render.page(request, "console/party.html", saved=saved == "1", **context)


@router.post("/op/parties/{party_id}")
async def change_party(request: Request, party_id: str, viewer: Operator) -> Response:
    """The tier and status, with the required note; once per idempotency key."""
    form = await forms.read(request)
    context = await run_in_threadpool(_party_context, request, viewer, party_id)
    tier = form.choice("tier", [t["name"] for t in context["tiers"]])
    status = form.choice("status", list(STATUSES))
    note = form.text("note", max_length=limits.AUDIT_NOTE_MAX_LENGTH)
    if form.ok:

        def work(unit: Unit) -> dict[str, Any]:
            return parties.update_party(unit, viewer.caller, party_id, status, tier, note=note)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, _PARTY_FIELDS)
        else:
            return RedirectResponse(f"/op/parties/{party_id}?saved=1", status_code=303)
    return render.page(
        request,
        "console/party.html",
        400,
        values=form.values,
        errors=form.errors,
        saved=False,
        **context,
    )


# --- disputes ----------------------------------------------------------------------------------
#: The list's filter: which disputes (``all``: both, the open ones first).
DISPUTE_FILTERS = ("open", "resolved", "all")
RESOLUTIONS = ("release", "refund", "split")


def order_words() -> dict[str, dict[str, str]]:
    """An order's states and steps as the operator reads them (who did what, by role)."""
    return {
        "states": {
            "pending_payment": _("Waiting for payment"),
            "paid": _("Paid — money in escrow"),
            "shipped": _("Shipped"),
            "delivered": _("Delivered"),
            "completed": _("Completed — money released"),
            "cancelled": _("Cancelled"),
            "refunded": _("Refunded"),
            "disputed": _("Disputed"),
        },
        "actions": {
            "checkout": _("Order placed"),
            "pay": _("Paid into escrow"),
            "cancel": _("Cancelled"),
            "expire": _("Cancelled: not paid in time"),
            "ship": _("Shipped"),
            "deliver": _("Delivered"),
            "confirm": _("The buyer confirmed receipt"),
            "auto_release": _("Released automatically"),
            "refund_partial": _("Part refunded"),
            "refund_full": _("Refunded"),
            "dispute": _("The buyer opened a dispute"),
            "resolve_release": _("Dispute settled: released to the merchant"),
            "resolve_refund": _("Dispute settled: refunded to the buyer"),
            "resolve_split": _("Dispute settled: split"),
        },
        "roles": {
            "buyer": _("by the buyer"),
            "merchant": _("by the merchant"),
            "operator": _("by Tindahan staff"),
            "courier": _("by the courier"),
            "worker": _("automatically"),
        },
        "parcel": {
            "label_created": _("Label created"),
            "picked_up": _("Picked up"),
            "in_transit": _("In transit"),
            "out_for_delivery": _("Out for delivery"),
            "delivered": _("Delivered"),
            "failed_attempt": _("Delivery attempt failed"),
            "returned": _("Returned to the merchant"),
        },
        "dispute": {"open": _("Open"), "resolved": _("Resolved")},
        "resolution": {
            "release": _("Released to the merchant"),
            "refund": _("Refunded to the buyer"),
            "split": _("Split between the buyer and the merchant"),
        },
    }


def _party_names(unit: Unit, viewer: Any, ids: list[str]) -> dict[str, str]:
    """Each party's display name (one read per party, not per order)."""
    return {pid: parties.get(unit, viewer.caller, pid)["name"] for pid in sorted(set(ids))}


@router.get("/op/disputes")
def dispute_list(
    request: Request, viewer: Operator, status: str = "open", starting_after: str = ""
) -> Response:
    chosen = status if status in DISPUTE_FILTERS else "open"

    def work(unit: Unit) -> dict[str, Any]:
        found = disputes.list_disputes(
            unit,
            viewer.caller,
            status=None if chosen == "all" else chosen,
            limit=PAGE,
            starting_after=_cursor(starting_after),
        )
        ids = {d["order_id"] for d in found["data"]}
        by_id = {oid: orders.get(unit, viewer.caller, oid) for oid in sorted(ids)}
        people = [p for o in by_id.values() for p in (o["merchant_id"], o["buyer_id"])]
        return {"disputes": found, "orders": by_id, "names": _party_names(unit, viewer, people)}

    return render.page(
        request,
        "console/disputes.html",
        status=chosen,
        first=not starting_after,
        words=order_words(),
        **_read(request, work),
    )


def _dispute_context(request: Request, viewer: Any, dispute_id: str) -> dict[str, Any]:
    """The dispute, its order and parcels; "not found" (the 404 page) for an unknown id."""

    def work(unit: Unit) -> dict[str, Any]:
        dispute = disputes.get(unit, viewer.caller, dispute_id)
        order = orders.get(unit, viewer.caller, dispute["order_id"])
        return {
            "dispute": dispute,
            "order": order,
            "parcels": shipments.list_for_order(unit, viewer.caller, order["id"])["data"],
            "names": _party_names(unit, viewer, [order["merchant_id"], order["buyer_id"]]),
        }

    context: dict[str, Any] = _read(request, work)
    context["words"] = order_words()
    return context


@router.get("/op/disputes/{dispute_id}")
def dispute_page(request: Request, dispute_id: str, viewer: Operator, done: str = "") -> Response:
    context = _dispute_context(request, viewer, dispute_id)
    return render.page(request, "console/dispute.html", done=done == "1", **context)


def _resolve_refusal(
    form: forms.Form, refusal: RefusalError, resolution: str, held_minor: int
) -> None:
    """The service's refusal beside the field it is about (the whole form for the rest)."""
    fields = {"refund_minor": "split_amount", "note": f"{resolution}_note"}
    texts = {
        "split_invalid": _(
            "A split refunds more than zero and less than the {amount} held. "
            "To give the buyer all of it, use the refund instead."
        ).format(amount=i18n.money(held_minor)),
        "dispute_resolved": _("This dispute is already resolved."),
    }
    if refusal.code in texts:
        form.fail(fields.get(refusal.param or "", forms.FORM_ERROR), texts[refusal.code])
    else:
        form.refusal(refusal, fields)


@router.post("/op/disputes/{dispute_id}/resolve")
async def resolve_dispute(request: Request, dispute_id: str, viewer: Operator) -> Response:
    """Release, refund or split, with the required note; once per idempotency key."""
    form = await forms.read(request)
    resolution = form.values.get("resolution", "")
    note: str | None = None
    refund: int | None = None
    failed: RefusalError | None = None
    if resolution not in RESOLUTIONS:
        form.fail(forms.FORM_ERROR, _("Please choose one of the options."))
    else:
        note = form.text(f"{resolution}_note", max_length=limits.DESCRIPTION_MAX_LENGTH)
        refund = form.money("split_amount") if resolution == "split" else None
    if form.ok:

        def work(unit: Unit) -> dict[str, Any]:
            return disputes.resolve(unit, viewer.caller, dispute_id, resolution, refund, note)

        def reserve(unit: Unit, _: Any) -> tuple[dict[str, Any], Any]:
            who = viewer.caller  # on a TigerBeetle ledger: the API's A, two-store order
            return escrow_cluster.reserve_resolve(unit, who, dispute_id, resolution, refund, note)

        try:
            await forms.run_submit(request, viewer, form, work, reserve, escrow_cluster.RECORD)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            failed = refusal
        else:
            return RedirectResponse(f"/op/disputes/{dispute_id}?done=1", status_code=303)
    context = await run_in_threadpool(_dispute_context, request, viewer, dispute_id)
    if failed is not None:
        _resolve_refusal(form, failed, resolution, context["order"]["escrow"]["held_minor"])
    return render.page(
        request,
        "console/dispute.html",
        400,
        values=form.values,
        errors=form.errors,
        done=False,
        **context,
    )


# --- the rails monitor -------------------------------------------------------------------------
def rails_words() -> dict[str, dict[str, str]]:
    """The monitor's words, translated when the page is drawn (in the viewer's language)."""
    return {
        "rails": {"instapay": "InstaPay", "pesonet": "PESONet"},
        "words": {
            "pending": _("In flight"),
            "settled": _("Arrived"),
            "rejected": _("Rejected"),
            "returned": _("Returned"),
        },
        "inbound_words": {
            "credited": _("Credited"),
            "rejected": _("Rejected"),
            "returned": _("Returned"),
        },
        "recall_words": {
            "pending": _("Waiting for a decision"),
            "accepted": _("Accepted: money sent back"),
            "rejected": _("Refused"),
        },
        "kinds": {
            "missing_ours": _("Missing on our side"),
            "missing_theirs": _("Missing on theirs"),
            "amount_mismatch": _("Amount mismatch"),
            "date_mismatch": _("Date mismatch"),
        },
    }


@router.get("/op/rails")
def rails_monitor(request: Request, viewer: Operator) -> Response:
    found: dict[str, Any] = _read(request, lambda unit: monitor.overview(unit, viewer.caller))
    words: dict[str, Any] = rails_words()
    return render.page(request, "console/rails.html", **words, **found)


# --- webhooks ----------------------------------------------------------------------------------
@router.get("/op/webhooks")
def webhook_log(request: Request, viewer: Operator, starting_after: str = "") -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        return {
            "endpoints": webhooks.list_endpoints(unit, viewer.caller)["data"],
            "deliveries": webhooks.list_all_deliveries(
                unit, viewer.caller, PAGE, _cursor(starting_after)
            ),
        }

    found = _read(request, work)
    urls = {e["id"]: e["url"] for e in found["endpoints"]}
    return render.page(
        request,
        "console/webhooks.html",
        urls=urls,
        first=not starting_after,
        labels=labels(),
        **found,
    )


# --- SMS ----------------------------------------------------------------------------------------
def sms_words() -> dict[str, dict[str, str]]:
    return {
        "sms_status": {
            "pending": _("Waiting"),
            "sent": _("Sent"),
            "failed": _("Failed"),
            "skipped": _("Not sent (no phone number)"),
        },
        "sms_kind": {
            "payment_received": _("Payment received"),
            "payment_sent": _("Payment sent"),
            "cash_in": _("Cash-in"),
            "loan_due": _("Loan due tomorrow"),
            "loan_overdue": _("Loan overdue"),
            "code_signup": _("Sign-up code"),
            "code_reset": _("PIN reset code"),
            "signin_throttled": _("Sign-in attempts notice"),
        },
    }


@router.get("/op/sms")
def sms_log(request: Request, viewer: Operator, starting_after: str = "") -> Response:
    found = _read(
        request, lambda u: sms.list_messages(u, viewer.caller, PAGE, _cursor(starting_after))
    )
    words: dict[str, Any] = sms_words()
    return render.page(
        request, "console/sms.html", messages=found, first=not starting_after, **words
    )


# --- the operator's aggregates (issue 26, item 6) ----------------------------------------------
#: The periods the page offers (days); anything else in the address is read as 30.
AGGREGATE_PERIODS = (7, 30, 90, 365)


def _period(raw: str) -> int:
    text = raw.strip()
    if text.isdigit() and int(text) in AGGREGATE_PERIODS:
        return int(text)
    return limits.INSIGHTS_DEFAULT_AGGREGATE_DAYS


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row for the page: the ratios as ``Decimal`` for the percent filter."""
    out = dict(row)
    for name in ("growth", "par1", "par30"):
        if out[name] is not None:
            out[name] = Decimal(out[name])
    return out


@router.get("/op/insights")
def insights_aggregates(request: Request, viewer: Operator, days: str = "") -> Response:
    period = _period(days)
    report = _read(request, lambda u: aggregates.merchant_aggregates(u, viewer.caller, period))
    return render.page(
        request,
        "console/insights.html",
        report=report,
        days=period,
        periods=AGGREGATE_PERIODS,
        provinces=[_shown(r) for r in report["by_province"]],
        categories=[_shown(r) for r in report["by_category"]],
        cells=[_shown(r) for r in report["cells"]],
        total=_shown(report["total"]),
    )


@router.get("/op/insights.csv")
def insights_aggregates_csv(request: Request, viewer: Operator, days: str = "") -> Response:
    period = _period(days)
    report = _read(request, lambda u: aggregates.merchant_aggregates(u, viewer.caller, period))
    return Response(
        aggregates.to_csv(report),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="merchant-aggregates-{period}d.csv"'
        },
    )


# --- audit log ---------------------------------------------------------------------------------
@router.get("/op/audit")
def audit_log(request: Request, viewer: Operator, starting_after: str = "") -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        entries = audit.list_entries(unit, viewer.caller, PAGE, _cursor(starting_after))
        return {
            "entries": entries,
            "names": _names(unit, viewer, [e["actor"] for e in entries["data"]]),
        }

    return render.page(
        request, "console/audit.html", first=not starting_after, **_read(request, work)
    )
