"""SMS fixtures: a platform in a test environment on the test's database (SQLite and
PostgreSQL), and helpers to make people with phones and pay between them."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.payments import cash, payments
from tindahan.services.platform import chart, keys, parties
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import wallets
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(secrets.token_bytes(32)))
    chart.ensure_operator_accounts(made)
    keys.set_environment(made, "test")
    return made


def person(
    platform: Platform,
    name: str,
    phone: str | None,
    kind: str = "customer",
    language: str | None = None,
) -> str:
    extra = {"mcc": "5411", "city": "Cebu City", "province": "Cebu"} if kind == "merchant" else {}
    new = parties.NewParty(
        kind, name, phone=phone, tier="full" if kind == "customer" else None, **extra
    )
    party_id = str(platform.run(lambda u: parties.create(u, OPERATOR, new))["id"])
    if language is not None:
        from tindahan.services.platform import sms

        platform.run(lambda u: sms.set_language(u, party_id, language))
    return party_id


def wallet_id(platform: Platform, party_id: str, kind: str = "main") -> str:
    query = select(wallets.c.id).where(wallets.c.party_id == party_id, wallets.c.kind == kind)
    return str(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def fund(platform: Platform, party_id: str, amount: int, kind: str = "main") -> None:
    target = wallet_id(platform, party_id, kind)
    platform.run(lambda u: cash.fund(u, OPERATOR, target, amount, "PHP", "test"))


def pay(platform: Platform, payer: str, payee: str, amount: int) -> dict:
    new = payments.NewPayment(payee_id=payee, amount_minor=amount, currency="PHP", payer_id=payer)
    return dict(platform.run(lambda u: payments.pay(u, OPERATOR, new)))


def cash_in(platform: Platform, agent: str, customer: str, amount: int) -> dict:
    return dict(platform.run(lambda u: cash.cash_in(u, OPERATOR, customer, amount, "PHP", agent)))
