"""PostgreSQL databases for the tests, reused from test to test instead of dropped.

Why: on PostgreSQL 15 ``DROP DATABASE`` forces an immediate checkpoint of the whole server
(``dropdb`` in ``dbcommands.c``), which took 5–15 s a drop on the shared 2-core machine,
while ``CREATE DATABASE … TEMPLATE`` took 0.3 s; a database copied and dropped for each of
the ~600 PostgreSQL tests spent most of their time waiting for checkpoints. So each worker
copies the migrated template a few times, once, and between tests puts a database back to
the template's state: every row deleted (with the triggers off for it), the template's own rows (the
Alembic version, the KYC tiers, the ledger clock…) copied back in, every sequence set to the
template's value. What a test may change beyond the rows — a trigger dropped or disabled, a
table added — shows in a fingerprint of the catalog; such a database is dropped (the rare
checkpoint) and replaced by a fresh copy. Connections a test left open are ended first, as
``DROP DATABASE … WITH (FORCE)`` did.

A test therefore still starts on a database equal to a fresh copy of the template, and
tests that ask for an empty database (``postgres_url`` without ``db``) get one made empty
the same way (the ``public`` schema dropped and made again).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

#: What a test can change in a database beyond its rows: schemas, relations and their
#: columns, constraints, triggers (and whether they are enabled), functions, extensions and
#: per-database settings. Equal fingerprints: the reset rows are all that differ.
_FINGERPRINT = """
WITH own AS (
  SELECT oid FROM pg_namespace
  WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
), parts(x) AS (
  SELECT 'n:' || nspname || ':' || nspowner::regrole::text
    FROM pg_namespace WHERE oid IN (SELECT oid FROM own)
  UNION ALL
  SELECT 'r:' || relnamespace::regnamespace::text || '.' || relname || ':' || relkind::text
    FROM pg_class WHERE relnamespace IN (SELECT oid FROM own)
  UNION ALL
  SELECT 'a:' || attrelid::regclass::text || '.' || attname || ':' || atttypid::regtype::text
         || ':' || attnotnull::text || ':' || attisdropped::text
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    WHERE a.attnum > 0 AND c.relnamespace IN (SELECT oid FROM own)
  UNION ALL
  SELECT 'c:' || conrelid::regclass::text || '.' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace IN (SELECT oid FROM own)
  UNION ALL
  SELECT 't:' || tgrelid::regclass::text || '.' || tgname || ':' || tgenabled::text
    FROM pg_trigger WHERE NOT tgisinternal
  UNION ALL
  SELECT 'f:' || proname || ':' || md5(prosrc)
    FROM pg_proc WHERE pronamespace IN (SELECT oid FROM own)
  UNION ALL
  SELECT 'e:' || extname FROM pg_extension
  UNION ALL
  SELECT 's:' || array_to_string(setconfig, ';') FROM pg_db_role_setting
    WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
)
SELECT md5(coalesce(string_agg(x, '|' ORDER BY x), '')) FROM parts
"""

_TABLES = """
SELECT c.oid, quote_ident(c.relname) FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
"""

_REFERENCES = """
SELECT conrelid, confrelid FROM pg_constraint
WHERE contype = 'f' AND conrelid <> confrelid
"""

_SEQUENCES = """
SELECT format('%I.%I', schemaname, sequencename), last_value IS NOT NULL,
       coalesce(last_value, start_value)
FROM pg_sequences WHERE schemaname = 'public'
"""


@dataclass
class Snapshot:
    """A database's state as a test must find it: its catalog's fingerprint, its tables,
    the rows it holds (binary ``COPY``, parents before children) and its sequences."""

    fingerprint: str
    tables: list[str] = field(default_factory=list)
    rows: list[tuple[str, bytes]] = field(default_factory=list)
    sequences: list[tuple[str, bool, int]] = field(default_factory=list)


def _fingerprint(conn: psycopg.Connection) -> str:
    row = conn.execute(_FINGERPRINT).fetchone()
    assert row is not None
    return str(row[0])


def _parents_first(conn: psycopg.Connection) -> list[str]:
    """The public tables, each after the tables its foreign keys point at."""
    names: dict[int, str] = dict(conn.execute(_TABLES).fetchall())
    parents: dict[int, set[int]] = {oid: set() for oid in names}
    for child, parent in conn.execute(_REFERENCES).fetchall():
        if child in parents and parent in parents:
            parents[child].add(parent)
    ordered: list[str] = []
    done: set[int] = set()
    while parents:
        ready = sorted((o for o, p in parents.items() if p <= done), key=lambda o: names[o])
        if not ready:  # a cycle of foreign keys: the rest in any order
            ready = sorted(parents, key=lambda o: names[o])
        for oid in ready:
            ordered.append(names[oid])
            done.add(oid)
            del parents[oid]
    return ordered


def snapshot(conninfo: str) -> Snapshot:
    """What ``reset`` puts back: read from a database in the wanted state."""
    with psycopg.connect(conninfo) as conn:
        taken = Snapshot(_fingerprint(conn), _parents_first(conn))
        for table in taken.tables:
            found = conn.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.SQL(table)))
            if found.fetchone() != (True,):
                continue
            data = bytearray()
            query = sql.SQL("COPY {} TO STDOUT (FORMAT binary)").format(sql.SQL(table))
            with conn.cursor().copy(query) as copy:
                for chunk in copy:
                    data += chunk
            taken.rows.append((table, bytes(data)))
        taken.sequences = [(str(n), bool(c), int(v)) for n, c, v in conn.execute(_SEQUENCES)]
    return taken


class Changed(Exception):
    """The test changed the database beyond its rows: it cannot be reset, only replaced."""


def reset(conninfo: str, state: Snapshot) -> None:
    """Put the database back to ``state``: its rows and sequences, after ending every other
    connection to it. Raises ``Changed`` when its catalog no longer matches."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        if _fingerprint(conn) != state.fingerprint:
            raise Changed
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            _empty_tables(conn, state.tables)
            for table, data in state.rows:
                query = sql.SQL("COPY {} FROM STDIN (FORMAT binary)").format(sql.SQL(table))
                with conn.cursor().copy(query) as copy:
                    copy.write(data)
            for name, called, value in state.sequences:
                conn.execute("SELECT setval(%s::regclass, %s, %s)", (name, value, called))


def _empty_tables(conn: psycopg.Connection, tables: list[str]) -> None:
    """Every row of ``tables`` deleted. As a superuser, by ``DELETE`` with the triggers
    (the append-only guards, the foreign keys) off for the transaction: 10–30 ms for the
    schema's tables where one ``TRUNCATE`` of them all took 0.6–1.3 s (it makes new files for
    each table and index). Otherwise by ``TRUNCATE`` of all of them."""
    if not tables:
        return
    superuser = conn.execute("SELECT current_setting('is_superuser')").fetchone() == ("on",)
    if superuser:
        conn.execute("SET LOCAL session_replication_role = replica")
        for table in tables:
            conn.execute(sql.SQL("DELETE FROM {}").format(sql.SQL(table)))
        conn.execute("SET LOCAL session_replication_role = DEFAULT")
    else:
        conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(map(sql.SQL, tables))))


def empty(conninfo: str, state: Snapshot) -> None:
    """Make the database empty again: the ``public`` schema dropped and made anew."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with conn.transaction():
            conn.execute("SET LOCAL lock_timeout = '10s'")
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
        if _fingerprint(conn) != state.fingerprint:
            raise Changed


class Pool:
    """The worker's reusable databases of one kind (copies of ``template``, or empty ones
    when ``template`` is None). ``take`` hands out one ready for a test; ``give`` takes it
    back and resets it in a background thread (one statement at a time) while the next
    test runs on another. ``made`` names them, for ``drop_all`` at the end."""

    def __init__(
        self,
        admin: Callable[[], str],
        conninfo: Callable[[str], str],
        template: str | None,
    ) -> None:
        self.admin = admin
        self.conninfo = conninfo
        self.template = template
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self.ready: list[Future[str]] = []
        self.made: set[str] = set()
        self.state: Snapshot | None = None

    def _create(self) -> str:
        name = f"tindahan_test_{secrets.token_hex(4)}"
        with psycopg.connect(self.admin(), autocommit=True) as admin:
            if self.template is None:
                admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            else:
                admin.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(self.template)
                    )
                )
            # No test needs a commit to outlast a crash of the server; waiting for the WAL's
            # fsync on the shared disk is most of a commit's time there.
            admin.execute(
                sql.SQL("ALTER DATABASE {} SET synchronous_commit = off").format(
                    sql.Identifier(name)
                )
            )
        self.made.add(name)
        if self.state is None:
            self.state = snapshot(self.conninfo(name))
        return name

    def _drop(self, name: str) -> None:
        self.made.discard(name)
        with psycopg.connect(self.admin(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _reset(self, name: str) -> str:
        assert self.state is not None
        try:
            if self.template is None:
                empty(self.conninfo(name), self.state)
            else:
                reset(self.conninfo(name), self.state)
        except (Changed, psycopg.errors.LockNotAvailable):
            self._drop(name)
            return self._create()
        return name

    def take(self) -> str:
        """A database in the pool's state, for one test; hand it back with ``give``."""
        made = self.ready.pop(0) if self.ready else self.thread.submit(self._create)
        name = made.result()
        if not self.ready:  # the next test's, made while this one runs
            self.ready.append(self.thread.submit(self._create))
        return name

    def give(self, name: str) -> None:
        self.ready.append(self.thread.submit(self._reset, name))

    def close(self) -> None:
        """Wait for the resets under way; the databases are left for ``drop_all``."""
        for future in self.ready:
            future.exception()
        self.thread.shutdown(wait=True)


def drop_all(admin: str, names: list[str]) -> None:
    """Drop ``names`` at once, each from its own connection: the checkpoint each drop waits
    for is then shared by all of them (one or two instead of one each, at 5–15 s each on a
    busy server)."""

    def drop(name: str) -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    if not names:
        return
    with ThreadPoolExecutor(max_workers=len(names)) as threads:
        for done in [threads.submit(drop, name) for name in names]:
            done.result()  # a database that could not be dropped is an error
