"""Many rows updated in one statement: what the loans' daily close writes for thousands of
loans a transaction.

On PostgreSQL ``executemany`` sends one ``UPDATE`` per row, a round trip each; here the
rows travel as one array per column and ``UPDATE … FROM unnest(…)`` applies them in one
statement (measured on the close: about half of its time on PostgreSQL was those round
trips). SQLite runs in-process, where ``executemany`` is already cheap, so it keeps it —
on the DBAPI cursor with plain tuples: SQLAlchemy's per-row parameter processing cost about
as much as SQLite's own work (issue 18's profile of the close).

``keyed_plans`` is for a PostgreSQL transaction whose every statement names its rows by key
(the close's chunk: its loans by id, their lines by loan, the accounts its transfers
touch). PostgreSQL's planner costs an index probe as a random read of disk
(``random_page_cost`` 4) and, without fresh statistics (a book written in one go, before
any ANALYZE), guesses row counts badly; close18b's plans (``auto_explain``, 20,000 loans)
showed every chunk scanning whole tables instead: the lines read by a parallel sequential
scan of all 361,196 lines to return 36,000, the penalty update by a hash join over all of
them to change 8,358, the accounts locked and updated by scans of all 100,086 accounts,
the chunk's loans by a bitmap scan and a sort (spilled to disk) of every active loan — a
chunk's cost grew with the book, not with the chunk. Turning sequential and bitmap scans
and hash and merge joins off for the transaction leaves the planner the plans the
statements are written for: one index probe per named row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, Table, text

_ARRAY: dict[type, str] = {BigInteger: "bigint[]", Integer: "integer[]"}


def _array_type(table: Table, name: str) -> str:
    kind = type(table.c[name].type)
    return _ARRAY.get(kind, "text[]")


#: The planner's choices off for the rest of the transaction (``set_config(…, true)``:
#: local to it, back to the server's settings at commit or rollback).
_KEYED_PLANS = (
    "SELECT set_config('enable_seqscan', 'off', true), "
    "set_config('enable_bitmapscan', 'off', true), "
    "set_config('enable_hashjoin', 'off', true), "
    "set_config('enable_mergejoin', 'off', true)"
)


def keyed_plans(conn: Connection) -> None:
    """On PostgreSQL, plan the rest of this transaction's statements as index probes by key
    (see the module's docstring); elsewhere nothing."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_KEYED_PLANS)


def update_many(
    conn: Connection, table: Table, keys: Sequence[str], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Set every non-key column given in ``rows`` on the row its ``keys`` name (all rows
    carry the same columns)."""
    if not rows:
        return
    values = [c for c in rows[0] if c not in keys]
    # One C-level getter per row (a generator per row was most of building them).
    pick = itemgetter(*values, *keys)
    update_rows(conn, table, keys, values, [pick(r) for r in rows])


def update_rows(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    values: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """``update_many`` for rows already made: each a tuple of the ``values`` columns, then
    the ``keys`` (the daily close builds its rows as tuples)."""
    if not rows:
        return
    name = table.name
    columns = [*values, *keys]
    unknown = [c for c in columns if c not in table.c]
    if unknown:  # only the table's own column names are ever put into the SQL
        raise KeyError(f"{name} has no column {unknown[0]!r}")
    if conn.dialect.name != "postgresql":
        sql = (
            f"UPDATE {name} SET {', '.join(f'{c} = ?' for c in values)} "  # noqa: S608 (names from the table, values bound)
            f"WHERE {' AND '.join(f'{k} = ?' for k in keys)}"
        )
        conn.exec_driver_sql(sql, list(rows))
        return
    arrays = ", ".join(f"CAST(:{c} AS {_array_type(table, c)})" for c in columns)
    sets = ", ".join(f"{c} = v.{c}" for c in values)
    match = " AND ".join(f"{name}.{k} = v.{k}" for k in keys)
    sql = (
        f"UPDATE {name} SET {sets} FROM unnest({arrays}) AS v({', '.join(columns)}) "  # noqa: S608 (names from the table, values bound)
        f"WHERE {match}"
    )
    params = {c: list(column) for c, column in zip(columns, zip(*rows, strict=True), strict=True)}
    conn.execute(text(sql), params)
