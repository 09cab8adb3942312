"""What every payout test uses: sales, balances, the available figure, a payout, the events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.lending.conftest import Shop, wallet_of
from tindahan.kernel.callers import Caller
from tindahan.services.ledger import transfers as ledger
from tindahan.services.payments import payments
from tindahan.services.payments.views import PaymentView
from tindahan.services.payouts import payouts
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import events


def sell(platform: Platform, shop: Shop, amount: int) -> PaymentView:
    new = payments.NewPayment(shop.merchant_id, amount, "PHP")
    return platform.run(lambda u: payments.pay(u, shop.customer, new))


def net(platform: Platform, account_id: str) -> int:
    found = ledger.lookup_accounts(platform.db, [account_id])[account_id]
    return found.credits_posted - found.debits_posted


def balances(platform: Platform, merchant_id: str) -> tuple[int, int]:
    """(settlement, main) posted balances."""
    settlement = wallet_of(platform, merchant_id, "settlement")["account_id"]
    main = wallet_of(platform, merchant_id, "main")["account_id"]
    return net(platform, settlement), net(platform, main)


def available(platform: Platform, caller: Caller, merchant_id: str | None = None) -> dict:
    return platform.run(lambda u: payouts.available(u, caller, merchant_id), write=False)


def pay_out(platform: Platform, caller: Caller, amount: Any, **fields: Any) -> dict[str, Any]:
    new = payouts.NewPayout(amount, **fields)
    return platform.run(lambda u: payouts.create(u, caller, new))


def event_types(platform: Platform) -> list[str]:
    query = select(events.c.type).order_by(events.c.created_at_ns)
    return list(platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False))
