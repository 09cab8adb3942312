"""The operator console's delivery pages (issue 25, items 1 and 3).

* ``/op/delivery``: each courier's on-time rate by zone (``services.delivery.reports``) and
  the traffic picture — Metro Manila delivery times the model learned, by weekday and hour
  of pickup, drawn on the server as a heat map (``charts.grid``) with its figures as a
  table — and the couriers' rate cards, each with a link to edit it.
* ``/op/couriers/{code}``: one courier's rate card as a form — its name, the cash-on-delivery
  fee (a percentage of the amount collected, at least a minimum), and per zone whether it
  is served, its window in days and its weight tiers (up to grams, a fee in pesos; blank
  rows are ignored). Every wrong field is said beside it; the whole card is then stored by
  ``couriers.set_card`` in one transaction with its audit entry (the card before and after,
  and the operator's note), once per form (``forms.run_submit``): nothing half-saved.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.delivery.zones import Zone
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.delivery import couriers, reports
from tindahan.services.unit import Unit
from tindahan.web import charts, forms, i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.insights import weekday_name
from tindahan.web.router import router as make_router
from tindahan.web.session import Operator

router = make_router()
#: Empty tier rows the form offers beyond a zone's tiers, to add one.
SPARE_TIERS = 2


def zone_names() -> dict[str, str]:
    return {
        Zone.WITHIN_CITY.value: _("Within the city"),
        Zone.METRO_MANILA.value: _("Across Metro Manila"),
        Zone.LUZON.value: _("Rest of Luzon"),
        Zone.VISAYAS.value: _("Visayas"),
        Zone.MINDANAO.value: _("Mindanao"),
        Zone.ISLAND_CROSSING.value: _("Island crossings"),
        Zone.REMOTE.value: _("Remote areas"),
    }


def weekdays() -> list[str]:
    return [weekday_name(d, "EEE") for d in range(7)]


def _hours(minutes: int) -> str:
    """Extra minutes as hours to a tenth (for display only: half-even)."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)
    return _("+{hours} h").format(hours=i18n.number(hours))


def traffic_chart(picture: dict[str, Any]) -> charts.Grid:
    """The extra minutes against the week's quickest hour, Monday first, midnight first."""
    rows = [
        (name, [round(h * 60) for h in day])
        for name, day in zip(weekdays(), picture["extra_hours"], strict=True)
    ]
    return charts.grid(
        rows,
        [f"{h:02d}" for h in range(24)],
        text=_hours,
        tick_every=3,
    )


def _worst(picture: dict[str, Any]) -> tuple[str, str, Decimal]:
    """The slowest pickup slot: (weekday, hour, extra hours)."""
    best = max(
        ((day, hour) for day in range(7) for hour in range(24)),
        key=lambda slot: picture["extra_hours"][slot[0]][slot[1]],
    )
    extra = Decimal(str(picture["extra_hours"][best[0]][best[1]])).quantize(Decimal("0.1"))
    return weekdays()[best[0]], f"{best[1]:02d}:00", extra


@router.get("/op/delivery")
def delivery_overview(request: Request, viewer: Operator) -> Response:
    def work(unit: Unit) -> dict[str, Any]:
        return {
            "on_time": reports.on_time(unit, viewer.caller),
            "traffic": reports.traffic(unit, viewer.caller),
            "cards": couriers.list_cards(unit, viewer.caller),
        }

    found = session.platform(request).run(work, write=False)
    picture = found["traffic"]
    worst = _worst(picture) if picture is not None else None
    return render.page(
        request,
        "console/delivery.html",
        zones=zone_names(),
        on_time=found["on_time"],
        picture=picture,
        chart=traffic_chart(picture) if picture is not None else None,
        worst=worst,
        cards=found["cards"],
    )


# --- a rate card -------------------------------------------------------------------------
def _pesos(minor: int) -> str:
    """Centavos as the form shows them (exact: two decimals of a whole number)."""
    return f"{Decimal(minor) / 100:.2f}"


def _values(card: dict[str, Any]) -> dict[str, str]:
    """The form's values for a stored card."""
    values = {"name": card["name"]}
    if card["cod_bps"] is not None:
        values["cod_percent"] = f"{Decimal(card['cod_bps']) / 100:.2f}"
        values["cod_min"] = _pesos(card["cod_min_minor"])
    for zone, rate in card["zones"].items():
        values[f"{zone}.served"] = "1"
        values[f"{zone}.min_days"] = str(rate["min_days"])
        values[f"{zone}.max_days"] = str(rate["max_days"])
        for i, tier in enumerate(rate["tiers"]):
            values[f"{zone}.w{i}"] = str(tier["max_weight_g"])
            values[f"{zone}.f{i}"] = _pesos(tier["fee_minor"])
    return values


def _rows(values: dict[str, str]) -> dict[str, int]:
    """How many tier rows each zone's table shows: its filled ones and spares."""
    out = {}
    for zone in Zone:
        used = [
            i
            for i in range(limits.MAX_RATE_TIERS)
            if values.get(f"{zone.value}.w{i}", "").strip()
            or values.get(f"{zone.value}.f{i}", "").strip()
        ]
        out[zone.value] = min(limits.MAX_RATE_TIERS, (max(used) + 1 if used else 0) + SPARE_TIERS)
    return out


def _percent_bps(form: forms.Form, name: str) -> int | None:
    """A percentage as typed (``1.5``) → basis points, at most two decimals, never rounded."""
    raw = form.values.get(name, "").strip().removesuffix("%").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    bps = value * 100
    whole = value.is_finite() and bps == bps.to_integral_value()
    if not whole or not 0 <= bps <= limits.MAX_COD_BPS:
        top = limits.MAX_COD_BPS // 100
        form.fail(name, _("Enter a percentage from 0 to {top}, like 1.5.").format(top=top))
        return None
    return int(bps)


def card_body(form: forms.Form) -> dict[str, Any] | None:
    """The card typed into the form, checked field by field (None: errors were shown)."""
    name = form.text("name", max_length=limits.NAME_MAX_LENGTH)
    cod_bps: int | None = None
    cod_min = 0
    if form.values.get("cod_percent", "").strip():
        cod_bps = _percent_bps(form, "cod_percent")
        cod_min = form.money("cod_min", required=False, allow_zero=True) or 0
    elif form.values.get("cod_min", "").strip():
        form.fail("cod_percent", _("Give the fee's percentage, or leave both empty."))
    zones: dict[str, Any] = {}
    for zone in Zone:
        key = zone.value
        if not form.values.get(f"{key}.served"):
            continue
        low = form.whole(f"{key}.min_days", low=0, high=limits.MAX_DELIVERY_DAYS)
        high = form.whole(f"{key}.max_days", low=0, high=limits.MAX_DELIVERY_DAYS)
        if low is not None and high is not None and high < low:
            form.fail(f"{key}.max_days", _("The last day cannot be before the first."))
        tiers: list[dict[str, int]] = []
        for i in range(limits.MAX_RATE_TIERS):
            weight_field, fee_field = f"{key}.w{i}", f"{key}.f{i}"
            typed = [form.values.get(f, "").strip() for f in (weight_field, fee_field)]
            if not any(typed):
                continue
            weight = form.whole(weight_field, low=1, high=limits.MAX_PARCEL_WEIGHT_G)
            fee = form.money(fee_field, allow_zero=True)
            if weight is None or fee is None:
                continue
            if tiers and weight <= tiers[-1]["max_weight_g"]:
                form.fail(weight_field, _("Each tier must be heavier than the one above it."))
            elif tiers and fee < tiers[-1]["fee_minor"]:
                form.fail(fee_field, _("A heavier tier cannot cost less than a lighter one."))
            tiers.append({"max_weight_g": weight, "fee_minor": fee})
        if not tiers:
            form.fail(f"{key}.w0", _("A zone served needs at least one weight tier."))
        zones[key] = {"min_days": low, "max_days": high, "tiers": tiers}
    if not zones:
        form.fail(forms.FORM_ERROR, _("Tick at least one zone this courier serves."))
    note = form.text("note", max_length=limits.AUDIT_NOTE_MAX_LENGTH)
    if not form.ok or name is None or note is None:
        return None
    return {"name": name, "cod_bps": cod_bps, "cod_min_minor": cod_min, "zones": zones}


def _card_page(
    request: Request, card: dict[str, Any], values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    return {
        "card": card,
        "values": values,
        "errors": errors,
        "rows": _rows(values),
        "zones": zone_names(),
    }


def _card(request: Request, viewer: Any, code: str) -> dict[str, Any]:
    return session.platform(request).run(
        lambda unit: couriers.get_card(unit, viewer.caller, code), write=False
    )


@router.get("/op/couriers/{code}")
def card_page(request: Request, code: str, viewer: Operator, saved: str = "") -> Response:
    card = _card(request, viewer, code)
    context = _card_page(request, card, _values(card), {})
    return render.page(request, "console/courier.html", saved=saved == "1", **context)


@router.post("/op/couriers/{code}")
async def change_card(request: Request, code: str, viewer: Operator) -> Response:
    form = await forms.read(request)
    card = await run_in_threadpool(_card, request, viewer, code)
    body = card_body(form)
    if body is not None:
        note = form.values.get("note")

        def work(unit: Unit) -> dict[str, Any]:
            return couriers.set_card(unit, viewer.caller, code, body, note)

        try:
            await forms.run_submit(request, viewer, form, work)
        except RefusalError as refusal:
            if refusal.category is Category.NOT_FOUND:
                raise
            form.refusal(refusal, _param_fields(refusal.param))
        else:
            return RedirectResponse(f"/op/couriers/{code}?saved=1", status_code=303)
    context = _card_page(request, card, form.values, form.errors)
    return render.page(request, "console/courier.html", 400, saved=False, **context)


def _param_fields(param: str | None) -> dict[str, str]:
    """A card refusal's param (``zones.luzon.tiers.1.fee_minor``) → its form field."""
    if not param:
        return {}
    parts = param.split(".")
    field = {"cod_bps": "cod_percent", "cod_min_minor": "cod_min"}.get(param, param)
    if len(parts) >= 3 and parts[0] == "zones":
        field = f"{parts[1]}.{parts[2]}"
        if len(parts) == 5 and parts[2] == "tiers":
            field = f"{parts[1]}.{'w' if parts[4] == 'max_weight_g' else 'f'}{parts[3]}"
    return {param: field}
