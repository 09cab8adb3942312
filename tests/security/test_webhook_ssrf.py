"""Issue 17, item 2: a merchant's webhook cannot reach the operator's own networks.

The attacks, as found: names that do not resolve (or resolve to internal addresses) accepted
at registration; and DNS rebinding, where the name answers a public address when registered
and ``127.0.0.1`` when delivered to. The resolver is a stub (no test needs the internet);
the receivers listen on real sockets on 127.0.0.1, playing the internal service.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.platform import chart, events, keys, parties, webhooks
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import webhook_deliveries, webhook_endpoints
from tindahan.store.vault import Vault
from tindahan.webhooks import destinations
from tindahan.worker import webhook_client

OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))
PUBLIC = "93.184.216.34"


class Resolver:
    """Answers from a table, counting lookups; ``then`` answers every later lookup of a name
    (the rebinding attacker's DNS server)."""

    def __init__(self, first: dict[str, list[str]], then: dict[str, list[str]] | None = None):
        self.first, self.then = first, then or {}
        self.calls: list[str] = []

    def __call__(self, host: str) -> list[str]:
        seen = host in self.calls
        self.calls.append(host)
        table = self.then if seen and host in self.then else self.first
        if host not in table:
            raise destinations.DestinationRefusedError(f"{host} does not resolve")
        return table[host]


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(secrets.token_bytes(32)))
    chart.ensure_operator_accounts(made)
    return made  # a live environment: the default


@pytest.fixture
def merchant(platform: Platform) -> Caller:
    new = parties.NewParty(
        "merchant", "Aling Nena's Store", mcc="5411", city="Marikina", province="Metro Manila"
    )
    made = platform.run(lambda u: parties.create(u, OPERATOR, new))
    return Caller("key_merchant", made["id"], frozenset(DEFAULT_SCOPES))


@pytest.fixture
def receiver() -> Iterator[tuple[int, list[dict[str, str]]]]:
    """An 'internal service' on 127.0.0.1: records the headers of every POST it gets."""
    got: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            got.append(dict(self.headers.items()))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield int(server.server_address[1]), got
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def register(platform: Platform, caller: Caller, url: str) -> dict[str, Any]:
    return platform.run(
        lambda u: webhooks.create_endpoint(u, caller, url, ["payment.succeeded"], None)
    )


def announce(platform: Platform, party_id: str) -> None:
    platform.run(lambda u: events.emit(u, "payment.succeeded", {"id": "pay_1"}, [party_id]))


def deliveries(platform: Platform) -> list[Any]:
    query = select(webhook_deliveries)
    return list(platform.run(lambda u: list(u.conn.execute(query).mappings()), write=False))


def endpoint_count(platform: Platform) -> int:
    query = select(webhook_endpoints.c.id)
    return len(platform.run(lambda u: list(u.conn.execute(query)), write=False))


ATTACKS = {
    "https://nonexistent-host.invalid/": "does not resolve",
    "https://metadata.google.internal/": "169.254.169.254, a link-local",
    "https://localhost./": "127.0.0.1, a loopback",
    "https://100.64.0.1/": "carrier-grade NAT",
    "https://[::ffff:10.0.0.1]/": "private (inside an IPv6 address)",
    "https://[2002:7f00:1::1]/": "loopback (inside an IPv6 address)",
    "https://both.example/": "10.0.0.7, a private",
}


@pytest.mark.parametrize("url", sorted(ATTACKS))
def test_registration_refuses_internal_and_unresolvable_hosts(
    platform: Platform, merchant: Caller, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    resolver = Resolver(
        {
            "metadata.google.internal": ["169.254.169.254"],
            "localhost.": ["127.0.0.1", "::1"],
            "both.example": [PUBLIC, "10.0.0.7"],
        }
    )
    monkeypatch.setattr(destinations, "system_lookup", resolver)
    with pytest.raises(RefusalError) as refused:
        register(platform, merchant, url)
    assert refused.value.code == "url_invalid" and refused.value.param == "url"
    assert ATTACKS[url] in refused.value.message
    assert endpoint_count(platform) == 0


def test_dns_rebinding_is_refused_at_delivery_and_nothing_reaches_the_internal_host(
    platform: Platform,
    merchant: Caller,
    receiver: tuple[int, list[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, got = receiver
    resolver = Resolver(
        {"hooks.merchant.example": [PUBLIC]}, {"hooks.merchant.example": ["127.0.0.1"]}
    )
    monkeypatch.setattr(destinations, "system_lookup", resolver)
    register(platform, merchant, f"https://hooks.merchant.example:{port}/hook")
    announce(platform, str(merchant.party_id))

    with webhook_client() as client:
        assert webhooks.deliver_due(platform, webhooks.http_sender(client)) == (0, 1)

    assert got == []  # the internal service heard nothing
    assert resolver.calls == ["hooks.merchant.example"] * 2  # registration, then delivery
    (delivery,) = deliveries(platform)
    assert delivery["status"] == "pending" and delivery["attempts"] == 1
    assert delivery["last_error"] == (
        "refused: hooks.merchant.example resolves to 127.0.0.1, a loopback address"
    )


def test_delivery_connects_to_the_address_it_checked_with_the_name_for_host_and_tls(
    platform: Platform, merchant: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One lookup per delivery, and the connection goes to that address: the client never
    sees the name except in ``Host`` and the TLS server name (SNI, certificate check)."""
    resolver = Resolver({"hooks.merchant.example": [PUBLIC]})
    monkeypatch.setattr(destinations, "system_lookup", resolver)
    register(platform, merchant, "https://hooks.merchant.example/hook?shop=1")
    announce(platform, str(merchant.party_id))
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(answer)) as client:
        assert webhooks.deliver_due(platform, webhooks.http_sender(client)) == (1, 0)

    (request,) = seen
    assert str(request.url) == f"https://{PUBLIC}/hook?shop=1"
    assert request.headers["Host"] == "hooks.merchant.example"
    assert request.extensions["sni_hostname"] == "hooks.merchant.example"
    assert resolver.calls.count("hooks.merchant.example") == 2  # registration + one delivery


def test_a_redirect_is_not_followed(
    platform: Platform, merchant: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(destinations, "system_lookup", Resolver({"hooks.example": [PUBLIC]}))
    register(platform, merchant, "https://hooks.example/hook")
    announce(platform, str(merchant.party_id))
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(307, headers={"Location": "http://169.254.169.254/latest/"})

    transport = httpx.MockTransport(answer)
    with httpx.Client(transport=transport, follow_redirects=True) as client:
        assert webhooks.deliver_due(platform, webhooks.http_sender(client)) == (0, 1)
    assert seen == [f"https://{PUBLIC}/hook"]
    (delivery,) = deliveries(platform)
    assert delivery["last_status_code"] == 307 and delivery["status"] == "pending"


def test_the_workers_client_has_short_timeouts_no_redirects_and_no_proxy() -> None:
    with webhook_client() as client:
        assert client.follow_redirects is False
        assert client.timeout.connect is not None and client.timeout.connect <= 3
        assert client.timeout.read is not None and client.timeout.read <= 5
        assert client._trust_env is False  # a proxy from the environment would look up again


def test_pinning_also_holds_in_a_test_environment_where_localhost_is_allowed(
    platform: Platform,
    receiver: tuple[int, list[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``hooks.merchant.example`` exists only in the stub: the request reaching the receiver
    proves the connection went to the stub's address, not to a second (system) lookup."""
    keys.set_environment(platform, "test")
    new = parties.NewParty(
        "merchant", "Tindahan ni Aling Rosa", mcc="5411", city="Pasig", province="Metro Manila"
    )
    made = platform.run(lambda u: parties.create(u, OPERATOR, new))
    caller = Caller("key_m", made["id"], frozenset(DEFAULT_SCOPES))
    port, got = receiver
    resolver = Resolver({"hooks.merchant.example": ["127.0.0.1"]})
    monkeypatch.setattr(destinations, "system_lookup", resolver)
    register(platform, caller, f"http://hooks.merchant.example:{port}/hook")
    announce(platform, made["id"])
    with webhook_client() as client:
        assert webhooks.deliver_due(platform, webhooks.http_sender(client)) == (1, 0)
    assert [h["Host"] for h in got] == [f"hooks.merchant.example:{port}"]
    assert resolver.calls == ["hooks.merchant.example"]  # delivery only: test env skips checks


def test_the_operators_own_endpoint_may_be_internal_but_must_resolve(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(destinations, "system_lookup", Resolver({"risk.ops.lan": ["10.0.0.9"]}))
    assert register(platform, OPERATOR, "https://risk.ops.lan/hook")["party_id"] is None
    with pytest.raises(RefusalError, match="does not resolve"):
        register(platform, OPERATOR, "https://typo.ops.lan/hook")
