"""Cases: a party's open alerts grouped for an analyst, and the decision that closes them.

The gate puts every open alert (a review, its money held) into its party's one unclosed
case (``services.ledger.risk_gate``). A case is **open**, then **in review** once someone is
assigned, writes a note or approves, then **closed** with one decision:

* ``release`` — every hold of the case is voided: the receiver may spend the money. Above
  ``limits.RISK_FOUR_EYES_MINOR`` held in the case, one operator ``approve``s and a
  *different* one releases; an approval covers the amount held when it was given (an alert
  joining later, raising it, needs a new approval);
* ``return`` — every hold is posted and paid back to the account the money came from;
* ``freeze`` — the party is frozen (its wallets neither pay nor are paid); what is held
  stays held;
* ``report`` — a suspicious transaction report is filed: the case's movements are rows of
  the STR export (``services.risk.reports``) by the day of the decision; what is held stays
  held.

Notes are only ever added, with their author and time. Every step is one transaction and
one audit-log entry. Operators only: anyone else is refused before anything is read.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found, refused
from tindahan.payments.model import PartyStatus
from tindahan.services.platform import audit
from tindahan.services.platform.listing import page
from tindahan.services.risk import holds
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.risk_tables import risk_alerts, risk_case_notes, risk_cases
from tindahan.store.web_tables import logins

DECISIONS = ("release", "return", "freeze", "report")
#: What the list filters by: ``active`` is open and in review together.
FILTERS = {
    "active": ("open", "in_review"),
    "open": ("open",),
    "in_review": ("in_review",),
    "closed": ("closed",),
}


def _reader(caller: Caller) -> None:
    caller.require_operator()
    caller.require("risk:read")


def _writer(caller: Caller) -> None:
    caller.require_operator()
    caller.require("risk:write")


def _row(unit: Unit, case_id: str) -> dict[str, Any]:
    found = unit.conn.execute(select(risk_cases).where(risk_cases.c.id == case_id)).mappings()
    row = found.first()
    if row is None:
        raise not_found("case", "case_id")
    return dict(row)


def _unclosed(unit: Unit, case_id: str) -> dict[str, Any]:
    case = _row(unit, case_id)
    if case["status"] == "closed":
        raise conflict(
            "case_closed", f"this case is already closed ({case['decision']})", "case_id"
        )
    return case


def _open_holds(unit: Unit, case_id: str) -> list[dict[str, Any]]:
    """One open alert per hold of the case that still holds money, with what it holds."""
    query = (
        select(risk_alerts)
        .where(
            risk_alerts.c.case_id == case_id,
            risk_alerts.c.status == "open",
            risk_alerts.c.hold_id.is_not(None),
        )
        .order_by(risk_alerts.c.created_at_ns, risk_alerts.c.id)
    )
    by_hold: dict[str, dict[str, Any]] = {}
    for row in unit.conn.execute(query).mappings():
        by_hold.setdefault(row["hold_id"], dict(row))
    for alert in by_hold.values():
        alert["held_minor"] = holds.held_minor(unit, alert["hold_id"])
    return list(by_hold.values())


def _alert_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "risk_alert",
        "case_id": row["case_id"],
        "party_id": row["party_id"],
        "counterparty_id": row["counterparty"],
        "transfer_id": row["transfer_id"],
        "kind": row["kind"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "rule": row["rule"],
        "rule_version": row["version"],
        "decision": row["decision"],
        "shadow": row["shadow"],
        "evidence": json.loads(row["evidence"]),
        "explanation": row["explanation"],
        "hold_id": row["hold_id"],
        "status": row["status"],
        "decided_by": row["decided_by"],
        "decided": iso(row["decided_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def _summary(row: Any, held: int, alerts: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "risk_case",
        "party_id": row["party_id"],
        "status": row["status"],
        "assignee": row["assignee"],
        "decision": row["decision"],
        "approved_by": row["approved_by"],
        "approved_minor": row["approved_minor"],
        "decided_by": row["decided_by"],
        "decided": iso(row["decided_at_ns"]),
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
        "held_minor": held,
        "alert_count": alerts,
        "four_eyes_minor": limits.RISK_FOUR_EYES_MINOR,
    }


def approve_alert(
    unit: Unit, caller: Caller, alert_id: str, note: str | None = None
) -> dict[str, Any]:
    """The first pair of eyes on one alert's hold (``holds.approve``), for the analysts' API."""
    _writer(caller)
    return _alert_view(holds.approve(unit, caller, alert_id, note))


def decide_alert(
    unit: Unit, caller: Caller, alert_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    """One alert settled on its own (``holds.decide``): its hold released or returned — how
    the money a case closed by *freeze* or *report* still holds is settled — or, for an alert
    that holds nothing (a refused movement's), closed."""
    _writer(caller)
    return _alert_view(holds.decide(unit, caller, alert_id, decision, note))


def list_alerts(unit: Unit, caller: Caller, status: str = "open") -> dict[str, Any]:
    """The alert queue: blocks and reviews before reports, newest first."""
    _reader(caller)
    return page([_alert_view(a) for a in holds.queue(unit, caller, status)], False)


def list_cases(
    unit: Unit,
    caller: Caller,
    status: str = "active",
    limit: int = limits.RISK_ALERTS_PAGE,
    starting_after: str | None = None,
) -> dict[str, Any]:
    """Cases by status, the most recently active first (a new alert makes a case recent)."""
    _reader(caller)
    if status not in FILTERS:
        raise invalid("status_invalid", f"status is one of {', '.join(FILTERS)}", "status")
    query = select(risk_cases).where(risk_cases.c.status.in_(FILTERS[status]))
    if starting_after is not None:
        after = _row(unit, starting_after)
        query = query.where(
            (risk_cases.c.updated_at_ns < after["updated_at_ns"])
            | and_(
                risk_cases.c.updated_at_ns == after["updated_at_ns"],
                risk_cases.c.id > after["id"],
            )
        )
    query = query.order_by(risk_cases.c.updated_at_ns.desc(), risk_cases.c.id).limit(limit + 1)
    rows = list(unit.conn.execute(query).mappings())
    counts = _alert_counts(unit, [r["id"] for r in rows[:limit]])
    data = [
        _summary(r, sum(h["held_minor"] for h in _open_holds(unit, r["id"])), counts[r["id"]])
        for r in rows[:limit]
    ]
    return page(data, len(rows) > limit)


def _alert_counts(unit: Unit, case_ids: list[str]) -> dict[str, int]:
    counts = dict.fromkeys(case_ids, 0)
    if case_ids:
        query = (
            select(risk_alerts.c.case_id, func.count())
            .where(risk_alerts.c.case_id.in_(case_ids))
            .group_by(risk_alerts.c.case_id)
        )
        counts.update({case_id: int(n) for case_id, n in unit.conn.execute(query)})
    return counts


def get(unit: Unit, caller: Caller, case_id: str) -> dict[str, Any]:
    """A case with its evidence (each alert: the movement, the rule and version, the values
    that tripped it), its notes, and what it holds now."""
    _reader(caller)
    case = _row(unit, case_id)
    alerts = unit.conn.execute(
        select(risk_alerts)
        .where(risk_alerts.c.case_id == case_id)
        .order_by(risk_alerts.c.created_at_ns.desc(), risk_alerts.c.id)
    ).mappings()
    evidence = [_alert_view(a) for a in alerts]
    notes = unit.conn.execute(
        select(risk_case_notes)
        .where(risk_case_notes.c.case_id == case_id)
        .order_by(risk_case_notes.c.created_at_ns, risk_case_notes.c.id)
    ).mappings()
    held = sum(h["held_minor"] for h in _open_holds(unit, case_id))
    view = _summary(case, held, len(evidence))
    view["alerts"] = evidence
    view["notes"] = [
        {
            "id": n["id"],
            "author": n["author"],
            "body": n["body"],
            "created": iso(n["created_at_ns"]),
        }
        for n in notes
    ]
    view["four_eyes"] = held > limits.RISK_FOUR_EYES_MINOR
    return view


def operators(unit: Unit, caller: Caller) -> list[dict[str, str]]:
    """The staff a case may be assigned to (operator logins), by name."""
    caller.require_operator()
    query = (
        select(logins.c.id, logins.c.name)
        .where(logins.c.is_operator.is_(True))
        .order_by(logins.c.name, logins.c.id)
        .limit(limits.MAX_PAGE_SIZE)
    )
    return [{"id": login_id, "name": name} for login_id, name in unit.conn.execute(query)]


def _touch(unit: Unit, case_id: str, **values: Any) -> None:
    values.setdefault("status", "in_review")
    unit.conn.execute(
        update(risk_cases)
        .where(risk_cases.c.id == case_id)
        .values(updated_at_ns=unit.now(), **values)
    )


def _add_note(unit: Unit, caller: Caller, case_id: str, body: str) -> None:
    unit.conn.execute(
        insert(risk_case_notes).values(
            id=new_id("note"),
            case_id=case_id,
            author=caller.key_id,
            body=body,
            created_at_ns=unit.now(),
        )
    )


def assign(unit: Unit, caller: Caller, case_id: str, assignee: str | None = None) -> dict[str, Any]:
    """Give the case to an operator: the caller (no ``assignee``) or a staff login."""
    _writer(caller)
    who = caller.key_id if assignee is None else assignee.strip()
    if who != caller.key_id and who not in {o["id"] for o in operators(unit, caller)}:
        raise invalid("assignee_invalid", "the assignee is not an operator", "assignee")
    case = _unclosed(unit, case_id)
    _touch(unit, case_id, assignee=who)
    details = {"party_id": case["party_id"], "from": case["assignee"], "to": who}
    audit.record(unit, caller.key_id, "risk.case.assign", "risk_case", case_id, None, details)
    return get(unit, caller, case_id)


def note(unit: Unit, caller: Caller, case_id: str, body: str) -> dict[str, Any]:
    """Add a note (notes are never changed or removed)."""
    _writer(caller)
    text = audit.check_note(body)
    if text is None:
        raise invalid("note_invalid", "the note is empty", "note")
    case = _unclosed(unit, case_id)
    _add_note(unit, caller, case_id, text)
    _touch(unit, case_id)
    details = {"party_id": case["party_id"]}
    audit.record(unit, caller.key_id, "risk.case.note", "risk_case", case_id, text, details)
    return get(unit, caller, case_id)


def approve(unit: Unit, caller: Caller, case_id: str, note: str | None = None) -> dict[str, Any]:
    """The first pair of eyes on releasing a large amount held: covers what is held now."""
    _writer(caller)
    text = audit.check_note(note)
    case = _unclosed(unit, case_id)
    held = sum(h["held_minor"] for h in _open_holds(unit, case_id))
    if held == 0:
        raise conflict("case_holds_nothing", "this case holds no money to release", "case_id")
    _touch(unit, case_id, approved_by=caller.key_id, approved_minor=held)
    if text:
        _add_note(unit, caller, case_id, text)
    details = {"party_id": case["party_id"], "held_minor": held}
    audit.record(unit, caller.key_id, "risk.case.approve", "risk_case", case_id, text, details)
    return get(unit, caller, case_id)


def _check_four_eyes(caller: Caller, case: dict[str, Any], held: int) -> None:
    if held <= limits.RISK_FOUR_EYES_MINOR:
        return
    if case["approved_by"] is None or (case["approved_minor"] or 0) < held:
        raise refused(
            "four_eyes_required",
            "releasing this much needs another operator's approval first",
            "case_id",
        )
    if case["approved_by"] == caller.key_id:
        raise refused(
            "four_eyes_required", "the operator who approved cannot also release", "case_id"
        )


def decide(
    unit: Unit, caller: Caller, case_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    """Close the case with one decision (the module's docstring says what each does)."""
    _writer(caller)
    if decision not in DECISIONS:
        raise invalid(
            "decision_invalid", f"the decision is one of {', '.join(DECISIONS)}", "decision"
        )
    text = audit.check_note(note)
    case = _unclosed(unit, case_id)
    open_holds = _open_holds(unit, case_id)
    held = sum(h["held_minor"] for h in open_holds)
    if decision == "release":
        _check_four_eyes(caller, case, held)
    if decision in ("release", "return"):
        for alert in open_holds:
            holds.settle(unit, caller, alert, decision)
    if decision == "freeze":
        unit.conn.execute(
            update(parties)
            .where(parties.c.id == case["party_id"], parties.c.status == PartyStatus.ACTIVE.value)
            .values(status=PartyStatus.FROZEN.value)
        )
    unit.conn.execute(  # the alerts that hold nothing are done with the case
        update(risk_alerts)
        .where(
            risk_alerts.c.case_id == case_id,
            risk_alerts.c.status == "open",
            risk_alerts.c.hold_id.is_(None),
        )
        .values(status="closed", decided_by=caller.key_id, decided_at_ns=unit.now())
    )
    _touch(
        unit,
        case_id,
        status="closed",
        decision=decision,
        decided_by=caller.key_id,
        decided_at_ns=unit.now(),
    )
    if text:
        _add_note(unit, caller, case_id, text)
    details = {
        "party_id": case["party_id"],
        "held_minor": held,
        "holds": [h["hold_id"] for h in open_holds],
    }
    audit.record(unit, caller.key_id, f"risk.case.{decision}", "risk_case", case_id, text, details)
    return get(unit, caller, case_id)
