"""The daily close's postings on a TigerBeetle ledger (issue 22).

The close already builds each chunk's transfers itself, as one batch of plain posted
transfers (``close.postings``: a loan's day is one linked chain — interest accrued, a day's
penalty, the reserve paying what fell due), with ids derived from the loan and the day. On
a TigerBeetle deployment that batch goes to the cluster instead of the SQL ledger, **inside
the chunk's database transaction, before its commit**:

1. the chunk's rules run and its rows are written (not committed), as on SQL;
2. the names behind the batch's numbers (``store.ledger_names``) are written in the same
   transaction, any of the chunk's accounts the cluster lacks is opened there from its SQL
   row, and the batch is sent: the adapter packs whole chains into requests of at most
   8,189 transfers (TigerBeetle's limit), a chain never split;
3. the transaction commits (each loan's ``closed_through`` moves with its bookings).

A crash after 2 and before 3 leaves the cluster with the chunk's transfers and the database
without its rows: the next run reads the same loans in the same state, computes the same
transfers with the same ids, and the cluster answers ``exists`` for each (nothing twice);
then 3 commits. A crash before 2 leaves nothing anywhere. In the crash window the cluster's
transfers have no names yet (they were in the rolled-back transaction): shown as
``tb:<hex>`` until the rerun writes them.

**The loans hold still until the rerun** (the decision for repayments on the cluster). The
rerun's amounts are the crashed run's only if nothing changed the chunk's loans in between,
and a row lock does not last that long: it goes with the crashed transaction. So before 1
the close *claims* the chunk in a transaction of its own, committed (``claim``): each loan's
``ledger_hold`` becomes ``close:<day>`` (only loans nobody holds, or this close held before
a crash). Anything that books on a loan — a repayment's A — takes the loan's row lock and is
refused (``409 loan_busy``) while the loan is held; the close's commit (3) clears the hold
in the same transaction as the loan's rows. So between a crash and its rerun nothing moves
on those loans, and the rerun's amounts are the crashed run's, under every crash point:

* before the claim commits: nothing held, nothing anywhere;
* after the claim, before 2 (or 2 refused): the loans held, nothing or some whole chains in
  the cluster; the rerun claims them again (its own hold), recomputes, ``ok``/``exists``;
* after 2, before 3: as above, every chain ``exists``;
* after 3: the rows and the cleared hold committed together; nothing left.

The other way round, a repayment holds its loan (its id) from its A to its C or failure,
because its loan rows are written at C from what A decided: the close claims only loans
nobody else holds, and when a day's pass finds loans left that a repayment holds, the day
stays open (``CloseReport.blocked``, not written to ``loan_closes``), and the next run —
the worker's next round, after recovery has finished the repayment — closes them and ends
the day. The worker's close stops at such a day (a loan is closed one day after another).

Rejected: the rerun adopting the amounts the cluster already has for those ids (the rows it
would write are the recomputed ones; the two would disagree), and the close writing its rows
first and its transfers after (a repayment on the new rows could reach the cluster before
the close's accrual it pays: a receivable credited past its debits is refused there). Both
still need the loans held; the hold alone is enough. It costs the close one more small
transaction per chunk on a TigerBeetle deployment; the SQL ledger's close is unchanged.

A chain the cluster refuses (a reserve it holds less of than the database's mirror, say)
raises, and the chunk's transaction rolls back whole, as a broken rule does on SQL (the
chains accepted beside it answer ``exists`` on the rerun).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select, update

from tindahan import limits
from tindahan.ledger.model import (
    Account,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    TransferFlags,
)
from tindahan.ledger.port import LedgerPort
from tindahan.ledger.posted import Posting
from tindahan.services.unit import Unit
from tindahan.store import ledger as ledger_rows
from tindahan.store import ledger_names
from tindahan.store.lending_tables import loans
from tindahan.tigerbeetle.ids import names_of

R = CreateTransferResult
#: What a repeat of a chunk already in the cluster answers (a chain: every event ``exists``).
_DONE = (R.OK, R.EXISTS)


def hold_of(day: date) -> str:
    """The close's hold on the loans of its chunks for ``day``."""
    return f"close:{day.isoformat()}"


def _due(day: date) -> Any:
    text = day.isoformat()
    return and_(
        loans.c.status == "active", loans.c.closed_through < text, loans.c.start_date <= text
    )


def claim(unit: Unit, day: date, after: str) -> int:
    """Hold the next chunk's loans after ``after`` for ``day``'s close (its own transaction,
    committed before the chunk's transfers go to the cluster); how many it holds."""
    mine = hold_of(day)
    free = or_(loans.c.ledger_hold.is_(None), loans.c.ledger_hold == mine)
    query = (
        select(loans.c.id)
        .where(_due(day), loans.c.id > after, free)
        .order_by(loans.c.id)
        .limit(int(limits.LOAN_CLOSE_CHUNK))
        .with_for_update(skip_locked=True)
    )
    ids = list(unit.conn.execute(query).scalars())
    if ids:
        unit.conn.execute(update(loans).where(loans.c.id.in_(ids)).values(ledger_hold=mine))
    return len(ids)


def release(unit: Unit, day: date, ids: Sequence[str]) -> None:
    """The chunk's holds cleared, in the transaction that commits its rows."""
    held = and_(loans.c.id.in_(list(ids)), loans.c.ledger_hold == hold_of(day))
    unit.conn.execute(update(loans).where(held).values(ledger_hold=None))


def blocked(unit: Unit, day: date) -> int:
    """Loans ``day`` has still to close that another movement holds (a repayment)."""
    other = and_(loans.c.ledger_hold.is_not(None), loans.c.ledger_hold != hold_of(day))
    query = select(func.count()).select_from(loans).where(_due(day), other)
    return int(unit.conn.execute(query).scalar_one())


def transfers(postings: Sequence[Posting]) -> list[NewTransfer]:
    """The postings as the port's transfers (the same ids, accounts, amounts, codes, links
    and metadata)."""
    return [
        NewTransfer(
            p.id,
            p.debit_account_id,
            p.credit_account_id,
            p.amount,
            p.ledger,
            p.code,
            TransferFlags(p.flags),
            metadata=json.loads(p.metadata),
        )
        for p in postings
    ]


def book(unit: Unit, ledger: LedgerPort, chains: Sequence[Sequence[Posting]]) -> None:
    """The chunk's chains in the cluster, inside the chunk's open transaction (see the
    module text for the order and what a crash leaves)."""
    batch = transfers([p for chain in chains for p in chain])
    if not batch:
        return
    accounts = sorted({i for t in batch for i in (t.debit_account_id, t.credit_account_id) if i})
    rows = ledger_rows.load_accounts(unit.conn, accounts)
    owners = sorted({a.owner for a in rows.values() if a.owner})
    ledger_names.record(unit.conn, names_of(batch, owners))
    _open_missing(ledger, accounts, rows)
    for outcome in ledger.create_transfers(batch):
        if outcome.result not in _DONE:
            raise RuntimeError(f"the TigerBeetle ledger refused {outcome.id}: {outcome.result}")


def _open_missing(ledger: LedgerPort, ids: list[str], rows: Mapping[str, Account]) -> None:
    """Open in the cluster, from their SQL rows, the accounts it lacks (a loan's interest or
    penalty receivable is first touched by a close)."""
    missing = set(ids) - set(ledger.lookup_accounts(ids))
    opening = [
        NewAccount(a.id, a.ledger, a.code, a.owner, a.flags)
        for i, a in sorted(rows.items())
        if i in missing
    ]
    if not opening:
        return
    for outcome in ledger.create_accounts(opening):
        if outcome.result not in ("ok", "exists"):
            raise RuntimeError(f"account {outcome.id} was refused: {outcome.result}")
