"""The vocabulary of payments: kinds of party, wallet, payment, and their states."""

from __future__ import annotations

import enum


class PartyKind(enum.StrEnum):
    CUSTOMER = "customer"
    MERCHANT = "merchant"
    AGENT = "agent"


class PartyStatus(enum.StrEnum):
    ACTIVE = "active"
    #: Nothing moves in or out until the operator unfreezes (AML hold, reported loss).
    FROZEN = "frozen"
    #: For good; a closed party's wallets must be empty.
    CLOSED = "closed"


class WalletKind(enum.StrEnum):
    #: The e-money wallet every party holds: tier limits apply to it.
    MAIN = "main"
    #: A merchant's sales land here (net of the merchant discount); refunds leave from it.
    SETTLEMENT = "settlement"
    #: An agent's e-money float, given out at cash-in and taken back at cash-out.
    FLOAT = "float"


#: The wallets each kind of party gets when it is created.
WALLETS_BY_PARTY: dict[PartyKind, tuple[WalletKind, ...]] = {
    PartyKind.CUSTOMER: (WalletKind.MAIN,),
    PartyKind.MERCHANT: (WalletKind.MAIN, WalletKind.SETTLEMENT),
    PartyKind.AGENT: (WalletKind.MAIN, WalletKind.FLOAT),
}

#: Default KYC tier by kind of party: a buyer starts phone-verified; businesses are vetted
#: before they are created.
DEFAULT_TIER: dict[PartyKind, str] = {
    PartyKind.CUSTOMER: "basic",
    PartyKind.MERCHANT: "business",
    PartyKind.AGENT: "business",
}


class PaymentKind(enum.StrEnum):
    P2P = "p2p"
    MERCHANT = "merchant"
    CASH_IN = "cash_in"
    CASH_OUT = "cash_out"
    FUNDING = "funding"  # the operator credits a wallet from its bank settlement account


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"


class RequestStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    CANCELED = "canceled"
    EXPIRED = "expired"


def status_after_refunds(amount_minor: int, refunded_minor: int) -> PaymentStatus:
    """A merchant payment's status once ``refunded_minor`` of it has gone back."""
    if refunded_minor <= 0:
        return PaymentStatus.SUCCEEDED
    if refunded_minor >= amount_minor:
        return PaymentStatus.REFUNDED
    return PaymentStatus.PARTIALLY_REFUNDED


#: Ledger transfer codes for each kind of movement (``ledger_transfers.code``).
class TransferCode(enum.IntEnum):
    P2P = 10
    MERCHANT_PAYMENT = 11
    MERCHANT_DISCOUNT = 20
    REFUND = 30
    REFUND_FEE_RETURN = 31
    CASH_IN = 40
    CASH_OUT = 41
    AGENT_COMMISSION = 42
    FUNDING = 50
    ESCROW_IN = 60  # a buyer pays an order into its escrow account
    ESCROW_RELEASE = 61  # escrow to the merchant's settlement wallet
    MARKETPLACE_FEE = 62  # escrow to the operator's fees
    ESCROW_REFUND = 63  # escrow back to the buyer
    FX_IN = 70  # a buyer abroad's currency into the operator's FX liquidity
    FX_OUT = 71  # FX liquidity back to a buyer abroad (a refund)
    LOAN_CANCEL = 79  # a cancelled loan's fee reversed (its disbursement returned)
    LOAN_DISBURSEMENT = 80  # loan principal to the merchant's wallet
    LOAN_FEE = 81  # a processing fee, deducted from the principal or booked as receivable
    LOAN_INTEREST = 82  # interest accrued (receivable to income)
    LOAN_PENALTY = 83  # a late-payment penalty assessed
    LOAN_REPAYMENT = 84  # wallet or reserve to a loan receivable
    LOAN_SET_ASIDE = 85  # a share of a sale into the loan's reserve
    LOAN_RESERVE_RETURN = 86  # what the reserve held beyond the loan, back to the merchant
    LOAN_WRITE_OFF = 87  # loss expense against a receivable
    LOAN_RECOVERY = 88  # a payment on a written-off loan
    LOAN_WAIVER = 89  # a penalty forgiven (income reversed)
    PAYOUT = 90  # a merchant's settlement wallet to its main wallet
    RISK_HOLD = 95  # money held for a risk review (pending until released or returned)
    RISK_RETURN = 96  # held money returned to whoever sent it
    BANK_TRANSFER = 110  # a wallet to a rail's clearing account (pending until the answer)
    BANK_RETURN = 111  # a returned bank transfer (pacs.004): clearing account back to the wallet
    INBOUND_TRANSFER = 112  # another bank's pacs.008: the rail's clearing account to a wallet
    INBOUND_RETURN = 113  # a recalled inbound transfer sent back (pacs.004): wallet to the rail
    BANK_TRANSFER_FEE = 114  # a bank transfer's fee: wallet to fees (pending with the transfer)
    BANK_FEE_REFUND = 115  # a returned bank transfer's fee given back: fees to the wallet
