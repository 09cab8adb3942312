"""The shapes the lending services hand to the faces: a loan, its installments and its
transactions. ``TypedDict``s for the reasons given in ``services.payments.views``: the API
serialises them as they are, the pages read them by key, events carry them as JSON, and mypy
checks every key. Amounts are integer centavos; dates ISO ``YYYY-MM-DD`` (Manila business
days); times ISO 8601 UTC.
"""

from __future__ import annotations

from typing import Any, TypedDict


class LoanBalance(TypedDict):
    """What is owed now, by part, and what would settle the loan today (reserve deducted)."""

    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    receivable_minor: int
    reserve_minor: int
    due_today_minor: int
    payoff_minor: int


class LoanPaid(TypedDict):
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int


class NextDue(TypedDict):
    due_date: str
    amount_minor: int


class LoanView(TypedDict):
    id: str
    object: str  # "loan"
    merchant_id: str
    product_id: str
    offer_id: str
    status: str  # active, closed, written_off, cancelled
    currency: str
    principal_minor: int
    term: int
    frequency: str
    method: str
    rate_monthly: str
    fee_minor: int
    fee_mode: str
    auto_deduct_bps: int
    start_date: str
    balance: LoanBalance
    paid: LoanPaid
    waived_minor: int
    written_off_minor: int
    recovered_minor: int
    days_past_due: int
    bucket: str
    next_due: NextDue | None
    created: str | None
    closed: str | None


class InstallmentView(TypedDict):
    seq: int
    version: int
    start_date: str
    due_date: str
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    total_minor: int
    paid_minor: int
    unpaid_minor: int
    status: str
    paid_date: str | None


class LoanTransactionView(TypedDict):
    id: str
    object: str  # "loan_transaction"
    loan_id: str
    kind: str  # disbursement, repayment, set_aside, restructure, write_off, recovery
    amount_minor: int
    principal_minor: int
    interest_minor: int
    fee_minor: int
    penalty_minor: int
    source: str
    payment_id: str | None  # the sale a set-aside came from: a payment…
    order_id: str | None  # …or an order released from escrow
    business_date: str
    transfer_ids: list[str]
    note: str | None
    created: str | None


class OfferView(TypedDict):
    """A loan offer as the merchant sees it before accepting: the terms and the full
    Truth-in-Lending disclosure (``lending.disclosure.Disclosure.as_dict``)."""

    id: str
    object: str  # "loan_offer"
    merchant_id: str
    product_id: str
    assessment_id: str
    status: str  # open, accepted, withdrawn, expired
    limit_minor: int
    principal_minor: int
    term: int
    frequency: str
    method: str
    rate_monthly: str
    fee_mode: str
    penalty_rate_monthly: str
    grace_days: int
    auto_deduct_bps: int
    small_loan_ceilings_apply: bool
    disclosure: dict[str, Any]
    loan_id: str | None
    expires_at: str | None
    created: str | None
