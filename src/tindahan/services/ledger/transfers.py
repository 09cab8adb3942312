"""Ledger use cases: open accounts, create transfers, look them up, expire old holds.

Each call is one transaction: load (and on PostgreSQL lock) what the batch touches, let the
domain planner decide, write the plan, commit — or, on a conflict with a concurrent
transaction, start again from the top (``Database.transact``), so callers never see a
deadlock, a serialization failure or a lost race on an id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from tindahan import limits
from tindahan.ledger.accounts import plan_accounts
from tindahan.ledger.engine import BatchView, TransferPlan, accounts_to_load, ids_to_load
from tindahan.ledger.engine import plan_transfers as _plan
from tindahan.ledger.model import (
    Account,
    AccountOutcome,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    Transfer,
    TransferFlags,
    TransferOutcome,
    expired_void_id,
)
from tindahan.ledger.posted import Posting, plan_postings
from tindahan.ledger.validation import check_shape, flags_int
from tindahan.store import deferred
from tindahan.store import ledger as repo
from tindahan.store.database import Database, is_duplicate
from tindahan.store.hotpath import BatchReads, HotPath

_ZERO = (0, 0, 0, 0)


class BatchSizeError(ValueError):
    """A batch was empty or longer than ``limits.MAX_BATCH``."""


def _check_size(batch: Sequence[object]) -> None:
    if not 0 < len(batch) <= limits.MAX_BATCH:
        raise BatchSizeError(f"a batch holds 1 to {limits.MAX_BATCH} events, not {len(batch)}")


def create_accounts(db: Database, batch: Sequence[NewAccount]) -> list[AccountOutcome]:
    _check_size(batch)

    def work(raw: Any) -> list[AccountOutcome]:
        path = HotPath(raw, postgres=not db.is_sqlite)
        ids = [a.id for a in batch if isinstance(a.id, str)]
        existing, first = path.existing_accounts(ids, len(batch))
        outcomes, created = plan_accounts(batch, existing, first_timestamp=first)
        path.insert_accounts(created)
        return outcomes

    return db.transact(work, raw=True)


def create_transfers(
    db: Database, batch: Sequence[NewTransfer], *, system: bool = False
) -> list[TransferOutcome]:
    """Apply a batch; one result per event, in order (see ``ledger.engine``).

    Most transfers are new, so the first attempt does not look their ids up: a duplicate
    (a client's retry, or a race with a concurrent batch) trips the unique index instead,
    and the batch runs again with the look-up, answering ``exists`` or
    ``exists_with_different_fields``. That saves a query on every new transfer.
    """
    _check_size(batch)
    try:
        if not db.is_sqlite and len(batch) == 1 and _plain(batch[0], system):
            done = db.transact(
                lambda raw: _transfer_plain(db, raw, batch[0]), raw=True, retry_duplicates=False
            )
            if done is not None:
                return [done]
        return db.transact(
            lambda raw: _create_transfers(db, raw, batch, system, look_up=False),
            raw=True,
            retry_duplicates=False,
        )
    except IntegrityError as exc:
        if not is_duplicate(exc):
            raise
    return db.transact(
        lambda raw: _create_transfers(db, raw, batch, system, look_up=True), raw=True
    )


def _plain(t: NewTransfer, system: bool) -> bool:
    """A posted transfer between two named accounts, no flags, its shape valid: what
    ``HotPath.transfer_plain`` may write in one round trip (PostgreSQL)."""
    return flags_int(t.flags) == 0 and check_shape(t, 0, system) is None


def _transfer_plain(db: Database, raw: Any, t: NewTransfer) -> TransferOutcome | None:
    """One plain transfer in one statement (locks, the planner's checks of such a transfer,
    the write: migration 0065), or None having written nothing — a refusal, or anything the
    function does not judge — so the planner decides it in a transaction of its own."""
    now_ns = db.clock()
    stamp = HotPath(raw, postgres=True).transfer_plain(t, now_ns)
    if stamp is None:
        return None
    assert t.debit_account_id is not None and t.credit_account_id is not None
    assert t.amount is not None and t.ledger is not None and t.code is not None
    transfer = Transfer(
        id=t.id,
        debit_account_id=t.debit_account_id,
        credit_account_id=t.credit_account_id,
        amount=t.amount,
        ledger=t.ledger,
        code=t.code,
        flags=TransferFlags.NONE,
        pending_id=None,
        timeout_seconds=0,
        expires_at_ns=None,
        metadata=dict(t.metadata),
        timestamp=stamp,
        created_at_ns=now_ns,
    )
    return TransferOutcome(0, t.id, CreateTransferResult.OK, transfer)


def _create_transfers(
    db: Database, raw: Any, batch: Sequence[NewTransfer], system: bool, *, look_up: bool
) -> list[TransferOutcome]:
    path = HotPath(raw, postgres=not db.is_sqlite)
    pending_ids = {t.pending_id for t in batch if isinstance(t.pending_id, str)}
    wanted = ids_to_load(batch) if look_up else pending_ids
    # Posts and voids may leave the accounts out: learn them from the holds first. Holds
    # never change, and what may (their resolution) is read again below, under the locks
    # that anyone posting or voiding the same hold must also take.
    holds = path.find_transfers(pending_ids) if pending_ids else {}
    reads = path.read_for_batch(accounts_to_load(batch, holds), wanted, pending_ids, len(batch))

    def decide(found: dict[str, Transfer]) -> TransferPlan:
        view = BatchView(reads.accounts, found, reads.resolved)
        first = reads.first_timestamp
        return _plan(batch, view, now_ns=db.clock(), first_timestamp=first, system=system)

    plan = decide(reads.transfers)
    if not look_up and not all(o.ok for o in plan.outcomes):
        # A refusal could be hiding a retry of a committed transfer (which must answer
        # ``exists``): decide again knowing every id, still under the same locks.
        plan = decide(path.find_transfers(ids_to_load(batch)))
    path.write_and_commit(plan.created, plan.deltas)
    return plan.outcomes


@dataclass(frozen=True)
class AppliedBatch:
    """What ``apply_in_transaction`` did: outcomes, and each touched account afterwards."""

    outcomes: list[TransferOutcome]
    accounts: dict[str, Account]

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)

    @property
    def first_failure(self) -> TransferOutcome | None:
        for outcome in self.outcomes:
            if not outcome.ok and outcome.result != "linked_event_failed":
                return outcome
        return None


#: Where a group's ``GroupBalances`` sits in its connection's ``info`` while it runs.
GROUP_BALANCES = "tindahan_group_balances"


def _add(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3])


class GroupBalances:
    """The accounts a group locked first (``services.platform.groupcommit``) and the balance
    changes its members made to them, summed, written in one update before its COMMIT.

    Why: in a group, a busy merchant's settlement account (or any account several members
    touch) would otherwise be updated once per member — a new row version each time. Here a
    member's transfers are inserted as usual, but its changes to these accounts are kept;
    each later member is planned on the balances the earlier ones left (the rows read under
    the group's lock plus what was kept), so every balance check (funds, limits) is made
    exactly as if each change had been written. A member's changes are ``pending`` until its
    savepoint is released (``keep``) or rolled back (``drop``)."""

    def __init__(self, locked: dict[str, Account]) -> None:
        self.locked = locked
        self.kept: dict[str, tuple[int, int, int, int]] = {}
        self.pending: dict[str, tuple[int, int, int, int]] = {}
        #: The group's timestamps: one sequence value gives ``limits.TIMESTAMP_STRIDE`` of
        #: them, shared by the members whose accounts are all locked already (a member
        #: otherwise drew its own, a round trip each); [next, end).
        self._next = self._end = 0

    def timestamps(self, path: HotPath, count: int) -> int:
        """The first of ``count`` timestamps for a member's batch, drawn from the group's
        range (a new sequence value when it runs out). Unique as the ledger's own: each
        range is one sequence value's, which no other transaction gets."""
        if self._next + count > self._end:
            self._next = path.timestamps(count)
            self._end = self._next + limits.TIMESTAMP_STRIDE
        first = self._next
        self._next += count
        return first

    def current(self, account_id: str) -> Account:
        base = self.locked[account_id]
        change = _add(self.kept.get(account_id, _ZERO), self.pending.get(account_id, _ZERO))
        return _changed(base, change)

    def add(self, deltas: dict[str, tuple[int, int, int, int]]) -> None:
        for account_id, change in deltas.items():
            self.pending[account_id] = _add(self.pending.get(account_id, _ZERO), change)

    def keep(self) -> None:
        for account_id, change in self.pending.items():
            self.kept[account_id] = _add(self.kept.get(account_id, _ZERO), change)
        self.pending = {}

    def drop(self) -> None:
        self.pending = {}


def _changed(account: Account, change: tuple[int, int, int, int]) -> Account:
    return replace(
        account,
        debits_pending=account.debits_pending + change[0],
        debits_posted=account.debits_posted + change[1],
        credits_pending=account.credits_pending + change[2],
        credits_posted=account.credits_posted + change[3],
    )


def apply_in_transaction(
    db: Database, conn: Connection, batch: Sequence[NewTransfer]
) -> AppliedBatch:
    """Apply a batch of *new* transfers inside the caller's open transaction
    (``Database.begin``), without committing: a payment books its transfers, its own rows
    and its outbox event in one transaction, so either all of them commit or none does.
    Locks, planning and writes are the ones ``create_transfers`` uses; the caller rolls back
    if any outcome is not ``ok``.
    """
    _check_size(batch)
    raw = conn.connection.driver_connection
    path = HotPath(raw, postgres=not db.is_sqlite, begun=True)
    pending_ids = {t.pending_id for t in batch if isinstance(t.pending_id, str)}
    holds = path.find_transfers(pending_ids) if pending_ids else {}
    # The callers book transfers with fresh random ids, so their ids are not looked up
    # first: a duplicate would trip the unique index and the caller's transaction would run
    # again, with new ids. (Holds named by posts and voids are read, and locked, as usual.)
    group: GroupBalances | None = conn.info.get(GROUP_BALANCES)
    wanted = accounts_to_load(batch, holds)
    held = {a: group.current(a) for a in wanted if a in group.locked} if group else {}
    rest = [a for a in wanted if a not in held]
    if group is not None and not rest and not pending_ids:  # nothing to lock or read
        reads = BatchReads({}, {}, {}, group.timestamps(path, len(batch)))
    else:
        reads = path.read_for_batch(rest, (), pending_ids, len(batch))
    accounts = {**reads.accounts, **held}
    # Holds never change once written; what may (whether they were resolved) was read
    # under the locks.
    view = BatchView(accounts, holds, reads.resolved)
    plan = _plan(batch, view, now_ns=db.clock(), first_timestamp=reads.first_timestamp)
    if not all(o.ok for o in plan.outcomes):
        return AppliedBatch(plan.outcomes, accounts)
    deltas = dict(plan.deltas)
    if group is not None:  # the group's accounts: kept, summed, written once per group
        group.add({a: deltas.pop(a) for a in list(deltas) if a in held})
    later = deferred.of(conn)
    if later is not None and not deltas:  # the group writes its members' transfers at once
        later.pending[deferred.TRANSFERS].extend(plan.created)
    else:
        path.write(plan.created, deltas)
    after = {a: _changed(account, plan.deltas.get(a, _ZERO)) for a, account in accounts.items()}
    return AppliedBatch(plan.outcomes, after)


def book_postings(db: Database, conn: Connection, postings: Sequence[Posting]) -> None:
    """Book plain posted transfers a service built itself (``ledger.posted``) inside the
    caller's open transaction, without committing: the accounts are locked and read as
    ``apply_in_transaction`` does, the postings planned in one pass, and the whole batch
    written with the ledger's batch write (one statement on PostgreSQL). A broken rule
    raises ``PostingError`` and the caller's transaction rolls back whole."""
    _check_size(postings)
    path = HotPath(conn.connection.driver_connection, postgres=not db.is_sqlite, begun=True)
    touched = {p.debit_account_id for p in postings} | {p.credit_account_id for p in postings}
    balances, first = path.lock_balances(touched, len(postings))
    rows, deltas = plan_postings(postings, balances, first_timestamp=first, now_ns=db.clock())
    path.write_rows(rows, deltas)


def open_accounts_in_transaction(
    db: Database, conn: Connection, batch: Sequence[NewAccount]
) -> list[AccountOutcome]:
    """``create_accounts`` inside the caller's open transaction (a new party's wallets are
    opened with the party, or not at all)."""
    _check_size(batch)
    path = HotPath(conn.connection.driver_connection, postgres=not db.is_sqlite, begun=True)
    ids = [a.id for a in batch if isinstance(a.id, str)]
    existing, first = path.existing_accounts(ids, len(batch))
    outcomes, created = plan_accounts(batch, existing, first_timestamp=first)
    path.insert_accounts(created)
    return outcomes


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
