"""The ``tindahan`` command: ``db``, ``ledger``, ``demo``, ``worker`` and ``serve``."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console

from tindahan import worker as worker_jobs
from tindahan.cli import ledger
from tindahan.cli.errors import friendly
from tindahan.services import demo as demo_service
from tindahan.store import migrate
from tindahan.store.database import connect

app = typer.Typer(
    help="Tindahan: payments, online selling and credit for Philippine MSMEs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database: create and migrate.")
demo_app = typer.Typer(help="Demo data.")
app.add_typer(db_app, name="db")
app.add_typer(ledger.app, name="ledger")
app.add_typer(demo_app, name="demo")
out = Console(highlight=False, soft_wrap=True)
DbOption = ledger.DbOption


@db_app.command("upgrade")
@friendly
def db_upgrade(db: DbOption = None) -> None:
    """Create the database or migrate it to the newest schema."""
    with connect(db) as database:
        revision = migrate.upgrade(database)
    out.print(f"database at revision {revision}: {database.url.render_as_string()}")


@demo_app.command("seed")
@friendly
def demo_seed(db: DbOption = None) -> None:
    """Book the demo parties' accounts and transfers (idempotent)."""
    with connect(db) as database:
        migrate.upgrade(database)
        added = demo_service.seed(database)
    out.print(f"demo data: {added} new transfers")


@app.command()
@friendly
def worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit")] = False,
) -> None:
    """Seal new transfers into the hash chain and void expired holds, continually."""
    with connect(db, create=False) as database:
        if once:
            result = worker_jobs.tick(database)
            out.print(f"sealed {result.sealed}, voided {result.expired} expired holds")
            return
        _run_until_signal(database)


@app.command()
@friendly
def serve(db: DbOption = None) -> None:
    """The platform's main job: migrate, seed demo data, run the ledger worker.

    The HTTP API and web pages arrive with the payments issue; until then the main job
    keeps the ledger sealed and its holds expired.
    """
    with connect(db) as database:
        revision = migrate.upgrade(database)
        added = demo_service.seed(database)
        out.print(f"database {database.url.render_as_string()} at revision {revision}")
        out.print(f"demo data ready ({added} new transfers)")
        out.print("The HTTP API arrives with the payments issue; running the ledger worker.")
        out.print("Press Ctrl-C to stop.")
        _run_until_signal(database)


def _run_until_signal(database: object) -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())

    def report(result: worker_jobs.Tick) -> None:
        if result.sealed or result.expired:
            out.print(f"sealed {result.sealed}, voided {result.expired} expired holds")

    worker_jobs.run(database, stop, report)  # type: ignore[arg-type]
    out.print("stopped")


def main() -> None:
    app()
