"""``tindahan insights``: forecast evaluation on a sales CSV (issue 26, item 7).

The contract outside checks rely on::

    tindahan insights evaluate --sales FILE.csv --horizon DAYS [--json] [--predictions OUT.csv]

holds out the last DAYS days of every series of ``merchant_id, product_id, day, units`` (a
day without a row sold zero), forecasts them from the rest with ``insights.forecast`` and
reports the WAPE of the model and of seasonal-naive (the same weekday a week before);
``--predictions`` writes ``merchant_id, product_id, day, units_predicted`` for every held-out
day. ``--json`` prints exactly one JSON object on stdout; notes go to stderr. Bad input: one
line on stderr, exit 2, nothing written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import friendly
from tindahan.cli.ledger import DbOption

app = typer.Typer(help="Sales insights: forecast evaluation, reorder advice.", no_args_is_help=True)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _pct(value: float | None) -> str:
    return "undefined" if value is None else f"{100 * value:.1f} %"


@app.command("evaluate")
@friendly
def evaluate(
    sales_file: Annotated[
        Path,
        typer.Option("--sales", help="CSV with merchant_id, product_id, day (YYYY-MM-DD), units."),
    ],
    horizon: Annotated[int, typer.Option("--horizon", help="Days held out at the end.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    predictions: Annotated[
        Path | None,
        typer.Option("--predictions", help="Write the held-out days' forecasts to this CSV."),
    ] = None,
) -> None:
    """Hold out the last DAYS days, forecast them, and compare with seasonal-naive (WAPE)."""
    from tindahan.insights import evaluate as evaluation
    from tindahan.insights import sales

    evaluation.check_horizon(horizon)
    if predictions is not None:
        evaluation.check_output(predictions, sales_file)
    panel = sales.read(sales_file)
    result = evaluation.holdout(panel, horizon)
    summary = result.summary()
    if predictions is not None:
        summary["predictions"] = str(predictions)
        summary["prediction_rows"] = evaluation.write_predictions(panel, result, predictions)
    for note in result.notes:
        err.print(f"note: {note}", markup=False)
    if as_json:
        out.print(json.dumps(summary), markup=False)
        return
    out.print(
        f"{result.series} series, {result.horizon} days held out "
        f"({result.first_held_out} to {result.last_held_out}, {result.held_out_units:g} units): "
        f"WAPE {_pct(result.wape)} against seasonal-naive {_pct(result.wape_seasonal_naive)}",
        markup=False,
    )
    if predictions is not None:
        out.print(
            f"{summary['prediction_rows']} predictions written to {predictions}", markup=False
        )


@app.command("reorder")
@friendly
def reorder(
    merchant: Annotated[str, typer.Option("--merchant", help="The merchant's party id.")],
    lead_time: Annotated[
        int, typer.Option("--lead-time", help="Days from ordering to delivery (default 3).")
    ] = 3,
    review: Annotated[
        int, typer.Option("--review", help="Days between restocking trips (default 7).")
    ] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    db: DbOption = None,
) -> None:
    """A merchant's products with their stock, forecast and reorder advice, "reorder soon"
    first (from its paid orders of the last half-year)."""
    from tindahan.kernel.callers import SCOPES, Caller
    from tindahan.services.insights import reorder as reorder_service
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    operator = Caller("cli", None, frozenset(SCOPES))
    with connect(db, create=False) as database:
        platform = Platform(database, open_vault(database))
        result = platform.run(
            lambda unit: reorder_service.reorder_list(unit, operator, merchant, lead_time, review),
            write=False,
        )
    if as_json:
        out.print(json.dumps(result), markup=False)
        return
    soon = [p for p in result["products"] if p["reorder_soon"]]
    out.print(
        f"{len(result['products'])} products, {len(soon)} to reorder soon "
        f"(lead time {result['lead_time_days']} days, as of {result['as_of']})",
        markup=False,
    )
    for p in result["products"]:
        what = f"order {p['order_quantity']}" if p["reorder_soon"] else "enough for now"
        out.print(
            f"{p['title']}: stock {p['stock']}, about {p['forecast_daily']:g} a day, lasts "
            f"{p['days_of_cover']} days, reorder point {p['reorder_point']}: {what}",
            markup=False,
        )
