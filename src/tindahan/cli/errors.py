"""Turning failures into a one-line message and a non-zero exit, never a traceback."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

P = ParamSpec("P")
R = TypeVar("R")
err = Console(stderr=True, soft_wrap=True)


def _usage_errors() -> tuple[type[Exception], ...]:
    """The failures that are the user's input: imported when a command fails, not when the
    command line starts (these modules pull in SQLAlchemy and the services)."""
    from tindahan.anchor.sinks import AnchorError
    from tindahan.bench.ledger import BenchConfigError
    from tindahan.cli.listen import ListenError
    from tindahan.services.ledger.transfers import BatchSizeError
    from tindahan.store.database import DatabaseUrlError
    from tindahan.store.vault import VaultError
    from tindahan.tigerbeetle.cluster import ClusterError
    from tindahan.tigerbeetle.errors import TigerBeetleError
    from tindahan.tigerbeetle.server import ServerBinaryError

    return (
        AnchorError,
        DatabaseUrlError,
        BenchConfigError,
        BatchSizeError,
        VaultError,
        ListenError,
        ClusterError,
        ServerBinaryError,
        TigerBeetleError,
        ValueError,
    )


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Run a command; known failures print ``error: …`` and exit 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            _explain(exc)
        raise AssertionError("unreachable")

    return wrapper


def _explain(exc: Exception) -> None:
    """``error: …`` for a failure, by its kind, and exit (2 for input, 3 for a bug)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from tindahan.kernel.refusals import RefusalError
    from tindahan.ledger.port import LedgerUnavailableError
    from tindahan.store.database import RetriesExhaustedError

    if isinstance(exc, _usage_errors()):
        _fail(str(exc))
    if isinstance(exc, typer.BadParameter):
        _fail(exc.format_message())
    if isinstance(exc, RefusalError):
        _fail(f"{exc.message} ({exc.code})")
    if isinstance(exc, OperationalError):
        first = str(exc.orig).strip().splitlines()[0]
        if "no such table" in first:
            _fail(f"the database is not set up ({first}); run `tindahan db upgrade`")
        _fail(f"cannot use the database: {first}")
    if isinstance(exc, ProgrammingError):
        first = str(exc.orig).strip().splitlines()[0]
        _fail(f"the database is not set up ({first}); run `tindahan db upgrade`")
    if isinstance(exc, RetriesExhaustedError):
        _fail(f"the database stayed too busy: {exc}")
    if isinstance(exc, LedgerUnavailableError):  # no quorum answered within the tool's bound
        _fail(f"{exc}: check that a quorum of its replicas runs, then run this again (safe)")
    # a bug: say so plainly, without a traceback
    _fail(f"unexpected {type(exc).__name__}: {exc}", code=3)


def fail(message: str, code: int = 2) -> None:
    """Print ``error: message`` on stderr and exit (2: the input was refused)."""
    _fail(message, code)


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    raise typer.Exit(code)
