"""What one unbatched transfer costs PostgreSQL on the wire (issue 18).

A plain posted transfer (no flags, two named accounts) is **one** round trip: the prepared
call of ``ledger_transfer_plain`` (migration 0065) locks, checks, writes and commits as its
own statement's transaction (ledger18fn: measured against the three-round-trip path it
replaces, README). Anything else — a hold, a post, a linked chain, a refusal — takes the
planner's path: three round trips (``BEGIN`` with the lock query, the write, server-side
prepared, ``COMMIT``), a refusal after the one-trip attempt wrote nothing.

The count is read from libpq's own protocol trace of the pooled connection the ledger
used, so it holds whatever psycopg does underneath: an extra round trip (a ``BEGIN`` of
its own, a look-up before the write) or a statement parsed again on every transfer fails
it. A pipelined variant of the planner's path (two round trips, the lock prepared too) was
measured and cost more client CPU than it saved (README, the ledger bench's raw-SQL
floor)."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from tindahan.ledger import (
    AccountFlags,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    TransferFlags,
)
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


def _open_and_warm(db: Database) -> None:
    service.create_accounts(
        db,
        [
            NewAccount("bank", "PHP", 500),
            NewAccount("juan", "PHP", 100, flags=WALLET),
            NewAccount("nena", "PHP", 110, flags=WALLET),
        ],
    )
    assert service.create_transfers(db, [NewTransfer("fund", "bank", "juan", 500, "PHP", 1)])[0].ok
    # Warm: psycopg prepares a statement on its fifth run per parameter types, and a
    # Python int goes as the smallest integer type that holds it; by the fifth batch the
    # planner's timestamps (sequence × 8,192) have grown past int2, as every later one's
    # stay. (The one-trip call binds every integer as int8: its types never change.)
    for n in range(5):
        warm = NewTransfer(f"warm{n}", "juan", "nena", 1, "PHP", 1)
        assert service.create_transfers(db, [warm])[0].ok
        hold = NewTransfer(f"hold{n}", "juan", "nena", 1, "PHP", 1, TransferFlags.PENDING)
        assert service.create_transfers(db, [hold])[0].ok


def _waits(names: list[str]) -> int:
    """One wait per simple Query, per Sync, per Flush (a Sync followed at once by a Flush
    is one packet)."""
    return names.count("Query") + names.count("Flush") + names.count("Sync") - _paired(names)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_warm_plain_transfer_is_one_round_trip_to_a_prepared_function(db: Database) -> None:
    _open_and_warm(db)
    sent = _frontend_messages(
        db,
        lambda: service.create_transfers(db, [NewTransfer("t", "juan", "nena", 2, "PHP", 1)]),
    )

    names = [name for name, _ in sent]
    assert _waits(names) == 1, sent
    # No BEGIN, no COMMIT (the statement is its own transaction), nothing parsed again.
    assert "Query" not in names and "Parse" not in names, sent
    bound = [f.split(" ")[2] for n, f in sent if n == "Bind"]
    assert len(bound) == 1 and bound[0].startswith('"_pg3_'), sent
    assert service.lookup_accounts(db, ["nena"])["nena"].credits_posted == 7
    assert service.lookup_transfers(db, ["t"])["t"].amount == 2


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_warm_hold_is_three_round_trips_with_the_write_prepared(db: Database) -> None:
    _open_and_warm(db)
    hold = NewTransfer("h", "juan", "nena", 2, "PHP", 1, TransferFlags.PENDING)
    sent = _frontend_messages(db, lambda: service.create_transfers(db, [hold]))

    names = [name for name, _ in sent]
    assert _waits(names) == 3, sent
    # BEGIN travels with the lock (one simple query); the write is bound to a statement
    # prepared on the warm connection, never parsed again.
    queries = [fields for name, fields in sent if name == "Query"]
    assert queries[0].startswith(' "BEGIN; SELECT') and queries[-1] == ' "COMMIT"', sent
    assert "Parse" not in names, sent
    assert next(f.split(" ")[2] for n, f in sent if n == "Bind").startswith('"_pg3_'), sent
    assert service.lookup_accounts(db, ["nena"])["nena"].credits_pending == 7


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_refused_plain_transfer_writes_nothing_and_the_planner_names_the_refusal(
    db: Database,
) -> None:
    _open_and_warm(db)
    before = service.lookup_accounts(db, ["juan", "nena"])
    too_much = NewTransfer("big", "juan", "nena", 10_000, "PHP", 1)
    sent = _frontend_messages(db, lambda: service.create_transfers(db, [too_much]))

    assert _waits([name for name, _ in sent]) == 1 + 3, sent  # the call, then the planner
    outcome = service.create_transfers(db, [too_much])[0]
    assert outcome.result == CreateTransferResult.EXCEEDS_CREDITS
    assert service.lookup_accounts(db, ["juan", "nena"]) == before
    assert service.lookup_transfers(db, ["big"]) == {}
    # A retry of a committed plain transfer trips the unique index and answers ``exists``.
    again = service.create_transfers(db, [NewTransfer("warm0", "juan", "nena", 1, "PHP", 1)])
    assert again[0].result == CreateTransferResult.EXISTS


def _paired(sent: list[str]) -> int:
    """Sync immediately followed by Flush is one packet, one wait (psycopg's pipeline)."""
    return sum(1 for a, b in itertools.pairwise(sent) if (a, b) == ("Sync", "Flush"))
