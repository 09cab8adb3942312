"""``tindahan ledger cluster …``: build, start, stop and report a TigerBeetle cluster.

For development and tests: replicas on loopback ports, data files in one folder. The ledger
URL is printed alone on the last line of ``up``, so a script can take it with ``tail -1``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tindahan.cli.errors import fail, friendly
from tindahan.tigerbeetle import RELEASE, server
from tindahan.tigerbeetle import cluster as cluster_module

app = typer.Typer(help=f"A TigerBeetle {RELEASE} cluster on loopback, for development and tests.")
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)
DirOption = Annotated[
    Path,
    typer.Option("--dir", help="Folder of the cluster's data files, logs and pid files"),
]
DEFAULT_DIR = Path("var/tigerbeetle")


def _say(message: str) -> None:
    err.print(message)


@app.command()
@friendly
def build(
    force: Annotated[bool, typer.Option(help="Build again even if the cache has it")] = False,
) -> None:
    """Build the server from the vendored source release into ~/.cache/tindahan (about 4 min)."""
    try:
        binary = server.build(say=_say, force=force)
    except server.ServerBinaryError as exc:
        fail(str(exc))
        return
    out.print(str(binary))


@app.command()
@friendly
def up(
    replicas: Annotated[int, typer.Option(help="Replicas (1 to 6; 3 survives one loss)")] = 1,
    folder: DirOption = DEFAULT_DIR,
    port: Annotated[int, typer.Option(help="First replica's port (0: free ports)")] = 0,
    cache_grid: Annotated[
        str, typer.Option(help="Each replica's grid cache (TigerBeetle's --cache-grid)")
    ] = cluster_module.DEFAULT_CACHE_GRID,
    build_first: Annotated[
        bool, typer.Option("--build", help="Build the server first if none is found")
    ] = False,
    light: Annotated[
        bool,
        typer.Option(
            "--light",
            help="Small caches, quick to start (TigerBeetle's --development): tests only",
        ),
    ] = False,
) -> None:
    """Format (if new) and start the cluster in the background; print its ledger URL."""
    try:
        if build_first and server.find_binary() is None:
            server.build(say=_say)
        address = cluster_module.up(
            folder, replicas=replicas, port=port, cache_grid=cache_grid, light=light
        )
    except (server.ServerBinaryError, cluster_module.ClusterError) as exc:
        fail(str(exc))
        return
    err.print(f"{len(address.addresses)} replica(s) running; data, logs and pids in {folder}")
    print(address.url)


@app.command()
@friendly
def down(
    folder: DirOption = DEFAULT_DIR,
    purge: Annotated[bool, typer.Option(help="Also delete the data files")] = False,
) -> None:
    """Stop the replicas this folder's pid files name (and nothing else)."""
    try:
        stopped = cluster_module.down(folder, purge=purge)
    except cluster_module.ClusterError as exc:
        fail(str(exc))
        return
    out.print(f"stopped {stopped} replica(s){'; data deleted' if purge else ''}")


@app.command()
@friendly
def status(folder: DirOption = DEFAULT_DIR) -> None:
    """Each replica: its address, process and whether it listens; then the ledger URL."""
    try:
        states = cluster_module.status(folder)
        address = cluster_module.address_of(folder)
    except cluster_module.ClusterError as exc:
        fail(str(exc))
        return
    for s in states:
        process = f"pid {s.pid}" if s.running else "not running"
        listening = "listening" if s.listening else "not listening"
        out.print(f"replica {s.replica} {s.address}: {process}, {listening}")
    print(address.url)
    if not all(s.running for s in states):
        raise typer.Exit(1)
