"""Lending fixtures: a platform on a settable business clock, a merchant with a scored
credit assessment, a funded customer and a loan product — all through the real services."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import insert, select

from tests.api.conftest import TEST_DATA_KEY
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.lending.calendar import day_start_ns
from tindahan.services.lending import offers as loan_offers
from tindahan.services.payments import cash
from tindahan.services.platform import chart, parties
from tindahan.services.unit import Platform, SettableClock, new_id
from tindahan.store.credit_tables import credit_assessments
from tindahan.store.payment_tables import wallets
from tindahan.store.vault import Vault

ALL = frozenset(SCOPES)
OPERATOR = Caller("op", None, ALL)
DAY0 = date(2026, 9, 1)
HOUR = 3600 * 10**9


class BusinessClock(SettableClock):
    """A SettableClock moved by business day (Philippine time)."""

    def __init__(self) -> None:
        super().__init__()
        self.day = DAY0
        self.at_day(DAY0, 10)

    def at_day(self, day: date, hour: int = 9) -> None:
        self.day = day
        self.set(day_start_ns(day) + hour * HOUR)

    def next_day(self, hour: int = 9) -> date:
        self.at_day(self.day + timedelta(days=1), hour)
        return self.day


@pytest.fixture
def clock() -> BusinessClock:
    """Overrides the root ``clock``: ``db`` connects with it, so every row's time is ours."""
    return BusinessClock()


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def make_party(platform: Platform, **fields) -> str:
    new = parties.NewParty(**fields)
    return platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]


def wallet_of(platform: Platform, party_id: str, kind: str = "main") -> dict:
    query = select(wallets).where(wallets.c.party_id == party_id, wallets.c.kind == kind)
    return dict(platform.run(lambda u: u.conn.execute(query).mappings().one(), write=False))


def assess(
    platform: Platform,
    merchant_id: str,
    *,
    decision: str = "scored",
    probability: str | None = "0.05",
    sales: int = 2_000_000,
) -> str:
    """A credit assessment row as the credit service stores it (the model is not needed)."""
    now = platform.now()
    row = {
        "id": new_id("cra"),
        "merchant_id": merchant_id,
        "decision": decision,
        "model_version": "test",
        "probability": probability,
        "score": 640 if decision == "scored" else None,
        "reasons": "[]",
        "features": json.dumps({"sales_month_avg": sales}),
        "as_of_ns": now,
        "created_at_ns": now,
    }
    platform.run(lambda u: u.conn.execute(insert(credit_assessments), row))
    return row["id"]


def merchant(platform: Platform, name: str = "Aling Nena", **assessment) -> tuple[str, Caller]:
    merchant_id = make_party(
        platform, kind="merchant", name=name, mcc="5411", city="Calamba", province="Laguna"
    )
    assess(platform, merchant_id, **assessment)
    return merchant_id, Caller(f"k_{merchant_id}", merchant_id, ALL)


@dataclass
class Shop:
    merchant_id: str
    merchant: Caller
    customer_id: str
    customer: Caller
    product: dict


PRODUCT = loan_offers.NewProduct(
    "Puhunan",
    100_000,
    1_000_000,
    "weekly",
    4,
    16,
    "2",
    "4",
    fee_bps=300,
    penalty_rate="3",
    grace_days=2,
    auto_deduct_bps=2000,
)


def product(platform: Platform, new: loan_offers.NewProduct = PRODUCT) -> dict:
    return platform.run(lambda u: loan_offers.create_product(u, OPERATOR, new))


@pytest.fixture
def shop(platform) -> Shop:
    merchant_id, merchant_caller = merchant(platform)
    customer_id = make_party(platform, kind="customer", name="Juan", tier="full")
    wallet = wallet_of(platform, customer_id)["id"]
    for _ in range(2):
        platform.run(lambda u: cash.fund(u, OPERATOR, wallet, 4_000_000, "PHP", None))
    return Shop(
        merchant_id,
        merchant_caller,
        customer_id,
        Caller(f"k_{customer_id}", customer_id, ALL),
        product(platform),
    )
