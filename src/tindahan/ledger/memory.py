"""An in-memory ledger: the reference the database stores are tested against.

It runs the same planner as the stores and keeps everything in dictionaries, so property
tests can throw thousands of random operations at the rules in a second, and the SQLite and
PostgreSQL stores can be checked to give exactly the same results for the same operations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from tindahan.ledger import audit
from tindahan.ledger.accounts import plan_accounts
from tindahan.ledger.engine import BatchView, accounts_to_load, ids_to_load
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


class MemoryLedger:
    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.accounts: dict[str, Account] = {}
        self.transfers: dict[str, Transfer] = {}
        self.resolved: dict[str, TransferFlags] = {}
        self._timestamp = 0

    def create_accounts(self, batch: Sequence[NewAccount]) -> list[AccountOutcome]:
        outcomes, created = plan_accounts(batch, self.accounts, first_timestamp=self._timestamp + 1)
        for account in created:
            self.accounts[account.id] = account
        self._timestamp += len(created)
        return outcomes

    def create_transfers(
        self, batch: Sequence[NewTransfer], *, system: bool = False
    ) -> list[TransferOutcome]:
        found = {i: self.transfers[i] for i in ids_to_load(batch) if i in self.transfers}
        accounts = {
            i: self.accounts[i] for i in accounts_to_load(batch, found) if i in self.accounts
        }
        resolved = {i: self.resolved[i] for i in found if i in self.resolved}
        view = BatchView(accounts, found, resolved)
        plan = _plan(
            batch, view, now_ns=self.clock(), first_timestamp=self._timestamp + 1, system=system
        )
        for t in plan.created:
            self.transfers[t.id] = t
            if t.pending_id is not None:
                self.resolved[t.pending_id] = t.flags & (
                    TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING
                )
        for account_id, d in plan.deltas.items():
            a = self.accounts[account_id]
            self.accounts[account_id] = replace(
                a,
                debits_pending=a.debits_pending + d[0],
                debits_posted=a.debits_posted + d[1],
                credits_pending=a.credits_pending + d[2],
                credits_posted=a.credits_posted + d[3],
            )
        self._timestamp += len(plan.created)
        return plan.outcomes

    def expire_pending(self) -> int:
        """Void every pending transfer whose timeout has passed; returns how many."""
        now = self.clock()
        due = [
            t
            for t in self.transfers.values()
            if t.flags & TransferFlags.PENDING
            and t.expires_at_ns is not None
            and t.expires_at_ns <= now
            and t.id not in self.resolved
        ]
        voids = [
            NewTransfer(
                id=expired_void_id(t.id),
                pending_id=t.id,
                flags=TransferFlags.VOID_PENDING,
                metadata={"reason": "expired"},
            )
            for t in due
        ]
        outcomes = self.create_transfers(voids, system=True)
        return sum(1 for o in outcomes if o.ok)

    def violations(self) -> list[str]:
        stored = {
            a.id: (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
            for a in self.accounts.values()
        }
        ordered = sorted(self.transfers.values(), key=lambda t: t.timestamp)
        problems = audit.balance_violations(stored, audit.recompute(ordered))
        problems += audit.limit_violations(self.accounts.values())
        problems += audit.sum_violations(audit.totals(self.accounts.values()))
        return problems
