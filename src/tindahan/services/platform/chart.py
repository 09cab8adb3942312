"""The operator's chart of accounts: its bank, fees, commissions, FX and lending accounts.

Every capability books against these accounts (a payment's fee, an agent's commission, a
loan's interest), so they are opened once at start-up (``ensure_operator_accounts``) and
named here, in one place. Fees and commissions are sharded by payment id so concurrent
payments do not queue on one row lock.
"""

from __future__ import annotations

import zlib

from tindahan import limits
from tindahan.ledger.model import AccountCode, NewAccount
from tindahan.services.ledger import risk_gate
from tindahan.services.ledger.transfers import open_accounts_in_transaction
from tindahan.services.unit import Platform, Unit

CURRENCY = "PHP"
BANK_ACCOUNT = "op.bank"


def bank_account(currency: str) -> str:
    """The operator's bank settlement account in ``currency`` (``op.bank`` for PHP)."""
    return BANK_ACCOUNT if currency == CURRENCY else f"op.bank.{currency}"


#: The clearing systems money leaves by (``rails.model.ClearingSystem``'s values).
RAILS = ("instapay", "pesonet")


def rail_account(rail: str, currency: str = CURRENCY) -> str:
    """The clearing account of a rail: ``op.rail.instapay``, ``op.rail.pesonet``; in a
    foreign currency (a transfer from abroad arriving in USD) ``op.rail.instapay.USD``."""
    name = f"op.rail.{rail.lower()}"
    return name if currency == CURRENCY else f"{name}.{currency}"


def fx_account(currency: str) -> str:
    return f"op.fx.{currency}"


#: The operator's own ledger accounts (no balance limits: they are the other side of
#: wallets). Fees and commissions are sharded (``limits.OPERATOR_ACCOUNT_SHARDS``) so that
#: concurrent payments do not all queue on one row lock.
SHARDS = range(limits.OPERATOR_ACCOUNT_SHARDS)
OPERATOR_ACCOUNTS = [
    *(
        NewAccount(f"op.fees.{i:02d}", CURRENCY, AccountCode.FEES_REVENUE, "operator")
        for i in SHARDS
    ),
    *(
        NewAccount(f"op.commissions.{i:02d}", CURRENCY, AccountCode.COMMISSION_EXPENSE, "operator")
        for i in SHARDS
    ),
    NewAccount("op.bank", CURRENCY, AccountCode.BANK_SETTLEMENT, "operator"),
    #: Buyers abroad: the operator's bank account in each foreign currency (fundings), and
    #: its FX liquidity in each currency, PHP included (see ``commerce.fx``).
    *(
        NewAccount(bank_account(code), code, AccountCode.BANK_SETTLEMENT, "operator")
        for code in limits.FX_CURRENCIES
    ),
    *(
        NewAccount(fx_account(code), code, AccountCode.FX_LIQUIDITY, "operator")
        for code in (CURRENCY, *limits.FX_CURRENCIES)
    ),
    #: Lending: the income a loan books (interest and penalties as earned, fees when
    #: charged, recoveries of written-off loans) and the losses it writes off.
    NewAccount("op.loan.interest", CURRENCY, AccountCode.INTEREST_INCOME, "operator"),
    NewAccount("op.loan.penalty", CURRENCY, AccountCode.PENALTY_INCOME, "operator"),
    NewAccount("op.loan.fees", CURRENCY, AccountCode.FEES_REVENUE, "operator"),
    NewAccount("op.loan.recoveries", CURRENCY, AccountCode.RECOVERY_INCOME, "operator"),
    NewAccount("op.loan.losses", CURRENCY, AccountCode.LOAN_LOSS_EXPENSE, "operator"),
    #: Risk: money under review (``services.ledger.risk_gate``), held by pending transfers.
    NewAccount(risk_gate.HOLDS_ACCOUNT, CURRENCY, AccountCode.RISK_HOLDS, "operator"),
    #: Bank rails: what is on its way out through each clearing system (issue 19), and
    #: what came in through it, in PHP or (from abroad) in a foreign currency.
    *(
        NewAccount(rail_account(rail, code), code, AccountCode.RAIL_CLEARING, "operator")
        for rail in RAILS
        for code in (CURRENCY, *limits.FX_CURRENCIES)
    ),
]


def _shard(payment_id: str) -> int:
    return zlib.crc32(payment_id.encode()) % limits.OPERATOR_ACCOUNT_SHARDS


def fee_account(payment_id: str) -> str:
    """The fees shard a payment's merchant discount goes to (and its refunds come from)."""
    return f"op.fees.{_shard(payment_id):02d}"


def commission_account(payment_id: str) -> str:
    return f"op.commissions.{_shard(payment_id):02d}"


def ensure_operator_accounts(platform: Platform) -> None:
    """Open the operator's accounts if they are not there (idempotent; run at start-up)."""

    def work(unit: Unit) -> None:
        open_accounts_in_transaction(unit.db, unit.conn, OPERATOR_ACCOUNTS)

    platform.run(work)
