"""``tindahan delivery``: couriers' rate cards (the operator's) and the zone between two
places.

``rates set CODE --file CARD.json`` creates or replaces a courier's whole card (the JSON of
``GET /v1/couriers/{code}``: name, cod_bps, cod_min_minor, zones → min_days, max_days,
tiers); ``rates list`` / ``rates show CODE`` print them; ``rates retire CODE`` stops
checkouts offering it. ``zone FROM TO`` names the zone between two barangays' PSGC codes.
``simulate`` writes a simulated shipment history (``delivery.simulate``) as the CSV that
``evaluate --events FILE.csv`` reads: it trains the delivery-time model on the earliest 80%
of the shipments by pickup time and reports on the latest 20% against the zone-median
baseline (``delivery.promise``).
Bad input: one line on stderr naming the field, exit 2, nothing changed.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.cli.ledger import DbOption
from tindahan.kernel.callers import SCOPES, Caller

app = typer.Typer(help="Delivery: couriers' rate cards and zones.")
rates_app = typer.Typer(help="Couriers' rate cards (zone × weight tiers, window, COD fee).")
app.add_typer(rates_app, name="rates")
history_app = typer.Typer(help="The shipment history delivery windows are learned from.")
app.add_typer(history_app, name="history")
out = Console(highlight=False, soft_wrap=True)
OPERATOR = Caller("cli", None, frozenset(SCOPES))
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]

if TYPE_CHECKING:
    from tindahan.delivery.history import Shipment
    from tindahan.delivery.traffic import Advisories


def _platform_run(db: str | None, work: Any, write: bool = True) -> Any:
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store import migrate
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        if migrate.current(database) != migrate.head():
            fail("the database is not set up; run `tindahan db upgrade`")
        return Platform(database, open_vault(database)).run(work, write=write)


def _print_card(card: dict[str, Any]) -> None:
    cod = (
        "no COD"
        if card["cod_bps"] is None
        else f"COD {card['cod_bps']} bps, min {card['cod_min_minor']}"
    )
    state = "" if card["active"] else " (retired)"
    out.print(f"{card['code']}: {card['name']}{state}; {cod}")
    for zone, rate in card["zones"].items():
        tiers = ", ".join(f"≤{t['max_weight_g']} g {t['fee_minor']}" for t in rate["tiers"])
        out.print(f"  {zone}: {rate['min_days']}-{rate['max_days']} days; {tiers} (centavos)")


@rates_app.command("set")
@friendly
def set_card(
    code: Annotated[str, typer.Argument(help="The courier's code, like jnt")],
    file: Annotated[Path, typer.Option("--file", help="The card as JSON")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create or replace a courier's rate card."""
    from tindahan.services.delivery import couriers

    try:
        body = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    except ValueError as exc:
        fail(f"{file} is not JSON: {exc}")
    card = _platform_run(db, lambda u: couriers.set_card(u, OPERATOR, code, body))
    if as_json:
        typer.echo(json.dumps(card))
        return
    _print_card(card)


@rates_app.command("list")
@friendly
def list_cards(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every courier's rate card."""
    from tindahan.services.delivery import couriers

    cards = _platform_run(db, lambda u: couriers.list_cards(u, OPERATOR), write=False)
    if as_json:
        typer.echo(json.dumps(cards))
        return
    if not cards:
        out.print("no rate cards yet: `tindahan delivery rates set CODE --file CARD.json`")
    for card in cards:
        _print_card(card)


@rates_app.command("show")
@friendly
def show_card(code: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """One courier's rate card."""
    from tindahan.services.delivery import couriers

    card = _platform_run(db, lambda u: couriers.get_card(u, OPERATOR, code), write=False)
    if as_json:
        typer.echo(json.dumps(card))
        return
    _print_card(card)


@rates_app.command("retire")
@friendly
def retire(code: str, db: DbOption = None) -> None:
    """Stop offering a courier at checkout (shops keep it listed)."""
    from tindahan.services.delivery import couriers

    card = _platform_run(db, lambda u: couriers.retire(u, OPERATOR, code))
    _print_card(card)


@app.command("zone")
@friendly
def zone(
    origin: Annotated[str, typer.Argument(help="The origin barangay's 10-digit PSGC code")],
    destination: Annotated[str, typer.Argument(help="The destination barangay's code")],
) -> None:
    """The delivery zone between two barangays."""
    from tindahan.commerce import psgc
    from tindahan.delivery.zones import zone_between

    places = []
    for name, code in (("origin", origin), ("destination", destination)):
        try:
            places.append(psgc.place_of(code))
        except KeyError:
            fail(f"{name}: no barangay {code!r} in {psgc.EDITION}")
    found = zone_between(places[0].codes, places[1].codes)
    out.print(
        f"{found.value}: {places[0].barangay}, {places[0].city} → "
        f"{places[1].barangay}, {places[1].city}"
    )


@app.command("simulate")
@friendly
def simulate_history(
    out_file: Annotated[Path, typer.Option("--out", help="Write the shipments' CSV here")],
    count: Annotated[int, typer.Option("--count", min=1, max=1_000_000)] = 10_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    days: Annotated[int, typer.Option("--days", min=1, max=3_650)] = 180,
    advisories_out: Annotated[
        Path | None,
        typer.Option("--advisories-out", help="Also write the typhoon advisories (area_psgc,day)"),
    ] = None,
) -> None:
    """Simulate delivered shipments (couriers, Metro Manila traffic, holidays, a typhoon week)."""
    from tindahan.delivery import history, simulate

    made = simulate.simulate(count, seed=seed, days=days)
    try:
        with out_file.open("w", encoding="utf-8", newline="") as f:
            history.write_csv(made.shipments, f)
        if advisories_out is not None:
            with advisories_out.open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(("area_psgc", "day"))
                writer.writerows(simulate.advisory_rows(made.advisories))
    except OSError as exc:
        fail(f"cannot write {exc.filename}: {exc.strerror}")
    first, last = made.shipments[0].picked_up_at, made.shipments[-1].picked_up_at
    out.print(
        f"{len(made.shipments):,} shipments picked up {first:%Y-%m-%d} to {last:%Y-%m-%d} "
        f"written to {out_file}"
    )


def _advisories(path: Path) -> Advisories:
    from tindahan.delivery.traffic import Advisories

    days: dict[str, set[date]] = {}
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    if not rows or rows[0][:2] != ["area_psgc", "day"]:
        fail(f"{path}: the header is area_psgc,day")
    for no, row in enumerate(rows[1:], start=2):
        if len(row) < 2 or not row[0].isdigit() or len(row[0]) != 10:
            fail(f"{path}: row {no}, area_psgc: a 10-digit PSGC code")
        try:
            day = date.fromisoformat(row[1])
        except ValueError:
            fail(f"{path}: row {no}, day: {row[1]!r} is not a date YYYY-MM-DD")
        days.setdefault(row[0], set()).add(day)
    return Advisories({area: frozenset(marked) for area, marked in days.items()})


def _read_shipments(events: Path) -> list[Shipment]:
    """The shipments' CSV of `evaluate` and `history import`, or a clear error."""
    from tindahan.delivery import history

    shipments: list[Shipment] = []
    try:
        with events.open(encoding="utf-8", newline="") as f:
            shipments = history.read_csv(f)
    except OSError as exc:
        fail(f"cannot read {events}: {exc.strerror}")
    except UnicodeDecodeError:
        fail(f"{events} is not UTF-8 text")
    return shipments


@app.command("evaluate")
@friendly
def evaluate(
    events: Annotated[Path, typer.Option("--events", help="The shipments' CSV")],
    as_json: JsonOption = False,
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", help="Write each test shipment's window to this CSV"),
    ] = None,
    advisories: Annotated[
        Path | None,
        typer.Option("--advisories", help="Typhoon advisories as a CSV of area_psgc,day"),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
) -> None:
    """Train on the earliest 80% of the shipments by pickup, report on the latest 20%."""
    from tindahan.delivery import promise
    from tindahan.delivery.traffic import NO_ADVISORIES
    from tindahan.lending.calendar import philippine_regular_holidays

    shipments = _read_shipments(events)
    if len(shipments) < 50:
        fail(f"{events}: {len(shipments)} shipments, at least 50 to train and test on")
    years = range(
        min(s.picked_up_at.year for s in shipments),
        max(s.delivered_at.year for s in shipments) + 1,
    )
    holidays = frozenset(d for y in years for d in philippine_regular_holidays(y))
    calendar = promise.Calendar(holidays, _advisories(advisories) if advisories else NO_ADVISORIES)
    result = promise.evaluate(shipments, calendar, seed=seed)
    if predictions is not None:
        try:
            with predictions.open("w", encoding="utf-8", newline="") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(("shipment_id", "predicted_hours", "low_hours", "high_hours"))
                for s, mid, low, high in zip(
                    result.test, result.predicted, result.low, result.high, strict=True
                ):
                    writer.writerow((s.shipment_id, f"{mid:.2f}", f"{low:.2f}", f"{high:.2f}"))
        except OSError as exc:
            fail(f"cannot write {predictions}: {exc.strerror}")
    report = result.as_dict()
    if as_json:
        typer.echo(json.dumps(report))
        return
    out.print(
        f"trained on {result.n_train:,} shipments, tested on the latest {result.n_test:,}\n"
        f"  model:    MAE {report['mae_hours']} h; 80% window holds "
        f"{report['coverage_80']:.1%}, {report['mean_width_hours']} h wide on average\n"
        f"  baseline: MAE {report['baseline_mae_hours']} h (median per pair of regions)"
    )


@history_app.command("import")
@friendly
def import_history(
    events: Annotated[Path, typer.Option("--events", help="The shipments' CSV")],
    db: DbOption = None,
    advisories: Annotated[
        Path | None,
        typer.Option("--advisories", help="Also set typhoon advisories (area_psgc,day)"),
    ] = None,
) -> None:
    """Store delivered shipments (the evaluate CSV) for checkouts' learned windows."""
    from tindahan.delivery.traffic import NO_ADVISORIES
    from tindahan.services.delivery import promises

    shipments = _read_shipments(events)
    storms = _advisories(advisories) if advisories else NO_ADVISORIES

    def work(unit: Any) -> dict[str, Any]:
        done = promises.import_history(unit, OPERATOR, shipments, "imported")
        for area, days in storms.days.items():
            promises.set_advisory(unit, OPERATOR, area, days)
        return done

    done = _platform_run(db, work)
    out.print(f"{done['imported']:,} shipments added to the delivery history")
