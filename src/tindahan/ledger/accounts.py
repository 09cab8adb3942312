"""Opening accounts: each request checked, a repeated id answered ``exists``.

Accounts open with zero balances; only their balances ever change afterwards (the
database refuses anything else).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tindahan import limits
from tindahan.ledger.model import (
    Account,
    AccountFlags,
    AccountOutcome,
    CreateAccountResult,
    NewAccount,
    valid_code,
    valid_id,
    valid_ledger,
)
from tindahan.ledger.validation import CMNED, DMNEC, flags_int, id_text

A = CreateAccountResult


def plan_accounts(
    batch: Sequence[NewAccount], existing: Mapping[str, Account], *, first_timestamp: int
) -> tuple[list[AccountOutcome], list[Account]]:
    """Decide each account of ``batch``; ``existing`` holds those already opened."""
    outcomes: list[AccountOutcome] = []
    created: dict[str, Account] = {}
    timestamp = first_timestamp
    for index, new in enumerate(batch):
        problem = _check_account(new)
        if problem is not None:
            outcomes.append(AccountOutcome(index, id_text(new.id), problem))
            continue
        found = created.get(new.id) or existing.get(new.id)
        if found is not None:
            same = (found.ledger, found.code, found.owner, int(found.flags)) == (
                new.ledger,
                new.code,
                new.owner,
                int(new.flags),
            )
            result = A.EXISTS if same else A.EXISTS_WITH_DIFFERENT_FIELDS
            outcomes.append(AccountOutcome(index, new.id, result, found if same else None))
            continue
        account = Account(
            new.id,
            new.ledger,
            new.code,
            new.owner,
            AccountFlags(int(new.flags)),
            0,
            0,
            0,
            0,
            timestamp,
        )
        timestamp += 1
        created[new.id] = account
        outcomes.append(AccountOutcome(index, new.id, A.OK, account))
    return outcomes, list(created.values())


def check_account(new: NewAccount) -> A | None:
    """What can be judged of an account request alone (every store runs it first)."""
    return _check_account(new)


def _check_account(new: NewAccount) -> A | None:
    if not valid_id(new.id):
        return A.ID_INVALID
    if not valid_ledger(new.ledger):
        return A.LEDGER_INVALID
    if not valid_code(new.code):
        return A.CODE_INVALID
    if new.owner is not None and not (
        isinstance(new.owner, str) and 0 < len(new.owner) <= limits.OWNER_MAX_LENGTH
    ):
        return A.OWNER_INVALID
    flags = flags_int(new.flags)
    if flags < 0 or flags & ~int(DMNEC | CMNED):
        return A.FLAGS_INVALID
    if flags & DMNEC and flags & CMNED:
        return A.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    return None
