"""API fixtures: the real app under a real uvicorn server, on SQLite and on PostgreSQL.

``server`` starts uvicorn in a thread on a free port (the same ASGI app ``tindahan serve``
runs), so tests go through HTTP, the body limit, authentication and the threadpool exactly
as integrators do. ``api`` is an httpx client for it; ``world`` is a small barangay: the
operator, a merchant, two customers and an agent, each with an API key, wallets funded.
The world is built once per worker (per database kind and clock) and each test gets a copy of
its database (tests/snapshots.py).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests import apps, snapshots
from tindahan.api.app import create_app
from tindahan.services.platform import chart, keys
from tindahan.services.unit import Platform
from tindahan.store.database import Database
from tindahan.store.vault import Vault

TEST_DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


@pytest.fixture
def vault() -> Vault:
    return Vault(base64.urlsafe_b64decode(TEST_DATA_KEY))


def _platform(db: Database, vault: Vault) -> Platform:
    made = Platform(db, vault)
    chart.ensure_operator_accounts(made)
    keys.set_environment(made, "test")
    return made


@pytest.fixture
def platform(db, vault) -> Platform:
    return _platform(db, vault)


@pytest.fixture
def server(platform, shared_server) -> Iterator[str]:
    with shared_server.serving(apps.api_app(platform)) as base_url:
        yield base_url


class Api:
    """httpx with the API's habits: a bearer key per call, a fresh Idempotency-Key per POST."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def get(self, path: str, key: str | None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.get(path, headers=headers, params=params)

    def post(
        self,
        path: str,
        key: str | None,
        body: Any = None,
        *,
        idem: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {"Idempotency-Key": idem or str(uuid.uuid4())}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        headers.update(kwargs.pop("headers", {}))
        if "content" in kwargs:
            return self.http.post(path, headers=headers, **kwargs)
        return self.http.post(path, headers=headers, json={} if body is None else body)

    def ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(server) -> Iterator[Api]:
    client = Api(server)
    yield client
    client.http.close()


@dataclass
class Party:
    id: str
    key: str
    wallets: dict[str, str] = field(default_factory=dict)  # kind -> wallet id


@dataclass
class World:
    api: Api
    operator: str
    merchant: Party
    buyer: Party
    other_buyer: Party
    agent: Party
    parties: list[Party] = field(default_factory=list)

    def balance(self, party: Party, kind: str = "main") -> int:
        wallet = self.api.ok(self.api.get(f"/v1/wallets/{party.wallets[kind]}", self.operator))
        return int(wallet["balance_minor"])

    def fund(self, party: Party, amount_minor: int, kind: str = "main") -> None:
        body = {"wallet_id": party.wallets[kind], "amount_minor": amount_minor, "currency": "PHP"}
        self.api.ok(self.api.post("/v1/fundings", self.operator, body))


def make_party(api: Api, operator: str, body: dict[str, Any]) -> Party:
    made = api.ok(api.post("/v1/parties", operator, body))
    key = api.ok(api.post("/v1/api_keys", operator, {"party_id": made["id"]}))["secret"]
    found = api.ok(api.get("/v1/wallets", operator, party_id=made["id"]))["data"]
    return Party(made["id"], key, {w["kind"]: w["id"] for w in found})


def _new_operator_key(platform: Platform) -> str:
    return platform.run(lambda u: keys.create(u, None, party_id=None))[1]


@pytest.fixture
def operator_key(request, platform) -> str:
    saved = snapshots.restored(request, "world")
    if saved is not None:
        return str(saved.operator)
    return _new_operator_key(platform)


def build_world(api: Api, operator_key: str) -> World:
    """The barangay, made through the API as an integrator would."""
    merchant = make_party(
        api,
        operator_key,
        {
            "kind": "merchant",
            "name": "Aling Nena's Store",
            "mcc": "5411",
            "city": "Marikina",
            "province": "Metro Manila",
        },
    )
    buyer = make_party(
        api,
        operator_key,
        {"kind": "customer", "name": "Juan", "phone": "+639171234567", "tier": "full"},
    )
    other = make_party(api, operator_key, {"kind": "customer", "name": "Maria", "tier": "full"})
    agent = make_party(api, operator_key, {"kind": "agent", "name": "Tindahan ni Ben"})
    made = World(api, operator_key, merchant, buyer, other, agent, [merchant, buyer, other, agent])
    made.fund(buyer, 1_000_000)  # ₱10,000
    made.fund(other, 1_000_000)
    made.fund(agent, 5_000_000, "float")
    return made


@dataclass(frozen=True)
class SavedWorld:
    """What a snapshot of the world hands each test: the operator's key and the parties."""

    operator: str
    parties: tuple[Party, ...]  # merchant, buyer, other buyer, agent


def _snapshot_world(db: Database, fixture: Callable[[str], Any]) -> SavedWorld:
    platform = _platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    operator = _new_operator_key(platform)
    # An app of its own: the worker's shared one (tests/apps.py) may be bound to a test's.
    with fixture("shared_server").serving(create_app(platform)) as base_url:
        api = Api(base_url)
        try:
            made = build_world(api, operator)
        finally:
            api.http.close()
    return SavedWorld(operator, tuple(made.parties))


snapshots.register(
    snapshots.Recipe(
        "world",
        {name: __name__ for name in ("world", "operator_key", "platform", "vault")},
        _snapshot_world,
    )
)


@pytest.fixture
def world(request, api, operator_key) -> World:
    saved = snapshots.restored(request, "world")
    if saved is None:
        return build_world(api, operator_key)
    merchant, buyer, other, agent = saved.parties
    return World(api, saved.operator, merchant, buyer, other, agent, list(saved.parties))
