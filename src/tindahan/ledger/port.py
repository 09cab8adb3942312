"""The ledger port: what the services need of a ledger store, whichever holds it.

Two implementations: the SQL ledger in the main database (``services.ledger.sql_port``,
the embedded and PostgreSQL default) and a TigerBeetle cluster
(``tigerbeetle.ledger``), chosen by ``TINDAHAN_LEDGER_URL`` (issue 22). Both take the
same requests and answer with the same per-event results (``CreateTransferResult``), so
the contract tests run the same scenarios against each.

The port speaks Tindahan's vocabulary (string ids, currency ledgers such as ``"PHP"``,
``AccountFlags``/``TransferFlags``); each implementation maps it to its storage. Pure
Python: a ``Protocol``, no framework.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from tindahan.ledger.audit import LedgerTotals
from tindahan.ledger.model import (
    Account,
    AccountOutcome,
    NewAccount,
    NewTransfer,
    Transfer,
    TransferOutcome,
)


class LedgerUnavailableError(RuntimeError):
    """The ledger store did not answer within its bound (a TigerBeetle cluster without a
    quorum). What was asked may still happen once it answers: every write has an id derived
    from the business record's, so asking again under the same id moves money at most once."""


@dataclass(frozen=True, slots=True)
class Balance:
    """An account's four balances just after the transfer stamped ``timestamp``."""

    account_id: str
    timestamp: int
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def balance_posted(self) -> int:
        return self.credits_posted - self.debits_posted


class LedgerPort(Protocol):
    """A ledger store. Every call is atomic on its own; a batch's linked chains commit
    whole or not at all, and each event gets its own result, in order."""

    #: ``"sql"`` or ``"tigerbeetle"``: for reports, never for branching on behaviour.
    kind: str

    def create_accounts(self, batch: Sequence[NewAccount]) -> list[AccountOutcome]:
        """Open accounts; a repeated id answers ``exists`` (same fields) or
        ``exists_with_different_fields``."""
        ...

    def create_transfers(self, batch: Sequence[NewTransfer]) -> list[TransferOutcome]:
        """Move, reserve (pending), post or void; linked chains, balancing transfers. One
        outcome per event; an ``ok``/``exists`` outcome carries the committed transfer."""
        ...

    def lookup_accounts(self, ids: Sequence[str]) -> dict[str, Account]:
        """The accounts found among ``ids`` (absent ones are left out)."""
        ...

    def lookup_transfers(self, ids: Sequence[str]) -> dict[str, Transfer]:
        """The transfers found among ``ids`` (absent ones are left out)."""
        ...

    def account_transfers(
        self, account_id: str, *, limit: int, before_timestamp: int | None = None
    ) -> list[Transfer]:
        """The account's statement: its transfers, newest first, at most ``limit``, those
        stamped before ``before_timestamp`` when given (the next page)."""
        ...

    def balance_at(self, account_id: str, timestamp: int) -> Balance | None:
        """The account's balances as they stood at ``timestamp`` (after every transfer
        stamped at or before it); None when the account had no transfer by then."""
        ...

    def totals(self) -> list[LedgerTotals]:
        """Per currency ledger, the four balance fields summed over every account."""
        ...

    def expire_pending(self) -> int:
        """Void the holds whose timeout has passed; how many (a store that expires them
        itself answers 0)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
