"""Accounts, transfers and their result codes: the ledger's vocabulary.

Modelled on TigerBeetle's account/transfer model. A *ledger* here is a currency (ISO 4217
code, e.g. ``"PHP"``): a transfer moves an amount in integer minor units from one account's
debit side to another account's credit side of the same ledger, so every ledger's credits
minus debits sum to zero by construction. Balances are four integers per account, split by
side (debits/credits) and phase (pending/posted), never a single signed number, so holds
(escrow, card-style authorisations) are visible without being spendable.

Ids are client-supplied strings: a transfer id is the ledger's idempotency key. A retried
request with the same id and the same fields gets ``exists`` and the original transfer back,
never a second movement of money.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tindahan import limits

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]*")
LEDGER_PATTERN = re.compile(r"[A-Z]{3}")
SYSTEM_ID_PREFIX = "~"  # ids the ledger makes itself; clients cannot start an id with "~"


class AccountFlags(enum.IntFlag):
    NONE = 0
    #: A wallet: what it holds (credits posted) bounds what may leave it, holds included.
    DEBITS_MUST_NOT_EXCEED_CREDITS = 1
    #: The mirror image, for accounts whose normal balance is a debit (receivables).
    CREDITS_MUST_NOT_EXCEED_DEBITS = 2


class AccountCode(enum.IntEnum):
    """Account types. Codes are open (any 1..65535); these are the ones Tindahan books to."""

    WALLET = 100
    MERCHANT_SETTLEMENT = 110
    AGENT_FLOAT = 120
    ESCROW = 200
    FEES_REVENUE = 300
    INTEREST_INCOME = 310
    PENALTY_INCOME = 320
    RECOVERY_INCOME = 330  # repayments of loans already written off
    LOAN_RECEIVABLE = 400  # a loan's outstanding principal
    LOAN_INTEREST_RECEIVABLE = 401
    LOAN_FEE_RECEIVABLE = 402
    LOAN_PENALTY_RECEIVABLE = 403
    LOAN_RESERVE = 410  # what auto-deduction set aside from sales for the next installment
    CASH_IN_CLEARING = 500
    BANK_SETTLEMENT = 510
    RAIL_CLEARING = 520  # money on its way out through InstaPay or PESONet (issue 19)
    FX_LIQUIDITY = 600
    COMMISSION_EXPENSE = 700
    RISK_HOLDS = 800  # money under a risk review, until an analyst releases or returns it
    LOAN_LOSS_EXPENSE = 720
    OPERATOR_EQUITY = 900


class TransferFlags(enum.IntFlag):
    NONE = 0
    #: This event and the next commit together or not at all (a chain ends at the first
    #: event without the flag).
    LINKED = 1
    #: Reserve the amount (two-phase transfer, phase one).
    PENDING = 2
    #: Post (all or part of) the pending transfer named by ``pending_id``.
    POST_PENDING = 4
    #: Release the pending transfer named by ``pending_id``.
    VOID_PENDING = 8
    #: Transfer at most ``amount``: as much as the debit account's credits allow.
    BALANCING_DEBIT = 16
    #: Transfer at most ``amount``: as much as the credit account's debits allow.
    BALANCING_CREDIT = 32


PHASE_FLAGS = TransferFlags.PENDING | TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING
BALANCING_FLAGS = TransferFlags.BALANCING_DEBIT | TransferFlags.BALANCING_CREDIT
RESOLVING_FLAGS = TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING


class CreateAccountResult(enum.StrEnum):
    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    ID_INVALID = "id_invalid"
    LEDGER_INVALID = "ledger_invalid"
    CODE_INVALID = "code_invalid"
    OWNER_INVALID = "owner_invalid"
    FLAGS_INVALID = "flags_invalid"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"


class CreateTransferResult(enum.StrEnum):
    OK = "ok"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_FIELDS = "exists_with_different_fields"
    LINKED_EVENT_FAILED = "linked_event_failed"
    LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
    ID_INVALID = "id_invalid"
    FLAGS_INVALID = "flags_invalid"
    FLAGS_ARE_MUTUALLY_EXCLUSIVE = "flags_are_mutually_exclusive"
    DEBIT_ACCOUNT_ID_INVALID = "debit_account_id_invalid"
    CREDIT_ACCOUNT_ID_INVALID = "credit_account_id_invalid"
    ACCOUNTS_MUST_BE_DIFFERENT = "accounts_must_be_different"
    PENDING_ID_MUST_BE_EMPTY = "pending_id_must_be_empty"
    PENDING_ID_REQUIRED = "pending_id_required"
    PENDING_ID_MUST_BE_DIFFERENT = "pending_id_must_be_different"
    TIMEOUT_RESERVED_FOR_PENDING_TRANSFER = "timeout_reserved_for_pending_transfer"
    TIMEOUT_INVALID = "timeout_invalid"
    AMOUNT_REQUIRED = "amount_required"
    AMOUNT_MUST_BE_POSITIVE = "amount_must_be_positive"
    AMOUNT_EXCEEDS_MAX = "amount_exceeds_max"
    LEDGER_INVALID = "ledger_invalid"
    CODE_INVALID = "code_invalid"
    METADATA_INVALID = "metadata_invalid"
    DEBIT_ACCOUNT_NOT_FOUND = "debit_account_not_found"
    CREDIT_ACCOUNT_NOT_FOUND = "credit_account_not_found"
    ACCOUNTS_MUST_HAVE_SAME_LEDGER = "accounts_must_have_same_ledger"
    TRANSFER_MUST_HAVE_SAME_LEDGER_AS_ACCOUNTS = "transfer_must_have_same_ledger_as_accounts"
    PENDING_TRANSFER_NOT_FOUND = "pending_transfer_not_found"
    PENDING_TRANSFER_NOT_PENDING = "pending_transfer_not_pending"
    PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID = (
        "pending_transfer_has_different_debit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID = (
        "pending_transfer_has_different_credit_account_id"
    )
    PENDING_TRANSFER_HAS_DIFFERENT_LEDGER = "pending_transfer_has_different_ledger"
    PENDING_TRANSFER_HAS_DIFFERENT_CODE = "pending_transfer_has_different_code"
    EXCEEDS_PENDING_TRANSFER_AMOUNT = "exceeds_pending_transfer_amount"
    PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT = "pending_transfer_has_different_amount"
    PENDING_TRANSFER_ALREADY_POSTED = "pending_transfer_already_posted"
    PENDING_TRANSFER_ALREADY_VOIDED = "pending_transfer_already_voided"
    PENDING_TRANSFER_EXPIRED = "pending_transfer_expired"
    OVERFLOWS_DEBITS = "overflows_debits"
    OVERFLOWS_CREDITS = "overflows_credits"
    EXCEEDS_CREDITS = "exceeds_credits"
    EXCEEDS_DEBITS = "exceeds_debits"
    #: TigerBeetle only (issue 22): this id failed before on a transient result (not enough
    #: funds, a missing account or hold), and TigerBeetle keeps the failure: a retry gets
    #: the same answer, never a different outcome. The SQL ledger lets the id be used again.
    ID_ALREADY_FAILED = "id_already_failed"


#: Plain-language explanations, shown with each error result.
TRANSFER_RESULT_MESSAGES: Mapping[CreateTransferResult, str] = {
    CreateTransferResult.OK: "created",
    CreateTransferResult.EXISTS: "a transfer with this id and these fields exists already",
    CreateTransferResult.EXISTS_WITH_DIFFERENT_FIELDS: (
        "a transfer with this id exists already with different fields"
    ),
    CreateTransferResult.LINKED_EVENT_FAILED: "another transfer in its linked chain failed",
    CreateTransferResult.LINKED_EVENT_CHAIN_OPEN: (
        "the last transfer of the batch has the linked flag: its chain never closes"
    ),
    CreateTransferResult.ID_INVALID: (
        f"id must be 1 to {limits.ID_MAX_LENGTH} characters of A-Z a-z 0-9 . _ : - "
        "starting with a letter or digit"
    ),
    CreateTransferResult.FLAGS_INVALID: "flags has bits that mean nothing",
    CreateTransferResult.FLAGS_ARE_MUTUALLY_EXCLUSIVE: (
        "pending, post_pending and void_pending exclude each other; balancing cannot post or void"
    ),
    CreateTransferResult.DEBIT_ACCOUNT_ID_INVALID: "debit_account_id is missing or malformed",
    CreateTransferResult.CREDIT_ACCOUNT_ID_INVALID: "credit_account_id is missing or malformed",
    CreateTransferResult.ACCOUNTS_MUST_BE_DIFFERENT: "debit and credit accounts are the same",
    CreateTransferResult.PENDING_ID_MUST_BE_EMPTY: "only post or void transfers take pending_id",
    CreateTransferResult.PENDING_ID_REQUIRED: "post and void transfers need pending_id",
    CreateTransferResult.PENDING_ID_MUST_BE_DIFFERENT: "pending_id names the transfer itself",
    CreateTransferResult.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER: (
        "only pending transfers take a timeout"
    ),
    CreateTransferResult.TIMEOUT_INVALID: (
        f"timeout must be 0 to {limits.MAX_PENDING_TIMEOUT_SECONDS} seconds"
    ),
    CreateTransferResult.AMOUNT_REQUIRED: "amount is required",
    CreateTransferResult.AMOUNT_MUST_BE_POSITIVE: "amount must be a whole number above zero",
    CreateTransferResult.AMOUNT_EXCEEDS_MAX: f"amount is above {limits.MAX_AMOUNT_MINOR}",
    CreateTransferResult.LEDGER_INVALID: "ledger must be an ISO 4217 code such as PHP",
    CreateTransferResult.CODE_INVALID: f"code must be 1 to {limits.MAX_CODE}",
    CreateTransferResult.METADATA_INVALID: (
        f"metadata must map at most {limits.METADATA_MAX_KEYS} keys of up to "
        f"{limits.METADATA_KEY_MAX_LENGTH} characters to strings of up to "
        f"{limits.METADATA_VALUE_MAX_LENGTH}"
    ),
    CreateTransferResult.DEBIT_ACCOUNT_NOT_FOUND: "the debit account does not exist",
    CreateTransferResult.CREDIT_ACCOUNT_NOT_FOUND: "the credit account does not exist",
    CreateTransferResult.ACCOUNTS_MUST_HAVE_SAME_LEDGER: (
        "debit and credit accounts are in different currencies"
    ),
    CreateTransferResult.TRANSFER_MUST_HAVE_SAME_LEDGER_AS_ACCOUNTS: (
        "the transfer's currency is not the accounts' currency"
    ),
    CreateTransferResult.PENDING_TRANSFER_NOT_FOUND: "no transfer has this pending_id",
    CreateTransferResult.PENDING_TRANSFER_NOT_PENDING: "the transfer named is not pending",
    CreateTransferResult.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID: (
        "debit_account_id differs from the pending transfer's"
    ),
    CreateTransferResult.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID: (
        "credit_account_id differs from the pending transfer's"
    ),
    CreateTransferResult.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER: (
        "ledger differs from the pending transfer's"
    ),
    CreateTransferResult.PENDING_TRANSFER_HAS_DIFFERENT_CODE: (
        "code differs from the pending transfer's"
    ),
    CreateTransferResult.EXCEEDS_PENDING_TRANSFER_AMOUNT: "posts more than was reserved",
    CreateTransferResult.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT: (
        "a void must name the reserved amount or none"
    ),
    CreateTransferResult.PENDING_TRANSFER_ALREADY_POSTED: "the pending transfer was posted",
    CreateTransferResult.PENDING_TRANSFER_ALREADY_VOIDED: "the pending transfer was voided",
    CreateTransferResult.PENDING_TRANSFER_EXPIRED: "the pending transfer has expired",
    CreateTransferResult.OVERFLOWS_DEBITS: "the account's debits would overflow",
    CreateTransferResult.OVERFLOWS_CREDITS: "the account's credits would overflow",
    CreateTransferResult.EXCEEDS_CREDITS: "the debit account has not enough funds",
    CreateTransferResult.EXCEEDS_DEBITS: "the credit account's debits do not cover it",
    CreateTransferResult.ID_ALREADY_FAILED: (
        "a transfer with this id failed before and the ledger keeps that answer: use a new id"
    ),
}


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A request to open an account; balances start at zero."""

    id: str
    ledger: str
    code: int
    owner: str | None = None
    flags: AccountFlags = AccountFlags.NONE


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    ledger: str
    code: int
    owner: str | None
    flags: AccountFlags
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int
    timestamp: int

    @property
    def balance_posted(self) -> int:
        """Credits minus debits, posted only: what a wallet holds."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What may still leave a wallet: posted credits less posted and pending debits."""
        return self.credits_posted - self.debits_posted - self.debits_pending


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """A request to move money (or to reserve, post or void a reservation).

    For post/void, the accounts, ledger and code may be left out: they come from the
    pending transfer. ``amount=None`` posts the whole reserved amount; with a balancing flag
    it means "as much as possible".
    """

    id: str
    debit_account_id: str | None = None
    credit_account_id: str | None = None
    amount: int | None = None
    ledger: str | None = None
    code: int | None = None
    flags: TransferFlags = TransferFlags.NONE
    pending_id: str | None = None
    timeout_seconds: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transfer:
    """A committed transfer. Never updated or deleted; a correction is a new transfer.

    ``timestamp`` is the ledger's: unique and strictly increasing in assignment order.
    ``created_at_ns`` is wall-clock UTC nanoseconds, for statements and timeouts.
    """

    id: str
    debit_account_id: str
    credit_account_id: str
    amount: int
    ledger: str
    code: int
    flags: TransferFlags
    pending_id: str | None
    timeout_seconds: int
    expires_at_ns: int | None
    metadata: Mapping[str, str]
    timestamp: int
    created_at_ns: int


@dataclass(frozen=True, slots=True)
class AccountOutcome:
    index: int
    id: str
    result: CreateAccountResult
    account: Account | None = None


@dataclass(frozen=True, slots=True)
class TransferOutcome:
    """The result for one event of a batch; ``transfer`` is the new or the original one."""

    index: int
    id: str
    result: CreateTransferResult
    transfer: Transfer | None = None

    @property
    def ok(self) -> bool:
        return self.result in (CreateTransferResult.OK, CreateTransferResult.EXISTS)

    @property
    def message(self) -> str:
        return TRANSFER_RESULT_MESSAGES[self.result]


def valid_id(value: object, *, system: bool = False) -> bool:
    """Client ids: 1..ID_MAX_LENGTH of a safe alphabet; system ids start with ``~``."""
    if not isinstance(value, str):
        return False
    if system and value.startswith(SYSTEM_ID_PREFIX):
        body = value[len(SYSTEM_ID_PREFIX) :]
        return len(value) <= limits.SYSTEM_ID_MAX_LENGTH and bool(ID_PATTERN.fullmatch(body))
    return 0 < len(value) <= limits.ID_MAX_LENGTH and bool(ID_PATTERN.fullmatch(value))


def valid_ledger(value: object) -> bool:
    return isinstance(value, str) and bool(LEDGER_PATTERN.fullmatch(value))


def valid_code(value: object) -> bool:
    """Codes are ints (an IntEnum such as AccountCode counts; a bool does not)."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= limits.MAX_CODE


def valid_metadata(value: object) -> bool:
    if not isinstance(value, Mapping) or len(value) > limits.METADATA_MAX_KEYS:
        return False
    for key, item in value.items():
        if not isinstance(key, str) or not 0 < len(key) <= limits.METADATA_KEY_MAX_LENGTH:
            return False
        if not isinstance(item, str) or len(item) > limits.METADATA_VALUE_MAX_LENGTH:
            return False
    return True


def expired_void_id(pending_id: str) -> str:
    """The id of the void the sweep books for an expired pending transfer (deterministic,
    so two sweepers racing on the same hold create one void, not two)."""
    return f"{SYSTEM_ID_PREFIX}expire:{pending_id}"
