"""Booking legs on a TigerBeetle cluster from inside a database transaction.

The ledger layer's share of the two-store write order (``services.payments.two_store``): the
pieces every capability that books on the cluster needs — the legs stripped of their chain
flag, the accounts a chain touches opened in the cluster on first use, the first real
refusal among a chain's outcomes, and posted legs booked from the caller's transaction.
They live here, below the payments, so that a capability beside the payments (the risk
reviews' release and return, ``services.risk.holds``) books on the cluster without
importing the payments' write order.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from tindahan.ledger.model import (
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    TransferFlags,
    TransferOutcome,
)
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger import movement
from tindahan.services.unit import Platform, Unit
from tindahan.store import ledger as ledger_rows
from tindahan.store import ledger_names
from tindahan.tigerbeetle.ids import names_of


def unlinked(transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The legs as the SQL ledger would book them, their chain flag left to each step."""
    return [replace(t, flags=t.flags & ~TransferFlags.LINKED) for t in transfers]


def first_failure(outcomes: Iterable[TransferOutcome]) -> TransferOutcome | None:
    """The outcome that failed a chain: a link's "linked event failed" is its echo."""
    for outcome in outcomes:
        if not outcome.ok and outcome.result != CreateTransferResult.LINKED_EVENT_FAILED:
            return outcome
    return None


def book_within(unit: Unit, ledger: LedgerPort, legs: Sequence[NewTransfer]) -> None:
    """Posted legs booked in the cluster from inside the caller's transaction, as one linked
    chain with their derived ids (a repeat answers ``exists``), their names written first in
    that transaction. For money that comes back, decided under a row lock (a bank transfer's
    return): if the transaction then fails, the same answer delivered again books nothing
    twice and commits it. A refusal raises, and the transaction rolls back."""
    chain = movement.linked(unlinked(legs))
    ledger_names.record(unit.conn, names_of(chain))
    open_accounts(unit.platform, ledger, chain)
    failure = first_failure(ledger.create_transfers(chain))
    if failure is not None:
        raise RuntimeError(f"the TigerBeetle ledger refused {failure.id}: {failure.result}")


#: Accounts this process knows are open in each cluster (a wallet opened after the switch
#: is opened there by the first payment that touches it).
_OPENED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def open_accounts(platform: Platform, ledger: LedgerPort, legs: Sequence[NewTransfer]) -> None:
    """Every account the legs touch opened in the cluster (from its SQL row) if not yet."""
    known = _OPENED.setdefault(ledger, set())
    ids = {i for t in legs for i in (t.debit_account_id, t.credit_account_id) if i} - known
    if not ids:
        return
    missing = ids - set(ledger.lookup_accounts(sorted(ids)))
    if missing:
        rows = platform.run(lambda unit: ledger_rows.load_accounts(unit.conn, missing), write=False)
        opening = [NewAccount(a.id, a.ledger, a.code, a.owner, a.flags) for a in rows.values()]
        for outcome in ledger.create_accounts(opening):
            if outcome.result not in ("ok", "exists"):
                raise RuntimeError(f"account {outcome.id} was refused: {outcome.result}")
    known.update(ids)
