"""What ``verify`` checks, as pure functions shared by every store.

Balances are a cache: the truth is the list of transfers. So verification recomputes each
account's four balances from the transfers (a single-phase or post transfer adds to the
posted side; a pending transfer adds to the pending side until a post or void releases it)
and compares; checks that in every currency ledger credits and debits sum to the same
total (double entry); and that no flagged account is past its limit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tindahan.ledger.model import Account, AccountFlags, Transfer, TransferFlags

Balances = tuple[int, int, int, int]
ZERO: Balances = (0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class LedgerTotals:
    """Per currency ledger, sums over all accounts of the four balance fields."""

    ledger: str
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


def recompute(transfers: Iterable[Transfer]) -> dict[str, Balances]:
    """Balances implied by the transfers alone."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    pending: dict[str, Transfer] = {}
    resolutions: list[Transfer] = []
    for t in transfers:
        flags = t.flags
        if flags & TransferFlags.PENDING:
            pending[t.id] = t
            out[t.debit_account_id][0] += t.amount
            out[t.credit_account_id][2] += t.amount
        elif flags & (TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING):
            resolutions.append(t)
        else:
            out[t.debit_account_id][1] += t.amount
            out[t.credit_account_id][3] += t.amount
    for r in resolutions:
        p = pending.get(r.pending_id or "")
        if p is not None:
            out[p.debit_account_id][0] -= p.amount
            out[p.credit_account_id][2] -= p.amount
        if r.flags & TransferFlags.POST_PENDING:
            out[r.debit_account_id][1] += r.amount
            out[r.credit_account_id][3] += r.amount
    return {k: (v[0], v[1], v[2], v[3]) for k, v in out.items()}


def balance_violations(
    stored: Mapping[str, Balances], recomputed: Mapping[str, Balances]
) -> list[str]:
    problems = []
    for account_id in sorted(set(stored) | set(recomputed)):
        mine = stored.get(account_id)
        if mine is None:
            problems.append(f"transfers name account {account_id!r}, which does not exist")
            continue
        theirs = recomputed.get(account_id, ZERO)
        if mine != theirs:
            problems.append(
                f"account {account_id!r}: stored balances (debits pending/posted, credits "
                f"pending/posted) {mine} but the transfers give {theirs}"
            )
    return problems


def limit_violations(accounts: Iterable[Account]) -> list[str]:
    problems = []
    for a in accounts:
        if a.flags & AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS and (
            a.debits_pending + a.debits_posted > a.credits_posted
        ):
            problems.append(f"account {a.id!r} is overdrawn: debits exceed credits")
        if a.flags & AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS and (
            a.credits_pending + a.credits_posted > a.debits_posted
        ):
            problems.append(f"account {a.id!r}: credits exceed debits")
        if min(a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted) < 0:
            problems.append(f"account {a.id!r} has a negative balance field")
    return problems


def sum_violations(totals: Iterable[LedgerTotals]) -> list[str]:
    problems = []
    for t in totals:
        if t.debits_posted != t.credits_posted:
            problems.append(
                f"ledger {t.ledger}: posted debits {t.debits_posted} != credits {t.credits_posted}"
            )
        if t.debits_pending != t.credits_pending:
            problems.append(
                f"ledger {t.ledger}: pending debits {t.debits_pending} != "
                f"credits {t.credits_pending}"
            )
    return problems


def totals(accounts: Iterable[Account]) -> list[LedgerTotals]:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for a in accounts:
        s = sums[a.ledger]
        s[0] += a.debits_pending
        s[1] += a.debits_posted
        s[2] += a.credits_pending
        s[3] += a.credits_posted
    return [LedgerTotals(k, v[0], v[1], v[2], v[3]) for k, v in sorted(sums.items())]
