"""Rails fixtures: the lending platform (a settable clock), the directory seeded, a funded
customer with a bank account at BDO (InstaPay and PESONet) and one at Citibank (PESONet)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.lending.conftest import OPERATOR, clock, make_party, platform, wallet_of  # noqa: F401
from tests.rails.fake_rail import FakeRail
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.services.payments import cash
from tindahan.services.rails import bank_accounts, participants
from tindahan.services.unit import Platform

FUNDED = 3_000_000  # ₱30,000.00


@dataclass
class Sender:
    party_id: str
    caller: Caller
    account_id: str  # the main wallet's ledger account
    bdo: str  # bank account ids
    citi: str
    gcash: str


def register(platform: Platform, caller: Caller, bank: str, number: str) -> str:  # noqa: F811
    new = bank_accounts.NewBankAccount(bank, number, "Juan dela Cruz")
    return platform.run(lambda u: bank_accounts.register(u, caller, new))["id"]


@pytest.fixture
def sender(platform) -> Sender:  # noqa: F811
    participants.ensure_seeded(platform)
    party_id = make_party(platform, kind="customer", name="Juan dela Cruz", tier="full")
    wallet = wallet_of(platform, party_id)
    platform.run(lambda u: cash.fund(u, OPERATOR, wallet["id"], FUNDED, "PHP", None))
    caller = Caller(f"k_{party_id}", party_id, frozenset(SCOPES))
    return Sender(
        party_id,
        caller,
        wallet["account_id"],
        register(platform, caller, "BDO", "0012-3456-7890"),
        register(platform, caller, "CITI", "5550001112"),
        register(platform, caller, "GCASH", "09171234567"),
    )


@pytest.fixture
def rail() -> FakeRail:
    return FakeRail()


PHONE = "0917 555 0101"


@pytest.fixture
def nena(platform) -> dict:  # noqa: F811
    """A basic-tier customer with a registered mobile number: money from other banks."""
    party_id = make_party(platform, kind="customer", name="Nena Reyes", phone=PHONE, tier="basic")
    return {"party_id": party_id, **wallet_of(platform, party_id)}
