"""The reasons of a credit assessment in the reader's language.

The credit service stores each reason with its English sentence (``credit.features.describe``
for a feature, ``features.insufficient`` for too little history) and the feature values the
model read. In English the stored sentence is shown as it was written. In Filipino the page
builds the same sentence from a translated template, filled from the stored value with the
numbers rounded exactly as ``describe`` rounds them (whole percents half up, pesos half up
to the peso, days) and formatted for the reader's locale.

The Filipino must say what the English says, so it is only used when ``describe`` (or
``insufficient``) gives back the stored English for the stored value: an unknown code, a
value the assessment did not keep, or an English sentence written by another version of
the texts falls back to the stored English. A reason is never an error and never blank.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from tindahan import limits
from tindahan.credit import features
from tindahan.web import i18n
from tindahan.web.i18n import _, ngettext

INSUFFICIENT = "insufficient_history"


def reason_text(reason: Mapping[str, Any], values: Mapping[str, Any]) -> str:
    """The sentence for one stored reason (``code``, ``text``), given the assessment's
    ``features`` dict, in the request's language."""
    english = str(reason.get("text") or "")
    if i18n.language() == "en":
        return english
    try:
        found = _translated(str(reason.get("code") or ""), english, values)
    except (TypeError, ValueError, OverflowError):
        found = None
    return found or english


def _translated(code: str, english: str, values: Mapping[str, Any]) -> str | None:
    if code == INSUFFICIENT:
        return _insufficient(english, values)
    if code not in values:
        return None
    value = values[code]
    if value is None:
        missing = _missing().get(code)
        return missing if english == features.MISSING.get(code) else None
    if features.describe(code, float(value)) != english:
        return None
    template = _TEMPLATES.get(code)
    return template(float(value)) if template else None


def _insufficient(english: str, values: Mapping[str, Any]) -> str | None:
    tenure, sales = values.get("tenure_days"), values.get("sales_count_90d")
    if tenure is None or sales is None:
        return None
    tenure_text, sales_text = _insufficient_english(int(tenure), int(sales))
    if english == tenure_text:
        return _("on Tindahan for {days}; a score needs {needed} of sales history").format(
            days=_days(int(tenure)), needed=_days(limits.CREDIT_MIN_TENURE_DAYS)
        )
    if english == sales_text:
        return _("{count} sales in the last 90 days; a score needs at least {needed}").format(
            count=i18n.number(int(sales)), needed=i18n.number(limits.CREDIT_MIN_SALES_90D)
        )
    return None


def _insufficient_english(tenure: int, sales: int) -> tuple[str, str]:
    """Which of ``features.insufficient``'s two sentences a stored one is: each computed
    alone, with the other threshold met."""
    enough_sales = float(limits.CREDIT_MIN_SALES_90D)
    enough_days = float(limits.CREDIT_MIN_TENURE_DAYS)
    short = features.insufficient(
        pd.Series({"tenure_days": tenure, "sales_count_90d": enough_sales})
    )
    few = features.insufficient(pd.Series({"tenure_days": enough_days, "sales_count_90d": sales}))
    return (short[0] if short else ""), (few[0] if few else "")


# --- the numbers, rounded as ``features.describe`` rounds them -----------------------------
def _pct(x: float) -> str:
    return i18n.percent(Decimal(math.floor(abs(x) * 100 + 0.5)) / 100, 0)


def _pesos(centavos: float) -> str:
    return i18n.money(math.floor(centavos + 0.5))


def _days(whole: int) -> str:
    return ngettext("{n} day", "{n} days", whole).format(n=i18n.number(whole))


def _rounded_days(x: float) -> str:
    return _days(math.floor(x + 0.5))


def _trend(x: float) -> str:
    if x < 0:
        return _("sales in the last 3 months fell by {pct} from the 3 months before").format(
            pct=_pct(x)
        )
    return _(
        "sales in the last 3 months rose by {pct} from the 3 months before: "
        "a loan is safer sized on a usual month than on a peak"
    ).format(pct=_pct(x))


def _momentum(x: float) -> str:
    if abs(x - 1) < 0.005:
        return _("sales in the last 30 days did not rise above the 3-month average")
    if x < 1:
        return _("sales in the last 30 days were {pct} below the 3-month average").format(
            pct=_pct(1 - x)
        )
    return _("sales in the last 30 days rose only {pct} above the 3-month average").format(
        pct=_pct(x - 1)
    )


_TEMPLATES: dict[str, Callable[[float], str]] = {
    "tenure_days": lambda x: _("on Tindahan for only {days}").format(days=_days(int(x))),
    "sales_month_avg": lambda x: _("sales average {amount} a month over the last 3 months").format(
        amount=_pesos(x)
    ),
    "sales_trend": _trend,
    "sales_volatility": lambda x: _(
        "monthly sales swing widely (by {pct} around the average)"
    ).format(pct=_pct(x)),
    "active_day_share": lambda x: _("sales on only {pct} of days in the last 3 months").format(
        pct=_pct(x)
    ),
    "distinct_buyers_90d": lambda x: _("only {count} different buyers in the last 3 months").format(
        count=i18n.number(int(x))
    ),
    "repeat_buyer_share": lambda x: _("only {pct} of recent buyers came back to buy again").format(
        pct=_pct(x)
    ),
    "avg_ticket": lambda x: _("an average sale of {amount}").format(amount=_pesos(x)),
    "refund_rate": lambda x: _("refunds were {pct} of sales in the last 6 months").format(
        pct=_pct(x)
    ),
    "dispute_rate": lambda x: _(
        "buyers disputed {pct} of online orders in the last 6 months"
    ).format(pct=_pct(x)),
    "balance_avg": lambda x: _(
        "the wallet held only {amount} on average in the last 3 months"
    ).format(amount=_pesos(x)),
    "balance_min": lambda x: _("the wallet went down to {amount} in the last 3 months").format(
        amount=_pesos(x)
    ),
    "sales_momentum": _momentum,
    "balance_cover_days": lambda x: _(
        "the wallet held on average only {days} of sales in the last 3 months"
    ).format(days=_rounded_days(x)),
    "balance_min_cover_days": lambda x: _(
        "at its lowest the wallet held {days} of sales in the last 3 months"
    ).format(days=_rounded_days(x)),
    "cash_out_share": lambda x: _("{pct} of the last 3 months' sales were cashed out").format(
        pct=_pct(x)
    ),
    "loan_on_time_share": lambda x: _("only {pct} of loan installments were paid on time").format(
        pct=_pct(x)
    ),
    "loan_worst_dpd": lambda x: _("a loan installment was paid {days} late").format(
        days=_days(int(x))
    ),
}


def _missing() -> dict[str, str]:
    """``features.MISSING``'s sentences, for a feature the merchant has no value of yet."""
    no_sales = _("no sales in the last 3 months to measure the wallet against")
    no_loan = _("no loan repaid on Tindahan yet")
    return {
        "sales_trend": _("no sales history from 3 to 6 months ago to compare with"),
        "sales_volatility": _("fewer than 2 full months of sales to judge steadiness"),
        "repeat_buyer_share": _("no known buyers in the last 3 months"),
        "avg_ticket": _("no sales in the last 3 months"),
        "sales_momentum": _("less than a month of sales to compare with the 3-month average"),
        "balance_cover_days": no_sales,
        "balance_min_cover_days": no_sales,
        "loan_on_time_share": no_loan,
        "loan_worst_dpd": no_loan,
    }
