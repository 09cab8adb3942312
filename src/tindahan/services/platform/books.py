"""The operator's books: the trial balance, the escrow held, and the record of ``verify`` runs.

Finance reads these on the console. The trial balance is computed by the database with one
``GROUP BY ledger, code`` over the ledger accounts (posted balances; pending holds shown
apart), netting each *account* first, so a code whose accounts lean both ways (FX
liquidity) still adds up: in each currency ledger the debit balances equal the credit
balances, and the debits posted equal the credits posted, because every transfer debits one
account and credits one of the same ledger (DESIGN.md invariant 2).

``verify`` (``services.ledger.verify``) is a heavy read of the whole ledger. Its last result is
kept in the audit log (action ``ledger.verified``, object ``ledger``), not in a table of its
own: the log already says who did what and when, compliance reads it, and the console's
"last run" is simply its newest such entry, the same for every server process.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from tindahan import limits
from tindahan.commerce.orders import OPEN
from tindahan.kernel.callers import Caller
from tindahan.ledger.migration import migration_account
from tindahan.ledger.model import AccountCode
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger.verify import verify
from tindahan.services.platform import audit
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import orders
from tindahan.store.tables import accounts

#: How the console groups account codes (the operator's accounts, escrow, the wallets).
GROUPS = {
    AccountCode.WALLET: "wallets",
    AccountCode.MERCHANT_SETTLEMENT: "wallets",
    AccountCode.AGENT_FLOAT: "wallets",
    AccountCode.ESCROW: "escrow",
    AccountCode.FEES_REVENUE: "fees",
    AccountCode.COMMISSION_EXPENSE: "commissions",
    AccountCode.BANK_SETTLEMENT: "bank",
    AccountCode.CASH_IN_CLEARING: "bank",
    AccountCode.FX_LIQUIDITY: "fx",
    AccountCode.INTEREST_INCOME: "loan_income",
    AccountCode.PENALTY_INCOME: "loan_income",
    AccountCode.RECOVERY_INCOME: "loan_income",
    AccountCode.LOAN_RECEIVABLE: "loans",
    AccountCode.LOAN_INTEREST_RECEIVABLE: "loans",
    AccountCode.LOAN_FEE_RECEIVABLE: "loans",
    AccountCode.LOAN_PENALTY_RECEIVABLE: "loans",
    AccountCode.LOAN_RESERVE: "loans",
    AccountCode.LOAN_LOSS_EXPENSE: "loan_losses",
    AccountCode.OPERATOR_EQUITY: "equity",
}
VERIFIED = "ledger.verified"
LEDGER_OBJECT = "ledger"
#: Violations kept in the audit entry (verify lists at most ``verify.MAX_LISTED`` + 1).
KEPT_VIOLATIONS = 51


def _code_name(code: int) -> str | None:
    try:
        return AccountCode(code).name.lower()
    except ValueError:
        return None


def trial_balance(unit: Unit, caller: Caller) -> dict[str, Any]:
    """Operator only: per currency ledger, each account code's posted totals and net
    balances, and the ledger's totals (``balanced`` when debits equal credits)."""
    caller.require_operator()
    net = accounts.c.debits_posted - accounts.c.credits_posted
    query = (
        select(
            accounts.c.ledger,
            accounts.c.code,
            func.count().label("accounts"),
            func.sum(accounts.c.debits_posted).label("debits"),
            func.sum(accounts.c.credits_posted).label("credits"),
            func.sum(case((net > 0, net), else_=0)).label("debit_balance"),
            func.sum(case((net < 0, -net), else_=0)).label("credit_balance"),
            func.sum(accounts.c.debits_pending).label("debits_pending"),
            func.sum(accounts.c.credits_pending).label("credits_pending"),
        )
        .group_by(accounts.c.ledger, accounts.c.code)
        .order_by(accounts.c.ledger, accounts.c.code)
    )
    ledger = unit.platform.ledger
    rows = list(unit.conn.execute(query).mappings()) if ledger is None else _cluster(unit, ledger)
    ledgers: dict[str, dict[str, Any]] = {}
    for row in rows:
        book = ledgers.setdefault(row["ledger"], _empty_ledger(row["ledger"]))
        line = {
            "code": int(row["code"]),
            "name": _code_name(row["code"]),
            "group": GROUPS.get(row["code"], "other"),
            "accounts": int(row["accounts"]),
            "debits_posted_minor": int(row["debits"]),
            "credits_posted_minor": int(row["credits"]),
            "debit_balance_minor": int(row["debit_balance"]),
            "credit_balance_minor": int(row["credit_balance"]),
            "debits_pending_minor": int(row["debits_pending"]),
            "credits_pending_minor": int(row["credits_pending"]),
        }
        book["codes"].append(line)
        for key in (
            "debits_posted_minor",
            "credits_posted_minor",
            "debit_balance_minor",
            "credit_balance_minor",
            "debits_pending_minor",
            "credits_pending_minor",
        ):
            book[key] += line[key]
    for book in ledgers.values():
        book["groups"] = _groups(book["codes"])
        book["balanced"] = (
            book["debits_posted_minor"] == book["credits_posted_minor"]
            and book["debit_balance_minor"] == book["credit_balance_minor"]
            and book["debits_pending_minor"] == book["credits_pending_minor"]
        )
    return {"object": "trial_balance", "ledgers": list(ledgers.values())}


def _cluster(unit: Unit, ledger: LedgerPort) -> list[dict[str, Any]]:
    """On a TigerBeetle deployment (issue 22) the same lines from the cluster's balances:
    every account the SQL ledger lists (its ledger and code), looked up there, plus the
    migration's accounts, which only the cluster has; an account never opened there keeps its
    SQL figures. Summed here, account by account (the SQL path lets the database do it)."""
    listed = {r.id: r for r in unit.conn.execute(select(*_FOUR_OF_AN_ACCOUNT))}
    ids = [*listed, *(migration_account(c) for c in sorted({r.ledger for r in listed.values()}))]
    found = {}
    for start in range(0, len(ids), limits.MAX_BATCH):
        found.update(ledger.lookup_accounts(ids[start : start + limits.MAX_BATCH]))
    sums: dict[tuple[str, int], dict[str, Any]] = {}
    for account_id in ids:
        a = found.get(account_id) or listed.get(account_id)
        if a is None:
            continue
        line = sums.setdefault(
            (a.ledger, int(a.code)),
            dict.fromkeys(_SUMS, 0) | {"ledger": a.ledger, "code": int(a.code)},
        )
        net = a.debits_posted - a.credits_posted
        line["accounts"] += 1
        line["debits"] += a.debits_posted
        line["credits"] += a.credits_posted
        line["debit_balance"] += max(net, 0)
        line["credit_balance"] += max(-net, 0)
        line["debits_pending"] += a.debits_pending
        line["credits_pending"] += a.credits_pending
    return [sums[k] for k in sorted(sums)]


_FOUR_OF_AN_ACCOUNT = (
    accounts.c.id,
    accounts.c.ledger,
    accounts.c.code,
    accounts.c.debits_pending,
    accounts.c.debits_posted,
    accounts.c.credits_pending,
    accounts.c.credits_posted,
)
_SUMS = (
    "accounts",
    "debits",
    "credits",
    "debit_balance",
    "credit_balance",
    "debits_pending",
    "credits_pending",
)


def _groups(codes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The codes summed by group, in the order groups first appear (by code)."""
    groups: dict[str, dict[str, Any]] = {}
    for line in codes:
        group = groups.setdefault(
            line["group"],
            {"group": line["group"], "debit_balance_minor": 0, "credit_balance_minor": 0},
        )
        group["debit_balance_minor"] += line["debit_balance_minor"]
        group["credit_balance_minor"] += line["credit_balance_minor"]
    for group in groups.values():
        group["net_minor"] = group["debit_balance_minor"] - group["credit_balance_minor"]
    return list(groups.values())


def _empty_ledger(currency: str) -> dict[str, Any]:
    return {
        "currency": currency,
        "codes": [],
        "debits_posted_minor": 0,
        "credits_posted_minor": 0,
        "debit_balance_minor": 0,
        "credit_balance_minor": 0,
        "debits_pending_minor": 0,
        "credits_pending_minor": 0,
    }


def escrow_held(unit: Unit, caller: Caller) -> dict[str, Any]:
    """Operator only: what open orders (paid, not yet released or refunded) hold in escrow,
    in PHP, and how many they are."""
    caller.require_operator()
    count, total = unit.conn.execute(
        select(func.count(), func.coalesce(func.sum(orders.c.held_minor), 0)).where(
            orders.c.status.in_([s.value for s in OPEN])
        )
    ).one()
    return {
        "object": "escrow_held",
        "currency": "PHP",
        "orders": int(count),
        "held_minor": int(total),
    }


def run_verify(platform: Platform, caller: Caller) -> dict[str, Any]:
    """Operator only: run ``verify`` now and record its outcome in the audit log. Two
    transactions: verify's one consistent read, then the entry (a run is a fact: a second
    press runs it again and is recorded again)."""
    caller.require_operator()
    report = verify(platform.db)
    details = {
        "ok": report.ok,
        "summary": report.summary(),
        "accounts": report.accounts,
        "transfers": report.transfers,
        "ledgers": report.ledgers,
        "violations": report.violations[:KEPT_VIOLATIONS],
    }

    def work(unit: Unit) -> str:
        return audit.record(
            unit, caller.key_id, VERIFIED, LEDGER_OBJECT, LEDGER_OBJECT, None, details
        )

    platform.run(work)
    found = platform.run(lambda unit: last_verify(unit, caller), write=False)
    assert found is not None
    return found


def last_verify(unit: Unit, caller: Caller) -> dict[str, Any] | None:
    """Operator only: the newest ``ledger.verified`` entry (when, by whom, ok, violations),
    or None if verify was never run from the console."""
    caller.require_operator()
    entries = audit.list_entries(unit, caller, 20, object_id=LEDGER_OBJECT)["data"]
    for entry in entries:
        if entry["action"] == VERIFIED:
            details = entry["details"]
            return {
                "object": "verify_run",
                "at": entry["at"],
                "actor": entry["actor"],
                "ok": bool(details.get("ok")),
                "summary": details.get("summary", ""),
                "violations": list(details.get("violations", [])),
            }
    return None
