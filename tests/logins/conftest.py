"""Login fixtures: a platform on the test's database (SQLite and PostgreSQL), the operator,
a merchant and a customer."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.platform import chart, logins, parties
from tindahan.services.unit import Platform
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))
PIN = "240816"
PHONE = "+639171234567"


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(secrets.token_bytes(32)))
    chart.ensure_operator_accounts(made)
    return made


@dataclass
class People:
    merchant: str
    customer: str
    login: str  # the merchant's login, phone PHONE, PIN PIN


def new_party(platform: Platform, kind: str, name: str) -> str:
    extra = {"mcc": "5411", "city": "Marikina", "province": "Metro Manila"}
    new = parties.NewParty(kind, name, **(extra if kind == "merchant" else {}))
    return str(platform.run(lambda u: parties.create(u, OPERATOR, new))["id"])


def new_login(platform: Platform, party_id: str | None, phone: str, secret: str = PIN) -> str:
    name = "Staff" if party_id is None else None
    made = platform.run(
        lambda u: logins.create(
            u, OPERATOR, party_id=party_id, phone=phone, secret=secret, name=name
        )
    )
    return str(made["id"])


@pytest.fixture
def people(platform: Platform) -> People:
    merchant = new_party(platform, "merchant", "Aling Nena's Sari-Sari Store")
    customer = new_party(platform, "customer", "Juan dela Cruz")
    return People(merchant, customer, new_login(platform, merchant, PHONE))
