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
from tindahan.insights import evaluate as evaluation
from tindahan.insights import sales

app = typer.Typer(help="Sales insights: forecast evaluation.", no_args_is_help=True)
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
