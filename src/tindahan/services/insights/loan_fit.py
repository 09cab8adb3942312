"""Whether an open loan offer's installments fit the merchant's usual sales
(``insights.loan_fit``): advice shown beside the offer before it is accepted, never a gate.

Read: the offer (the caller's own, or any for an operator; another merchant's is 404 as for
the offer itself) and the dashboard's daily sales (``services.payments.sales``) of the last
``FIT_DAYS`` days to yesterday (today is not over). The installment compared is the largest
of the offer's disclosed schedule. Only an open offer gets advice: an accepted, withdrawn or
expired one answers ``fit: null`` (there is nothing left to decide), and so does a key
without the ``payments:read`` scope (the advice quotes its sales; reading the offer itself
needs only ``loans:read``, as before).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tindahan.insights import loan_fit
from tindahan.kernel.callers import Caller
from tindahan.services.lending import offers as loan_offers
from tindahan.services.payments import sales
from tindahan.services.unit import Unit

#: The days of sales an offer's installment is compared with.
FIT_DAYS = 90


def largest_installment(offer: dict[str, Any]) -> int | None:
    schedule = offer["disclosure"].get("schedule") or []
    if not schedule:
        return None
    return max(int(row["total_minor"]) for row in schedule)


def daily_sales(unit: Unit, caller: Caller, merchant_id: str) -> list[int]:
    """The merchant's sales of each of the last ``FIT_DAYS`` complete days, oldest first."""
    last = sales.today(unit) - timedelta(days=1)
    found = sales.daily_sales(unit, caller, merchant_id, FIT_DAYS, last)
    return [amount for _day, amount, _count in found]


def advice(offer: dict[str, Any], daily: list[int]) -> loan_fit.Fit | None:
    """The fit of an open offer against ``daily`` (``daily_sales``); None for any other."""
    largest = largest_installment(offer)
    if offer["status"] != "open" or largest is None:
        return None
    return loan_fit.fit(daily, largest, offer["frequency"])


def fit_view(found: loan_fit.Fit, frequency: str) -> dict[str, Any]:
    return {
        "object": "loan_fit",
        "level": found.level,
        # A string, as every Decimal in the API: rounded down to one place.
        "cover": None if found.cover is None else str(found.cover),
        "usual_sales_minor": found.usual_sales_minor,
        "installment_minor": found.installment_minor,
        "period_days": loan_fit.PERIOD_DAYS[frequency],
        "periods": found.periods,
        "days_compared": FIT_DAYS,
        "advice_only": True,
    }


def offer_with_fit(unit: Unit, caller: Caller, offer_id: str) -> dict[str, Any]:
    """The offer as ``GET /v1/loan_offers/{id}`` shows it, with ``fit``: the advice for an
    open offer, null otherwise."""
    offer: dict[str, Any] = dict(loan_offers.get_offer(unit, caller, offer_id))
    found = None
    readable = "payments:read" in caller.scopes
    if readable and offer["status"] == "open" and largest_installment(offer) is not None:
        found = advice(offer, daily_sales(unit, caller, str(offer["merchant_id"])))
    offer["fit"] = None if found is None else fit_view(found, str(offer["frequency"]))
    return offer
