"""What one unbatched transfer costs PostgreSQL on the wire (issue 18): three round trips —
``BEGIN`` with the lock query, the write (server-side prepared), ``COMMIT`` — and no more.

The count is read from libpq's own protocol trace of the pooled connection the ledger
used, so it holds whatever psycopg does underneath: a fourth round trip (a ``BEGIN`` of its
own, a look-up before the write) or the write parsed again on every transfer fails it. A
pipelined variant (two round trips, the lock prepared too) was measured in the same go and
cost more client CPU than it saved (README, the ledger bench's raw-SQL floor)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tindahan.ledger import AccountFlags, NewAccount, NewTransfer
from tindahan.services.ledger import transfers as service
from tindahan.store.database import Database

WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


def _frontend_messages(db: Database, work: Any) -> list[tuple[str, str]]:
    """The messages the client sent while ``work`` ran (libpq's trace): name, fields."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "trace"
        with path.open("w") as sink:

            def on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
                dbapi_conn.pgconn.trace(sink.fileno())

            def on_checkin(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.pgconn.untrace()

            event.listen(db.engine, "checkout", on_checkout)
            event.listen(db.engine, "checkin", on_checkin)
            try:
                work()
            finally:
                event.remove(db.engine, "checkout", on_checkout)
                event.remove(db.engine, "checkin", on_checkin)
        lines = [line.split("\t") for line in path.read_text().splitlines()]
    return [(f[3], "\t".join(f[4:])) for f in lines if len(f) > 3 and f[1] == "F"]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_warm_unbatched_transfer_is_three_round_trips_with_the_write_prepared(
    db: Database,
) -> None:
    service.create_accounts(
        db,
        [
            NewAccount("bank", "PHP", 500),
            NewAccount("juan", "PHP", 100, flags=WALLET),
            NewAccount("nena", "PHP", 110, flags=WALLET),
        ],
    )
    assert service.create_transfers(db, [NewTransfer("fund", "bank", "juan", 500, "PHP", 1)])[0].ok
    # Warm: psycopg prepares per parameter types, and a Python int goes as the smallest
    # integer type that holds it; by the fifth batch the timestamps (sequence × 8,192) have
    # grown past int2, as every later one's stay.
    for n in range(5):
        warm = NewTransfer(f"warm{n}", "juan", "nena", 1, "PHP", 1)
        assert service.create_transfers(db, [warm])[0].ok

    sent = _frontend_messages(
        db,
        lambda: service.create_transfers(db, [NewTransfer("t", "juan", "nena", 2, "PHP", 1)]),
    )

    names = [name for name, _ in sent]
    # One wait per simple Query, per Sync, per Flush (a Sync followed at once by a Flush is
    # one packet).
    waits = names.count("Query") + names.count("Flush") + names.count("Sync") - _paired(names)
    assert waits == 3, sent
    # BEGIN travels with the lock (one simple query); the write is bound to a statement
    # prepared on the warm connection, never parsed again.
    queries = [fields for name, fields in sent if name == "Query"]
    assert queries[0].startswith(' "BEGIN; SELECT') and queries[-1] == ' "COMMIT"', sent
    assert "Parse" not in names, sent
    assert next(f.split(" ")[2] for n, f in sent if n == "Bind").startswith('"_pg3_'), sent
    assert service.lookup_accounts(db, ["nena"])["nena"].credits_posted == 7


def _paired(sent: list[str]) -> int:
    """Sync immediately followed by Flush is one packet, one wait (psycopg's pipeline)."""
    return sum(1 for a, b in itertools.pairwise(sent) if (a, b) == ("Sync", "Flush"))
