"""``tindahan ledger …``: verify, seal, anchor, expire, bench, and ``cluster`` (TigerBeetle)."""

from __future__ import annotations

import os
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from tindahan import limits
from tindahan.cli import ledger_cluster
from tindahan.cli.errors import friendly

if TYPE_CHECKING:
    from tindahan.anchor.config import Anchor
    from tindahan.ledger.port import LedgerPort

# The services, the store and the bench are imported inside each command, so that
# `tindahan qr decode` and `tindahan --help` start without them (issue 18).

app = typer.Typer(help="The double-entry ledger: verify, seal, anchor, expire holds, benchmark.")
app.add_typer(ledger_cluster.app, name="cluster")
out = Console(highlight=False, soft_wrap=True)
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: $TINDAHAN_DATABASE_URL or ./var)"),
]
AnchorOption = Annotated[
    Path | None,
    typer.Option(
        "--anchor", help="Anchor file (default: $TINDAHAN_ANCHOR_FILE or var/anchor.jsonl)"
    ),
]


def _anchor(path: Path | None) -> Anchor | None:
    """The anchor from the environment, its file replaced by ``--anchor`` when given."""
    from tindahan.anchor.config import Anchor
    from tindahan.anchor.sinks import FileAnchor

    anchor = Anchor.from_environment()
    if path is None:
        return anchor
    if anchor is None:
        raise typer.BadParameter(
            "--anchor needs the anchor's public key: set TINDAHAN_ANCHOR_PUBLIC_KEY"
        )
    return replace(anchor, file=FileAnchor(path))


@app.command()
@friendly
def verify(
    db: DbOption = None,
    anchor: AnchorOption = None,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="Verify a TigerBeetle ledger instead: tigerbeetle://CLUSTER@ADDR,ADDR,… "
            "(default: $TINDAHAN_LEDGER_URL)",
        ),
    ] = None,
) -> None:
    """Recompute balances from transfers, check sums, limits, the hash chain, every business
    record against its transfers, and the chain against the signed anchor.

    With --ledger, the TigerBeetle cluster's own checks: every currency ledger sums to zero,
    no flagged account past its limit, each account's balances what its statement gives
    (TigerBeetle's checksummed storage takes the place of the hash chain)."""
    from tindahan.services.ledger.backend import LedgerSettings

    ledger = LedgerSettings.from_environment(ledger).url
    if ledger is not None:
        _verify_tigerbeetle(ledger, db)
        return
    from tindahan.services.ledger.verify import verify as verify_service
    from tindahan.store.database import connect

    configured = _anchor(anchor)
    with connect(db, create=False) as database:
        report = verify_service(database, configured)
    if report.ok:
        out.print(report.summary())
        return
    for problem in report.violations:
        out.print(f"violation: {problem}")
    out.print(report.summary())
    raise typer.Exit(1)


def _verify_tigerbeetle(url: str, db: str | None) -> None:
    """The cluster's own checks; then, with ``--db`` (or ``$TINDAHAN_DATABASE_URL``), the
    payments in the database against their transfers in the cluster."""
    from tindahan.tigerbeetle.address import parse
    from tindahan.tigerbeetle.connect import connect as connect_tigerbeetle

    parse(url)  # a bad URL is refused before anything connects
    ledger = connect_tigerbeetle(url, limits.LEDGER_TOOL_TIMEOUT_MS)
    payments: list[str] | None = None
    try:
        from tindahan.tigerbeetle.verify import verify as verify_tigerbeetle

        report = verify_tigerbeetle(ledger)
        if db is not None or os.environ.get("TINDAHAN_DATABASE_URL"):
            payments = _verify_payments(ledger, db)
    finally:
        ledger.close()
    for problem in [*report.violations, *(payments or [])]:
        out.print(f"violation: {problem}")
    out.print(report.summary())
    if payments is not None:
        out.print(
            "payments match their transfers"
            if not payments
            else f"{len(payments)} payment violation(s)"
        )
    if not report.ok or payments:
        raise typer.Exit(1)


def _verify_payments(ledger: LedgerPort, db: str | None) -> list[str]:
    from tindahan.services.commerce import escrow_cluster
    from tindahan.services.payments import two_store
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        return [*two_store.verify(database, ledger), *escrow_cluster.verify(database, ledger)]


@app.command("migrate-to-tigerbeetle")
@friendly
def migrate_to_tigerbeetle(
    ledger: Annotated[
        str, typer.Option("--ledger", help="The target cluster: tigerbeetle://CLUSTER@ADDR,…")
    ],
    db: DbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would move; write nothing")
    ] = False,
) -> None:
    """Move the SQL ledger's accounts and posted balances into a fresh TigerBeetle cluster as
    opening transfers from a migration account per currency, checked to the centavo."""
    from tindahan.services.ledger.migration import migrate
    from tindahan.store.database import connect
    from tindahan.tigerbeetle.address import parse
    from tindahan.tigerbeetle.connect import connect as connect_tigerbeetle

    parse(ledger)  # a bad URL is refused before anything is read
    with connect(db, create=False) as database:
        if dry_run:
            report = migrate(database, None, dry_run=True)
        else:
            target = connect_tigerbeetle(ledger, limits.LEDGER_TOOL_TIMEOUT_MS)
            try:
                report = migrate(database, target, dry_run=False)
            finally:
                target.close()
    for problem in report.problems:
        out.print(f"violation: {problem}")
    out.print(report.summary() + ("; checked to the centavo" if not report.problems else ""))
    if report.problems:
        raise typer.Exit(1)


@app.command("backfill-names")
@friendly
def backfill_names(db: DbOption = None) -> None:
    """Write the names behind a TigerBeetle deployment's numbers that predate the name table
    (migration 0047): accounts, opening balances, two-store payments. Safe to rerun."""
    from tindahan.services.payments.names import backfill
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        count = backfill(database)
    out.print(f"named the accounts, the opening balances and {count} two-store payments")


@app.command()
@friendly
def seal(db: DbOption = None, anchor: AnchorOption = None) -> None:
    """Seal every committed transfer not yet in the hash chain, and anchor the new blocks
    when the anchor key is configured."""
    from tindahan.services.ledger.seal import seal as seal_service
    from tindahan.store.database import connect

    configured = _anchor(anchor)
    with connect(db, create=False) as database:
        report = seal_service(database, anchor=configured)
    anchored = f"; anchored {report.anchored}" if configured and configured.key else ""
    out.print(f"sealed {report.transfers} transfers into {report.blocks} new blocks{anchored}")


@app.command("anchor")
@friendly
def anchor_head(db: DbOption = None, anchor: AnchorOption = None) -> None:
    """Anchor every sealed block not yet anchored, then print the newest signed head (one
    JSON line) for an auditor to keep."""
    from tindahan.anchor.sinks import AnchorError
    from tindahan.services.ledger.anchoring import anchor_sealed
    from tindahan.store.database import connect

    configured = _anchor(anchor)
    if configured is None or configured.key is None:
        raise AnchorError("no anchor key: set TINDAHAN_ANCHOR_KEY or TINDAHAN_ANCHOR_KEY_FILE")
    with connect(db, create=False) as database:
        report = anchor_sealed(database, configured)
    if report.newest is None:
        raise AnchorError("nothing is sealed yet: run `tindahan ledger seal` first")
    print(report.newest.to_line())


@app.command()
@friendly
def expire(db: DbOption = None) -> None:
    """Void every pending transfer whose timeout has passed."""
    from tindahan.services.ledger import transfers as ledger_service
    from tindahan.store.database import connect

    with connect(db, create=False) as database:
        count = ledger_service.expire_pending(database)
    out.print(f"voided {count} expired pending transfers")


@app.command()
@friendly
def bench(
    db: DbOption = None,
    transfers: Annotated[int, typer.Option(help="Transfers to send in all")] = 10_000,
    clients: Annotated[int, typer.Option(help="Concurrent clients (processes)")] = 1,
    accounts: Annotated[int, typer.Option(help="Wallets to move money among")] = 1_000,
    hot: Annotated[
        str, typer.Option(help="Share of transfers crediting one hot account, 0-1")
    ] = "0",
    batch: Annotated[int, typer.Option(help="Transfers per ledger call")] = 1,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    ledger: Annotated[
        str | None,
        typer.Option(
            "--ledger",
            help="A TigerBeetle cluster to bench instead: tigerbeetle://CLUSTER@ADDR,ADDR,…",
        ),
    ] = None,
    raw: Annotated[
        bool,
        typer.Option("--raw", help="Also run a minimal raw-SQL transfer loop; print the ratio"),
    ] = False,
) -> None:
    """Drive the real ledger with random transfers; report rate, latency and verify.

    Without --db it uses a fresh SQLite file in a temporary folder; with --ledger, the
    TigerBeetle cluster at that URL (`tindahan ledger cluster up` prints one).
    """
    from rich.progress import Progress

    from tindahan.bench import ledger as bench_module

    try:
        share = Decimal(hot)
    except InvalidOperation:
        raise bench_module.BenchConfigError(
            f"--hot must be a number from 0 to 1, not {hot!r}"
        ) from None
    config = bench_module.BenchConfig(db, transfers, clients, accounts, share, batch, ledger, raw)
    config.check()
    if json:
        result = bench_module.run(config)
        out.print(result.to_json(), soft_wrap=True)
    else:
        with Progress(console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("transfers", total=transfers)
            result = bench_module.run(config, lambda n: progress.advance(task, n))
        out.print(
            f"{result.database}: {result.accepted} transfers ({result.rejected} refused), "
            f"{result.clients} client(s), batch {result.batch}, hot {result.hot}: "
            f"{result.transfers_per_s} transfers/s, p50 {result.p50_ms} ms, "
            f"p99 {result.p99_ms} ms; sealed in {result.seal_s} s; "
            f"invariants {'hold' if result.invariants_ok else 'BROKEN'}"
        )
        if result.raw_transfers_per_s is not None:
            out.print(
                f"raw-SQL loop (same clients, same database): {result.raw_transfers_per_s} "
                f"transfers/s; the ledger runs at {result.vs_raw}× of it"
            )
    if not result.invariants_ok:
        raise typer.Exit(1)
