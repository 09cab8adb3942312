"""The double-entry ledger's domain: accounts, transfers, rules, tamper evidence.

Pure Python, no framework or database: the stores in ``tindahan.store`` load state, ask
:func:`plan_transfers` what to do, and write the plan. See ``engine`` for the semantics.
"""

from tindahan.ledger.accounts import plan_accounts
from tindahan.ledger.engine import BatchView, TransferPlan, plan_transfers
from tindahan.ledger.model import (
    Account,
    AccountCode,
    AccountFlags,
    AccountOutcome,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    Transfer,
    TransferFlags,
    TransferOutcome,
)

__all__ = [
    "Account",
    "AccountCode",
    "AccountFlags",
    "AccountOutcome",
    "BatchView",
    "CreateAccountResult",
    "CreateTransferResult",
    "NewAccount",
    "NewTransfer",
    "Transfer",
    "TransferFlags",
    "TransferOutcome",
    "TransferPlan",
    "plan_accounts",
    "plan_transfers",
]
