"""A merchant's sales mix from the database, on SQLite and PostgreSQL, figures by hand.

Aling Nena's sales over the last 28 days (written straight into the tables; the service only
reads them): Ana's online order of ₱100.00 at 09:30 Manila and her QR payment of ₱50.00 at
09:10 three days later, Ben's QR payment of ₱200.00 at 18:00, Cora's paid payment request of
₱10.01 at 18:45. Not counted: a payment today (the day is not over), one 29 days ago, a failed
payment, another merchant's sale.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from tests.conftest import Clock
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog
from tindahan.services.insights import mix
from tindahan.services.payments.sales import day_start_ns
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import orders
from tindahan.store.payment_tables import payment_requests, payments, wallets
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
TODAY = date(2025, 11, 20)
MINUTE_NS = 60 * 10**9


def owner(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


def at(days_ago: int, hour: int, minute: int = 0) -> int:
    return day_start_ns(TODAY - timedelta(days=days_ago)) + (hour * 60 + minute) * MINUTE_NS


def _pay(unit: Unit, number: int, merchant: str, buyer: str, when: int, amount: int,
         status: str = "succeeded", request: str | None = None) -> None:  # fmt: skip
    wallet = unit.conn.execute(
        select(wallets.c.id).where(wallets.c.party_id == merchant).limit(1)
    ).scalar_one()
    unit.conn.execute(
        insert(payments).values(
            id=f"pay_{number:06d}", short_ref=f"P{number:07d}", kind="merchant",
            status=status, payer_id=buyer, payee_id=merchant, destination_wallet_id=wallet,
            amount_minor=amount, currency="PHP", fee_minor=0, commission_minor=0,
            refunded_minor=0, fee_returned_minor=0, transfer_ids="[]", request_id=request,
            created_at_ns=when, updated_at_ns=when,
        )
    )  # fmt: skip


@pytest.fixture
def shop(db, clock: Clock) -> dict[str, Any]:
    clock.now = at(0, 10)
    platform = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(platform)

    def work(unit: Unit) -> dict[str, Any]:
        def merchant(name: str) -> str:
            new = NewParty(kind="merchant", name=name, mcc="5411", city="Lipa",
                           province="Batangas")  # fmt: skip
            return str(parties.create(unit, OPERATOR, new)["id"])

        nena, jose = merchant("Aling Nena"), merchant("Mang Jose")
        ana, ben, cora = (
            str(parties.create(unit, OPERATOR, NewParty(kind="customer", name=n))["id"])
            for n in ("Ana Cruz", "Ben Reyes", "Cora Santos")
        )
        store = catalog.create_storefront(unit, OPERATOR, slug="nena", name="N", merchant_id=nena)
        paid = at(6, 9, 30)
        unit.conn.execute(
            insert(orders).values(
                id="ord_000001", short_ref="R0000001", storefront_id=store["id"],
                merchant_id=nena, buyer_id=ana, status="completed", currency="PHP",
                items_minor=10_000, shipping_minor=0, total_minor=10_000, paid_in_minor=10_000,
                held_minor=0, released_minor=10_000, fee_minor=0, refunded_minor=0,
                buyer_currency="PHP", buyer_paid_minor=10_000, buyer_refunded_minor=0,
                transfer_ids="[]", paid_at_ns=paid, created_at_ns=paid, updated_at_ns=paid,
            )
        )  # fmt: skip
        _pay(unit, 1, nena, ana, at(3, 9, 10), 5_000)
        _pay(unit, 2, nena, ben, at(2, 18), 20_000)
        unit.conn.execute(
            insert(payment_requests).values(
                id="prq_000001", short_ref="Q0000001", merchant_id=nena, amount_minor=1_001,
                currency="PHP", status="paid", expires_at_ns=at(0, 23), payment_id="pay_000003",
                created_at_ns=at(1, 18),
            )
        )  # fmt: skip
        _pay(unit, 3, nena, cora, at(1, 18, 45), 1_001, request="prq_000001")
        _pay(unit, 4, nena, ben, at(0, 8), 70_000)  # today
        _pay(unit, 5, nena, ben, at(29, 8), 70_000)  # before the window
        _pay(unit, 6, nena, ben, at(2, 8), 70_000, status="failed")
        _pay(unit, 7, jose, ana, at(2, 8), 70_000)  # another shop
        return {"merchant": nena, "other": jose}

    return {"platform": platform, **platform.run(work)}


def _mix(shop: dict[str, Any], caller: Caller, merchant: str, days: int = 28) -> dict[str, Any]:
    platform: Platform = shop["platform"]
    return platform.run(lambda u: mix.sales_mix(u, caller, merchant, days), write=False)


def test_the_mix_by_hand(shop: dict[str, Any]) -> None:
    found = _mix(shop, owner(shop["merchant"]), shop["merchant"])
    assert (found["first_day"], found["last_day"]) == ("2025-10-23", "2025-11-19")
    assert (found["sales"], found["amount_minor"]) == (4, 36_001)
    assert found["average_basket_minor"] == 9_000  # 36,001 / 4 = 9,000.25, down
    hours = {h["hour"]: (h["sales"], h["amount_minor"]) for h in found["by_hour"] if h["sales"]}
    assert hours == {9: (2, 15_000), 18: (2, 21_001)} and found["busiest_hour"] == 18
    assert (found["buyers"], found["repeat_buyers"]) == (3, 1)
    assert found["repeat_buyer_share"] == "0.3333"
    assert found["repeat_sales_share"] == "0.4167"  # Ana's 15,000 of 36,001
    assert found["channels"] == {
        "online": {"sales": 1, "amount_minor": 10_000, "share": "0.2778"},
        "qr": {"sales": 2, "amount_minor": 25_000, "share": "0.6944"},
        "request": {"sales": 1, "amount_minor": 1_001, "share": "0.0278"},
    }
    assert _mix(shop, OPERATOR, shop["merchant"]) == found


def test_refusals(shop: dict[str, Any]) -> None:
    with pytest.raises(RefusalError) as refused:
        _mix(shop, owner(shop["other"]), shop["merchant"])  # another merchant's
    assert refused.value.code == "resource_missing"
    for days in (0, 367):
        with pytest.raises(RefusalError) as refused:
            _mix(shop, owner(shop["merchant"]), shop["merchant"], days)
        assert refused.value.param == "days"
