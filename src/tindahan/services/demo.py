"""Demo data for ``make run``: a sari-sari store, a carinderia, their buyers and an agent.

Everything goes through the real ledger service with fixed ids, so seeding twice changes
nothing (every transfer answers ``exists`` the second time).
"""

from __future__ import annotations

from tindahan.ledger.model import (
    AccountCode,
    AccountFlags,
    NewAccount,
    NewTransfer,
    TransferFlags,
)
from tindahan.services import ledger as ledger_service
from tindahan.store.database import Database

WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
PAYMENT, FEE, CASH_IN, ESCROW_HOLD = 10, 20, 30, 40

ACCOUNTS = [
    NewAccount("op-cash-in-clearing", "PHP", AccountCode.CASH_IN_CLEARING, "operator"),
    NewAccount("op-fees-revenue", "PHP", AccountCode.FEES_REVENUE, "operator"),
    NewAccount("op-escrow", "PHP", AccountCode.ESCROW, "operator", WALLET),
    NewAccount(
        "m-aling-nena-settlement", "PHP", AccountCode.MERCHANT_SETTLEMENT, "m-aling-nena", WALLET
    ),
    NewAccount(
        "m-kusina-ni-lola-settlement",
        "PHP",
        AccountCode.MERCHANT_SETTLEMENT,
        "m-kusina-ni-lola",
        WALLET,
    ),
    NewAccount("c-juan-wallet", "PHP", AccountCode.WALLET, "c-juan", WALLET),
    NewAccount("c-maria-wallet", "PHP", AccountCode.WALLET, "c-maria", WALLET),
    NewAccount(
        "a-tindahan-ni-ben-float", "PHP", AccountCode.AGENT_FLOAT, "a-tindahan-ni-ben", WALLET
    ),
]


def _pay(tid: str, buyer: str, merchant: str, amount: int, fee: int) -> list[NewTransfer]:
    """A payment and its merchant discount fee, linked: both or neither."""
    return [
        NewTransfer(
            tid,
            buyer,
            merchant,
            amount,
            "PHP",
            PAYMENT,
            TransferFlags.LINKED,
            metadata={"kind": "merchant_payment"},
        ),
        NewTransfer(
            f"{tid}-fee", merchant, "op-fees-revenue", fee, "PHP", FEE, metadata={"payment": tid}
        ),
    ]


TRANSFERS = [
    NewTransfer(
        "demo-float-ben",
        "op-cash-in-clearing",
        "a-tindahan-ni-ben-float",
        5_000_000,
        "PHP",
        CASH_IN,
    ),
    NewTransfer(
        "demo-cashin-juan", "a-tindahan-ni-ben-float", "c-juan-wallet", 200_000, "PHP", CASH_IN
    ),
    NewTransfer(
        "demo-cashin-maria", "a-tindahan-ni-ben-float", "c-maria-wallet", 150_000, "PHP", CASH_IN
    ),
    *_pay("demo-pay-1", "c-juan-wallet", "m-aling-nena-settlement", 8_550, 128),
    *_pay("demo-pay-2", "c-maria-wallet", "m-kusina-ni-lola-settlement", 12_000, 180),
    *_pay("demo-pay-3", "c-juan-wallet", "m-kusina-ni-lola-settlement", 9_500, 142),
    NewTransfer(
        "demo-escrow-order-1",
        "c-maria-wallet",
        "op-escrow",
        45_000,
        "PHP",
        ESCROW_HOLD,
        TransferFlags.PENDING,
        timeout_seconds=7 * 24 * 3600,
        metadata={"order": "demo-order-1"},
    ),
]


def seed(db: Database) -> int:
    """Open the demo accounts and book the demo transfers; returns how many were new."""
    ledger_service.create_accounts(db, ACCOUNTS)
    outcomes = ledger_service.create_transfers(db, TRANSFERS)
    failed = [o for o in outcomes if not o.ok]
    if failed:
        raise RuntimeError(f"demo data refused: {failed[0].id}: {failed[0].message}")
    return sum(1 for o in outcomes if o.result == "ok")
