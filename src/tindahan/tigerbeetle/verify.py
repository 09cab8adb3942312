"""What ``verify`` means on a TigerBeetle ledger: sums per ledger, limits, and each
account's balances against its own statement.

TigerBeetle keeps its own checksummed, hash-chained storage and replicates it by consensus,
so Tindahan's seal (the SHA-256 chain over transfers in the SQL ledger) has no counterpart
here: the cluster's storage takes its place. What Tindahan still checks from outside: in
every currency ledger, debits and credits summed over all accounts are equal; no flagged
account is past its limit; and each account's four balances are what its transfers give
(recomputed from ``get_account_transfers``, the same rule as the SQL ledger's verify).
Reads are paged and not atomic: run it on a quiet cluster for an exact answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tindahan.ledger import audit
from tindahan.ledger.model import Account, Transfer
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
        recomputed = {account.id: audit.recompute(history).get(account.id, audit.ZERO)}
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


def _four(a: Account) -> audit.Balances:
    return (a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)
