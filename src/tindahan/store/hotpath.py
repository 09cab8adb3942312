"""The ledger's write path at the driver level: two round trips and a commit per batch.

Profiling ``tindahan ledger bench`` on PostgreSQL showed a one-transfer transaction spending
most of its time in client-side statement execution (SQLAlchemy's per-statement work, then
one network round trip per statement: seven of them), not in PostgreSQL. So the ledger's
own statements — a handful, fixed, portable SQL — run on the DBAPI connection underneath
a pooled connection (``Database.begin_raw``):

1. *read*: ``BEGIN`` and lock the batch's accounts (``SELECT … ORDER BY id FOR UPDATE`` on
   PostgreSQL, drawing the ledger clock in the same statement), then — only when needed —
   read the transfers it names and the holds it resolves;
2. *write*: insert the transfers, queue them for sealing, add the balance changes (on
   PostgreSQL one data-modifying CTE, prepared once per connection);
3. ``COMMIT``.

``BEGIN`` travels in the same query string as the first read (psycopg's client-side
binding, which quotes every value itself; a multi-statement string needs the simple query
protocol). A one-transfer batch costs three round trips where the plain SQLAlchemy path took
eight; see README, "Performance". (psycopg's pipeline mode was tried and cost more client
CPU than it saved.) A lone plain transfer on PostgreSQL takes one round trip instead:
``transfer_plain`` calls the ``ledger_transfer_plain`` function (migration 0065). SQLite
runs the statements one by one — there a "round trip" is a function call. Everything else
(sealing, verify, lookups) stays on SQLAlchemy Core; the column lists here come from the
same ``Table`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.types.numeric import Int4, Int8
from sqlalchemy.exc import DBAPIError

from tindahan import limits
from tindahan.ledger.model import Account, NewTransfer, Transfer, TransferFlags
from tindahan.store import ledger as rows
from tindahan.store.tables import accounts, transfers

_RESOLVED_MASK = int(TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)


def _names(columns: Iterable[Any]) -> str:
    return ", ".join(c.name for c in columns)


def _marks(count: int) -> str:
    return ", ".join(["?"] * count)


# The statements, written with "?" placeholders (psycopg gets "%s") and "(@)" where an
# IN list of placeholders goes. Only column names from the Table objects and placeholders
# are ever put into them: every value is bound.
SELECT_ACCOUNTS = (
    "SELECT " + _names(rows._ACCOUNT_COLUMNS) + " FROM ledger_accounts WHERE id IN (@)"  # noqa: S608
)
SELECT_TRANSFERS = (
    "SELECT " + _names(rows._TRANSFER_COLUMNS) + " FROM ledger_transfers WHERE id IN (@)"  # noqa: S608
)
SELECT_RESOLUTIONS = "SELECT pending_id, flags FROM ledger_transfers WHERE pending_id IN (@)"
SELECT_ACCOUNTS_CLOCKED = SELECT_ACCOUNTS.replace(
    " FROM ", ", (SELECT nextval('ledger_clock_seq')) FROM ", 1
)
LOCK_SUFFIX = " ORDER BY id FOR UPDATE"
#: What planning plain postings reads of an account (``ledger.posted.Balances``' order,
#: after the id): no ``Account`` made per row.
SELECT_BALANCES = (
    "SELECT id, ledger, flags, debits_pending, debits_posted, credits_pending, credits_posted "
    "FROM ledger_accounts WHERE id IN (@)"
)
SELECT_BALANCES_CLOCKED = SELECT_BALANCES.replace(
    " FROM ", ", (SELECT nextval('ledger_clock_seq')) FROM ", 1
)
NEXT_TIMESTAMP_POSTGRES = "SELECT nextval('ledger_clock_seq')"
NEXT_TIMESTAMP_SQLITE = "UPDATE ledger_clock SET value = value + ? WHERE id = 1 RETURNING value"
INSERT_TRANSFER = (
    "INSERT INTO ledger_transfers (" + _names(transfers.columns) + ") "
    "VALUES (" + _marks(len(transfers.columns)) + ")"
)
INSERT_ACCOUNT = (
    "INSERT INTO ledger_accounts (" + _names(accounts.columns) + ") "
    "VALUES (" + _marks(len(accounts.columns)) + ")"
)
INSERT_SEAL = "INSERT INTO ledger_seals (transfer_timestamp, block_no) VALUES (?, NULL)"
#: PostgreSQL's write: transfers, their seal-queue rows and the balance changes in one
#: statement. The arrays are typed, so any batch size binds 18 parameters.
WRITE_POSTGRES = (
    "WITH t AS (INSERT INTO ledger_transfers (" + _names(transfers.columns) + ") "  # noqa: S608
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
    "%s::text[], %s::int[], %s::int[], %s::text[], %s::int[], %s::bigint[], %s::text[], "
    "%s::bigint[]) RETURNING timestamp), "
    "s AS (INSERT INTO ledger_seals (transfer_timestamp, block_no) SELECT timestamp, NULL FROM t), "
    "u AS (UPDATE ledger_accounts AS a SET debits_pending = a.debits_pending + d.dp, "
    "debits_posted = a.debits_posted + d.dpo, credits_pending = a.credits_pending + d.cp, "
    "credits_posted = a.credits_posted + d.cpo "
    "FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
    "AS d(id, dp, dpo, cp, cpo) WHERE a.id = d.id) "
    "SELECT count(*) FROM t"
)
#: The same write for small batches, with scalar parameters in VALUES lists.
SMALL_BATCH = 64
TRANSFER_MARKS = "(" + ", ".join(["%s"] * len(transfers.columns)) + ")"
CHANGE_MARKS = "(%s, %s::bigint, %s::bigint, %s::bigint, %s::bigint)"
WRITE_POSTGRES_VALUES = (
    "WITH t AS (INSERT INTO ledger_transfers (" + _names(transfers.columns) + ") "  # noqa: S608
    "VALUES (@transfers) RETURNING timestamp), "
    "s AS (INSERT INTO ledger_seals (transfer_timestamp, block_no) SELECT timestamp, NULL FROM t), "
    "u AS (UPDATE ledger_accounts AS a SET debits_pending = a.debits_pending + d.dp, "
    "debits_posted = a.debits_posted + d.dpo, credits_pending = a.credits_pending + d.cp, "
    "credits_posted = a.credits_posted + d.cpo "
    "FROM (VALUES (@changes)) AS d(id, dp, dpo, cp, cpo) WHERE a.id = d.id) "
    "SELECT count(*) FROM t"
)
#: Transfers and their seal-queue rows without balance changes (a group sums those).
WRITE_TRANSFERS_POSTGRES = (
    "WITH t AS (INSERT INTO ledger_transfers (" + _names(transfers.columns) + ") "  # noqa: S608
    "VALUES (@transfers) RETURNING timestamp) "
    "INSERT INTO ledger_seals (transfer_timestamp, block_no) SELECT timestamp, NULL FROM t"
)
#: The same for a group's transfers (``write_transfers``), one typed array a column: the
#: text and its 13 parameters are fixed whatever the group's size (a VALUES list's text is
#: new for every length, and psycopg parses each new text again: profiled at a tenth of a
#: group's client CPU).
WRITE_TRANSFERS_UNNEST = (
    "WITH t AS (INSERT INTO ledger_transfers (" + _names(transfers.columns) + ") "  # noqa: S608
    "SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
    "%s::text[], %s::int[], %s::int[], %s::text[], %s::int[], %s::bigint[], %s::text[], "
    "%s::bigint[]) RETURNING timestamp) "
    "INSERT INTO ledger_seals (transfer_timestamp, block_no) SELECT timestamp, NULL FROM t"
)
#: One plain transfer in one round trip (PostgreSQL; migration 0065): the function locks,
#: checks, writes and answers the transfer's timestamp, or NULL having written nothing.
TRANSFER_PLAIN = "SELECT ledger_transfer_plain(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
ADD_BALANCES = (
    "UPDATE ledger_accounts SET debits_pending = debits_pending + ?, "
    "debits_posted = debits_posted + ?, credits_pending = credits_pending + ?, "
    "credits_posted = credits_posted + ? WHERE id = ?"
)


@dataclass(frozen=True, slots=True)
class BatchReads:
    """What the planner needs, read under the batch's account locks."""

    accounts: dict[str, Account]
    transfers: dict[str, Transfer]
    resolved: dict[str, TransferFlags]
    first_timestamp: int


class HotPath:
    """Driver-level access for one transaction of the ledger's write path."""

    def __init__(self, raw: Any, *, postgres: bool, begun: bool = False) -> None:
        """``begun``: the caller's transaction is already open (``Database.begin``), so
        the path neither sends BEGIN nor commits."""
        self.raw = raw
        self.postgres = postgres
        self.begun = begun

    def _sql(self, statement: str, in_count: int = 0) -> str:
        if in_count:
            statement = statement.replace("(@)", "(" + _marks(in_count) + ")")
        return statement.replace("?", "%s") if self.postgres else statement

    def _fetch(self, statement: str, params: Sequence[Any]) -> list[Any]:
        if self.postgres and not self.begun:
            # BEGIN travels with the transaction's first query: one round trip, not two.
            self.begun = True
            cur = psycopg.ClientCursor(self.raw)
            cur.execute("BEGIN; " + statement, params)
            cur.nextset()
            return list(cur.fetchall())
        cur = self.raw.cursor()
        cur.execute(statement, params)
        return list(cur.fetchall())

    # -- reads --------------------------------------------------------------------------
    def find_transfers(self, ids: Iterable[str]) -> dict[str, Transfer]:
        """Transfers by id, without locks."""
        wanted = list(set(ids))
        if not wanted:
            return {}
        found = self._fetch(self._sql(SELECT_TRANSFERS, len(wanted)), wanted)
        return {row[0]: rows.transfer_from_row(row) for row in found}

    def read_for_batch(
        self,
        account_ids: Iterable[str],
        transfer_ids: Iterable[str],
        pending_ids: Iterable[str],
        count: int,
    ) -> BatchReads:
        """Lock the accounts (ascending id order: batches queue, never deadlock), take the
        batch's timestamps, then read the transfers and hold resolutions it names."""
        acct = sorted(set(account_ids))
        locked, clock_value = self._lock_accounts(acct)
        if clock_value is None:
            clock_value = self._clock(count)
        tids = list(set(transfer_ids))
        pids = list(set(pending_ids))
        found = self.find_transfers(tids) if tids else {}
        resolved = {}
        if pids:
            for pending_id, flags in self._fetch(self._sql(SELECT_RESOLUTIONS, len(pids)), pids):
                resolved[pending_id] = TransferFlags(flags & _RESOLVED_MASK)
        return BatchReads(locked, found, resolved, self._first_timestamp(clock_value, count))

    def _lock_accounts(self, ids: list[str]) -> tuple[dict[str, Account], int | None]:
        """On PostgreSQL the same statement draws the clock (an uncorrelated subquery runs
        once), saving a round trip; it comes back None when no row did."""
        if not ids:
            return {}, None
        if self.postgres:
            sql = self._sql(SELECT_ACCOUNTS_CLOCKED, len(ids)) + LOCK_SUFFIX
            found = self._fetch(sql, ids)
            clock = int(found[0][-1]) if found else None
            return {r[0]: rows.account_from_row(r) for r in found}, clock
        found = self._fetch(self._sql(SELECT_ACCOUNTS, len(ids)), ids)
        return {r[0]: rows.account_from_row(r) for r in found}, None

    def lock_balances(
        self, account_ids: Iterable[str], count: int
    ) -> tuple[dict[str, tuple[Any, ...]], int]:
        """``read_for_batch`` for plain postings: the accounts locked in id order as it
        locks them, each read as ``(ledger, flags, debits pending, debits posted, credits
        pending, credits posted)``, and the batch's first timestamp."""
        ids = sorted(set(account_ids))
        clock_value = None
        found: list[Any] = []
        if ids and self.postgres:
            sql = self._sql(SELECT_BALANCES_CLOCKED, len(ids)) + LOCK_SUFFIX
            found = self._fetch(sql, ids)
            clock_value = int(found[0][-1]) if found else None
        elif ids:
            found = self._fetch(self._sql(SELECT_BALANCES, len(ids)), ids)
        if clock_value is None:
            clock_value = self._clock(count)
        return {r[0]: r[1:7] for r in found}, self._first_timestamp(clock_value, count)

    def existing_accounts(self, ids: Iterable[str], count: int) -> tuple[dict[str, Account], int]:
        reads = self.read_for_batch(ids, (), (), count)
        return reads.accounts, reads.first_timestamp

    def timestamps(self, count: int) -> int:
        """The first of ``count`` new timestamps, without locking anything (a group whose
        accounts are locked already: ``ledger.transfers.GroupBalances``)."""
        return self._first_timestamp(self._clock(count), count)

    def _clock(self, count: int) -> int:
        if self.postgres:
            return int(self._fetch(NEXT_TIMESTAMP_POSTGRES, ())[0][0])
        return int(self._fetch(NEXT_TIMESTAMP_SQLITE, (count,))[0][0])

    def _first_timestamp(self, value: int, count: int) -> int:
        """PostgreSQL: a sequence value spread by TIMESTAMP_STRIDE (a sequence never blocks,
        so writers never queue on the clock). SQLite: a counter, safe under its single
        write lock."""
        if self.postgres:
            assert count <= limits.TIMESTAMP_STRIDE
            return value * limits.TIMESTAMP_STRIDE
        return value - count + 1

    # -- writes -------------------------------------------------------------------------
    def write_and_commit(
        self, created: Sequence[Transfer], deltas: Mapping[str, tuple[int, int, int, int]]
    ) -> None:
        self.write(created, deltas)
        self.raw.commit()

    def write(
        self, created: Sequence[Transfer], deltas: Mapping[str, tuple[int, int, int, int]]
    ) -> None:
        """Insert transfers, queue them for sealing, apply balance changes.

        PostgreSQL: one statement whatever the batch size (a data-modifying CTE over
        ``unnest``ed arrays). Elsewhere: one ``executemany`` per table.
        """
        self.write_rows(_transfer_rows(created), deltas)

    def write_rows(
        self, created: Sequence[tuple[Any, ...]], deltas: Mapping[str, tuple[int, int, int, int]]
    ) -> None:
        """``write`` for transfers already in ``ledger_transfers`` column order (the loans'
        daily close builds its rows directly: ``ledger.posted``)."""
        changes = [(k, *d) for k, d in sorted(deltas.items())]
        if self.postgres:
            if created and changes:
                self._write_postgres(list(created), changes)
            elif created:  # every account's change kept for its group's one update
                self._write_postgres_transfers(list(created))
        else:
            cur = self.raw.cursor()
            if created:
                cur.executemany(INSERT_TRANSFER, created)
                cur.executemany(INSERT_SEAL, [(t[0],) for t in created])
            if changes:
                cur.executemany(ADD_BALANCES, [(*c[1:], c[0]) for c in changes])

    def _write_postgres(self, rows: list[tuple[Any, ...]], changes: list[tuple[Any, ...]]) -> None:
        """Small batches bind scalars (cheap to send, and the statement text repeats, so
        psycopg prepares it); large ones bind one typed array per column, keeping the
        parameter count at 18 whatever the size (PostgreSQL allows 65,535)."""
        if len(rows) <= SMALL_BATCH and len(changes) <= 2 * SMALL_BATCH:
            sql = WRITE_POSTGRES_VALUES.replace(
                "(@transfers)", ", ".join([TRANSFER_MARKS] * len(rows))
            ).replace("(@changes)", ", ".join([CHANGE_MARKS] * len(changes)))
            params = [v for row in rows for v in row] + [v for c in changes for v in c]
        else:
            sql = WRITE_POSTGRES
            params = [list(c) for c in zip(*rows, strict=True)]
            params += [list(c) for c in zip(*changes, strict=True)]
        # Server-side prepared: PostgreSQL plans this CTE (and its foreign-key checks) once
        # per connection, not per transaction. Measured on the one-transfer write: 360 µs of
        # server CPU prepared and committed apart, against 500 µs planned every time with
        # COMMIT in the same string, and less wall time despite the extra round trip.
        self.raw.cursor().execute(sql, params, prepare=True)

    def write_transfers(self, created: Sequence[Transfer]) -> None:
        """Transfers and their seal-queue rows, no balance changes (PostgreSQL: one
        statement; a group writes its members' transfers with it, ``store.deferred``)."""
        if created:
            columns = [list(c) for c in zip(*_transfer_rows(created), strict=True)]
            self.raw.cursor().execute(WRITE_TRANSFERS_UNNEST, columns, prepare=True)

    def _write_postgres_transfers(self, rows: list[tuple[Any, ...]]) -> None:
        sql = WRITE_TRANSFERS_POSTGRES.replace(
            "(@transfers)", ", ".join([TRANSFER_MARKS] * len(rows))
        )
        self.raw.cursor().execute(sql, [v for row in rows for v in row], prepare=True)

    def transfer_plain(self, t: NewTransfer, now_ns: int) -> int | None:
        """Write ``t`` — a plain posted transfer whose shape the planner's checks passed —
        in one round trip if the function's checks pass (PostgreSQL, outside any open
        transaction: the statement is its own transaction). Its timestamp, or None with
        nothing written: the planner then decides.

        Every integer goes as ``int8`` (``int4`` for the code), so the prepared statement's
        parameter types never change with the values' sizes."""
        assert self.postgres and not self.begun
        assert t.amount is not None and t.code is not None
        params = (
            t.id,
            t.debit_account_id,
            t.credit_account_id,
            Int8(t.amount),
            t.ledger,
            Int4(t.code),
            rows.encode_metadata(t.metadata),
            Int8(now_ns),
            Int8(limits.TIMESTAMP_STRIDE),
            Int8(limits.MAX_AMOUNT_MINOR),
        )
        cur = self.raw.cursor()
        cur.execute(TRANSFER_PLAIN, params, prepare=True)
        found = cur.fetchone()
        return None if found is None or found[0] is None else int(found[0])

    def insert_accounts(self, new: Sequence[Account]) -> None:
        if new:
            self.raw.cursor().executemany(
                self._sql(INSERT_ACCOUNT),
                [
                    (a.id, a.ledger, int(a.code), a.owner, int(a.flags), 0, 0, 0, 0, a.timestamp)
                    for a in new
                ],
            )


def _transfer_rows(created: Sequence[Transfer]) -> list[tuple[Any, ...]]:
    """Rows in ``ledger_transfers`` column order (timestamp first: the primary key)."""
    return [
        (
            t.timestamp,
            t.id,
            t.debit_account_id,
            t.credit_account_id,
            t.amount,
            t.ledger,
            int(t.code),
            int(t.flags),
            t.pending_id,
            t.timeout_seconds,
            t.expires_at_ns,
            rows.encode_metadata(t.metadata),
            t.created_at_ns,
        )
        for t in created
    ]


#: A group's first statement (``services.platform.groupcommit``): every account of these
#: parties' wallets and these named accounts, locked in ascending id order as the ledger
#: locks (PostgreSQL locks the rows as the sort hands them over), and read.
LOCK_WALLETS_AND_ACCOUNTS = (
    "SELECT " + _names(rows._ACCOUNT_COLUMNS) + " FROM ledger_accounts WHERE id IN "  # noqa: S608
    "(SELECT account_id FROM wallets WHERE party_id = ANY(%s)) OR id = ANY(%s) "
    "ORDER BY id FOR UPDATE"
)
#: A group's balance changes to the accounts it locked first, summed: one statement.
ADD_BALANCES_POSTGRES = (
    "UPDATE ledger_accounts AS a SET debits_pending = a.debits_pending + d.dp, "
    "debits_posted = a.debits_posted + d.dpo, credits_pending = a.credits_pending + d.cp, "
    "credits_posted = a.credits_posted + d.cpo "
    "FROM unnest(%s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[]) "
    "AS d(id, dp, dpo, cp, cpo) WHERE a.id = d.id"
)


#: A group's own rows (``services.platform.groupcommit``): orders, then payments, each in
#: ascending id order, locked before any ledger account; their parties, whose wallets the
#: group then locks with its accounts.
LOCK_ORDERS = "SELECT buyer_id FROM orders WHERE id = ANY(%s) ORDER BY id FOR UPDATE"
LOCK_PAYMENTS = "SELECT payer_id, payee_id FROM payments WHERE id = ANY(%s) ORDER BY id FOR UPDATE"


def lock_rows_of(conn: Any, orders: Sequence[str], payments: Sequence[str]) -> set[str]:
    """Lock the orders, then the payments, named (PostgreSQL, in ``conn``'s open transaction,
    ascending ids): the parties on them (an order's buyer, a payment's payer and payee)."""
    found: set[str] = set()
    if orders:
        found.update(r[0] for r in conn.exec_driver_sql(LOCK_ORDERS, (list(orders),)))
    if payments:
        for payer, payee in conn.exec_driver_sql(LOCK_PAYMENTS, (list(payments),)):
            found.update(p for p in (payer, payee) if p)
    return found


def lock_wallets_and_accounts(
    conn: Any, parties: Sequence[str], accounts: Sequence[str]
) -> dict[str, Account]:
    """Lock and read, on PostgreSQL, inside ``conn``'s open transaction (a SQLAlchemy
    ``Connection``; a driver error comes out as ``DBAPIError``, the group's failure)."""
    found = conn.exec_driver_sql(LOCK_WALLETS_AND_ACCOUNTS, (list(parties), list(accounts)))
    return {r[0]: rows.account_from_row(r) for r in found.fetchall()}


def add_balances(conn: Any, deltas: Mapping[str, tuple[int, int, int, int]]) -> None:
    """Apply summed balance changes (PostgreSQL; the rows are locked already), one statement."""
    changes = [(k, *d) for k, d in sorted(deltas.items()) if any(d)]
    if changes:
        columns = [list(c) for c in zip(*changes, strict=True)]
        conn.exec_driver_sql(ADD_BALANCES_POSTGRES, tuple(columns))


def fetch_named(conn: Any, statement: Any, params: Mapping[str, Any]) -> list[Any]:
    """The rows of a ``text()`` statement run on the DBAPI connection under ``conn`` (a
    SQLAlchemy ``Connection`` with its transaction open), inside that transaction: without
    SQLAlchemy's per-statement work (profiled: a third of the risk gate's client CPU on
    PostgreSQL, past psycopg itself). The statement is compiled for the dialect once
    (``_compiled``); a driver error comes out as SQLAlchemy's ``DBAPIError`` subclass, so
    ``transact`` retries a conflict exactly as if SQLAlchemy had run the statement. A
    statement that returns no rows (an ``INSERT`` without ``RETURNING``) gives ``[]``."""
    sql = _compiled(statement, conn.dialect)
    dbapi_error = conn.dialect.loaded_dbapi.Error
    cur = conn.connection.driver_connection.cursor()
    try:
        cur.execute(sql, params)
        return list(cur.fetchall()) if cur.description is not None else []
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, params, exc, dbapi_error) from exc
    finally:
        cur.close()


@lru_cache(maxsize=256)
def _compiled(statement: Any, dialect: Any) -> str:
    return str(statement.compile(dialect=dialect))
