"""USSD fixtures: the app under a real uvicorn server (the callback is HTTP, as aggregators
call it), on SQLite and PostgreSQL; a small barangay — a store, a cash agent, a buyer with a
login and money — and a ``Phone`` that dials ``POST /ussd`` as an aggregator does."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from tests import apps
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.payments import cash
from tindahan.services.platform import chart, logins, parties
from tindahan.services.unit import Platform
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))
PIN = "240816"
BUYER_PHONE = "+639171234567"
CODE = "*143#"


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(secrets.token_bytes(32)))
    chart.ensure_operator_accounts(made)
    return made


@pytest.fixture
def server(platform, shared_server) -> Iterator[str]:
    with shared_server.serving(apps.api_app(platform)) as base_url:
        yield base_url


@pytest.fixture
def http(server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=30) as client:
        yield client


class Phone:
    """One phone's sessions: ``dial(...)`` sends the inputs so far, as the network does."""

    def __init__(self, http: httpx.Client, number: str) -> None:
        self.http = http
        self.number = number
        self.session = "ATUid_" + secrets.token_hex(8)

    def new_session(self) -> Phone:
        self.session = "ATUid_" + secrets.token_hex(8)
        return self

    def post(self, text: str, **overrides: str) -> httpx.Response:
        form = {
            "sessionId": self.session,
            "serviceCode": CODE,
            "phoneNumber": self.number,
            "text": text,
        }
        form.update(overrides)
        return self.http.post("/ussd", data=form)

    def dial(self, *typed: str) -> str:
        response = self.post("*".join(typed))
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        body = response.text
        assert body.startswith(("CON ", "END ")), body
        assert len(body) <= 182, body
        return body

    def run(self, *typed: str) -> str:
        """Every step of a session from its first, in a new session; the last answer."""
        self.new_session()
        answer = self.dial()
        for end in range(1, len(typed) + 1):
            answer = self.dial(*typed[:end])
        return answer


@dataclass
class Barangay:
    platform: Platform
    merchant: str
    merchant_code: str
    agent: str
    agent_code: str
    buyer: str
    buyer_login: str

    def party(self, party_id: str) -> dict[str, object]:
        return self.platform.run(lambda u: parties.get(u, OPERATOR, party_id), write=False)

    def available(self, party_id: str, kind: str = "main") -> int:
        from tindahan.services.payments import wallets

        found = self.platform.run(
            lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id), write=False
        )["data"]
        return next(int(w["available_minor"]) for w in found if w["kind"] == kind)

    def fund(self, party_id: str, amount_minor: int, kind: str = "main") -> None:
        from tindahan.services.payments import wallets

        found = self.platform.run(
            lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id), write=False
        )["data"]
        wallet = next(w["id"] for w in found if w["kind"] == kind)
        self.platform.run(lambda u: cash.fund(u, OPERATOR, wallet, amount_minor, "PHP", None))


def _code(platform: Platform, party_id: str) -> str:
    from sqlalchemy import select

    from tindahan.store.payment_tables import parties as table

    return str(
        platform.run(
            lambda u: u.conn.execute(
                select(table.c.short_code).where(table.c.id == party_id)
            ).scalar_one(),
            write=False,
        )
    )


def make_party(platform: Platform, kind: str, name: str, phone: str | None = None) -> str:
    extra = {"mcc": "5411", "city": "Marikina", "province": "Metro Manila"}
    new = parties.NewParty(kind, name, phone=phone, **(extra if kind == "merchant" else {}))
    return str(platform.run(lambda u: parties.create(u, OPERATOR, new))["id"])


def make_login(platform: Platform, party_id: str, phone: str, secret: str = PIN) -> str:
    made = platform.run(
        lambda u: logins.create(u, OPERATOR, party_id=party_id, phone=phone, secret=secret)
    )
    return str(made["id"])


@pytest.fixture
def barangay(platform: Platform) -> Barangay:
    merchant = make_party(platform, "merchant", "Aling Nena's Sari-Sari Store")
    agent = make_party(platform, "agent", "Mang Tonyo Padala")
    buyer = make_party(platform, "customer", "Juan dela Cruz", BUYER_PHONE)
    login = make_login(platform, buyer, BUYER_PHONE)
    made = Barangay(
        platform, merchant, _code(platform, merchant), agent, _code(platform, agent), buyer, login
    )
    made.fund(buyer, 100_000)  # ₱1,000.00
    made.fund(agent, 500_000, "float")
    return made


@pytest.fixture
def phone(http, barangay) -> Phone:
    return Phone(http, BUYER_PHONE)
