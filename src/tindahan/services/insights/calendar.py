"""A merchant's sales calendar (issue 26, item 1): the average sales of each weekday over the
last ``weeks`` weeks (``insights.weekdays``, what the insights page draws) and what paydays,
holidays and the Christmas season do to its sales (``insights.effects``, fitted on its daily
count of sales over the last ``EFFECT_DAYS`` days). The sales are the dashboard's
(``services.payments.sales``); the window ends yesterday (today is not over).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tindahan.insights import effects, weekdays
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.services.payments import sales
from tindahan.services.unit import Unit

EFFECT_DAYS = 365
MAX_WEEKS = 52
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def sales_calendar(unit: Unit, caller: Caller, merchant_id: str, weeks: int = 13) -> dict[str, Any]:
    if isinstance(weeks, bool) or not isinstance(weeks, int) or not 1 <= weeks <= MAX_WEEKS:
        raise invalid("parameter_invalid", f"weeks must be from 1 to {MAX_WEEKS}", "weeks")
    last = sales.today(unit) - timedelta(days=1)
    year = sales.daily_sales(unit, caller, merchant_id, EFFECT_DAYS, last)
    recent = year[-7 * weeks :]
    week = weekdays.by_weekday([(day, amount) for day, amount, _count in recent])
    found = effects.store_effects([count for _d, _a, count in year], year[0][0])
    return {
        "object": "sales_calendar",
        "merchant_id": merchant_id,
        "currency": "PHP",
        "weeks": weeks,
        "first_day": recent[0][0].isoformat(),
        "last_day": last.isoformat(),
        "weekdays": [
            {"weekday": DAY_NAMES[k], "average_minor": week.average_minor[k]} for k in range(7)
        ],
        "best_weekday": None if week.best is None else DAY_NAMES[week.best],
        "best_weekday_lift": f"{week.lift:f}",
        "effects_first_day": year[0][0].isoformat(),
        "effects": {
            e.name: {"factor": f"{e.factor:f}", "verdict": e.verdict, "days_seen": e.days_seen}
            for e in found
        },
    }
