"""The name table of a TigerBeetle ledger: 128-bit number → Tindahan id or string (issue 22).

TigerBeetle keeps integers; the ids and strings behind them are hashes that cannot be read
back. The services write each name here **before** the transfer or account it names reaches
the cluster (a payment's transfer ids in its transaction A, with the payment row; an
account's when it is first opened or checked there; the migration's before it moves
anything), so a number met in the cluster either has its name here or never had one.
``StoredNames`` is the adapter's name book on the main database: it reads, never writes.

Rows are inserted in number order with ``ON CONFLICT DO NOTHING``: one number names one
text, so a retry, a replay or two writers racing write nothing twice and never deadlock.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from tindahan.store.database import Database
from tindahan.store.tables import tigerbeetle_names

#: Numbers per statement: well under SQLite's and PostgreSQL's bound on parameters.
CHUNK = 500


class Named(Protocol):
    """A row to write: ``(number, kind, text)`` (``tigerbeetle.ids.Name``)."""

    @property
    def number(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def text(self) -> str: ...


def hex32(number: int) -> str:
    return f"{number:032x}"


def record(conn: Connection, rows: Sequence[Named]) -> None:
    """Write ``rows`` (in the caller's transaction); those already there are left alone."""
    if not rows:
        return
    dialect = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    ordered = sorted({r.number: r for r in rows}.values(), key=lambda r: r.number)
    for start in range(0, len(ordered), CHUNK):
        values = [
            {"number": hex32(r.number), "kind": r.kind, "name": r.text}
            for r in ordered[start : start + CHUNK]
        ]
        conn.execute(dialect(tigerbeetle_names).on_conflict_do_nothing(), values)


def load(conn: Connection, numbers: Iterable[int]) -> dict[int, str]:
    """The names found for ``numbers`` (absent ones are left out)."""
    wanted = sorted({hex32(n) for n in numbers})
    found: dict[int, str] = {}
    for start in range(0, len(wanted), CHUNK):
        query = select(tigerbeetle_names.c.number, tigerbeetle_names.c.name).where(
            tigerbeetle_names.c.number.in_(wanted[start : start + CHUNK])
        )
        for number, name in conn.execute(query):
            found[int(number, 16)] = name
    return found


class StoredNames:
    """The TigerBeetle adapter's name book, read from the main database (its own short
    read-only transaction, one query per answer that met unknown numbers)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def names(self, numbers: Collection[int]) -> dict[int, str]:
        if not numbers:
            return {}
        return self.db.transact(lambda conn: load(conn, numbers), write=False)

    def record(self, rows: Sequence[Named]) -> None:
        """Write ``rows`` in a transaction of their own (before what they name is created)."""
        if rows:
            self.db.transact(lambda conn: record(conn, rows))
