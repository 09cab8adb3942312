"""The 30-day cash-flow outlook from the database (issue 26, item 3), on SQLite and
PostgreSQL: a shop that sold two ₱150.00 QR sales every day for 60 days, paid its supplier
₱1,000.00 every Monday for eight weeks, and took a weekly loan; another merchant's outlook is
refused."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from tests.conftest import Clock
from tests.lending.conftest import PRODUCT, assess
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.insights import cashflow
from tindahan.services.lending import offers as loan_offers
from tindahan.services.payments.sales import day_start_ns
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.lending_tables import loan_installments
from tindahan.store.payment_tables import payments, wallets
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
TODAY = date(2025, 11, 20)  # a Thursday
HOUR_NS = 3600 * 10**9


def owner(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


def _pay(unit: Unit, n: int, payer: str, payee: str, at: int, amount: int, kind: str) -> None:
    wallet = unit.conn.execute(
        select(wallets.c.id).where(wallets.c.party_id == payee).limit(1)
    ).scalar_one()
    unit.conn.execute(
        insert(payments).values(
            id=f"pay_{n:06d}", short_ref=f"P{n:07d}", kind=kind, status="succeeded",
            payer_id=payer, payee_id=payee, destination_wallet_id=wallet, amount_minor=amount,
            currency="PHP", fee_minor=0, commission_minor=0, refunded_minor=0,
            fee_returned_minor=0, transfer_ids="[]", created_at_ns=at, updated_at_ns=at,
        )
    )  # fmt: skip


@pytest.fixture
def shop(db, clock: Clock) -> dict[str, Any]:
    clock.now = day_start_ns(TODAY) + 10 * HOUR_NS
    platform = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(platform)

    def work(unit: Unit) -> dict[str, str]:
        def merchant(name: str) -> str:
            new = NewParty(kind="merchant", name=name, mcc="5411", city="Lipa", province="Batangas")
            return str(parties.create(unit, OPERATOR, new)["id"])

        nena, supplier, jose = merchant("Nena"), merchant("Supplier"), merchant("Jose")
        buyer = str(parties.create(unit, OPERATOR, NewParty(kind="customer", name="Ana"))["id"])
        n = 0
        for back in range(1, 61):
            at = day_start_ns(TODAY - timedelta(days=back)) + 9 * HOUR_NS
            for _ in range(2):
                n += 1
                _pay(unit, n, buyer, nena, at, 15_000, "merchant")
        for week in range(8):  # Mondays 22 Sep … 10 Nov
            n += 1
            at = day_start_ns(date(2025, 9, 22) + timedelta(days=7 * week)) + 8 * HOUR_NS
            _pay(unit, n, nena, supplier, at, 100_000, "merchant")
        return {"nena": nena, "jose": jose}

    made = platform.run(work)
    product = platform.run(lambda u: loan_offers.create_product(u, OPERATOR, PRODUCT))
    assess(platform, made["nena"])

    def borrow(unit: Unit) -> None:
        who = owner(made["nena"])
        offer = loan_offers.create_offer(unit, who, loan_offers.NewOffer(product["id"]))
        loan_offers.accept(unit, who, offer["id"])

    platform.run(borrow)
    return {"platform": platform, **made}


def test_the_outlook_from_the_shops_records(shop):
    platform: Platform = shop["platform"]
    me = owner(shop["nena"])
    found = platform.run(lambda u: cashflow.cash_flow(u, me, shop["nena"], 30), write=False)
    assert found["first_day"] == "2025-11-20" and found["last_day"] == "2025-12-19"
    assert found["history_sales"] == 120 and found["average_sale_minor"] == 15_000
    # Two sales a day, every day: about ₱300.00 a day (paydays and holidays not yet seen).
    days = found["by_day"]
    assert len(days) == 30
    assert 0.9 * 30 * 30_000 <= found["sales_minor"] <= 1.1 * 30 * 30_000
    assert found["sales_minor"] == sum(d["sales_minor"] for d in days)
    # The supplier every Monday: 24 Nov, 1, 8 and 15 Dec, ₱1,000.00 each.
    assert found["recurring"] == [
        {"kind": "merchant", "every_days": 7, "amount_minor": 100_000,
         "last_day": "2025-11-10", "occurrences": 8},
    ]  # fmt: skip
    outs = [(d["day"], d["cash_outs_minor"]) for d in days if d["cash_outs_minor"]]
    assert outs == [("2025-11-24", 100_000), ("2025-12-01", 100_000),
                    ("2025-12-08", 100_000), ("2025-12-15", 100_000)]  # fmt: skip
    # The loan's open installments due in the window, as the loan book holds them.
    schedule = platform.run(
        lambda u: u.conn.execute(select(loan_installments)).mappings().all(), write=False
    )
    due = sum(
        r["principal_minor"] + r["interest_minor"] + r["fee_minor"] + r["penalty_minor"]
        for r in schedule
        if r["due_date"] <= "2025-12-19"
    )
    assert due > 0 and found["installments_minor"] == due
    assert found["net_minor"] == (
        found["sales_minor"] - found["installments_minor"] - found["cash_outs_minor"]
    )
    for day in days:
        assert day["net_minor"] == (
            day["sales_minor"] - day["installments_minor"] - day["cash_outs_minor"]
        )


def test_another_merchant_and_bad_days_are_refused(shop):
    platform: Platform = shop["platform"]
    with pytest.raises(RefusalError) as refused:
        platform.run(lambda u: cashflow.cash_flow(u, owner(shop["jose"]), shop["nena"]))
    assert refused.value.code == "resource_missing"
    nena = owner(shop["nena"])
    for bad in (0, 93, True):

        def ask(unit: Unit, days: Any = bad) -> dict[str, Any]:
            return cashflow.cash_flow(unit, nena, shop["nena"], days)

        with pytest.raises(RefusalError) as refused:
            platform.run(ask)
        assert refused.value.param == "days"
    quiet = platform.run(lambda u: cashflow.cash_flow(u, owner(shop["jose"]), shop["jose"]))
    assert quiet["sales_minor"] == quiet["installments_minor"] == quiet["cash_outs_minor"] == 0
    assert quiet["average_sale_minor"] == 0 and quiet["lowest"] is None
