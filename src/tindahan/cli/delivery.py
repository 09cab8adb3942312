"""``tindahan delivery``: couriers' rate cards (the operator's) and the zone between two
places.

``rates set CODE --file CARD.json`` creates or replaces a courier's whole card (the JSON of
``GET /v1/couriers/{code}``: name, cod_bps, cod_min_minor, zones → min_days, max_days,
tiers); ``rates list`` / ``rates show CODE`` print them; ``rates retire CODE`` stops
checkouts offering it. ``zone FROM TO`` names the zone between two barangays' PSGC codes.
Bad input: one line on stderr naming the field, exit 2, nothing changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.cli.ledger import DbOption
from tindahan.commerce import psgc
from tindahan.delivery.zones import zone_between
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.services.delivery import couriers
from tindahan.services.platform.datakey import open_vault
from tindahan.services.unit import Platform
from tindahan.store import migrate
from tindahan.store.database import connect

app = typer.Typer(help="Delivery: couriers' rate cards and zones.")
rates_app = typer.Typer(help="Couriers' rate cards (zone × weight tiers, window, COD fee).")
app.add_typer(rates_app, name="rates")
out = Console(highlight=False, soft_wrap=True)
OPERATOR = Caller("cli", None, frozenset(SCOPES))
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _platform_run(db: str | None, work: Any, write: bool = True) -> Any:
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
    card = _platform_run(db, lambda u: couriers.get_card(u, OPERATOR, code), write=False)
    if as_json:
        typer.echo(json.dumps(card))
        return
    _print_card(card)


@rates_app.command("retire")
@friendly
def retire(code: str, db: DbOption = None) -> None:
    """Stop offering a courier at checkout (shops keep it listed)."""
    card = _platform_run(db, lambda u: couriers.retire(u, OPERATOR, code))
    _print_card(card)


@app.command("zone")
@friendly
def zone(
    origin: Annotated[str, typer.Argument(help="The origin barangay's 10-digit PSGC code")],
    destination: Annotated[str, typer.Argument(help="The destination barangay's code")],
) -> None:
    """The delivery zone between two barangays."""
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
