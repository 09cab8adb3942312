"""Plain posted transfers a service built itself, planned as one batch without the general
engine: what the loans' daily close books for thousands of loans a transaction.

``engine.plan_transfers`` judges any event (holds, posts, voids, balancing, idempotent
replays, chains that fail alone) one by one through ``NewTransfer`` objects; profiled on the
daily close, that generality was a quarter of its CPU (README, "The loans' daily close").
A :class:`Posting` is only ever a new, single-phase, fixed-amount transfer, so its plan is
the engine's ``_move`` alone: the same rules, in the same order — accounts exist and share
the posting's ledger, the amount is a positive whole number within the maximum, no
balance overflows, and no account passes its ``debits/credits must not exceed`` limit,
each posting seeing the balances the ones before it left. What differs is failure: the
engine refuses one chain and books the rest, here any broken rule refuses the whole batch
(:class:`PostingError`), because a caller that pre-builds its postings has a bug if one
is refused, and its transaction must roll back whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from tindahan import limits
from tindahan.ledger.model import ID_PATTERN, Account
from tindahan.ledger.validation import CMNED, DMNEC, LINKED, MAX


class Posting(NamedTuple):
    """A new posted transfer; ``metadata`` is already encoded (``store.ledger``'s JSON)."""

    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: int
    flags: int  # 0, or LINKED for every posting of a chain but its last
    metadata: str


class Balances(NamedTuple):
    """What planning reads of an account: a row of ``ledger_accounts`` as the ledger's
    write path locks it, without an ``Account`` made for it (those were a tenth of the
    daily close's postings)."""

    ledger: str
    flags: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int


def balances_of(account: Account) -> Balances:
    return Balances(
        account.ledger,
        int(account.flags),
        account.debits_pending,
        account.debits_posted,
        account.credits_pending,
        account.credits_posted,
    )


class PostingError(ValueError):
    """A posting broke a ledger rule: the caller built a wrong batch."""

    def __init__(self, posting: Posting, result: str) -> None:
        super().__init__(f"the ledger refused {posting.id}: {result}")
        self.posting = posting
        self.result = result


#: One row of ``ledger_transfers`` in column order (timestamp first).
TransferRow = tuple[Any, ...]
Deltas = dict[str, tuple[int, int, int, int]]


def plan_postings(
    postings: Sequence[Posting],
    accounts: Mapping[str, Sequence[Any]],
    *,
    first_timestamp: int,
    now_ns: int,
) -> tuple[list[TransferRow], Deltas]:
    """The transfer rows to insert (timestamps from ``first_timestamp`` on, in order) and
    each account's balance change ``(0, debits posted, 0, credits posted)``. ``accounts``
    are :class:`Balances` (or rows in its order)."""
    balances: dict[str, list[int]] = {}
    rows: list[TransferRow] = []
    timestamp = first_timestamp
    seen = balances.get  # an account's running balances once its first posting read them
    for p in postings:
        tid, debit_id, credit_id, amount, ledger, code, flags, metadata = p
        # _check_shape's tests, the common case spelt out (a call each was a fifth of this)
        if not (
            (flags == 0 or flags == LINKED)
            and type(amount) is int
            and 0 < amount <= MAX
            and debit_id != credit_id
            and type(tid) is str
            and 0 < len(tid) <= _ID_MAX
            and _ID_MATCH(tid) is not None
        ):
            _check_shape(p)
        debit = seen(debit_id) or _balance(balances, accounts, p, debit_id, "debit")
        credit = seen(credit_id) or _balance(balances, accounts, p, credit_id, "credit")
        if debit[0] + debit[1] + amount > MAX:
            raise PostingError(p, "overflows_debits")
        if credit[2] + credit[3] + amount > MAX:
            raise PostingError(p, "overflows_credits")
        if debit[4] & DMNEC and debit[0] + debit[1] + amount > debit[3]:
            raise PostingError(p, "exceeds_credits")
        if credit[4] & CMNED and credit[2] + credit[3] + amount > credit[1]:
            raise PostingError(p, "exceeds_debits")
        debit[1] += amount
        credit[3] += amount
        rows.append(
            (
                timestamp,
                tid,
                debit_id,
                credit_id,
                amount,
                ledger,
                code,
                flags,
                None,
                0,
                None,
                metadata,
                now_ns,
            )
        )
        timestamp += 1
    if postings and postings[-1].flags & LINKED:
        raise PostingError(postings[-1], "linked_event_chain_open")
    return rows, _deltas(balances)


_ID_MAX = limits.ID_MAX_LENGTH
_ID_MATCH = ID_PATTERN.fullmatch


def _check_shape(p: Posting) -> None:
    if p.flags not in (0, LINKED):
        raise PostingError(p, "flags_invalid")
    if type(p.amount) is not int or not 0 < p.amount <= MAX:
        raise PostingError(p, "amount_must_be_positive")
    if p.debit_account_id == p.credit_account_id:
        raise PostingError(p, "accounts_must_be_different")
    # model.valid_id for a client id, spelt out (a call each was a tenth of planning)
    tid = p.id
    if type(tid) is not str or not 0 < len(tid) <= _ID_MAX or _ID_MATCH(tid) is None:
        raise PostingError(p, "id_invalid")


def _balance(
    balances: dict[str, list[int]],
    accounts: Mapping[str, Sequence[Any]],
    p: Posting,
    account_id: str,
    side: str,
) -> list[int]:
    """The running balances of ``account_id`` (pending and posted, then the account's flags
    and its starting balances)."""
    found = balances.get(account_id)
    if found is not None:
        return found
    account = accounts.get(account_id)
    if account is None:
        raise PostingError(p, f"{side}_account_not_found")
    ledger, flags, *start = account
    if ledger != p.ledger:
        raise PostingError(p, "transfer_must_have_same_ledger_as_accounts")
    found = [*start, int(flags), *start]
    balances[account_id] = found
    return found


def _deltas(balances: Mapping[str, list[int]]) -> Deltas:
    return {
        account_id: (0, now[1] - now[6], 0, now[3] - now[8])
        for account_id, now in balances.items()
        if now[1] != now[6] or now[3] != now[8]
    }
