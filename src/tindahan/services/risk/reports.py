"""Covered and suspicious transaction reports from the stored alerts (``risk.reports``).

* CTR — every movement the ``covered_cash`` rule (on, not shadow) alerted on, by the day of
  the movement;
* STR — every movement whose held money an analyst *returned* (the decision that the money
  is suspicious), and every movement of a case closed with ``report``
  (``services.risk.cases``), by the day of that decision; several rules on one movement make
  one row.

Rows are one per transaction, in time order, with the deadline on working days. Operators
only; read-only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.lending.calendar import PH_TIME, business_date, philippine_regular_holidays
from tindahan.risk import reports
from tindahan.services.unit import Unit
from tindahan.store.lending_tables import loan_holidays
from tindahan.store.risk_tables import risk_alerts, risk_cases

TYPES = ("ctr", "str")


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=PH_TIME).timestamp()) * 10**9


def holidays(unit: Unit, years: range) -> set[date]:
    days = {day for year in years for day in philippine_regular_holidays(year)}
    for (text,) in unit.conn.execute(select(loan_holidays.c.day)):
        days.add(date.fromisoformat(text))
    return days


def rows(unit: Unit, caller: Caller, kind: str, start: date, end: date) -> list[dict[str, str]]:
    caller.require_operator()
    if kind not in TYPES:
        raise invalid("report_type_invalid", "the report is ctr or str", "type")
    if end < start:
        raise invalid("range_invalid", "--to is before --from", "to")
    low, high = _ns(start), _ns(end + timedelta(days=1))
    if kind == "ctr":
        when = risk_alerts.c.created_at_ns
        query = select(risk_alerts).where(
            risk_alerts.c.rule == "covered_cash", risk_alerts.c.shadow.is_(False)
        )
    else:
        when = risk_alerts.c.decided_at_ns
        query = select(risk_alerts).where(risk_alerts.c.status == "returned")
    query = query.where(when >= low, when < high).order_by(when, risk_alerts.c.id)
    found = [dict(r) for r in unit.conn.execute(query).mappings()]
    if kind == "str":
        seen = {a["id"] for a in found}  # a reported case's hold may be returned later
        found += [a for a in _reported(unit, low, high) if a["id"] not in seen]
    off = holidays(unit, range(start.year, end.year + 2))
    by_transfer: dict[str, dict[str, Any]] = {}
    for alert in found:
        row = by_transfer.get(alert["transfer_id"])
        if row is None:
            by_transfer[alert["transfer_id"]] = _row(kind, alert, off)
        else:
            row["rule"] += f"+{alert['rule']}"
            row["reason"] += f"; {alert['explanation']}"
    return list(by_transfer.values())


def _reported(unit: Unit, low: int, high: int) -> list[dict[str, Any]]:
    """The alerts of cases closed with ``report``, dated by that decision."""
    query = (
        select(risk_alerts, risk_cases.c.decided_at_ns.label("case_decided_at_ns"))
        .join(risk_cases, risk_cases.c.id == risk_alerts.c.case_id)
        .where(
            risk_cases.c.decision == "report",
            risk_cases.c.decided_at_ns >= low,
            risk_cases.c.decided_at_ns < high,
        )
        .order_by(risk_cases.c.decided_at_ns, risk_alerts.c.id)
    )
    found = []
    for row in unit.conn.execute(query).mappings():
        alert = dict(row)
        alert["decided_at_ns"] = alert.pop("case_decided_at_ns")
        found.append(alert)
    return found


def _row(kind: str, alert: dict[str, Any], off: set[date]) -> dict[str, str]:
    at = alert["created_at_ns"]
    counted_from = business_date(alert["decided_at_ns"] if kind == "str" else at)
    moment = datetime.fromtimestamp(at // 10**9, UTC)
    return {
        "report_type": reports.CTR if kind == "ctr" else reports.STR,
        "transaction_ref": alert["transfer_id"],
        "transaction_date": business_date(at).isoformat(),
        "transaction_time_utc": moment.isoformat().replace("+00:00", "Z"),
        "transaction_kind": alert["kind"],
        "amount": reports.pesos(alert["amount_minor"]),
        "currency": alert["currency"],
        "subject_ref": alert["party_id"],
        "counterparty_ref": alert["counterparty"],
        "rule": alert["rule"],
        "rule_version": str(alert["version"]),
        "reason": alert["explanation"],
        "deadline": reports.deadline(counted_from, off).isoformat(),
    }
