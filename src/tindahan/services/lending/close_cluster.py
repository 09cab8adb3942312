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
then 3 commits. A crash before 2 leaves nothing anywhere. So no crash loses or doubles a
centavo. That rests on the chunk's loans not changing between the crash and the rerun: on
the cluster nothing else books on a loan's accounts yet (repayments and set-asides are
refused there); whoever ports them must keep it so (they take the loan's row lock, which
the close holds). In the crash window the cluster's transfers have no names yet (they were
in the rolled-back transaction): shown as ``tb:<hex>`` until the rerun writes them.

A chain the cluster refuses (a reserve it holds less of than the database's mirror, say)
raises, and the chunk's transaction rolls back whole, as a broken rule does on SQL (the
chains accepted beside it answer ``exists`` on the rerun).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

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
from tindahan.tigerbeetle.ids import names_of

R = CreateTransferResult
#: What a repeat of a chunk already in the cluster answers (a chain: every event ``exists``).
_DONE = (R.OK, R.EXISTS)


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
