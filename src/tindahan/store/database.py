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

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, OperationalError

from tindahan import limits
from tindahan.store.failover import driver_error_is_failover, is_failover

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


#: A ``--db`` without ``scheme://`` ending so, or holding a folder separator, is a SQLite file.
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
#: The one folder ``connect`` makes for a new SQLite file (the default's, ``./var``).
DEFAULT_FOLDER = Path("var")


def normalize_url(raw: str) -> URL:
    """Accept ``sqlite:///path``, a path to a SQLite file (``./var/tindahan.db``),
    ``postgresql+psycopg://…`` and plain ``postgresql://``.

    A PostgreSQL URL may name several hosts, as libpq does, for a primary and its standbys:
    ``postgresql://u@a:5432,b:5432/db?target_session_attrs=read-write`` (hosts in the
    address), or SQLAlchemy's ``…/db?host=a:5432&host=b:5432&…`` or ``?host=a,b&port=…``;
    libpq tries them in order and keeps the first that takes writes."""
    raw = _hosts_to_query(raw)
    if "://" not in raw and (raw.endswith(SQLITE_SUFFIXES) or "/" in raw or os.sep in raw):
        raw = f"sqlite:///{Path(raw).expanduser()}"
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise DatabaseUrlError(
            f"not a database URL: {raw!r} (give sqlite:///path.db, a path ending in .db, "
            "or postgresql+psycopg://…)"
        ) from exc
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


def _hosts_to_query(raw: str) -> str:
    """libpq's ``scheme://user@h1:p1,h2:p2/db?…`` as SQLAlchemy's ``?host=h1:p1&host=h2:p2``
    (SQLAlchemy's URL parser takes one host in the address)."""
    scheme, sep, rest = raw.partition("://")
    if not sep or not scheme.startswith(("postgresql", "postgres")):
        return raw
    address, slash, tail = rest.partition("/")
    user, at, hosts = address.rpartition("@")
    if "," not in hosts:
        return raw
    if any(not h or h.startswith("[") for h in hosts.split(",")):
        raise DatabaseUrlError(
            f"cannot read the hosts {hosts!r}: give host:port pairs separated by commas "
            "(IPv6 addresses go in ?host=…&host=… instead)"
        )
    database, _, query = tail.partition("?")
    given = "&".join(f"host={h}" for h in hosts.split(","))
    query = f"{given}&{query}" if query else given
    return f"{scheme}://{user}{at}/{database if slash else ''}?{query}"


def libpq_conninfo(url: URL) -> str:
    """A PostgreSQL URL as libpq's own tools (``pg_dump``, ``psql``) read it: SQLAlchemy's
    ``?host=a:1&host=b:2`` becomes ``host=a,b port=1,2`` (libpq takes no ``host:port``
    pairs in a query), with the URL's other settings (``target_session_attrs``…) kept."""
    from sqlalchemy.dialects.postgresql import psycopg as sqlalchemy_psycopg

    kind: Any = sqlalchemy_psycopg.PGDialect_psycopg  # SQLAlchemy's own reading, untyped
    _, params = kind().create_connect_args(url)
    params.pop("context", None)
    return " ".join(f"{k}={_libpq_value(str(v))}" for k, v in sorted(params.items()))


def _libpq_value(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


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
            if not write and not self.is_sqlite:
                # A read (verify, lookups) sees one snapshot throughout, not one per
                # statement: balances and the transfers behind them must agree. (SQLite's
                # WAL readers always do.)
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                yield conn

    @contextmanager
    def begin_raw(self) -> Iterator[Any]:
        """One write transaction on a pooled DBAPI connection, for the ledger's hot path.

        The caller may commit itself (psycopg commits inside its write pipeline, saving a
        round trip); whatever is still open at the end is committed, and anything raised
        rolls back. Driver errors come out as SQLAlchemy's ``DBAPIError`` subclasses, so
        ``transact`` retries them exactly as it retries errors from ``begin``.
        """
        pooled = self.engine.raw_connection()
        raw: Any = pooled.driver_connection
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        try:
            if self.is_sqlite:
                raw.execute("BEGIN IMMEDIATE")
            else:
                raw.autocommit = True  # the hot path sends BEGIN and COMMIT itself
            yield raw
            raw.commit()
        except dbapi_error as exc:
            _rollback(pooled, raw)
            failover = driver_error_is_failover(exc)
            if failover:  # this path bypasses SQLAlchemy's own disconnect handling
                pooled.invalidate()
                self.discard_connections()
            raise DBAPIError.instance(
                None, None, exc, dbapi_error, connection_invalidated=failover
            ) from exc
        except BaseException:
            _rollback(pooled, raw)
            raise
        finally:
            _restore(pooled, raw, sqlite=self.is_sqlite)

    def transact(
        self,
        work: Callable[[Any], T],
        *,
        write: bool = True,
        raw: bool = False,
        retry_duplicates: bool = True,
    ) -> T:
        """Run ``work`` in one transaction, again from the start after a conflict.

        ``work`` gets a SQLAlchemy ``Connection``, or with ``raw`` the DBAPI connection.
        Without ``retry_duplicates`` a unique violation goes straight to the caller.
        """
        for attempt in range(limits.LEDGER_RETRIES + 1):
            try:
                if raw:
                    with self.begin_raw() as driver:
                        return work(driver)
                with self.begin(write=write) as conn:
                    return work(conn)
            except (OperationalError, IntegrityError) as exc:
                if not retry_duplicates and is_duplicate(exc):
                    raise
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

    def discard_connections(self) -> None:
        """After a failover: close the pool's idle connections and give every later checkout
        a new one (connections lent out now are dropped when they come back), so no request
        meets the old primary's dead or demoted sessions again."""
        self.engine.dispose(close=True)

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()


def _restore(pooled: Any, raw: Any, *, sqlite: bool) -> None:
    """Hand the connection back to the pool as the pool lent it."""
    try:
        if not sqlite:
            raw.autocommit = False
    except Exception:
        pooled.invalidate()
    pooled.close()


def _rollback(pooled: Any, raw: Any) -> None:
    try:
        raw.rollback()
    except Exception:  # the connection is gone: never hand it out again
        pooled.invalidate()


def is_duplicate(exc: DBAPIError) -> bool:
    """A unique violation (PostgreSQL 23505, SQLite "UNIQUE constraint failed")."""
    orig = exc.orig
    return isinstance(exc, IntegrityError) and (
        getattr(orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(orig)
    )


def _retryable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    if isinstance(exc, IntegrityError):
        # A concurrent batch took one of our new ids first: the retry sees that transfer
        # and answers ``exists`` or ``exists_with_different_fields`` like any duplicate.
        return is_duplicate(exc)
    return "database is locked" in str(exc.orig)


def _backoff(attempt: int) -> None:
    cap = min(limits.RETRY_BACKOFF_CAP_S, limits.RETRY_BACKOFF_BASE_S * 2**attempt)
    time.sleep(random.uniform(0, cap))


def create_missing(raw_url: str | None = None) -> bool:
    """PostgreSQL: create the database the URL names if the server has none by that name
    (``db upgrade`` and ``serve`` promise to create it); True if it was made. The check
    runs on the server's ``postgres`` database; SQLite files are made by ``connect``."""
    url = normalize_url(raw_url or default_url())
    name = url.database
    if url.get_backend_name() == "sqlite" or not name or name == "postgres":
        return False
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if found is not None:
                return False
            quoted = conn.dialect.identifier_preparer.quote(name)
            try:
                conn.exec_driver_sql(f"CREATE DATABASE {quoted}")
            except DBAPIError as exc:
                first = str(exc.orig).strip().splitlines()[0]
                raise DatabaseUrlError(f"cannot create the database {name!r}: {first}") from exc
            return True
    finally:
        engine.dispose()


def connect(
    raw_url: str | None = None,
    *,
    clock: Callable[[], int] | None = None,
    create: bool = True,
) -> Database:
    """Open the database. With ``create=False`` a SQLite file that is not there is an error,
    not a new empty file: commands that read or keep a ledger must not make one by accident.
    """
    url = normalize_url(raw_url or default_url())
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        if not create and path != ":memory:" and not Path(path).is_file():
            where = raw_url or url.render_as_string()
            raise DatabaseUrlError(
                f"no database at {path!r}: create it with `tindahan db upgrade --db {where}`"
            )
        if create and path != ":memory:":
            _sqlite_folder(Path(path))
        engine = _sqlite_engine(url)
    else:
        engine = _postgres_engine(url)
    return Database(url, engine, clock or time.time_ns)


def _postgres_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {"options": f"-c lock_timeout={limits.POSTGRES_LOCK_TIMEOUT_MS}"}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = limits.DB_CONNECT_TIMEOUT_S
    engine = create_engine(
        url,
        # No pre-ping: it costs a round trip per transaction; a dropped connection fails
        # the statement, and a failover is handled where it is met (``store.failover``).
        isolation_level="READ COMMITTED",
        pool_size=limits.DB_POOL_SIZE,
        max_overflow=limits.DB_POOL_OVERFLOW,
        connect_args=connect_args,
    )

    @event.listens_for(engine, "handle_error")
    def _failover(context: Any) -> None:
        # A demoted primary (read-only) or a shutting-down server is no better than a lost
        # connection: mark it so, and SQLAlchemy invalidates every pooled connection made
        # before it (``Pool._invalidate``), not only this one.
        error = context.original_exception
        if not context.is_disconnect and is_failover(error):
            context.is_disconnect = True

    return engine


def _sqlite_folder(path: Path) -> None:
    """A new SQLite file goes into a folder that exists; only the default's ``./var`` is
    made (a mistyped ``--db`` must not leave a trail of new folders behind it)."""
    folder = path.parent
    if folder.is_dir():
        return
    if folder.absolute() == DEFAULT_FOLDER.absolute():
        folder.mkdir(exist_ok=True)
        return
    raise DatabaseUrlError(
        f"no folder {str(folder)!r} for the database {str(path)!r}: create it first "
        "(only ./var, the default's, is made for you)"
    )


def _sqlite_engine(url: URL) -> Engine:
    engine = create_engine(url, connect_args={"timeout": limits.SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA wal_autocheckpoint={limits.SQLITE_WAL_CHECKPOINT_PAGES}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA cache_size=-{limits.SQLITE_CACHE_KIB}")
        cur.execute(f"PRAGMA busy_timeout={limits.SQLITE_BUSY_TIMEOUT_MS}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get("tindahan_write", True)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine
