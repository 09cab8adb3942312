"""ISO 20022 messages as plain typed records: what we send and what we read.

Six messages of the 2019 ISO 20022 set (the schemas in ``rails/xml/schemas``):

* ``pacs.008.001.08`` FI to FI customer credit transfer — the money going out (or coming in);
* ``pacs.002.001.10`` payment status report — the answer: ``ACSC``/``ACCC`` settled,
  ``RJCT`` rejected with a reason code;
* ``pacs.028.001.03`` payment status request — "what happened to it?" after a time-out;
* ``pacs.004.001.09`` payment return — money coming back after success, with a reason;
* ``camt.053.001.08`` bank to customer statement — the end-of-day statement;
* ``camt.054.001.08`` debit/credit notification — one movement as it happens;
* ``camt.056.001.08`` FI to FI payment cancellation request — a bank recalls a transfer;
* ``camt.029.001.09`` resolution of investigation — the answer to a recall.

Every message reads into one shape, ``Message`` with its ``Transaction`` rows (the CLI's
``tindahan rails read`` prints exactly that); amounts are integer minor units with their
currency, as everywhere in Tindahan. The builders' inputs are ``CreditTransfer``,
``StatusAnswer``, ``StatusQuery``, ``PaymentReturn`` and ``Entry``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class MessageType(StrEnum):
    """The messages we know, by their full ISO 20022 identifier (also the schema's name)."""

    PACS_008 = "pacs.008.001.08"
    PACS_002 = "pacs.002.001.10"
    PACS_028 = "pacs.028.001.03"
    PACS_004 = "pacs.004.001.09"
    CAMT_053 = "camt.053.001.08"
    CAMT_054 = "camt.054.001.08"
    CAMT_056 = "camt.056.001.08"
    CAMT_029 = "camt.029.001.09"

    @property
    def namespace(self) -> str:
        return f"urn:iso:std:iso:20022:tech:xsd:{self.value}"


class ClearingSystem(StrEnum):
    """The two Philippine ACHs; in a message, the settlement's proprietary clearing system."""

    INSTAPAY = "INSTAPAY"
    PESONET = "PESONET"


@dataclass(frozen=True, slots=True)
class Party:
    """A debtor or creditor: the name and, where known, the account (number or wallet id)."""

    name: str | None
    account: str | None = None


@dataclass(frozen=True, slots=True)
class CreditTransfer:
    """One transaction of a pacs.008: who pays whom, how much, through which banks (BICs)."""

    uetr: str
    end_to_end_id: str
    amount_minor: int
    currency: str
    debtor: Party
    debtor_agent: str
    creditor: Party
    creditor_agent: str
    remittance: str | None = None


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    """One transaction's status in a pacs.002 (``reason`` an ISO external code, or None)."""

    original_message_id: str
    uetr: str
    end_to_end_id: str
    status: str
    reason: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class StatusQuery:
    """One transaction asked about in a pacs.028."""

    original_message_id: str
    uetr: str
    end_to_end_id: str


@dataclass(frozen=True, slots=True)
class PaymentReturn:
    """One transaction of a pacs.004: money sent back after it was settled, and why."""

    original_message_id: str
    uetr: str
    end_to_end_id: str
    amount_minor: int
    currency: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecallRequest:
    """One transaction of a camt.056: the sending bank asks for a settled transfer back
    (``reason`` an ``ExternalCancellationReason1Code``: DUPL, FRAD, TECH, CUST, AM09...)."""

    original_message_id: str
    uetr: str
    end_to_end_id: str
    amount_minor: int
    currency: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecallAnswer:
    """One transaction of a camt.029: the recall accepted (the money comes back by a
    pacs.004) or rejected with an ``ExternalPaymentCancellationRejection1Code``."""

    original_message_id: str
    uetr: str
    end_to_end_id: str
    accepted: bool
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One movement on a statement (camt.053) or notification (camt.054)."""

    amount_minor: int
    currency: str
    credit: bool
    booking_date: date
    uetr: str | None = None
    end_to_end_id: str | None = None
    debtor: Party | None = None
    creditor: Party | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Transaction:
    """One transaction as read from any message; absent fields are None."""

    uetr: str | None = None
    end_to_end_id: str | None = None
    amount_minor: int | None = None
    currency: str | None = None
    debtor: Party | None = None
    creditor: Party | None = None
    debtor_agent: str | None = None
    creditor_agent: str | None = None
    status: str | None = None
    reason: str | None = None
    note: str | None = None
    original_message_id: str | None = None
    credit_debit: str | None = None
    booking_date: date | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A message as read: its type, id, creation time, and transactions in document order."""

    message_type: MessageType
    message_id: str
    created_at: datetime | None
    transactions: tuple[Transaction, ...] = field(default_factory=tuple)
    clearing_system: str | None = None
    settlement_method: str | None = None
    account: str | None = None
    #: A statement's (camt.053) day: the date of its first balance.
    statement_date: date | None = None
    #: A statement's or notification's own id (``Stmt/Id``, ``Ntfctn/Id``).
    report_id: str | None = None
