"""``tindahan loan close``: run the loans' daily close by hand.

The worker closes every ended business day on its own (``services.lending.close``); this is
for an operator catching up after the worker was stopped, or closing one named day. It
prints what the close did, with a progress bar over the loans; a day already closed is
reported, not closed twice. Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.cli.ledger import DbOption

out = Console(highlight=False, soft_wrap=True)

if TYPE_CHECKING:
    from tindahan.services.lending import close as loan_close
    from tindahan.services.unit import Platform


@friendly
def close(
    db: DbOption = None,
    day: Annotated[
        str | None,
        typer.Option("--date", help="The business day to close (default: every ended day due)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per day.")] = False,
) -> None:
    """Close ended business days: accrue interest, apply reserves, penalise, age loans."""
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store import migrate
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        if migrate.current(database) != migrate.head():
            fail("the database is not set up; run `tindahan db upgrade`")
        platform = Platform(database, open_vault(database))
        days = _days(platform, day)
        if not days:
            out.print("nothing to close: every ended day is closed")
        for one in days:
            report = _run(platform, one, quiet=as_json)
            if as_json:
                typer.echo(json.dumps(report.as_dict()))
            elif report.already:
                out.print(f"{one}: already closed ({report.loans} loans)")
            else:
                figures = report.as_dict()
                out.print(
                    f"{one}: {report.loans} loans in {report.milliseconds} ms; interest "
                    f"{figures['interest_minor']}, penalties {figures['penalty_minor']}, from "
                    f"reserves {figures['from_reserve_minor']} centavos; {report.delinquent} "
                    "past due"
                )


def _days(platform: Platform, text: str | None) -> list[date]:
    from tindahan.lending.calendar import business_date
    from tindahan.services.lending import close as loan_close

    if text is None:
        return loan_close.due_days(platform)
    try:
        one = date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"--date {text!r} is not a date YYYY-MM-DD") from None
    if one > business_date(time.time_ns()) - timedelta(days=1):
        raise typer.BadParameter(f"{one} has not ended yet: only past days can be closed")
    return [one]


def _run(platform: Platform, day: date, *, quiet: bool) -> loan_close.CloseReport:
    from rich.progress import Progress

    from tindahan.services.lending import close as loan_close

    if quiet:
        return loan_close.run(platform, day)
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(f"closing {day}", total=None)
        return loan_close.run(platform, day, lambda n: bar.advance(task, n))
