"""Connecting to the ledger's database: embedded SQLite by default, PostgreSQL in production.

One code path serves both; the differences are confined here and in ``clock``:

* SQLite (WAL journal, ``synchronous=FULL`` so a committed transfer survives a power cut)
  has one writer at a time. Write transactions start with ``BEGIN IMMEDIATE`` so they take
  the write lock up front: two writers can never both read and then both try to write
  (which SQLite would refuse to one of them after the fact).
* PostgreSQL (psycopg 3) runs at READ COMMITTED; the ledger locks the account rows a batch
  touches with ``SELECT … FOR UPDATE`` in ascending id order, so concurrent batches queue
  on shared accounts instead of losing updates, and never deadlock (see README, "Concurrency").
  Serialization failures and deadlocks are still retried (``transact``), since that is what
  PostgreSQL-compatible distributed SQL (CockroachDB, YugabyteDB) requires of clients.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from tindahan import limits

DEFAULT_URL = "sqlite:///var/tindahan.db"
T = TypeVar("T")

#: SQLSTATEs after which the whole transaction is simply run again.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


class DatabaseUrlError(ValueError):
    """The database URL is not one Tindahan can use."""


class RetriesExhaustedError(RuntimeError):
    """A transaction kept conflicting with others past ``limits.LEDGER_RETRIES``."""


def default_url() -> str:
    return os.environ.get("TINDAHAN_DATABASE_URL") or DEFAULT_URL


def normalize_url(raw: str) -> URL:
    """Accept ``sqlite:///path``, ``postgresql+psycopg://…`` and plain ``postgresql://``."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(f"not a database URL: {raw!r}") from exc
    backend = url.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if url.drivername != "sqlite":
            raise DatabaseUrlError("use the plain sqlite:///path form for SQLite")
        return url
    raise DatabaseUrlError(
        f"unsupported database {backend!r}: use sqlite:///path.db or postgresql+psycopg://…"
    )


@dataclass
class Database:
    """An engine plus what the ledger needs to know about it."""

    url: URL
    engine: Engine
    clock: Callable[[], int] = field(default=time.time_ns)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @contextmanager
    def begin(self, *, write: bool = True) -> Iterator[Connection]:
        """One transaction: committed if the block finishes, rolled back if it raises."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(tindahan_write=write)
            with conn.begin():
                yield conn

    def transact(self, work: Callable[[Connection], T], *, write: bool = True) -> T:
        """Run ``work`` in one transaction, again from the start after a conflict."""
        for attempt in range(limits.LEDGER_RETRIES + 1):
            try:
                with self.begin(write=write) as conn:
                    return work(conn)
            except (OperationalError, IntegrityError) as exc:
                if not _retryable(exc) or attempt == limits.LEDGER_RETRIES:
                    if _retryable(exc):
                        raise RetriesExhaustedError(
                            f"gave up after {attempt + 1} attempts: {exc.orig}"
                        ) from exc
                    raise
            _backoff(attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _retryable(exc: DBAPIError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    if isinstance(exc, IntegrityError):
        # A concurrent batch took one of our new ids first (unique violation, 23505 /
        # SQLite UNIQUE): the retry sees that transfer and answers ``exists`` or
        # ``exists_with_different_fields`` like any other duplicate.
        text = str(orig)
        return sqlstate == "23505" or "UNIQUE constraint failed" in text
    return "database is locked" in str(orig)


def _backoff(attempt: int) -> None:
    cap = min(limits.RETRY_BACKOFF_CAP_S, limits.RETRY_BACKOFF_BASE_S * 2**attempt)
    time.sleep(random.uniform(0, cap))


def connect(raw_url: str | None = None, *, clock: Callable[[], int] | None = None) -> Database:
    url = normalize_url(raw_url or default_url())
    if url.get_backend_name() == "sqlite":
        engine = _sqlite_engine(url)
    else:
        engine = create_engine(
            url,
            pool_pre_ping=True,
            isolation_level="READ COMMITTED",
            connect_args={"options": f"-c lock_timeout={limits.POSTGRES_LOCK_TIMEOUT_MS}"},
        )
    return Database(url, engine, clock or time.time_ns)


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": limits.SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={limits.SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tindahan_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
