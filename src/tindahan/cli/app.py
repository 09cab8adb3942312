"""The ``tindahan`` command: ``serve`` (the main job), ``db``, ``keys``, ``webhooks``,
``ledger``, ``demo``, ``payouts``, ``insights`` and ``worker``."""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tindahan import limits
from tindahan.cli import (
    clearing,
    credit,
    delivery,
    insights,
    ledger,
    listen,
    loan,
    loan_book,
    logins,
    payouts,
    qr,
    rails,
    risk,
    simulate,
    ussd,
)
from tindahan.cli.errors import fail, friendly

app = typer.Typer(
    help="Tindahan: payments, online selling and credit for Philippine MSMEs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The database: create, migrate, back up and restore.")
demo_app = typer.Typer(help="Demo data.")
keys_app = typer.Typer(help="API keys, the data key and the anchor key.")
hooks_app = typer.Typer(help="Webhook deliveries.")
parties_app = typer.Typer(help="Parties: what Tindahan holds about a person.")
app.add_typer(db_app, name="db")
app.add_typer(ledger.app, name="ledger")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")
app.add_typer(hooks_app, name="webhooks")
app.add_typer(parties_app, name="parties")
app.add_typer(qr.app, name="qr")
app.add_typer(rails.app, name="rails")
app.add_typer(credit.app, name="credit")
app.add_typer(insights.app, name="insights")
app.add_typer(logins.app, name="logins")
app.add_typer(risk.app, name="risk")
loan.app.command("close")(loan_book.close)
app.add_typer(loan.app, name="loan")
app.add_typer(payouts.app, name="payouts")
app.add_typer(delivery.app, name="delivery")
app.command(name="ussd")(ussd.session)
app.command("simulate")(simulate.simulate)
out = Console(highlight=False, soft_wrap=True)
DbOption = ledger.DbOption

if TYPE_CHECKING:
    from tindahan.ledger.port import LedgerPort
    from tindahan.services.ledger.backend import LedgerSettings
    from tindahan.services.unit import Platform
    from tindahan.store.database import Database


def _platform(database: Database, ledger: LedgerPort | None = None) -> Platform:
    from tindahan.anchor.config import Anchor
    from tindahan.services.platform.datakey import open_vault
    from tindahan.services.unit import Platform

    return Platform(database, open_vault(database), Anchor.from_environment(), ledger=ledger)


def _ledger_settings(given: str | None) -> LedgerSettings:
    """``--ledger`` or ``$TINDAHAN_LEDGER_URL``, checked once; exported for child processes."""
    from tindahan.services.ledger.backend import LedgerSettings

    settings = LedgerSettings.from_environment(given)
    settings.export()
    return settings


LedgerOption = Annotated[
    str | None,
    typer.Option(
        "--ledger",
        help="The ledger's TigerBeetle cluster, tigerbeetle://CLUSTER@ADDR,ADDR,… "
        "(default: $TINDAHAN_LEDGER_URL; unset: the SQL ledger in the main database)",
    ),
]


def _prepare(database: Database, ledger: LedgerPort | None = None) -> Platform:
    from tindahan.services.commerce import addresses
    from tindahan.services.platform import chart
    from tindahan.services.rails import participants
    from tindahan.store import migrate

    migrate.upgrade(database)
    platform = _platform(database, ledger)
    chart.ensure_operator_accounts(platform)
    participants.ensure_seeded(platform)
    # delivery addresses stored before the PSGC check get their codes where they match
    filled = platform.run(addresses.backfill_codes)
    if filled["matched"]:
        out.print(f"delivery addresses: {filled['matched']} matched to the PSGC list")
    return platform


@db_app.command("upgrade")
@friendly
def db_upgrade(db: DbOption = None) -> None:
    """Create the database (a PostgreSQL one too) or migrate it to the newest schema."""
    from tindahan.store import migrate
    from tindahan.store.database import connect, create_missing

    create_missing(db)
    with connect(db) as database:
        _prepare(database)
        revision = migrate.current(database)
    out.print(f"database at revision {revision}: {database.url.render_as_string()}")


@parties_app.command("export")
@friendly
def parties_export(
    party: Annotated[str, typer.Option("--party", help="The party's id (pty_…)")],
    db: DbOption = None,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON here instead of printing it")
    ] = None,
) -> None:
    """Everything held about one party, decrypted, as JSON (a Data Privacy Act access
    request). Recorded in the audit log."""
    from tindahan.kernel.callers import SCOPES, Caller
    from tindahan.services.platform import export as export_service
    from tindahan.store.database import connect

    operator = Caller("cli", None, frozenset(SCOPES))
    with connect(db, create=False) as database:
        platform = _platform(database)
        found = platform.run(lambda u: export_service.export(u, operator, party))
    text = json.dumps(found, indent=2, ensure_ascii=False, sort_keys=True)
    if out_path is None:
        typer.echo(text)
        return
    if not out_path.expanduser().parent.is_dir():
        fail(f"no folder {str(out_path.parent)!r} for the export")
    out_path.write_text(text + "\n", encoding="utf-8")
    out.print(f"exported {sum(map(len, found['tables'].values()))} rows to {out_path}")


@db_app.command("backup")
@friendly
def db_backup(
    out_path: Annotated[
        Path, typer.Option("--out", help="The backup file to write (replaced if it exists)")
    ],
    db: DbOption = None,
) -> None:
    """Back up the whole database: SQLite's online backup, or pg_dump's custom format."""
    from tindahan.store import backup
    from tindahan.store.database import default_url

    made = backup.backup(db or default_url(), out_path)
    out.print(f"{made.kind} backup written to {made.path} ({made.size_bytes:,} bytes)")


@db_app.command("restore")
@friendly
def db_restore(
    source: Annotated[Path, typer.Option("--from", help="A file written by `db backup`")],
    db: DbOption = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that is not empty")
    ] = False,
) -> None:
    """Restore a backup into an empty database (or, with --force, over one)."""
    from tindahan.store import backup
    from tindahan.store.database import default_url

    url = db or default_url()
    kind = backup.restore(url, source, force=force)
    out.print(f"{kind} backup {source} restored; check it with `tindahan ledger verify`")


@demo_app.command("seed")
@friendly
def demo_seed(db: DbOption = None, ledger: LedgerOption = None) -> None:
    """Load the demo barangay (shops, buyers, an agent, three weeks of sales) if empty, on
    the deployment's ledger (a TigerBeetle cluster with --ledger or $TINDAHAN_LEDGER_URL)."""
    from tindahan.services.platform import keys as key_service
    from tindahan.store.database import connect

    settings = _ledger_settings(ledger)
    port = settings.open(limits.LEDGER_TOOL_TIMEOUT_MS)
    try:
        with connect(db) as database:
            platform = _prepare(database, port)
            key_service.set_environment(platform, "test")
            url = database.url.render_as_string(hide_password=False)
            made, history = _seed_demo(url, platform)
    finally:
        if port is not None:
            port.close()
    if not made:
        out.print("demo data: already there")
        return
    out.print(f"demo data: {made} payments, and {history} sales of shops with months of history")


@demo_app.command("reset")
@friendly
def demo_reset(
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask before wiping")] = False,
) -> None:
    """Wipe a demo database and load the demo again (test-environment databases only)."""
    from tindahan.services.platform import keys as key_service
    from tindahan.store import migrate
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        platform = _prepare(database)
        if key_service.environment_of(platform) != "test":
            fail("this is not a demo database (its keys are live): nothing was wiped")
        where = database.url.render_as_string()
        if not yes and not typer.confirm(f"Wipe {where} and load the demo again?"):
            fail("nothing was wiped")
        migrate.wipe(database)
        platform = _prepare(database)
        url = database.url.render_as_string(hide_password=False)
        _load_demo(platform, url)
        out.print(f"demo reset: {where}")
        _banner(platform)


def _load_demo(platform: Platform, url: str) -> None:
    """What ``serve --demo`` adds to a database: the barangay once, the credit model, the
    loan product and offers, the web sign-ins."""
    from tindahan.services.platform import keys as key_service
    from tindahan.services.seed import demo as demo_service

    key_service.set_environment(platform, "test")
    if demo_service.is_empty(platform):
        out.print("loading demo data: a barangay's shops, buyers and three weeks of sales…")
        made, history = _seed_demo(url, platform)
        out.print(f"demo data ready: {made} payments, {history} sales with history")
    _demo_model()
    lent = demo_service.seed_lending(platform)
    if lent:
        out.print("demo lending ready: " + ", ".join(f"{k} {v}" for k, v in lent.items()))


def _banner(platform: Platform) -> None:
    """The demo's sign-ins as a table, then its API keys one a line (whole, to copy)."""
    from rich.table import Table

    from tindahan.services.seed import demo as demo_service

    people = demo_service.seed_logins(platform)
    table = Table(title="Demo sign-ins (phone and PIN)", title_justify="left")
    for column in ("who", "name", "phone", "PIN"):
        table.add_column(column, no_wrap=column in ("phone", "PIN"))
    for person in people:
        table.add_row(person["who"], person["name"], person["phone"], person["pin"])
    out.print(table)
    _ussd_banner(platform, people)
    names = {person["who"]: person["name"] for person in people}
    for who, secret in demo_service.demo_keys(platform, people).items():
        label = who if who == "operator" else f"{who}, {names[who]}"
        out.print(f"demo API key ({label}): {secret}", markup=False)


def _ussd_banner(platform: Platform, people: list[dict[str, str]]) -> None:
    """One demo phone and its PIN for the USSD menus, and a store's code to pay."""
    from tindahan.services.ussd import channel as ussd_channel

    buyer = next((p for p in people if p["who"] == "buyer"), None)
    if buyer is None:
        return
    out.print(
        f"USSD from a feature phone: tindahan ussd --phone {buyer['phone']}  "
        f"(PIN {buyer['pin']}, dials *143#)",
        markup=False,
    )
    store = next((p for p in people if p["who"] == "merchant" and p["party_id"]), None)
    code = ussd_channel.short_code(platform, store["party_id"]) if store else None
    if store is not None and code:
        out.print(f"  pay {store['name']} with menu 3, merchant code {code}", markup=False)


def _seed_demo(url: str, platform: Platform) -> tuple[int, int]:
    """The barangay's three weeks, then shops with half a year of sales for credit, on the
    platform's ledger; on a TigerBeetle cluster, says what it left out (``seed.booking``)."""
    from tindahan.services.seed import demo as demo_service
    from tindahan.services.seed.booking import Skipped

    skipped = Skipped()
    made = demo_service.seed_with_history(url, platform.vault, platform.ledger, skipped)
    if not made:
        return 0, 0
    history = demo_service.seed_credit_history(
        url, platform.vault, ledger=platform.ledger, skipped=skipped
    )
    if skipped:
        out.print("on the TigerBeetle ledger the demo left out what it does not take yet:")
        for line in skipped.lines():
            out.print(f"  skipped {line}", markup=False)
    return made, history


def _demo_model() -> None:
    """The merchant credit model the demo scores with: trained once, from a simulated
    population, into ``$TINDAHAN_CREDIT_MODEL`` (default ``var/models/merchant``)."""
    from tindahan.services.credit import assessments as credit_service

    folder = credit_service.model_dir()
    found = folder / "metadata.json"
    if found.exists():
        if not credit_service.is_stale_default(json.loads(found.read_text())):
            return
        out.print("the demo credit model predates the current feature directions")
    out.print(f"training the demo credit model into {folder} (once; about fifteen seconds)…")
    with credit.Quiet():
        trained = credit_service.train_default_model(folder)
    out.print(f"credit model ready: {trained.metadata['version']}")


@keys_app.command("create")
@friendly
def keys_create(
    db: DbOption = None,
    operator: Annotated[bool, typer.Option("--operator", help="A key for the operator")] = False,
    party: Annotated[str | None, typer.Option("--party", help="A key for this party id")] = None,
    scopes: Annotated[str | None, typer.Option("--scopes", help="Comma-separated scopes")] = None,
) -> None:
    """Make an API key; it is printed once, alone on the last line."""
    from tindahan.kernel.callers import DEFAULT_SCOPES, parse_scopes
    from tindahan.services.platform import keys as key_service
    from tindahan.store.database import connect

    if operator == (party is not None):
        raise typer.BadParameter("give exactly one of --operator and --party ID")
    wanted = parse_scopes(scopes) if scopes is not None else frozenset(DEFAULT_SCOPES)
    with connect(db, create=False) as database:
        platform = _platform(database)
        view, secret = platform.run(
            lambda u: key_service.create(u, None, party_id=party, scopes=wanted)
        )
    who = "the operator" if operator else party
    out.print(f"API key {view['id']} for {who}, scopes {','.join(view['scopes'])}. Shown once:")
    print(secret)


@keys_app.command("rotate-data-key")
@friendly
def keys_rotate_data_key(db: DbOption = None) -> None:
    """Re-encrypt all personal data under the key in $TINDAHAN_NEW_DATA_KEY (one transaction;
    run it again if interrupted), then start everything with that key as TINDAHAN_DATA_KEY."""
    from tindahan.services.platform import datakey
    from tindahan.services.platform.datakey import open_vault
    from tindahan.store.database import connect
    from tindahan.store.vault import Vault

    with connect(db, create=False) as database:
        old = open_vault(database)
        new = Vault.configured(None, env=datakey.NEW_KEY_ENV)
        if new is None:
            raise typer.BadParameter(
                f"set {datakey.NEW_KEY_ENV} to the new key (`tindahan keys data-key` makes "
                "one); it is read from the environment, never from the command line"
            )
        done = datakey.rotate(database, old, new)
    if done.already:
        out.print("the database is already under the new key: nothing to do")
    else:
        out.print(f"re-encrypted {done.values} values, recomputed {done.indexes} blind indexes")
    out.print("now set TINDAHAN_DATA_KEY to the new key and restart; the old key is refused")


@keys_app.command("data-key")
def keys_data_key() -> None:
    """Print a new data-encryption key for TINDAHAN_DATA_KEY."""
    import base64
    import secrets

    print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())


@keys_app.command("anchor-key")
def keys_anchor_key() -> None:
    """Print a new Ed25519 anchor key pair: the private key for TINDAHAN_ANCHOR_KEY (the
    sealer's secret store, never the database), the public key for auditors."""
    from tindahan.anchor.keys import AnchorKey

    key = AnchorKey.generate()
    out.print(f"key id {key.verifier.key_id}")
    out.print(f"TINDAHAN_ANCHOR_PUBLIC_KEY={key.verifier.public_text}")
    print(f"TINDAHAN_ANCHOR_KEY={key.private_text}")


@hooks_app.command("replay")
@friendly
def webhooks_replay(
    db: DbOption = None,
    event: Annotated[str | None, typer.Option("--event", help="Only this event id")] = None,
    endpoint: Annotated[
        str | None, typer.Option("--endpoint", help="Only this endpoint id")
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 time; events created from then")
    ] = None,
    failed_only: Annotated[
        bool, typer.Option("--failed-only", help="Only deliveries that gave up")
    ] = False,
) -> None:
    """Queue webhook deliveries again (the worker sends them on its next round)."""
    from tindahan.api.deps import timestamp_ns
    from tindahan.services.platform import webhooks as webhook_service
    from tindahan.store.database import connect

    since_ns = None
    if since is not None:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            raise typer.BadParameter(f"--since is an ISO 8601 time, not {since!r}") from None
        since_ns = timestamp_ns(moment, "--since")
    with connect(db, create=False) as database:
        count = webhook_service.replay(
            _platform(database),
            event_id=event,
            endpoint_id=endpoint,
            since_ns=since_ns,
            only_failed=failed_only,
        )
    out.print(f"queued {count} deliveries again")


@app.command()
@friendly
def worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="One round, then exit")] = False,
    ledger: LedgerOption = None,
) -> None:
    """Expire holds, seal the ledger, deliver webhooks — continually."""
    settings = _ledger_settings(ledger)
    from tindahan import worker as worker_jobs
    from tindahan.services.platform import health
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        platform = _platform(database, settings.open(limits.LEDGER_WORKER_TIMEOUT_MS))
        if once:
            result = worker_jobs.tick(platform)
            health.beat(platform, health.worker_name(), platform.now(), ok=True)
            out.print(f"sealed {result.sealed}, voided {result.expired} expired holds")
            return
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        worker_jobs.run(platform, stop)
        out.print("stopped")


class LogFormat(enum.StrEnum):
    json = "json"
    text = "text"


@app.command()
@friendly
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, max=limits.MAX_SERVER_WORKERS, help="HTTP worker processes"
        ),
    ] = 1,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load demo data into an empty database")
    ] = False,
    background: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Run the background jobs here too")
    ] = True,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            min=1,
            max=65535,
            help="Also serve /metrics on this port without a key (for a private network)",
        ),
    ] = None,
    log_format: Annotated[
        LogFormat,
        typer.Option(
            "--log-format",
            help="Log lines on stderr: json (one object a line, for a log pipeline) or text",
        ),
    ] = LogFormat.json,
    forwarded_allow_ips: Annotated[
        str | None,
        typer.Option(
            "--forwarded-allow-ips",
            help="TLS proxies whose X-Forwarded-Proto/-For are believed, comma-separated "
            "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1)",
        ),
    ] = None,
    ledger: LedgerOption = None,
) -> None:
    """The platform: migrate, (with --demo) load demo data, serve the API, run the worker."""
    settings = _ledger_settings(ledger)  # a bad URL fails before anything starts
    from tindahan import worker as worker_jobs
    from tindahan.api.metrics import metrics_app
    from tindahan.api.server import WORKERS_ENV
    from tindahan.observe import logs as observe_logs
    from tindahan.store.database import connect, create_missing, default_url

    sock = listen.bind(host, port)  # first: a taken port fails before anything else
    scrape = listen.bind(host, metrics_port) if metrics_port is not None else None
    url = db or default_url()
    with sock, connect(url) as database, contextlib.ExitStack() as cleanup:
        cleanup.enter_context(_metrics_folder())
        create_missing(url)
        platform = _prepare(database, settings.open(limits.LEDGER_WORKER_TIMEOUT_MS))
        if demo:
            _load_demo(platform, url)
        os.environ["TINDAHAN_DATABASE_URL"] = database.url.render_as_string(hide_password=False)
        os.environ[WORKERS_ENV] = str(workers)
        base = f"http://{host}:{port}"
        out.print(f"Tindahan is running at {base}  (open it in a browser and sign in)")
        out.print(f"API docs: {base}/docs  (OpenAPI: {base}/openapi.json)")
        if not listen.is_loopback(host):
            _warn_plain_http(base)
        if demo:
            _banner(platform)
        if scrape is not None:
            cleanup.enter_context(scrape)
            listen.serve_beside(scrape, metrics_app(platform), cleanup)
            out.print(f"metrics (no key): http://{host}:{metrics_port}/metrics")
        switch = _demo_switch() if demo and background else None
        out.print("Press Ctrl-C to stop.")
        stop = threading.Event()
        thread = None
        if background:
            thread = threading.Thread(
                target=worker_jobs.run, args=(platform, stop), daemon=True, name="tindahan-worker"
            )
            thread.start()
        handler = observe_logs.configure(log_format)  # on this run's stderr, until it ends
        cleanup.callback(logging.getLogger("tindahan").removeHandler, handler)
        try:
            listen.serve(
                sock,
                "tindahan.web.server:app_from_environment",
                host=host,
                port=port,
                workers=workers,
                forwarded_allow_ips=forwarded_allow_ips,
                log_level="warning",
                # uvicorn's access line is below "warning", so never written, yet with the
                # log on it formats its arguments (client, quoted path) on every answer;
                # each request's line is ``api.metrics.Measure``'s (issue 18)
                access_log=False,
                timeout_graceful_shutdown=10,
            )
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=limits.WEBHOOK_TIMEOUT_S + 5)
            if switch is not None:
                switch.stop()
    out.print("stopped")


@contextlib.contextmanager
def _metrics_folder() -> Iterator[None]:
    """Prometheus's multiprocess mode in a fresh folder, set before any process counts
    anything, so /metrics sums every server process and the worker; gone at the end."""
    from tindahan.observe.metrics import MULTIPROC_ENV
    from tindahan.observe.metrics import use_folder as use_metrics_folder

    folder = Path(tempfile.mkdtemp(prefix="tindahan-metrics-"))
    before = os.environ.get(MULTIPROC_ENV)
    use_metrics_folder(folder)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = before
        shutil.rmtree(folder, ignore_errors=True)


def _demo_switch() -> clearing.Switch | None:
    """The simulated clearing switch beside the demo (``cli.clearing``), unless one is
    configured already."""
    if clearing.configured():
        out.print("bank transfers go to the clearing switch at $TINDAHAN_RAILS_SWITCH_URL")
        return None
    switch = clearing.start()
    if switch is None:
        out.print("the simulated clearing switch did not start: bank transfers wait")
    else:
        out.print(f"simulated clearing switch (InstaPay, PESONet) at {switch.url}")
    return switch


def _warn_plain_http(base: str) -> None:
    """Serving other machines over plain HTTP works (a phone on the shop's Wi-Fi), but
    PINs and sessions then cross the network readable by anyone on it: say so, loudly."""
    out.print(
        f"[bold red]WARNING: {base} is plain HTTP on the network.[/] PINs and session cookies "
        "travel in the clear, and cookies lose their Secure flag on plain-HTTP requests so "
        "that sign-in works. Use it only on a closed network you trust; anywhere else serve "
        "on 127.0.0.1 behind a TLS proxy (trusted with --forwarded-allow-ips).",
        markup=True,
    )


def main() -> None:
    app()
