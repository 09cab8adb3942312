"""Moving a ledger's accounts and balances to another store as opening transfers (issue 22).

Pure planning: given every account of the source ledger, open the same accounts (same ids,
ledgers, codes, owners, flags) plus one migration account per currency ledger, and one
opening transfer per account with a posted balance, from (or to) that migration account.
Because the source's posted debits and credits balance per ledger (double entry), every
migration account ends at exactly zero: the check that nothing was lost or made, to the
centavo. Pending holds are not moved (they are refused first: resolve or let them expire).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from tindahan.ledger.model import Account, AccountCode, NewAccount, NewTransfer

MIGRATION_CODE = 1
OPENING_CODE = 1


@dataclass(frozen=True, slots=True)
class MigrationPlan:
    accounts: list[NewAccount]
    transfers: list[NewTransfer]
    pending: list[str]  # accounts holding pending amounts (the move is refused while any do)
    expected: dict[str, int]  # account id → posted balance (credits - debits) to arrive


def migration_account(ledger: str) -> str:
    return f"tindahan.migration.{ledger}"


def opening_id(account_id: str) -> str:
    digest = hashlib.blake2b(account_id.encode(), digest_size=12).hexdigest()
    return f"opening.{digest}"


def plan_migration(source: Iterable[Account]) -> MigrationPlan:
    accounts: list[NewAccount] = []
    transfers: list[NewTransfer] = []
    pending: list[str] = []
    expected: dict[str, int] = {}
    ledgers: set[str] = set()
    for a in sorted(source, key=lambda a: a.timestamp):
        accounts.append(NewAccount(a.id, a.ledger, a.code, a.owner, a.flags))
        ledgers.add(a.ledger)
        if a.debits_pending or a.credits_pending:
            pending.append(a.id)
        balance = a.credits_posted - a.debits_posted
        expected[a.id] = balance
        if balance == 0:
            continue
        middle = migration_account(a.ledger)
        debit, credit = (middle, a.id) if balance > 0 else (a.id, middle)
        transfers.append(
            NewTransfer(
                opening_id(a.id),
                debit,
                credit,
                abs(balance),
                a.ledger,
                OPENING_CODE,
                metadata={"migration": "opening balance"},
            )
        )
    opened = [
        NewAccount(migration_account(ledger), ledger, int(AccountCode.OPERATOR_EQUITY))
        for ledger in sorted(ledgers)
    ]
    return MigrationPlan(opened + accounts, transfers, pending, expected)
