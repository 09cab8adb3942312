"""A group's rows written once at its end: the write step of a group's payments (issue 18).

Why: in a group (``services.platform.groupcommit``) on PostgreSQL every statement is a round
trip and a parse, and a merchant payment's own rows — its payment row, its ledger transfers
(with their seal-queue rows), its outbox event (with its SMS) and its idempotency record —
were written member by member: four statements a payment. Nothing a payment decides reads
those rows back (its answer is rendered from what it decided; the group's balances are kept
in ``ledger.transfers.GroupBalances``), so a member that declares so
(``groupcommit.Locks.batched``) *decides* in its savepoint and leaves the rows here; the
group writes each table's rows in one multi-row statement before its COMMIT
(``services.platform.groupwrite``). A group of N payments then costs a fixed number of
statements plus, per member, only what its decision has to read or lock (its savepoint, its
wallets, its running totals' upsert).

A member's rows are ``pending`` until its savepoint is released (``keep``), and forgotten if
it is rolled back (``drop``): a refused payment leaves nothing, as its rolled-back savepoint
did. What the members wrote is findable before the write (``record``: a twin's key in the
same group is answered from the first one's record, as it was from the table).

Where a member that does not batch runs (a refund, a cash-out…), the rows kept so far are
written first (it may read them: a refund of a payment made earlier in the group), so it
sees the tables exactly as before.
"""

from __future__ import annotations

from typing import Any

#: Where a group's ``Deferred`` sits in its connection's ``info`` while a batching member runs.
KEY = "tindahan_group_writes"

PAYMENTS = "payments"
TRANSFERS = "transfers"
EVENTS = "events"
KEYS = "idempotency_keys"
TABLES = (PAYMENTS, TRANSFERS, EVENTS, KEYS)


class Deferred:
    """The rows of a group's batching members, by table, waiting for the group's write."""

    def __init__(self) -> None:
        self.kept: dict[str, list[Any]] = {t: [] for t in TABLES}
        self.pending: dict[str, list[Any]] = {t: [] for t in TABLES}
        #: The group's keys looked up at its start: (scope, key) → the stored row, or None
        #: when there was none then. Cleared once a non-batching member has run (it may
        #: have stored a key: the table is asked again).
        self.looked_up: dict[tuple[str, str], dict[str, Any] | None] = {}

    def add(self, table: str, row: Any) -> None:
        self.pending[table].append(row)

    def keep(self) -> None:
        for table, rows in self.pending.items():
            self.kept[table].extend(rows)
        self.pending = {t: [] for t in TABLES}

    def drop(self) -> None:
        self.pending = {t: [] for t in TABLES}

    def record(self, scope: str, key: str) -> dict[str, Any] | None:
        """A key's record written by a member of this group and not yet in the table."""
        for rows in (self.pending[KEYS], self.kept[KEYS]):
            for row in rows:
                if row["scope"] == scope and row["key"] == key:
                    return dict(row)
        return None

    def take(self) -> dict[str, list[Any]]:
        """The kept rows, handed over to be written; nothing is kept after."""
        taken, self.kept = self.kept, {t: [] for t in TABLES}
        return taken

    def has_rows(self) -> bool:
        return any(self.kept.values())


def of(conn: Any) -> Deferred | None:
    """The group's ``Deferred`` if the member running on ``conn`` batches its writes."""
    found: Deferred | None = conn.info.get(KEY)
    return found
