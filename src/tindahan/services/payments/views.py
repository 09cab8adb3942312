"""The shapes the payments services hand to the faces: a payment, a ledger transfer, a wallet.

They are ``TypedDict``s, not classes, on purpose: the API serialises them as they are (its
Pydantic models in ``api.schemas`` check the same fields on the way out), the pages read them
by key, and webhook events carry them as JSON — a typed dict is all three at once, and mypy
now checks every key a service writes and a face reads. Amounts are integer minor units;
times are ISO 8601 UTC strings (``services.unit.iso``).
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class PaymentView(TypedDict):
    id: str
    short_ref: str
    object: str  # "payment"
    kind: str  # payments.model.PaymentKind
    status: str  # payments.model.PaymentStatus
    amount_minor: int
    currency: str
    fee_minor: int
    net_minor: int
    commission_minor: int
    refunded_minor: int
    payer_id: str | None
    payee_id: str
    source_wallet_id: str | None
    destination_wallet_id: str
    request_id: str | None
    reference: str | None
    description: str | None
    transfer_ids: list[str]
    expires_at: str | None
    created: str | None
    updated: str | None
    #: Money held for a risk review (the payer's and payee's views only; never the rule).
    under_review: NotRequired[bool]


class LedgerTransferView(TypedDict):
    id: str
    object: str  # "ledger_transfer"
    debit_account_id: str
    credit_account_id: str
    amount_minor: int
    currency: str
    code: int
    flags: list[str]
    pending_id: str | None
    timestamp: int
    created: str | None


class WalletView(TypedDict):
    id: str
    object: str  # "wallet"
    party_id: str
    kind: str  # payments.model.WalletKind
    currency: str
    status: str
    balance_minor: int
    available_minor: int
    pending_in_minor: int
    pending_out_minor: int
    account_id: str
    created: str | None
