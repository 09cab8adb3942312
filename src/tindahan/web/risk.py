"""The console's risk pages: the alert queue, cases and their decisions, the rules' modes,
screening hits, and the reports to file.

Operator staff only (the ``Operator`` dependency: anyone else gets the 404 page). The page
only asks and shows; the services decide (``services.risk.cases``, ``rules``, ``reports``
and ``services.platform.screening``), with the staff login's ``Caller``, and every change
runs once per form (``forms.run_submit``): a double submit decides once.

* ``/op/risk``: the open alerts, reviews before reports, newest first, each with its case;
* ``/op/risk/cases`` and ``/op/risk/cases/{id}``: the cases by status; one case with its
  evidence (each movement, the rule and its version, the values that tripped it), notes,
  assignment, and the decisions. Returning the money and freezing the party are asked
  twice: the first press shows what will happen, and only the confirmation does it. Each
  alert that still holds money is settled on its own from its line of the evidence (how the
  money of a case closed by *freeze* or *report* is released or returned): *release* or
  *return*, asked twice with the note on the confirmation, four eyes as for a case;
* ``/op/risk/rules``: the rule set with each rule's version and mode, and the switch;
* ``/op/risk/screening``: the open name-screening hits; confirming one (asked twice)
  freezes the party;
* ``/op/risk/reports``: the covered (CTR) and suspicious (STR) transaction rows of a range
  of Manila days, and the CSV to file.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError, not_found
from tindahan.lending.calendar import business_date
from tindahan.risk import reports as report_layout
from tindahan.services.platform import parties, screening
from tindahan.services.risk import cases, reports, rules
from tindahan.services.unit import Unit
from tindahan.web import forms, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Operator

router = make_router()
#: Asked twice: the first press shows what will happen.
CONFIRMED = ("return", "freeze")


def words() -> dict[str, dict[str, str]]:
    """The words for the services' codes, in the reader's language."""
    return {
        "status": {
            "open": _("Open"),
            "in_review": _("In review"),
            "closed": _("Closed"),
            "released": _("Released"),
            "returned": _("Returned"),
            "confirmed": _("Confirmed"),
            "cleared": _("Cleared"),
        },
        "decision": {
            "release": _("Released the money"),
            "return": _("Returned the money"),
            "freeze": _("Froze the wallets"),
            "report": _("Filed a suspicious transaction report"),
        },
        "verdict": {"allow": _("Report only"), "review": _("Held"), "block": _("Blocked")},
        "mode": {"on": _("On"), "shadow": _("Shadow"), "off": _("Off")},
        "kind": {
            "p2p": _("Payment to a person"),
            "merchant": _("Payment to a shop"),
            "cash_in": _("Cash-in"),
            "cash_out": _("Cash-out"),
            "bank_in": _("From a bank"),
            "bank_out": _("To a bank"),
            "refund": _("Refund"),
        },
        "rule": {
            "covered_cash": _("Cash over ₱500,000 in a day (covered transaction)"),
            "structuring": _("Amounts kept just below a threshold"),
            "velocity": _("Too many or too much in a short time"),
            "device_velocity": _("Many payments from one phone, across wallets"),
            "ip_velocity": _("Many payments from one internet address, across wallets"),
            "device_wallets": _("Many different wallets paying from one phone"),
            "ip_wallets": _("Many different wallets paying from one internet address"),
            "mule": _("Money in from many strangers, then out fast"),
            "dormant": _("A long-idle account suddenly moving a lot"),
            "new_payee": _("A first large payment to a new payee"),
            "round_trip": _("Money going round back to where it started"),
            "refund_spike": _("A shop's refunds suddenly high"),
            "name_screening": _("The sender's name is like a name on a watch list"),
        },
    }


def _read(request: Request, work: Any) -> Any:
    return session.platform(request).run(work, write=False)


def _names(unit: Unit, viewer: Any, ids: list[str]) -> dict[str, str]:
    """Each party's display name; an id that is not a party (an operator account) as is."""
    found: dict[str, str] = {}
    for pid in sorted(set(ids)):
        try:
            found[pid] = parties.get(unit, viewer.caller, pid)["name"]
        except RefusalError:
            found[pid] = pid
    return found


# --- the alert queue and the cases -------------------------------------------------------------
@router.get("/op/risk")
def alert_queue(request: Request, viewer: Operator) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        alerts = cases.list_alerts(unit, viewer.caller)["data"]
        people = [a["party_id"] for a in alerts] + [a["counterparty_id"] for a in alerts]
        return {"alerts": alerts, "names": _names(unit, viewer, people)}

    return render.page(request, "console/risk_queue.html", words=words(), **_read(request, work))


@router.get("/op/risk/cases")
def case_list(
    request: Request, viewer: Operator, status: str = "active", starting_after: str = ""
) -> Response:
    chosen = status if status in cases.FILTERS else "active"
    after = starting_after if 0 < len(starting_after) <= limits.SYSTEM_ID_MAX_LENGTH else None

    def work(unit: Unit) -> dict[str, Any]:
        try:
            found = cases.list_cases(unit, viewer.caller, chosen, 25, after)
        except RefusalError as refusal:  # a cursor that is no case: the first page
            if refusal.category is not Category.NOT_FOUND:
                raise
            found = cases.list_cases(unit, viewer.caller, chosen, 25)
        people = [c["party_id"] for c in found["data"]]
        return {"cases": found, "names": _names(unit, viewer, people)}

    return render.page(
        request,
        "console/risk_cases.html",
        status=chosen,
        first=after is None,
        words=words(),
        **_read(request, work),
    )


def _case_context(request: Request, viewer: Any, case_id: str) -> dict[str, Any]:
    def work(unit: Unit) -> dict[str, Any]:
        case = cases.get(unit, viewer.caller, case_id)
        people = [case["party_id"]] + [a["counterparty_id"] for a in case["alerts"]]
        people += [  # the parties the evidence names (party, payee, …)
            value
            for a in case["alerts"]
            for value in a["evidence"].values()
            if isinstance(value, str) and value[:4] in ("cus_", "mer_", "agt_")
        ]
        staff = cases.operators(unit, viewer.caller)
        return {"case": case, "names": _names(unit, viewer, people), "staff": staff}

    context: dict[str, Any] = _read(request, work)
    staff_names = {s["id"]: s["name"] for s in context["staff"]}
    context["who"] = staff_names
    context["assignees"] = [("me", _("Me"))] + [(s["id"], s["name"]) for s in context["staff"]]
    context["words"] = words()
    return context


@router.get("/op/risk/cases/{case_id}")
def case_page(request: Request, case_id: str, viewer: Operator, done: str = "") -> Response:
    context = _case_context(request, viewer, case_id)
    return render.page(
        request,
        "console/risk_case.html",
        done=done,
        values={},
        errors={},
        confirm=None,
        **context,
    )


def _refusal_text(refusal: RefusalError) -> str:
    texts = {
        "four_eyes_required": _(
            "Releasing this much needs another operator's approval first, and the one who "
            "approved cannot also release."
        ),
        "case_closed": _("This case is already closed."),
        "case_holds_nothing": _("This case holds no money: there is nothing to approve."),
        "alert_decided": _("This alert's money is already settled."),
        "assignee_invalid": _("Choose one of the operators."),
        "note_invalid": _("Write a note of at most 500 characters."),
    }
    return texts.get(refusal.code, refusal.message)


async def _case_action(
    request: Request,
    viewer: Any,
    case_id: str,
    form: forms.Form,
    work: Any,
    done: str,
    field: str = forms.FORM_ERROR,
) -> Response:
    """Run the action once per form; on a refusal, the case page with the reason."""
    if form.ok:
        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.fail(field, _refusal_text(refusal))
        else:
            return RedirectResponse(f"/op/risk/cases/{case_id}?done={done}", status_code=303)
    context = await run_in_threadpool(_case_context, request, viewer, case_id)
    return render.page(
        request,
        "console/risk_case.html",
        400,
        values=form.values,
        errors=form.errors,
        done="",
        confirm=None,
        **context,
    )


@router.post("/op/risk/cases/{case_id}/assign")
async def assign_case(request: Request, case_id: str, viewer: Operator) -> Response:
    form = await forms.read(request)
    chosen = form.values.get("assignee", "")
    assignee = None if chosen in ("", "me") else chosen

    def work(unit: Unit) -> dict[str, Any]:
        return cases.assign(unit, viewer.caller, case_id, assignee)

    return await _case_action(request, viewer, case_id, form, work, "assigned", "assignee")


@router.post("/op/risk/cases/{case_id}/note")
async def add_note(request: Request, case_id: str, viewer: Operator) -> Response:
    form = await forms.read(request)
    body = form.text("body", max_length=limits.AUDIT_NOTE_MAX_LENGTH)

    def work(unit: Unit) -> dict[str, Any]:
        return cases.note(unit, viewer.caller, case_id, body or "")

    return await _case_action(request, viewer, case_id, form, work, "noted", "body")


@router.post("/op/risk/cases/{case_id}/approve")
async def approve_case(request: Request, case_id: str, viewer: Operator) -> Response:
    form = await forms.read(request)

    def work(unit: Unit) -> dict[str, Any]:
        return cases.approve(unit, viewer.caller, case_id)

    return await _case_action(request, viewer, case_id, form, work, "approved")


@router.post("/op/risk/cases/{case_id}/decide")
async def decide_case(request: Request, case_id: str, viewer: Operator) -> Response:
    """A decision with its note; return and freeze show a confirmation first."""
    form = await forms.read(request)
    decision = form.choice("decision", list(cases.DECISIONS))
    note = form.text("note", max_length=limits.AUDIT_NOTE_MAX_LENGTH)
    if form.ok and decision in CONFIRMED and form.values.get("confirm") != "yes":
        context = await run_in_threadpool(_case_context, request, viewer, case_id)
        return render.page(
            request,
            "console/risk_case.html",
            values=form.values,
            errors={},
            done="",
            confirm=decision,
            **context,
        )

    def work(unit: Unit) -> dict[str, Any]:
        return cases.decide(unit, viewer.caller, case_id, decision or "", note)

    return await _case_action(request, viewer, case_id, form, work, "decided")


def _case_alert(context: dict[str, Any], alert_id: str) -> dict[str, Any]:
    """The case's alert that holds (or held) money; the not-found page otherwise."""
    for alert in context["case"]["alerts"]:
        if alert["id"] == alert_id and alert["hold_id"]:
            return dict(alert)
    raise not_found("risk alert", "alert_id")


@router.post("/op/risk/cases/{case_id}/alerts/{alert_id}/settle")
async def settle_alert(request: Request, case_id: str, alert_id: str, viewer: Operator) -> Response:
    """One alert's hold released or returned: the first press asks (with the note), only
    the confirmation settles it."""
    form = await forms.read(request)
    decision = form.choice("decision", ["release", "return"])
    context = await run_in_threadpool(_case_context, request, viewer, case_id)
    alert = _case_alert(context, alert_id)
    if form.values.get("confirm") != "yes":
        if alert["status"] != "open":
            form.fail(forms.FORM_ERROR, _("This alert's money is already settled."))
        return render.page(
            request,
            "console/risk_case.html",
            200 if form.ok else 400,
            values={},
            errors=form.errors,
            done="",
            confirm=None,
            settling={"alert": alert, "decision": decision} if form.ok else None,
            **context,
        )
    note = form.text("note", required=True, max_length=limits.AUDIT_NOTE_MAX_LENGTH)
    if not form.ok:
        return render.page(
            request,
            "console/risk_case.html",
            400,
            values=form.values,
            errors=form.errors,
            done="",
            confirm=None,
            settling={"alert": alert, "decision": decision},
            **context,
        )

    def work(unit: Unit) -> dict[str, Any]:
        return cases.decide_alert(unit, viewer.caller, alert_id, decision or "", note)

    return await _case_action(request, viewer, case_id, form, work, "settled")


@router.post("/op/risk/cases/{case_id}/alerts/{alert_id}/approve")
async def approve_alert(
    request: Request, case_id: str, alert_id: str, viewer: Operator
) -> Response:
    """The first pair of eyes on one large alert's hold."""
    form = await forms.read(request)
    _case_alert(await run_in_threadpool(_case_context, request, viewer, case_id), alert_id)

    def work(unit: Unit) -> dict[str, Any]:
        return cases.approve_alert(unit, viewer.caller, alert_id)

    return await _case_action(request, viewer, case_id, form, work, "approved")


# --- rules -------------------------------------------------------------------------------------
@router.get("/op/risk/rules")
def rule_list(request: Request, viewer: Operator, done: str = "") -> Response:
    found = _read(request, lambda u: rules.list_rules(u, viewer.caller))
    return render.page(
        request, "console/risk_rules.html", rules=found, words=words(), done=done, errors={}
    )


@router.post("/op/risk/rules/{rule_id}/mode")
async def switch_rule(request: Request, rule_id: str, viewer: Operator) -> Response:
    form = await forms.read(request)
    mode = form.choice("mode", list(rules.MODES))
    note = form.text("note", required=False, max_length=limits.AUDIT_NOTE_MAX_LENGTH)
    if form.ok:

        def work(unit: Unit) -> dict[str, Any]:
            return rules.set_mode(unit, viewer.caller, rule_id, mode or "", note)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.fail(forms.FORM_ERROR, refusal.message)
        else:
            return RedirectResponse(f"/op/risk/rules?done={rule_id}", status_code=303)
    found = await run_in_threadpool(_read, request, lambda u: rules.list_rules(u, viewer.caller))
    return render.page(
        request,
        "console/risk_rules.html",
        400,
        rules=found,
        words=words(),
        done="",
        errors=form.errors,
    )


# --- screening ---------------------------------------------------------------------------------
def _hits_context(request: Request, viewer: Any) -> dict[str, Any]:
    def work(unit: Unit) -> dict[str, Any]:
        hits = screening.list_hits(unit, viewer.caller)
        return {"hits": hits, "names": _names(unit, viewer, [h["party_id"] for h in hits])}

    context: dict[str, Any] = _read(request, work)
    context["words"] = words()
    return context


@router.get("/op/risk/screening")
def hit_list(request: Request, viewer: Operator, done: str = "") -> Response:
    context = _hits_context(request, viewer)
    return render.page(
        request,
        "console/risk_screening.html",
        done=done,
        errors={},
        confirm=None,
        values={},
        **context,
    )


@router.post("/op/risk/screening/{hit_id}")
async def decide_hit(request: Request, hit_id: str, viewer: Operator) -> Response:
    """Clear a hit, or confirm it (asked twice: it freezes the party)."""
    form = await forms.read(request)
    decision = form.choice("decision", list(screening.DECISIONS))
    note = form.text("note", required=False, max_length=limits.AUDIT_NOTE_MAX_LENGTH)
    confirm = None
    if form.ok and decision == "confirm" and form.values.get("confirm") != "yes":
        confirm = hit_id
    elif form.ok:

        def work(unit: Unit) -> dict[str, Any]:
            return screening.decide_hit(unit, viewer.caller, hit_id, decision or "", note)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.fail(forms.FORM_ERROR, refusal.message)
        else:
            return RedirectResponse(f"/op/risk/screening?done={decision}", status_code=303)
    context = await run_in_threadpool(_hits_context, request, viewer)
    return render.page(
        request,
        "console/risk_screening.html",
        200 if confirm else 400,
        done="",
        errors=form.errors,
        confirm=confirm,
        values=form.values,
        **context,
    )


# --- reports -----------------------------------------------------------------------------------
def _range(start: str, end: str, today: date) -> tuple[date, date, bool]:
    """The days asked for (the last seven by default); False when they made no sense."""
    try:
        first = date.fromisoformat(start) if start else today - timedelta(days=6)
        last = date.fromisoformat(end) if end else today
    except ValueError:
        return today - timedelta(days=6), today, False
    if last < first or (last - first).days > limits.MAX_PAGE_SIZE:
        return today - timedelta(days=6), today, False
    return first, last, True


def _rows(request: Request, viewer: Any, kind: str, first: date, last: date) -> Any:
    return _read(request, lambda u: reports.rows(u, viewer.caller, kind, first, last))


@router.get("/op/risk/reports")
def report_page(
    request: Request, viewer: Operator, type: str = "ctr", start: str = "", end: str = ""
) -> Response:
    kind = type if type in reports.TYPES else "ctr"
    today = business_date(session.platform(request).now())
    first, last, sensible = _range(start, end, today)
    found = _rows(request, viewer, kind, first, last)
    return render.page(
        request,
        "console/risk_reports.html",
        400 if not sensible else 200,
        kind=kind,
        first_day=first.isoformat(),
        last_day=last.isoformat(),
        rows=found,
        sensible=sensible,
        words=words(),
    )


@router.get("/op/risk/reports.csv")
def report_csv(
    request: Request, viewer: Operator, type: str = "ctr", start: str = "", end: str = ""
) -> Response:
    """The rows as the CSV to file (``risk.reports.COLUMNS``, as ``tindahan risk report``)."""
    kind = type if type in reports.TYPES else "ctr"
    today = business_date(session.platform(request).now())
    first, last, _sensible = _range(start, end, today)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=report_layout.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(_rows(request, viewer, kind, first, last))
    name = f"{kind}-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
