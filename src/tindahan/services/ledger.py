"""Ledger use cases: open accounts, create transfers, look them up, expire old holds.

Each call is one transaction: load (and on PostgreSQL lock) what the batch touches, let the
domain planner decide, write the plan, commit — or, on a conflict with a concurrent
transaction, start again from the top (``Database.transact``), so callers never see a
deadlock, a serialization failure or a lost race on an id.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from tindahan import limits
from tindahan.ledger.engine import BatchView, accounts_to_load, ids_to_load, plan_accounts
from tindahan.ledger.engine import plan_transfers as _plan
from tindahan.ledger.model import (
    Account,
    AccountOutcome,
    NewAccount,
    NewTransfer,
    Transfer,
    TransferFlags,
    TransferOutcome,
    expired_void_id,
)
from tindahan.store import ledger as repo
from tindahan.store.database import Database


class BatchSizeError(ValueError):
    """A batch was empty or longer than ``limits.MAX_BATCH``."""


def _check_size(batch: Sequence[object]) -> None:
    if not 0 < len(batch) <= limits.MAX_BATCH:
        raise BatchSizeError(f"a batch holds 1 to {limits.MAX_BATCH} events, not {len(batch)}")


def create_accounts(db: Database, batch: Sequence[NewAccount]) -> list[AccountOutcome]:
    _check_size(batch)

    def work(conn: Connection) -> list[AccountOutcome]:
        ids = [a.id for a in batch if isinstance(a.id, str)]
        existing = repo.load_accounts(conn, ids)
        first = repo.allocate_timestamps(conn, len(batch))
        outcomes, created = plan_accounts(batch, existing, first_timestamp=first)
        repo.insert_accounts(conn, created)
        return outcomes

    return db.transact(work)


def create_transfers(
    db: Database, batch: Sequence[NewTransfer], *, system: bool = False
) -> list[TransferOutcome]:
    """Apply a batch; one result per event, in order (see ``ledger.engine``)."""
    _check_size(batch)
    return db.transact(lambda conn: _create_transfers(db, conn, batch, system))


def _create_transfers(
    db: Database, conn: Connection, batch: Sequence[NewTransfer], system: bool
) -> list[TransferOutcome]:
    wanted = ids_to_load(batch)
    found = repo.load_transfers(conn, wanted)
    locked = repo.load_accounts(conn, accounts_to_load(batch, found), lock=True)
    pending_ids = {t.pending_id for t in batch if isinstance(t.pending_id, str)}
    resolved: dict[str, TransferFlags] = {}
    if pending_ids:
        # Read again now that the accounts are locked: whoever posts or voids the same
        # hold needs the same locks, so what we read now cannot change under us.
        found = repo.load_transfers(conn, wanted)
        resolved = repo.load_resolutions(conn, pending_ids)
    first = repo.allocate_timestamps(conn, len(batch))
    plan = _plan(
        batch,
        BatchView(locked, found, resolved),
        now_ns=db.clock(),
        first_timestamp=first,
        system=system,
    )
    repo.insert_transfers(conn, plan.created)
    repo.apply_deltas(conn, plan.deltas)
    return plan.outcomes


def lookup_accounts(db: Database, ids: Sequence[str]) -> dict[str, Account]:
    return db.transact(lambda conn: repo.load_accounts(conn, ids), write=False)


def lookup_transfers(db: Database, ids: Sequence[str]) -> dict[str, Transfer]:
    return db.transact(lambda conn: repo.load_transfers(conn, ids), write=False)


def expire_pending(db: Database) -> int:
    """Void every pending transfer whose timeout has passed; returns how many it voided.

    The void's id is derived from the hold's, so sweepers racing each other (or a client
    posting at the last moment) resolve each hold exactly once.
    """
    voided = 0
    while True:
        due = db.transact(
            lambda conn: repo.expired_pending_ids(conn, db.clock(), limits.SWEEP_BATCH),
            write=False,
        )
        if not due:
            return voided
        voids = [
            NewTransfer(
                id=expired_void_id(pending_id),
                pending_id=pending_id,
                flags=TransferFlags.VOID_PENDING,
                metadata={"reason": "expired"},
            )
            for pending_id in due
        ]
        outcomes = create_transfers(db, voids, system=True)
        done = sum(1 for o in outcomes if o.result == "ok")
        voided += done
        if done == 0:
            return voided
