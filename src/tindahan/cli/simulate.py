"""``tindahan simulate``: a population of Philippine merchants with a known future.

It generates the population in memory (``credit.simulate``), then either writes its history
(the events before the as-of date) into the database through the real services
(``services.seed.simulation``), or with ``--memory-only`` writes nothing there. ``--truth`` saves
the ground truth (who defaulted, and the hidden traits) as CSV, keyed by the platform's party
ids when the database was written, by the simulated ids otherwise; ``--events DIR`` saves the
in-memory events, one CSV per frame, with the simulated ids.

Every argument is checked before anything is generated or written: bad input is one line on
stderr and exit code 2, as elsewhere in the CLI.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.cli.ledger import DbOption

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

if TYPE_CHECKING:
    import pandas as pd

    from tindahan.credit import simulate as simulator
    from tindahan.services.seed import simulation


@dataclass(frozen=True)
class Request:
    """The checked arguments."""

    merchants: int
    start_ns: int
    as_of_ns: int
    as_of: date
    months: int
    horizon_days: int
    seed: int
    activity: float


@friendly
def simulate(
    db: DbOption = None,
    merchants: Annotated[int, typer.Option("--merchants", help="Merchants to simulate")] = 200,
    months: Annotated[int, typer.Option("--months", help="Months of history before as-of")] = 12,
    horizon_days: Annotated[
        int, typer.Option("--horizon-days", help="Days after as-of in which loans may default")
    ] = 90,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same population")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: today in Manila)")
    ] = None,
    truth: Annotated[
        Path | None, typer.Option("--truth", help="Write the ground truth CSV here")
    ] = None,
    memory_only: Annotated[
        bool, typer.Option("--memory-only", help="Do not write the database")
    ] = False,
    events: Annotated[
        Path | None, typer.Option("--events", help="Write the in-memory events as CSVs here")
    ] = None,
    activity: Annotated[
        float, typer.Option("--activity", help="Scale merchants' sales (e.g. 0.2: fewer)")
    ] = 1.0,
    features_csv: Annotated[
        Path | None,
        typer.Option(
            "--features",
            help="Write each scorable merchant's credit features as of --as-of, with the "
            "simulated outcome in a `defaulted` column (ready for `tindahan credit train`)",
        ),
    ] = None,
) -> None:
    """Simulate merchants (sales, refunds, cash-outs, a typhoon) and who would default."""
    from tindahan.credit import simulate as simulator
    from tindahan.store.database import default_url, normalize_url

    request = _request(merchants, months, horizon_days, seed, as_of, activity)
    url = None if memory_only else (db or default_url())
    if url is not None:
        normalize_url(url)  # an unusable URL stops here, before any work
    _check_outputs(truth, events)
    if features_csv is not None:
        _check_outputs(features_csv, None)
    started = time.perf_counter()
    population = simulator.simulate(
        simulator.Params().scaled(request.activity),
        merchants=request.merchants,
        start_ns=request.start_ns,
        as_of_ns=request.as_of_ns,
        horizon_days=request.horizon_days,
        seed=request.seed,
    )
    written = _write(url, population) if url is not None else None
    if events is not None:
        _save_events(population, events)
    if truth is not None:
        _truth_frame(population, written).to_csv(truth, index=False)
    if features_csv is not None:
        _features_frame(population).to_csv(features_csv, index=False)
    _summary(request, population, written, time.perf_counter() - started)
    if truth is not None:
        out.print(f"ground truth: {truth} ({len(population.truth)} merchants)")
    if events is not None:
        out.print(f"events: {events}/*.csv")


def _request(
    merchants: int, months: int, horizon_days: int, seed: int, as_of: str | None, activity: float
) -> Request:
    from tindahan.credit import simulate as simulator

    if not 1 <= merchants <= simulator.MAX_MERCHANTS:
        fail(f"--merchants must be 1 to {simulator.MAX_MERCHANTS}, not {merchants}")
    if not 1 <= months <= simulator.MAX_HISTORY_DAYS // 31:
        fail(f"--months must be 1 to {simulator.MAX_HISTORY_DAYS // 31}, not {months}")
    if not 0 <= horizon_days <= simulator.MAX_HORIZON_DAYS:
        fail(f"--horizon-days must be 0 to {simulator.MAX_HORIZON_DAYS}, not {horizon_days}")
    if not 0 <= seed < 2**63:
        fail(f"--seed must be a whole number from 0, not {seed}")
    if not 0.01 <= activity <= 10:
        fail(f"--activity must be 0.01 to 10, not {activity}")
    day = _as_of(as_of)
    first = _months_before(day, months)
    return Request(
        merchants=merchants,
        start_ns=_manila_midnight(first),
        as_of_ns=_manila_midnight(day),
        as_of=day,
        months=months,
        horizon_days=horizon_days,
        seed=seed,
        activity=activity,
    )


def _as_of(text: str | None) -> date:
    from tindahan.payments.periods import PHILIPPINE_TIME

    today = datetime.now(PHILIPPINE_TIME).date()
    if text is None:
        return today
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--as-of is a date like 2026-03-31, not {text!r}") from None
    if day > today:
        fail(f"--as-of {day} is in the future (today is {today} in Manila)")
    return day


def _months_before(day: date, months: int) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _manila_midnight(day: date) -> int:
    from tindahan.payments.periods import PHILIPPINE_TIME

    moment = datetime(day.year, day.month, day.day, tzinfo=PHILIPPINE_TIME)
    return int(moment.timestamp()) * 10**9


def _features_frame(population: simulator.Population) -> pd.DataFrame:
    """Features strictly from before as-of (``credit.features``), outcome from after it."""
    from tindahan.credit import features
    from tindahan.credit import simulate as simulator

    return simulator.labelled(population)[["merchant_id", *features.FEATURES, "defaulted"]]


def _check_outputs(truth: Path | None, events: Path | None) -> None:
    if truth is not None and (truth.is_dir() or not truth.parent.is_dir()):
        fail(f"--truth {truth} is not a file in an existing folder")
    if events is not None and events.exists() and not events.is_dir():
        fail(f"--events {events} is not a folder")


def _write(url: str, population: simulator.Population) -> simulation.Written:
    """Migrate the database as the other commands do, then write with a progress bar."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from tindahan.services.platform import chart
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.seed import simulation
    from tindahan.services.unit import Platform
    from tindahan.store import migrate
    from tindahan.store.database import connect

    with connect(url) as database:
        migrate.upgrade(database)
        platform = Platform(database, open_vault(database))
        chart.ensure_operator_accounts(platform)
    columns = (
        TextColumn("writing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("writing", total=None)
        return simulation.write_with_history(
            url,
            platform.vault,
            population,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _save_events(population: simulator.Population, folder: Path) -> None:
    from tindahan.credit import events as credit_events

    folder.mkdir(parents=True, exist_ok=True)
    for name in credit_events.SCHEMA:
        getattr(population.events, name).to_csv(folder / f"{name}.csv", index=False)


def _truth_frame(
    population: simulator.Population, written: simulation.Written | None
) -> pd.DataFrame:
    """The truth keyed by platform party ids when the database was written."""
    frame = population.truth.copy()
    frame.insert(1, "simulated_id", frame["merchant_id"])
    if written is not None:
        frame["merchant_id"] = frame["simulated_id"].map(written.party_ids)
        frame = frame[frame["merchant_id"].notna()]
    return frame


def _summary(
    request: Request,
    population: simulator.Population,
    written: simulation.Written | None,
    seconds: float,
) -> None:
    e, cut = population.events, population.as_of_ns
    counts = {
        name: int((getattr(e, name).at_ns < cut).sum())
        for name in ("sales", "refunds", "cash_outs", "disputes")
    }
    defaulted = int(population.truth["defaulted"].sum())
    rate = defaulted / len(population.truth)
    history = ", ".join(
        _count(counts[name], word)
        for name, word in (
            ("sales", "sale"),
            ("refunds", "refund"),
            ("cash_outs", "cash-out"),
            ("disputes", "dispute"),
        )
    )
    out.print(
        f"simulated {_count(request.merchants, 'merchant')} as of {request.as_of} "
        f"({_count(request.months, 'month')} of history, seed {request.seed}): "
        f"{history} before as-of; default rate {rate:.1%} ({defaulted:,}) "
        f"within {_count(request.horizon_days, 'day')}"
    )
    if written is not None:
        made = ", ".join(
            _count(n, word)
            for n, word in (
                (written.merchants, "merchant"),
                (written.buyers, "buyer"),
                (written.agents, "agent"),
                (written.sales, "sale"),
                (written.refunds, "refund"),
                (written.cash_outs, "cash-out"),
                (written.fundings, "funding"),
            )
        )
        out.print(
            f"wrote {made}; {_count(written.refusals, 'refusal')}{_by_code(written.refused)}; "
            f"{_count(written.disputes_not_written, 'dispute')} kept in memory only"
        )
    out.print(f"took {seconds:.1f} s")


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _by_code(refused: dict[str, int]) -> str:
    if not refused:
        return ""
    return " (" + ", ".join(f"{code}: {n:,}" for code, n in sorted(refused.items())) + ")"
