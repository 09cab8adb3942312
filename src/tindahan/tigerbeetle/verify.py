"""What ``verify`` means on a TigerBeetle ledger: sums per ledger, limits, and each
account's balances against its own statement.

TigerBeetle keeps its own checksummed, hash-chained storage and replicates it by consensus,
so Tindahan's seal (the SHA-256 chain over transfers in the SQL ledger) has no counterpart
here: the cluster's storage takes its place. What Tindahan still checks from outside: in
every currency ledger, debits and credits summed over all accounts are equal; no flagged
account is past its limit; and each account's four balances are what its transfers give
(recomputed from ``get_account_transfers``, the same rule as the SQL ledger's verify).
Reads are paged and not atomic: run it on a quiet cluster for an exact answer.

A hold whose timeout passed is voided by the cluster itself, and that leaves no transfer in
the statement (the balances just drop its pending amount): the recomputation counts such a
hold — pending, timed out by the verifying machine's clock, neither posted nor voided in the
statement — as voided (``_expired``), as the SQL ledger's expiry books a void. Found by the
test of a payment whose hold expired before its post (``tests/tigerbeetle/test_payments.py``):
before that, verify reported its accounts' pending balances as wrong.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tindahan.ledger import audit
from tindahan.ledger.model import Account, Transfer, TransferFlags
from tindahan.tigerbeetle.ledger import TB_BATCH, TigerBeetleLedger

MAX_LISTED = 50


@dataclass
class TigerBeetleReport:
    accounts: int = 0
    transfers: int = 0
    ledgers: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        verdict = "ledger OK" if self.ok else f"{len(self.violations)} violation(s)"
        return (
            f"{verdict}: {self.accounts} accounts, {self.transfers} transfers, "
            f"{self.ledgers} ledger(s) summing to zero"
            if self.ok
            else f"{verdict} in {self.accounts} accounts, {self.ledgers} ledger(s)"
        )


def verify(
    ledger: TigerBeetleLedger, account_ids: Sequence[str] | None = None
) -> TigerBeetleReport:
    """Check the whole cluster's sums and limits, and recompute the balances of
    ``account_ids`` (every account when None) from their transfers."""
    everything = list(ledger.all_accounts())
    report = TigerBeetleReport()
    sums = audit.totals(everything)
    report.ledgers = len(sums)
    problems = audit.sum_violations(sums) + audit.limit_violations(everything)
    checked = (
        everything if account_ids is None else list(ledger.lookup_accounts(account_ids).values())
    )
    report.accounts = len(everything)
    seen: set[str] = set()
    for account in checked:
        history = statement(ledger, account.id)
        seen.update(t.id for t in history)
        stored = {account.id: _four(account)}
        resolved = [*history, *_expired(history, time.time_ns())]
        recomputed = {account.id: audit.recompute(resolved).get(account.id, audit.ZERO)}
        problems += audit.balance_violations(stored, recomputed)
    report.transfers = len(seen)
    if len(problems) > MAX_LISTED:
        problems = [*problems[:MAX_LISTED], f"… and {len(problems) - MAX_LISTED} more"]
    report.violations = problems
    return report


def statement(ledger: TigerBeetleLedger, account_id: str) -> list[Transfer]:
    """Every transfer of the account, oldest first."""
    pages: list[Transfer] = []
    before: int | None = None
    while True:
        page = ledger.account_transfers(account_id, limit=TB_BATCH, before_timestamp=before)
        pages.extend(page)
        if len(page) < TB_BATCH:
            return list(reversed(pages))
        before = page[-1].timestamp


def _expired(history: Sequence[Transfer], now_ns: int) -> list[Transfer]:
    """A void for each hold in ``history`` that the cluster voided by its timeout: pending,
    expired by ``now_ns``, and neither posted nor voided by a transfer of the statement."""
    resolved = {
        t.pending_id
        for t in history
        if t.flags & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)
    }
    return [
        replace(t, id=f"{t.id}.expired", flags=TransferFlags.VOID_PENDING, pending_id=t.id)
        for t in history
        if t.flags & TransferFlags.PENDING
        and t.expires_at_ns is not None
        and t.expires_at_ns <= now_ns
        and t.id not in resolved
    ]


def _four(a: Account) -> audit.Balances:
    return (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
