"""The operator's holiday calendar for loans: due dates that fall on one move to the next
business day (the rule is ``lending.calendar``). Its own module because offers, loans and the
restructuring of a loan all read it, and none of them should import another for it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.lending import calendar as holidays
from tindahan.payments import parties as party_rules
from tindahan.services.unit import Unit
from tindahan.store.lending_tables import loan_holidays


def holiday_set(unit: Unit) -> frozenset[date]:
    return frozenset(
        date.fromisoformat(d) for d in unit.conn.execute(select(loan_holidays.c.day)).scalars()
    )


def put_holiday(unit: Unit, caller: Caller, day: str, name: str) -> dict[str, Any]:
    caller.require_operator()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise invalid("date_invalid", "the day is a date YYYY-MM-DD", "day") from None
    label = party_rules.text(name, "name", limits.NAME_MAX_LENGTH)
    unit.conn.execute(loan_holidays.delete().where(loan_holidays.c.day == parsed.isoformat()))
    unit.conn.execute(insert(loan_holidays), {"day": parsed.isoformat(), "name": label})
    return {"object": "loan_holiday", "day": parsed.isoformat(), "name": label}


def list_holidays(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require("loans:read")
    rows = unit.conn.execute(select(loan_holidays).order_by(loan_holidays.c.day)).mappings()
    data = [{"object": "loan_holiday", "day": r["day"], "name": r["name"]} for r in rows]
    return {"object": "list", "data": data, "has_more": False}


def seed_holidays(unit: Unit, years: range) -> None:
    """The regular holidays of RA 9492 for ``years``, where the operator has none yet."""
    have = holiday_set(unit)
    rows = [
        {"day": d.isoformat(), "name": n}
        for y in years
        for d, n in holidays.philippine_regular_holidays(y).items()
        if d not in have
    ]
    if rows:
        unit.conn.execute(insert(loan_holidays), rows)
