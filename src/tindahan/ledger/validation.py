"""Checks of a transfer request that need no ledger state, and the replay comparison.

Run before anything is looked up, in TigerBeetle's order, so a malformed event gets the
most specific result code. Flags are compared as plain ints: IntFlag arithmetic costs
microseconds per operation, and this is the hot path.
"""

from __future__ import annotations

import functools

from tindahan import limits
from tindahan.ledger.model import (
    BALANCING_FLAGS,
    PHASE_FLAGS,
    RESOLVING_FLAGS,
    AccountFlags,
    CreateTransferResult,
    NewTransfer,
    Transfer,
    TransferFlags,
    valid_code,
    valid_id,
    valid_ledger,
    valid_metadata,
)

R = CreateTransferResult
MAX = limits.MAX_AMOUNT_MINOR
NS_PER_S = 1_000_000_000
ALL_TRANSFER_FLAGS = int(
    TransferFlags.LINKED | PHASE_FLAGS | BALANCING_FLAGS,
)
DMNEC = int(AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS)
CMNED = int(AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS)
LINKED = int(TransferFlags.LINKED)
PENDING = int(TransferFlags.PENDING)
POST = int(TransferFlags.POST_PENDING)
VOID = int(TransferFlags.VOID_PENDING)
BAL_DEBIT = int(TransferFlags.BALANCING_DEBIT)
BAL_CREDIT = int(TransferFlags.BALANCING_CREDIT)
PHASE = int(PHASE_FLAGS)
RESOLVING = int(RESOLVING_FLAGS)
BALANCING = int(BALANCING_FLAGS)


def flags_int(flags: object) -> int:
    """Flags as an int, or -1 when they are not an int (a bool is not flags)."""
    if isinstance(flags, int) and not isinstance(flags, bool):
        return int(flags)
    return -1


def id_text(value: object) -> str:
    return value if isinstance(value, str) else repr(value)


def check_shape(t: NewTransfer, flags: int, system: bool) -> R | None:
    """Everything that can be judged from the request alone, in TigerBeetle's order."""
    if not valid_id(t.id, system=system):
        return R.ID_INVALID
    if flags < 0 or flags & ~ALL_TRANSFER_FLAGS:
        return R.FLAGS_INVALID
    phase = flags & PHASE
    if phase & (phase - 1) or (phase & RESOLVING and flags & BALANCING):
        return R.FLAGS_ARE_MUTUALLY_EXCLUSIVE
    if type(t.timeout_seconds) is not int or not (
        0 <= t.timeout_seconds <= limits.MAX_PENDING_TIMEOUT_SECONDS
    ):
        return R.TIMEOUT_INVALID
    if not valid_metadata(t.metadata):
        return R.METADATA_INVALID
    problem = _check_amount(t.amount, required=not (phase & RESOLVING or flags & BALANCING))
    if problem is not None:
        return problem
    if phase & RESOLVING:
        return _check_resolving_shape(t)
    return _check_moving_shape(t, flags)


def _check_amount(amount: object, *, required: bool) -> R | None:
    if amount is None:
        return R.AMOUNT_REQUIRED if required else None
    if type(amount) is not int or amount <= 0:
        return R.AMOUNT_MUST_BE_POSITIVE
    if amount > MAX:
        return R.AMOUNT_EXCEEDS_MAX
    return None


@functools.lru_cache(maxsize=1 << 16)
def _valid_account_id(value: str) -> bool:
    """Account ids recur batch after batch, so their check is cached (ids of transfers,
    each seen once, are not)."""
    return valid_id(value)


def _check_moving_shape(t: NewTransfer, flags: int) -> R | None:
    if not isinstance(t.debit_account_id, str) or not _valid_account_id(t.debit_account_id):
        return R.DEBIT_ACCOUNT_ID_INVALID
    if not isinstance(t.credit_account_id, str) or not _valid_account_id(t.credit_account_id):
        return R.CREDIT_ACCOUNT_ID_INVALID
    if t.debit_account_id == t.credit_account_id:
        return R.ACCOUNTS_MUST_BE_DIFFERENT
    if t.pending_id is not None:
        return R.PENDING_ID_MUST_BE_EMPTY
    if t.timeout_seconds and not flags & PENDING:
        return R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
    if not valid_ledger(t.ledger):
        return R.LEDGER_INVALID
    if not valid_code(t.code):
        return R.CODE_INVALID
    return None


def _check_resolving_shape(t: NewTransfer) -> R | None:
    if t.pending_id is None:
        return R.PENDING_ID_REQUIRED
    if not valid_id(t.pending_id):
        return R.PENDING_TRANSFER_NOT_FOUND
    if t.pending_id == t.id:
        return R.PENDING_ID_MUST_BE_DIFFERENT
    if t.timeout_seconds:
        return R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER
    if t.debit_account_id is not None and not valid_id(t.debit_account_id):
        return R.DEBIT_ACCOUNT_ID_INVALID
    if t.credit_account_id is not None and not valid_id(t.credit_account_id):
        return R.CREDIT_ACCOUNT_ID_INVALID
    if t.ledger is not None and not valid_ledger(t.ledger):
        return R.LEDGER_INVALID
    if t.code is not None and not valid_code(t.code):
        return R.CODE_INVALID
    return None


def mismatch_with_pending(t: NewTransfer, p: Transfer) -> R | None:
    if t.debit_account_id is not None and t.debit_account_id != p.debit_account_id:
        return R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID
    if t.credit_account_id is not None and t.credit_account_id != p.credit_account_id:
        return R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID
    if t.ledger is not None and t.ledger != p.ledger:
        return R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER
    if t.code is not None and t.code != p.code:
        return R.PENDING_TRANSFER_HAS_DIFFERENT_CODE
    return None


def same_fields(t: NewTransfer, e: Transfer) -> bool:
    """Is ``t`` a replay of the committed ``e``? Fields the request left to the ledger
    (accounts of a post/void, the amount of a full post or of a balancing transfer) match
    whatever the ledger chose."""
    flags = flags_int(t.flags)
    if flags != int(e.flags) or t.pending_id != e.pending_id:
        return False
    if t.timeout_seconds != e.timeout_seconds or dict(t.metadata) != dict(e.metadata):
        return False
    given = (
        (t.debit_account_id, e.debit_account_id),
        (t.credit_account_id, e.credit_account_id),
        (t.ledger, e.ledger),
        (t.code, e.code),
    )
    if any(mine is not None and mine != theirs for mine, theirs in given):
        return False
    if flags & BALANCING:
        return t.amount is None or t.amount >= e.amount
    return t.amount is None or t.amount == e.amount
