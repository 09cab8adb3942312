"""Webhooks end to end: the outbox, the worker, a real HTTP receiver, signatures, replay.

Each test registers endpoints through the API, moves money through the API, and runs worker
rounds (``tindahan.worker.tick``) against receivers listening on real sockets. The database
clock is the test's ``clock``: advancing it is how backoff elapses between rounds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import httpx
import pytest
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY, Party, World
from tindahan import limits
from tindahan.cli.app import app as cli
from tindahan.services.platform.webhooks import Sender, http_sender
from tindahan.webhooks.signature import HEADER, SignatureError, verify
from tindahan.worker import tick

T = TypeVar("T")

SUBSCRIBED = ["payment.succeeded", "refund.succeeded"]
#: Enough to pass any backoff delay, so every pending delivery is due again.
PAST_ANY_BACKOFF = limits.WEBHOOK_BACKOFF_CAP_S + 1


# --- a receiver on a real socket ---------------------------------------------------------------
@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers 500 to the first ``fail_first`` of them, then 200."""

    port: int
    fail_first: int = 0
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/tindahan"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = 500 if len(receiver.requests) < receiver.fail_first else 200
                    receiver.requests.append(
                        Received(self.path, dict(self.headers.items()), body, status)
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            assert self.thread is not None
            self.thread.join(timeout=10)
            self.server = self.thread = None

    @property
    def succeeded(self) -> list[Received]:
        return [r for r in self.requests if r.answered == 200]

    def event_types(self) -> list[str]:
        return sorted(r.event["type"] for r in self.succeeded)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def receivers() -> Iterator[Callable[..., Receiver]]:
    """``receivers(fail_first=N)``: a started receiver; ``start=False`` leaves the port closed."""
    made: list[Receiver] = []

    def make(fail_first: int = 0, *, start: bool = True) -> Receiver:
        receiver = Receiver(_free_port(), fail_first)
        made.append(receiver)
        return receiver.start() if start else receiver

    yield make
    for receiver in made:
        receiver.stop()


@pytest.fixture
def send() -> Iterator[Sender]:
    with httpx.Client(timeout=30) as client:  # a loaded machine is slow, not broken
        yield http_sender(client)


# --- helpers --------------------------------------------------------------------------------
def subscribe(
    world: World, key: str, url: str, events: list[str], party_id: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"url": url, "enabled_events": events}
    if party_id is not None:
        body["party_id"] = party_id
    made = world.api.ok(world.api.post("/v1/webhook_endpoints", key, body))
    assert made["secret"].startswith("whsec_")
    assert made["enabled_events"] == sorted(events)
    return made


def pay(world: World, payer: Party, payee: Party, amount_minor: int) -> dict[str, Any]:
    body = {"payee_id": payee.id, "amount_minor": amount_minor, "currency": "PHP"}
    return world.api.ok(world.api.post("/v1/payments", payer.key, body))


def log(world: World, key: str, endpoint_id: str) -> list[dict[str, Any]]:
    path = f"/v1/webhook_endpoints/{endpoint_id}/deliveries"
    return world.api.ok(world.api.get(path, key, limit=100))["data"]


def only(items: list[T]) -> T:
    assert len(items) == 1, items
    return items[0]


def ns(iso: str) -> int:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def rounds(platform, send: Sender, clock, count: int) -> None:
    """``count`` worker rounds, the clock moved past any backoff before each."""
    for _ in range(count):
        clock.advance(PAST_ANY_BACKOFF)
        tick(platform, send)


def assert_signed(received: Received, secret: str, now_s: int) -> None:
    """Signed as DESIGN.md says (HMAC-SHA256 over ``"{t}.{body}"``), at ``now_s``."""
    header = received.headers[HEADER]
    assert verify(secret, header, received.body, now_s) == now_s
    expected = hmac.new(secret.encode(), f"{now_s}.".encode() + received.body, hashlib.sha256)
    assert header == f"t={now_s},v1={expected.hexdigest()}"
    assert received.headers["Content-Type"] == "application/json"


# --- tests --------------------------------------------------------------------------------------
def test_a_failing_receiver_is_retried_with_backoff_until_one_signed_delivery_succeeds(
    world, platform, clock, receivers, send
):
    receiver = receivers(fail_first=2)
    endpoint = subscribe(world, world.merchant.key, receiver.url, SUBSCRIBED)
    paid = pay(world, world.buyer, world.merchant, 12_345)

    queued = only(log(world, world.merchant.key, endpoint["id"]))
    assert queued["status"] == "pending" and queued["attempts"] == 0
    assert queued["event_type"] == "payment.succeeded"
    assert receiver.requests == []  # nothing is sent until the worker runs

    # Attempt 1: 500, then a backoff of between half of and all of the base delay.
    tick(platform, send)
    assert [r.answered for r in receiver.requests] == [500]
    first = only(log(world, world.merchant.key, endpoint["id"]))
    assert (first["status"], first["attempts"], first["last_status_code"]) == ("pending", 1, 500)
    delay = ns(first["next_attempt_at"]) - clock.now
    base = limits.WEBHOOK_BACKOFF_BASE_S * 10**9
    assert base // 2 <= delay <= base

    # Not retried before the backoff has elapsed.
    tick(platform, send)
    clock.advance(limits.WEBHOOK_BACKOFF_BASE_S // 2 - 1)
    tick(platform, send)
    assert len(receiver.requests) == 1

    # Attempt 2: 500 again, and the next delay doubles.
    clock.now = ns(first["next_attempt_at"])
    tick(platform, send)
    assert [r.answered for r in receiver.requests] == [500, 500]
    second = only(log(world, world.merchant.key, endpoint["id"]))
    assert (second["status"], second["attempts"], second["last_status_code"]) == (
        "pending",
        2,
        500,
    )
    assert base <= ns(second["next_attempt_at"]) - clock.now <= 2 * base

    # Attempt 3: 200, delivered.
    clock.now = ns(second["next_attempt_at"])
    tick(platform, send)
    delivered_at_s = clock.now // 10**9
    rounds(platform, send, clock, 3)  # a delivered delivery is never sent again
    assert [r.answered for r in receiver.requests] == [500, 500, 200]

    done = only(log(world, world.merchant.key, endpoint["id"]))
    assert done["status"] == "delivered"
    assert done["attempts"] == 3 and done["last_status_code"] == 200
    assert done["next_attempt_at"] is None and done["delivered_at"] is not None
    assert done["id"] == queued["id"]

    # Exactly one delivery succeeded: the event as JSON, for this payment, signed.
    success = only(receiver.succeeded)
    assert success.path == "/hooks/tindahan"
    event = success.event
    assert event["id"] == done["event_id"] and event["id"].startswith("evt_")
    assert event["object"] == "event" and event["type"] == "payment.succeeded"
    assert event["data"]["id"] == paid["id"]
    assert (
        event["data"]["amount_minor"] == 12_345 and event["data"]["payee_id"] == world.merchant.id
    )
    assert event["data"] == world.api.ok(
        world.api.get(f"/v1/payments/{paid['id']}", world.merchant.key)
    )
    assert {r.body for r in receiver.requests} == {success.body}  # retries resend the same event
    assert_signed(success, endpoint["secret"], delivered_at_s)

    # The signature covers the body, the secret and the timestamp.
    header = success.headers[HEADER]
    tampered = success.body.replace(b"12345", b"99999")
    assert tampered != success.body
    with pytest.raises(SignatureError):
        verify(endpoint["secret"], header, tampered, delivered_at_s)
    with pytest.raises(SignatureError):
        verify("whsec_not-the-secret", header, success.body, delivered_at_s)
    with pytest.raises(SignatureError):
        verify(endpoint["secret"], header, success.body, delivered_at_s + 10 * 3600)


def test_a_receiver_that_is_down_loses_nothing(world, platform, clock, receivers, send):
    receiver = receivers(start=False)  # the port is closed: connections are refused
    endpoint = subscribe(world, world.merchant.key, receiver.url, SUBSCRIBED)
    first = pay(world, world.buyer, world.merchant, 10_000)
    second = pay(world, world.other_buyer, world.merchant, 20_000)
    refund = world.api.ok(
        world.api.post("/v1/refunds", world.merchant.key, {"payment_id": first["id"]})
    )

    tick(platform, send)
    deliveries = log(world, world.merchant.key, endpoint["id"])
    assert len(deliveries) == 3 and {d["status"] for d in deliveries} == {"pending"}
    tried = [d for d in deliveries if d["attempts"]]
    # One refused connection, and the endpoint's other deliveries wait for the next round.
    assert len(tried) == 1 and tried[0]["last_status_code"] is None and tried[0]["last_error"]

    rounds(platform, send, clock, 4)
    deliveries = log(world, world.merchant.key, endpoint["id"])
    assert len(deliveries) == 3 and {d["status"] for d in deliveries} == {"pending"}
    assert sum(d["attempts"] for d in deliveries) >= 3

    receiver.start()
    rounds(platform, send, clock, 2)
    deliveries = log(world, world.merchant.key, endpoint["id"])
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert len(receiver.requests) == 3  # each once, none lost and none twice
    by_type: dict[str, list[str]] = {}
    for received in receiver.requests:
        by_type.setdefault(received.event["type"], []).append(received.event["data"]["id"])
    assert sorted(by_type["payment.succeeded"]) == sorted([first["id"], second["id"]])
    assert by_type["refund.succeeded"] == [refund["id"]]
    assert set(by_type) == {"payment.succeeded", "refund.succeeded"}
    assert {r.event["id"] for r in receiver.requests} == {d["event_id"] for d in deliveries}


def test_a_delivery_fails_after_max_attempts_and_replay_delivers_it(
    world, platform, clock, receivers, send, db_url, monkeypatch
):
    failing = receivers(fail_first=limits.WEBHOOK_MAX_ATTEMPTS)
    healthy = receivers()
    endpoint = subscribe(world, world.merchant.key, failing.url, SUBSCRIBED)
    watcher = subscribe(world, world.operator, healthy.url, ["*"])
    paid = pay(world, world.buyer, world.merchant, 5_000)

    tick(platform, send)
    rounds(platform, send, clock, limits.WEBHOOK_MAX_ATTEMPTS - 1)
    gave_up = only(log(world, world.merchant.key, endpoint["id"]))
    assert gave_up["status"] == "failed"
    assert gave_up["attempts"] == limits.WEBHOOK_MAX_ATTEMPTS
    assert gave_up["last_status_code"] == 500 and gave_up["next_attempt_at"] is None
    assert len(failing.requests) == limits.WEBHOOK_MAX_ATTEMPTS

    rounds(platform, send, clock, 2)  # failed deliveries are not retried by the worker
    assert len(failing.requests) == limits.WEBHOOK_MAX_ATTEMPTS
    assert only(log(world, world.merchant.key, endpoint["id"]))["status"] == "failed"
    assert only(log(world, world.operator, watcher["id"]))["status"] == "delivered"

    # The CLI stamps the replay with the wall clock; keep the test clock from lagging behind.
    clock.now = max(clock.now, time.time_ns())
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    result = CliRunner().invoke(cli, ["webhooks", "replay", "--db", db_url, "--failed-only"])
    assert result.exit_code == 0, result.output
    assert "queued 1 deliveries again" in result.output

    replayed = only(log(world, world.merchant.key, endpoint["id"]))
    assert replayed["status"] == "pending" and replayed["id"] == gave_up["id"]
    assert only(log(world, world.operator, watcher["id"]))["status"] == "delivered"

    rounds(platform, send, clock, 1)
    done = only(log(world, world.merchant.key, endpoint["id"]))
    assert done["status"] == "delivered" and done["last_status_code"] == 200
    success = only(failing.succeeded)
    assert success.event["type"] == "payment.succeeded"
    assert success.event["data"]["id"] == paid["id"]
    assert_signed(success, endpoint["secret"], clock.now // 10**9)
    # --failed-only left the delivered one alone: the operator heard the payment once.
    assert [r.event["data"]["id"] for r in healthy.requests] == [paid["id"]]


def test_a_payment_that_rolled_back_announces_nothing(world, platform, clock, receivers, send):
    merchant_hook, operator_hook = receivers(), receivers()
    endpoint = subscribe(world, world.merchant.key, merchant_hook.url, SUBSCRIBED)
    watcher = subscribe(world, world.operator, operator_hook.url, ["*"])

    body = {"payee_id": world.merchant.id, "amount_minor": 1_000_001, "currency": "PHP"}
    refused = world.api.post("/v1/payments", world.buyer.key, body)
    assert refused.status_code == 402, refused.text
    assert refused.json()["error"]["code"] == "insufficient_funds"
    rounds(platform, send, clock, 2)
    assert log(world, world.merchant.key, endpoint["id"]) == []
    assert log(world, world.operator, watcher["id"]) == []
    assert merchant_hook.requests == [] and operator_hook.requests == []

    # The same endpoints do hear a payment that commits.
    paid = pay(world, world.buyer, world.merchant, 1_000)
    rounds(platform, send, clock, 1)
    for receiver in (merchant_hook, operator_hook):
        assert [r.event["data"]["id"] for r in receiver.requests] == [paid["id"]]


def test_endpoints_hear_their_subscribed_events_of_their_own_parties_and_the_operator_all(
    world, platform, clock, receivers, send
):
    hooks = {name: receivers() for name in ("merchant", "refunds", "buyer", "other", "operator")}
    secrets = {
        "merchant": subscribe(world, world.merchant.key, hooks["merchant"].url, SUBSCRIBED),
        "refunds": subscribe(world, world.merchant.key, hooks["refunds"].url, ["refund.succeeded"]),
        "buyer": subscribe(world, world.buyer.key, hooks["buyer"].url, ["payment.succeeded"]),
        "other": subscribe(world, world.other_buyer.key, hooks["other"].url, ["*"]),
        "operator": subscribe(world, world.operator, hooks["operator"].url, ["*"]),
    }
    assert secrets["operator"]["party_id"] is None
    assert secrets["merchant"]["party_id"] == world.merchant.id

    paid = pay(world, world.buyer, world.merchant, 10_000)
    refund = world.api.ok(
        world.api.post(
            "/v1/refunds", world.merchant.key, {"payment_id": paid["id"], "amount_minor": 4_000}
        )
    )
    cash_in = world.api.ok(
        world.api.post(
            "/v1/cash_ins",
            world.agent.key,
            {"customer_id": world.other_buyer.id, "amount_minor": 5_000, "currency": "PHP"},
        )
    )
    assert cash_in["kind"] == "cash_in"
    rounds(platform, send, clock, 1)
    now_s = clock.now // 10**9

    assert hooks["merchant"].event_types() == ["payment.succeeded", "refund.succeeded"]
    assert hooks["refunds"].event_types() == ["refund.succeeded"]
    assert hooks["buyer"].event_types() == ["payment.succeeded"]
    # The other buyer's "*" endpoint hears its own cash-in, never the buyer's payment.
    assert hooks["other"].event_types() == ["cash_in.succeeded"]
    assert hooks["operator"].event_types() == [
        "cash_in.succeeded",
        "payment.partially_refunded",
        "payment.succeeded",
        "refund.succeeded",
    ]
    for name, receiver in hooks.items():
        for received in receiver.requests:
            assert_signed(received, secrets[name]["secret"], now_s)
            with pytest.raises(SignatureError):  # no endpoint's secret signs another's
                other = "other" if name != "other" else "buyer"
                verify(secrets[other]["secret"], received.headers[HEADER], received.body, now_s)

    events = {r.event["type"]: r.event for r in hooks["operator"].requests}
    assert events["payment.succeeded"]["data"]["id"] == paid["id"]
    assert events["refund.succeeded"]["data"]["id"] == refund["id"]
    assert events["refund.succeeded"]["data"]["payment_id"] == paid["id"]
    assert events["refund.succeeded"]["data"]["amount_minor"] == 4_000
    assert events["payment.partially_refunded"]["data"]["refunded_minor"] == 4_000
    assert events["cash_in.succeeded"]["data"]["id"] == cash_in["id"]
    assert events["cash_in.succeeded"]["data"]["payee_id"] == world.other_buyer.id
    # Every party endpoint's event concerns that party.
    for name, party in (("merchant", world.merchant), ("buyer", world.buyer)):
        for received in hooks[name].requests:
            data = received.event["data"]
            payment = (
                data if data.get("object") == "payment" else events["payment.succeeded"]["data"]
            )
            assert party.id in (payment["payer_id"], payment["payee_id"])

    # The delivery logs follow the same tenancy: the other buyer cannot read the merchant's.
    path = f"/v1/webhook_endpoints/{secrets['merchant']['id']}/deliveries"
    assert world.api.get(path, world.other_buyer.key).status_code == 404
    assert len(log(world, world.operator, secrets["merchant"]["id"])) == 2
    assert {d["status"] for d in log(world, world.other_buyer.key, secrets["other"]["id"])} == {
        "delivered"
    }


def test_cash_in_emits_cash_in_succeeded(world, platform, clock, receivers, send):
    receiver = receivers()
    endpoint = subscribe(world, world.agent.key, receiver.url, ["cash_in.succeeded"])
    body = {"customer_id": world.buyer.id, "amount_minor": 25_000, "currency": "PHP"}
    cash_in = world.api.ok(world.api.post("/v1/cash_ins", world.agent.key, body))
    rounds(platform, send, clock, 1)
    event = only(receiver.requests).event
    assert event["type"] == "cash_in.succeeded"
    assert event["data"]["id"] == cash_in["id"] and event["data"]["amount_minor"] == 25_000
    assert event["data"]["payer_id"] == world.agent.id
    assert event["data"]["payee_id"] == world.buyer.id
    delivery = only(log(world, world.agent.key, endpoint["id"]))
    assert delivery["event_type"] == "cash_in.succeeded" and delivery["status"] == "delivered"


def test_refund_emits_refund_succeeded(world, platform, clock, receivers, send):
    receiver = receivers()
    endpoint = subscribe(world, world.buyer.key, receiver.url, ["refund.succeeded"])
    paid = pay(world, world.buyer, world.merchant, 7_500)
    refund = world.api.ok(
        world.api.post("/v1/refunds", world.merchant.key, {"payment_id": paid["id"]})
    )
    rounds(platform, send, clock, 1)
    event = only(receiver.requests).event
    assert event["type"] == "refund.succeeded"
    assert event["data"]["id"] == refund["id"] and event["data"]["payment_id"] == paid["id"]
    assert event["data"]["amount_minor"] == 7_500
    delivery = only(log(world, world.buyer.key, endpoint["id"]))
    assert delivery["event_type"] == "refund.succeeded" and delivery["status"] == "delivered"


def test_cash_outs_announce_pending_then_succeeded_or_failed(
    world, platform, clock, receivers, send
):
    customer_hook, agent_hook = receivers(), receivers()
    events = ["cash_out.pending", "cash_out.succeeded", "cash_out.failed"]
    subscribe(world, world.buyer.key, customer_hook.url, events)
    subscribe(world, world.agent.key, agent_hook.url, ["*"])
    body = {"agent_id": world.agent.id, "amount_minor": 3_000, "currency": "PHP"}
    api = world.api
    confirmed, canceled, expired = (
        api.ok(api.post("/v1/cash_outs", world.buyer.key, body)) for _ in range(3)
    )
    api.ok(api.post(f"/v1/cash_outs/{confirmed['id']}/confirm", world.agent.key, {}))
    api.ok(api.post(f"/v1/cash_outs/{canceled['id']}/cancel", world.buyer.key, {}))

    # One round past the confirmation window: it expires the third, then delivers everything.
    clock.advance(limits.CASH_OUT_CONFIRM_SECONDS + 1)
    result = tick(platform, send)
    assert result.cash_outs_failed == 1 and result.delivered == 12 and result.delivery_failures == 0

    for receiver in (customer_hook, agent_hook):
        heard = sorted((r.event["type"], r.event["data"]["id"]) for r in receiver.requests)
        assert heard == sorted(
            [("cash_out.pending", c["id"]) for c in (confirmed, canceled, expired)]
            + [
                ("cash_out.succeeded", confirmed["id"]),
                ("cash_out.failed", canceled["id"]),
                ("cash_out.failed", expired["id"]),
            ]
        )
        final = {
            r.event["data"]["id"]: r.event["data"]["status"]
            for r in receiver.requests
            if r.event["type"] != "cash_out.pending"
        }
        assert final == {
            confirmed["id"]: "succeeded",
            canceled["id"]: "failed",
            expired["id"]: "failed",
        }
    assert world.balance(world.buyer) == 1_000_000 - 3_000


def test_an_endpoint_for_a_party_that_does_not_exist_is_a_404(world):
    """Found by schemathesis: this was a foreign-key error, answered with a 500."""
    body = {
        "url": "https://shop.example.ph/hooks",
        "enabled_events": ["payment.succeeded"],
        "party_id": "cus_nobody",
    }
    response = world.api.post("/v1/webhook_endpoints", world.operator, body)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["param"] == "party_id"
