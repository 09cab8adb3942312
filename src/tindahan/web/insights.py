"""The merchant's insights page (issue 26): what to reorder, what sells, which day sells.

Three cards, each a chart or a list drawn on the server with one sentence that says what it
means: the "reorder soon" list (``services.insights.reorder``, with the supplier lead time the
merchant may change on the page: 3 days unless said), the best sellers and slow movers of the
last 28 days by units (``services.insights.products``), and the average sales of each weekday
over the last 13 weeks (``services.payments.sales``, the dashboard's sales: QR, direct and
online; ``insights.weekdays``). A fourth card, the sales mix of the last 28 days
(``services.insights.mix``): sales by hour with the busiest said, the average sale,
repeat buyers and their share, and the online / QR / payment-request split. A fifth, the
next 30 days (``services.insights.cashflow``): expected sales by week, what the loan's
installments and the regular payments found in the merchant's history take, what is left,
and the day money may run short.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from tindahan import limits
from tindahan.insights import weekdays
from tindahan.services.insights import calendar as calendar_service
from tindahan.services.insights import cashflow as cashflow_service
from tindahan.services.insights import mix as mix_service
from tindahan.services.insights import products as product_service
from tindahan.services.insights import reorder as reorder_service
from tindahan.services.payments import sales
from tindahan.services.unit import Unit
from tindahan.web import charts, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import Merchant

router = make_router()

BEST_DAYS = 28
OUTLOOK_DAYS = 30
WEEKS = 13
TOP = 8
#: A Monday: weekday names are this day plus 0 to 6, in the page's language.
MONDAY = date(2024, 1, 1)


def weekday_name(index: int, style: str = "EEEE") -> str:
    return i18n.day(MONDAY + timedelta(days=index), style)


def _hour(hour: int) -> str:
    """An hour of the Manila day as the reader's clock writes it ("6:00 PM")."""
    return i18n.clock(datetime(2024, 1, 1, hour, tzinfo=i18n.MANILA))


def _lead_time(raw: str | None) -> tuple[int, str | None]:
    default = limits.INSIGHTS_DEFAULT_LEAD_TIME_DAYS
    if raw is None or raw.strip() == "":
        return default, None
    text = raw.strip()
    if not text.isdigit() or not 0 <= int(text) <= limits.INSIGHTS_MAX_LEAD_TIME_DAYS:
        message = _("The lead time is a whole number of days from 0 to {most}.").format(
            most=limits.INSIGHTS_MAX_LEAD_TIME_DAYS
        )
        return default, message
    return int(text), None


def _effect_sentence(name: str, effect: dict[str, Any]) -> str:
    """What paydays or holidays do to this store, in one sentence."""
    change = i18n.percent(abs(Decimal(effect["factor"]) - 1), 0)
    return {
        ("payday", "more"): _(
            "On paydays (the 15th and 30th) you sell {percent} more than on a usual day: have "
            "stock ready."
        ),
        ("payday", "less"): _("On paydays you sell {percent} less than on a usual day."),
        ("payday", "same"): _("Paydays sell about the same as a usual day at your store."),
        ("payday", "unseen"): _("No payday in your sales history yet."),
        ("holiday", "more"): _("On holidays you sell {percent} more than on a usual day."),
        ("holiday", "less"): _(
            "On holidays you sell {percent} less than on a usual day: a good day to restock."
        ),
        ("holiday", "same"): _("Holidays sell about the same as a usual day at your store."),
        ("holiday", "unseen"): _("No holiday in your sales history yet."),
    }[(name, effect["verdict"])].format(percent=change)


def _effects_chart(found: dict[str, dict[str, Any]]) -> charts.Chart:
    """A usual day as 100, and each effect seen as sales on such a day against it."""
    names = {"payday": _("Payday"), "holiday": _("Holiday"), "christmas": _("Christmas")}
    points = [(_("Usual day"), 100)] + [
        (names[n], int(Decimal(e["factor"]) * 100)) for n, e in found.items() if e["days_seen"]
    ]
    return charts.bars(points, text=lambda v: i18n.percent(Decimal(v) / 100, 0))


@router.get("/m/insights")
def insights_page(
    request: Request,
    viewer: Merchant,
    lead_time: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    caller = viewer.caller
    lead, error = _lead_time(lead_time)

    def work(unit: Unit) -> dict[str, Any]:
        assert caller.party_id is not None
        advice = reorder_service.reorder_list(unit, caller, caller.party_id, lead)
        sellers = product_service.best_sellers(unit, caller, caller.party_id, BEST_DAYS)
        last = sales.today(unit) - timedelta(days=1)
        daily = sales.daily_sales(unit, caller, caller.party_id, 7 * WEEKS, last)
        sales_mix = mix_service.sales_mix(unit, caller, caller.party_id, BEST_DAYS)
        outlook = cashflow_service.cash_flow(unit, caller, caller.party_id, OUTLOOK_DAYS)
        calendar = calendar_service.sales_calendar(unit, caller, caller.party_id, WEEKS)
        return {
            "calendar": calendar,
            "advice": advice,
            "sellers": sellers,
            "daily": daily,
            "mix": sales_mix,
            "outlook": outlook,
        }

    found = session.platform(request).run(work, write=False)
    advice, sellers = found["advice"], found["sellers"]
    week = weekdays.by_weekday([(d, amount) for d, amount, _count in found["daily"]])
    sold = [p for p in sellers if p["units"] > 0]
    best_chart = charts.bars(
        [(p["title"], p["units"]) for p in sold[:TOP]], text=i18n.number, tick_every=len(sold) + 1
    )
    week_chart = charts.bars(
        [(weekday_name(k, "EEE"), week.average_minor[k]) for k in range(7)],
        text=i18n.money,
        highlight=[weekday_name(week.best, "EEE")] if week.best is not None else [],
    )
    sales_mix = found["mix"]
    busiest = sales_mix["busiest_hour"]
    hour_chart = charts.bars(
        [(str(h["hour"]), h["amount_minor"]) for h in sales_mix["by_hour"]],
        text=i18n.money,
        tick_every=3,
    )
    outlook = found["outlook"]
    weeks = [outlook["by_day"][i : i + 7] for i in range(0, len(outlook["by_day"]), 7)]
    outlook_chart = charts.bars(
        [(i18n.day(w[0]["day"], "d MMM"), sum(d["sales_minor"] for d in w)) for w in weeks],
        text=i18n.money,
    )
    found_effects = found["calendar"]["effects"]
    return render.page(
        request,
        "merchant/insights.html",
        effects_chart=_effects_chart(found_effects),
        effects_sentences=[_effect_sentence(n, found_effects[n]) for n in ("payday", "holiday")],
        effects_seen=any(e["verdict"] != "unseen" for e in found_effects.values()),
        outlook=outlook,
        outlook_chart=outlook_chart,
        min_history=limits.INSIGHTS_MIN_HISTORY_DAYS,
        mix=sales_mix,
        margin_share=next(
            (Decimal(p["margin_share"]) for p in sold if p["margin_share"] is not None),
            Decimal(0),
        ),
        hour_chart=hour_chart,
        busiest_hour=_hour(busiest) if busiest is not None else None,
        shares={
            "repeat": Decimal(sales_mix["repeat_sales_share"]),
            **{k: Decimal(v["share"]) for k, v in sales_mix["channels"].items()},
        },
        advice=advice,
        soon=[p for p in advice["products"] if p["reorder_soon"]],
        lead_time=lead,
        lead_error=error,
        sold=sold,
        unsold=[p for p in sellers if p["units"] == 0],
        best_chart=best_chart,
        week=week,
        week_chart=week_chart,
        best_day=weekday_name(week.best) if week.best is not None else None,
        best_days=BEST_DAYS,
        weeks=WEEKS,
        max_lead=limits.INSIGHTS_MAX_LEAD_TIME_DAYS,
    )
