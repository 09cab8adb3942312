"""The write step of a group's batching members: their rows, one statement a table.

Why: see ``store.deferred``. A group's merchant payments decide one by one in their
savepoints (wallets read, running totals raised and checked, balances planned on the
group's locked rows) and leave their rows there; ``write`` then sends them before the
group's COMMIT — the payment rows in one insert, the ledger transfers with their seal-queue
rows in one, the events with their SMS and the endpoints that hear them in one (the
deliveries in one more only when an endpoint does), the idempotency records in one. Each
row is the row the member would have written itself.

A unique violation here (a short reference drawn twice, about one chance in 10^12 a pair;
a key stored meanwhile by a twin outside the group) fails the group whole: it is rolled back
and run member by member (``groupcommit``), where each member writes its own rows as before.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, Table

from tindahan.services.platform import events, idempotency
from tindahan.services.unit import Platform, Unit
from tindahan.store import deferred
from tindahan.store.hotpath import HotPath
from tindahan.store.payment_tables import payments


def write(platform: Platform, conn: Connection, later: deferred.Deferred) -> None:
    """Write what the group's members kept (PostgreSQL, in the group's transaction)."""
    if not later.has_rows():
        return
    taken = later.take()
    _insert_rows(conn, payments, taken[deferred.PAYMENTS])
    if taken[deferred.TRANSFERS]:
        path = HotPath(conn.connection.driver_connection, postgres=True, begun=True)
        path.write_transfers(taken[deferred.TRANSFERS])
    events.emit_group(Unit(platform, conn), taken[deferred.EVENTS])
    idempotency.insert_many(conn, taken[deferred.KEYS])


def _insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows into ``table`` in one statement on the driver, one typed array a column."""
    if rows:
        columns = tuple([row[c.name] for row in rows] for c in table.columns)
        conn.exec_driver_sql(_unnest_insert(table), columns)


@functools.cache
def _unnest_insert(table: Table) -> str:
    def kind(column: Any) -> str:
        if isinstance(column.type, BigInteger):
            return "bigint"
        return "int" if isinstance(column.type, Integer) else "text"

    names = ", ".join(c.name for c in table.columns)
    arrays = ", ".join(f"%s::{kind(c)}[]" for c in table.columns)
    return f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
