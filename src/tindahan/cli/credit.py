"""``tindahan credit``: train, evaluate, score and check drift, on any CSV or on merchants.

The contract outside checks rely on (issue 6):

* ``train --data CSV --target COL [--positive V] [--model scorecard|gbm] --out DIR``
  writes a model folder (see ``credit.artifact``) with its card and plots;
* ``evaluate … [--folds 5] [--seed 0] --json`` prints one JSON object with at least
  ``auc``, ``ks``, ``gini``, ``brier`` and ``n`` from stratified k-fold cross-validation;
* ``score --model DIR (--merchant ID | --data CSV) [--json]`` prints probabilities of
  default, score points and reason codes.

Protected attributes are excluded by default (``credit.protected``); ``--protected``
replaces the list (``--protected ""`` excludes nothing). Columns named like the merchant
features get their known risk direction as a monotone constraint. Progress and notes go to
stderr, so ``--json`` output on stdout is exactly one JSON object. Bad input: one line on
stderr, exit 2, nothing written.
"""

from __future__ import annotations

import json
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from tindahan import limits
from tindahan.cli.errors import fail, friendly

app = typer.Typer(help="Credit scoring: train, evaluate, score, drift.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DataOption = Annotated[Path, typer.Option("--data", help="A CSV file (or .csv.gz) with a header.")]
TargetOption = Annotated[str, typer.Option("--target", help="The column holding the outcome.")]
PositiveOption = Annotated[
    str | None, typer.Option("--positive", help="The target value that is the event (default).")
]
KindOption = Annotated[
    str, typer.Option("--model", help="scorecard (binning, WoE, logistic) or gbm (LightGBM).")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for folds and subsampling.")]
ProtectedOption = Annotated[
    str | None,
    typer.Option(
        "--protected",
        help="Comma-separated words naming protected columns to exclude (replaces the default "
        "list: sex, gender, civil status, marital, religion, ethnicity, race, nationality).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")]
ModelDirOption = Annotated[Path, typer.Option("--model", help="A model folder from `train`.")]

if TYPE_CHECKING:
    from tindahan.credit import artifact


def _kind(kind: str) -> str:
    from tindahan.credit import model
    from tindahan.credit.errors import CreditError

    if kind not in model.KINDS:
        raise CreditError(f"--model must be scorecard or gbm, not {kind!r}")
    return kind


def _table(data: Path, target: str, positive: str | None, protected: str | None) -> Any:
    from tindahan.credit import dataset
    from tindahan.credit import protected as protected_words
    from tindahan.credit.errors import CreditError

    if data.is_file() and data.stat().st_size > limits.CREDIT_MAX_CSV_BYTES:
        raise CreditError(f"{data} is larger than {limits.CREDIT_MAX_CSV_BYTES} bytes")
    table = dataset.load(data, target, positive, protected_words.parse(protected))
    for note in table.notes:
        err.print(f"note: {note}")
    return table


def _directions(table: Any) -> dict[str, int]:
    from tindahan.credit import features

    return {
        c.name: features.DIRECTIONS[c.name]
        for c in table.columns
        if c.kind == "numeric" and features.DIRECTIONS.get(c.name)
    }


@app.command("train")
@friendly
def train(
    data: DataOption,
    target: TargetOption,
    out_dir: Annotated[Path, typer.Option("--out", help="The model folder to write.")],
    positive: PositiveOption = None,
    kind: KindOption = "scorecard",
    seed: SeedOption = 0,
    protected: ProtectedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train a model on a CSV and write its folder: model, metadata, card, plots."""
    from tindahan.credit import artifact, card

    _kind(kind)
    artifact.check_out(out_dir)  # before the work, not after it
    table = _table(data, target, positive, protected)
    with Quiet(), err.status(f"training the {kind} on {len(table.features)} rows…"):
        trained = artifact.train(table, kind, seed, _directions(table), source=data.name)
        folder = artifact.save(trained, out_dir, card.write)
    summary = {"model": str(folder), **trained.metadata["validation"]}
    summary["version"] = trained.metadata["version"]
    if as_json:
        out.print(json.dumps(summary), markup=False)
        return
    v = trained.metadata["validation"]
    out.print(
        f"{trained.metadata['version']} written to {folder}: holdout AUC {v['auc']}, "
        f"KS {v['ks']}, Brier {v['brier']}; see {folder / 'card.md'}",
        markup=False,
    )


@app.command("evaluate")
@friendly
def evaluate_command(
    data: DataOption,
    target: TargetOption,
    positive: PositiveOption = None,
    kind: KindOption = "scorecard",
    folds: Annotated[int, typer.Option("--folds", help="Cross-validation folds.")] = 5,
    seed: SeedOption = 0,
    protected: ProtectedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Stratified k-fold cross-validation: AUC, KS, Gini and Brier out of sample."""
    from tindahan.credit import evaluate

    _kind(kind)
    evaluate.check_folds(folds)
    table = _table(data, target, positive, protected)
    with Quiet(), err.status(f"{folds}-fold cross-validation of the {kind}…"):
        report = evaluate.cross_validate(table, kind, folds, seed, _directions(table)).report
    if as_json:
        out.print(json.dumps(report), markup=False)
        return
    out.print(
        f"{kind}, {folds} folds, n={report['n']}: AUC {report['auc']}, KS {report['ks']}, "
        f"Gini {report['gini']}, Brier {report['brier']} ({report['seconds']} s)",
        markup=False,
    )


@app.command("score")
@friendly
def score(
    model_dir: ModelDirOption,
    merchant: Annotated[
        str | None, typer.Option("--merchant", help="A merchant's party id (needs --db).")
    ] = None,
    data: Annotated[Path | None, typer.Option("--data", help="A CSV of rows to score.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL (for --merchant).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Probability of default, score points and reason codes."""
    from tindahan.credit import artifact
    from tindahan.store.database import default_url

    if (merchant is None) == (data is None):
        fail("give exactly one of --merchant ID or --data CSV")
    loaded = artifact.load(model_dir)
    if data is not None:
        result = _score_csv(loaded, data)
    else:
        assert merchant is not None
        result = _score_merchant(loaded, merchant, db or default_url())
    if as_json:
        out.print(json.dumps(result), markup=False)
        return
    _print_decisions(result)


def _score_csv(loaded: artifact.Loaded, data: Path) -> dict[str, Any]:
    from tindahan.credit import dataset, features, model

    frame, _ = dataset.read_csv(data)
    rows, notes = dataset.for_scoring(frame, loaded.scorer.columns)
    for note in notes:
        err.print(f"note: {note}")
    describe = features.describe if _merchant_model(loaded) else model.describe_generic
    with Quiet():
        decisions = loaded.scorer.decide(rows, describe)
    return {
        "model_version": loaded.metadata["version"],
        "n": len(decisions),
        "decisions": [{"row": i + 1, **d.as_dict()} for i, d in enumerate(decisions)],
        "notes": notes,
    }


def _merchant_model(loaded: artifact.Loaded) -> bool:
    from tindahan.credit import features

    return {c.name for c in loaded.scorer.columns} <= set(features.FEATURES)


def _score_merchant(loaded: artifact.Loaded, merchant: str, url: str) -> dict[str, Any]:
    from tindahan.credit.errors import CreditError
    from tindahan.kernel.callers import SCOPES, Caller
    from tindahan.services.credit import assessments as credit_service
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store.database import connect

    if not _merchant_model(loaded):
        raise CreditError(
            f"{loaded.folder} was trained on other columns than the merchant features; "
            "score it with --data"
        )
    operator = Caller("cli", None, frozenset(SCOPES))
    with connect(url) as database:
        platform = Platform(database, open_vault(database))
        with Quiet():
            return platform.run(
                lambda unit: credit_service.assess(unit, operator, merchant, loaded)
            )


def _print_decisions(result: dict[str, Any]) -> None:
    from rich.table import Table as RichTable

    decisions = result.get("decisions") or [result]
    grid = RichTable("row", "decision", "P(default)", "score", "reasons")
    for index, d in enumerate(decisions, start=1):
        reasons = "; ".join(
            f"{r['text']}" + (f" (-{r['points_lost']})" if r.get("points_lost") else "")
            for r in d["reasons"]
        )
        grid.add_row(
            str(d.get("row", index)),
            d.get("decision", "scored"),
            str(d["probability_of_default"]),
            str(d["score"]),
            reasons or "-",
        )
    out.print(grid)


@app.command("drift")
@friendly
def drift_command(
    model_dir: ModelDirOption,
    data: Annotated[
        Path | None, typer.Option("--data", help="A later CSV with the model's columns.")
    ] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Or: the platform's merchants, from this database.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="With --db: YYYY-MM-DD (default: now).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Population stability (PSI) of the score and each feature against the training data."""
    from tindahan.credit import artifact, dataset, drift, model
    from tindahan.store.database import default_url

    if (data is None) == (db is None):
        fail("give exactly one of --data CSV or --db URL")
    loaded = artifact.load(model_dir)
    if data is not None:
        frame, _ = dataset.read_csv(data)
        rows, _ = dataset.for_scoring(frame, loaded.scorer.columns)
    else:
        rows = _platform_rows(loaded, db or default_url(), as_of)
    with Quiet():
        points = model.to_points(loaded.scorer.probability(rows))
    report = drift.report(loaded.baseline, rows, points)
    if as_json:
        out.print(json.dumps(report), markup=False)
        return
    if report["note"]:
        err.print(f"note: {report['note']}")
    out.print(f"score PSI {report['score']['psi']}: {report['score']['flag']}", markup=False)
    for name, row in report["features"].items():
        out.print(f"  {name}: {row['psi']} ({row['flag']})", markup=False)


def _platform_rows(loaded: artifact.Loaded, url: str, as_of: str | None) -> Any:
    from tindahan.credit import features
    from tindahan.credit.errors import CreditError
    from tindahan.services.credit import assessments as credit_service
    from tindahan.store.database import connect

    if not _merchant_model(loaded):
        raise CreditError(f"{loaded.folder} is not a merchant model; check it with --data")
    moment = time.time_ns()
    if as_of is not None:
        try:
            day = datetime.strptime(as_of, "%Y-%m-%d").replace(tzinfo=UTC)
        except ValueError:
            raise CreditError(f"--as-of must be a date like 2026-05-01, not {as_of!r}") from None
        moment = int(day.timestamp()) * 10**9
    with connect(url) as database:
        frame = database.transact(
            lambda conn: credit_service.platform_features(conn, moment), write=False
        )
    if frame.empty:
        raise CreditError("no merchant on the platform has enough history to compare")
    return features.as_table(frame).features


class Quiet(warnings.catch_warnings):
    """Library warnings (convergence notes and the like) stay out of the user's output."""

    def __enter__(self) -> None:
        super().__enter__()
        warnings.simplefilter("ignore")
