"""``tindahan payouts run``: the automatic daily payouts that are due, by hand.

The worker runs them on its own every round (``services.payouts.daily``); this is for an
operator catching up after the worker was stopped, or a cron job on a deployment without
one. Running it twice, or beside the worker, pays nobody twice: each merchant's day is done
once. ``--at`` runs as of another moment of a day (ISO 8601; without an offset it is Manila
time, as the payout times are): the day and time decide who is due, the money is as it is
now. Bad input: one line on stderr, exit 2.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.cli.ledger import DbOption

app = typer.Typer(help="Payouts: the automatic daily payouts.")
out = Console(highlight=False, soft_wrap=True)


def at_ns(text: str) -> int:
    from tindahan.payments.periods import PHILIPPINE_TIME

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"--at {text!r} is not an ISO 8601 time, like 2026-12-06T21:00+08:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=PHILIPPINE_TIME)
    seconds = moment.timestamp()
    if not 0 <= seconds < 2**63 // 10**9:
        raise typer.BadParameter(f"--at {text!r} is out of range (1970 to 2262)")
    return int(seconds) * 10**9 + moment.microsecond * 1000


@app.command("run")
@friendly
def run(
    db: DbOption = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Run as of this moment (ISO 8601; default: now)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Pay out every merchant whose automatic payout is due and not yet done today."""
    from tindahan.services.payouts import daily
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform
    from tindahan.store import migrate
    from tindahan.store.database import connect

    when = None if at is None else at_ns(at)
    with connect(db, create=False) as database:
        if migrate.current(database) != migrate.head():
            fail("the database is not set up; run `tindahan db upgrade`")
        report = daily.run_due(Platform(database, open_vault(database)), when)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    out.print(
        f"{report.day}: {report.paid} paid out ({report.paid_minor} centavos), "
        f"{report.nothing} with nothing to pay, {report.failed} failed"
    )
