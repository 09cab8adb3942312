"""Planning a ledger's move to another store: opening transfers that leave each migration
account at zero, holds refused."""

from __future__ import annotations

from tindahan.ledger.migration import migration_account, plan_migration
from tindahan.ledger.model import Account, AccountFlags


def _account(id_, ledger, dp, dpo, cp, cpo, ts):
    return Account(id_, ledger, 100, None, AccountFlags.NONE, dp, dpo, cp, cpo, ts)


def test_opening_transfers_recreate_each_balance_and_net_to_zero():
    source = [
        _account("bank", "PHP", 0, 500, 0, 0, 1),
        _account("w1", "PHP", 0, 120, 0, 400, 2),
        _account("w2", "PHP", 0, 0, 0, 220, 3),
        _account("usd", "USD", 0, 0, 0, 0, 4),
    ]
    plan = plan_migration(source)
    assert [a.id for a in plan.accounts][:2] == [migration_account("PHP"), migration_account("USD")]
    net: dict[str, int] = {}
    for t in plan.transfers:
        assert t.amount is not None and t.amount > 0
        net[t.credit_account_id or ""] = net.get(t.credit_account_id or "", 0) + t.amount
        net[t.debit_account_id or ""] = net.get(t.debit_account_id or "", 0) - t.amount
    assert net == {"bank": -500, "w1": 280, "w2": 220, migration_account("PHP"): 0}
    assert plan.expected == {"bank": -500, "w1": 280, "w2": 220, "usd": 0}
    assert plan.pending == []


def test_accounts_holding_pending_amounts_are_named():
    plan = plan_migration([_account("held", "PHP", 5, 0, 0, 10, 1)])
    assert plan.pending == ["held"]
