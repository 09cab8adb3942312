"""Events on NATS JetStream (issue 23, item 2), against the real server at 127.0.0.1:4222:
the relay's dedupe across a relay restart, and a worker killed mid-delivery whose event
another worker delivers. Each test has a stream and subjects of its own, deleted after it.
Skipped, saying so, when NATS does not answer."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from functools import partial

import pytest
from sqlalchemy import select

from tests.api.conftest import TEST_DATA_KEY
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.platform import chart, events, keys, relay, webhooks
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import events as events_table
from tindahan.store.payment_tables import webhook_attempts, webhook_deliveries
from tindahan.store.vault import Vault
from tindahan.worker import stream as event_stream
from tindahan.worker.stream import EventStream, Settings, StreamError

URL = "nats://127.0.0.1:4222"
OPERATOR = Caller("key_operator", None, frozenset(DEFAULT_SCOPES))


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    keys.set_environment(made, "test")  # endpoints on http://127.0.0.1
    return made


@pytest.fixture
def settings() -> Iterator[Settings]:
    tag = uuid.uuid4().hex[:12]
    made = Settings(URL, stream=f"TEST_EVENTS_{tag}", subject_prefix=f"test{tag}.events")
    probe = EventStream(made)
    try:
        probe._call(probe._jetstream(), 5)
    except StreamError as exc:
        probe.close()
        pytest.skip(f"no NATS JetStream answers at {URL}: {exc}")
    try:
        yield made
    finally:
        probe._call(probe._js.delete_stream(made.stream), 5)
        probe.close()


def _count(stream: EventStream) -> int:
    async def work() -> int:
        js = await stream._jetstream()
        info = await js.stream_info(stream.settings.stream)
        return int(info.state.messages)

    return stream._call(work(), 5)


def _emit(platform: Platform, n: int) -> list[str]:
    made = []
    for i in range(n):
        data = {"amount": 100 + i}
        emit = partial(events.emit, event_type="payment.succeeded", data=data, party_ids=[])
        made.append(platform.run(emit))
    return made


def test_relay_dedupes_a_republish_after_a_restart(platform, settings):
    ids = _emit(platform, 3)
    first = EventStream(settings)
    try:
        # The relay published, then died before marking: the database still says unpublished.
        assert first.publish(relay.pending(platform)) == 3
    finally:
        first.close()
    assert {item.event_id for item in relay.pending(platform)} == set(ids)

    second = EventStream(settings)  # the restarted relay
    try:
        assert event_stream.relay_round(platform, second) == 3  # published again, marked
        assert _count(second) == 3  # the stream dropped the three copies
        assert relay.pending(platform) == []
        assert event_stream.relay_round(platform, second) == 0
        fourth = _emit(platform, 1)
        assert event_stream.relay_round(platform, second) == 1
        assert _count(second) == 4

        async def last() -> tuple[str, bytes, str]:
            js = await second._jetstream()
            msg = await js.get_msg(settings.stream, seq=4)
            return msg.subject, msg.data, msg.headers["Nats-Msg-Id"]

        subject, data, msg_id = second._call(last(), 5)
    finally:
        second.close()
    assert msg_id == fourth[0]
    assert subject == f"{settings.subject_prefix}.payment.succeeded"
    stored = platform.run(
        lambda u: u.conn.execute(
            select(events_table.c.data).where(events_table.c.id == fourth[0])
        ).scalar_one(),
        write=False,
    )
    assert data == stored.encode()
    assert json.loads(data)["data"] == {"amount": 100}


def _endpoint(platform: Platform, path: str) -> str:
    made = platform.run(
        lambda u: webhooks.create_endpoint(u, OPERATOR, f"http://127.0.0.1:9/{path}", ["*"], None)
    )
    return str(made["id"])


def _deliveries(platform: Platform) -> list[tuple[str, str, str, int]]:
    query = select(
        webhook_deliveries.c.event_id,
        webhook_deliveries.c.endpoint_id,
        webhook_deliveries.c.status,
        webhook_deliveries.c.attempts,
    ).order_by(webhook_deliveries.c.event_id, webhook_deliveries.c.endpoint_id)
    return [tuple(r) for r in platform.run(lambda u: u.conn.execute(query).all(), write=False)]


#: A worker process of its own: it takes the message and dies in the middle of the POST
#: (the parent kills it with SIGKILL once the receiver has the body).
_DYING_WORKER = """
import base64, sys, time
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.store.vault import Vault
from tindahan.worker import stream as s

url, name, prefix, key, flag = sys.argv[1:6]
platform = Platform(connect(url), Vault(base64.urlsafe_b64decode(key)))
events = s.EventStream(s.Settings("%s", name, prefix, ack_wait_s=%d))

def hang(url, address, body, headers):
    with open(flag, "wb") as out:
        out.write(body)
    time.sleep(3600)

s.deliver_round(platform, events, hang)
"""


def test_a_worker_killed_mid_delivery_and_another_delivers(platform, settings, clock, tmp_path):
    endpoint = _endpoint(platform, "hook")
    (event_id,) = _emit(platform, 1)
    quick = Settings(
        settings.url, stream=settings.stream, subject_prefix=settings.subject_prefix, ack_wait_s=2
    )
    b = EventStream(quick)
    try:
        assert event_stream.relay_round(platform, b) == 1
        flag = tmp_path / "reached"
        code = _DYING_WORKER % (URL, quick.ack_wait_s)
        url = platform.db.engine.url.render_as_string(hide_password=False)
        args = [url, quick.stream, quick.subject_prefix, TEST_DATA_KEY, str(flag)]
        dying = subprocess.Popen([sys.executable, "-c", code, *args])
        try:
            deadline = time.monotonic() + 30
            while not flag.exists() and dying.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert flag.exists(), "the first worker never reached the receiver"
        finally:
            dying.kill()  # SIGKILL, mid-delivery: no ack, no attempt recorded
            dying.wait()
        reached = flag.read_bytes()
        assert _deliveries(platform) == [(event_id, endpoint, "pending", 0)]
        # Its lease, as long as its message's ack wait, holds the delivery until it ends
        # (the dead worker leased on the real clock; the test's database clock follows).
        lease = platform.run(
            lambda u: u.conn.execute(select(webhook_deliveries.c.locked_until_ns)).scalar_one(),
            write=False,
        )
        clock.now = lease - 10**6
        assert webhooks.deliver_event(platform, _refuse, event_id)[:2] == (0, 0)
        clock.now = lease + 10**9

        received: list[bytes] = []

        def answering(url, address, body, headers):
            received.append(body)
            return webhooks.Outcome(200, None, 1)

        deadline = time.monotonic() + 20
        while not received and time.monotonic() < deadline:
            event_stream.deliver_round(platform, b, answering)
        assert received == [reached]  # the same event, from the other worker
        assert event_stream.deliver_round(platform, b, answering) == (0, 0)  # acked: no more
    finally:
        b.close()
    assert len(received) == 1
    assert _deliveries(platform) == [(event_id, endpoint, "delivered", 1)]
    logged = platform.run(
        lambda u: u.conn.execute(select(webhook_attempts.c.status_code)).scalars().all(),
        write=False,
    )
    assert logged == [200]


def _refuse(url, address, body, headers):
    raise AssertionError("a leased delivery was sent")


def test_two_workers_share_the_consumer_each_event_once_per_endpoint(platform, settings):
    endpoints = {_endpoint(platform, "one"), _endpoint(platform, "two")}
    ids = _emit(platform, 6)
    sent: list[tuple[str, str]] = []

    def answering(url, address, body, headers):
        sent.append((url.rsplit("/", 1)[1], json.loads(body)["id"]))
        return webhooks.Outcome(200, None, 1)

    workers = [EventStream(settings), EventStream(settings)]
    try:
        assert event_stream.relay_round(platform, workers[0]) == 6
        assert event_stream.relay_round(platform, workers[1]) == 0
        for _ in range(2):
            for worker in workers:
                event_stream.deliver_round(platform, worker, answering)
    finally:
        for worker in workers:
            worker.close()
    assert sorted(sent) == sorted((path, e) for path in ("one", "two") for e in ids)
    assert {(e, ep, s, n) for e, ep, s, n in _deliveries(platform)} == {
        (e, ep, "delivered", 1) for e in ids for ep in endpoints
    }


def test_a_failed_delivery_waits_for_its_scheduled_retry(platform, clock):
    """What the consumer naks with: the wait until the next attempt on the usual schedule,
    never an ack while a delivery is pending (no NATS needed)."""
    endpoint = _endpoint(platform, "down")
    (event_id,) = _emit(platform, 1)

    def refusing(url, address, body, headers):
        return webhooks.Outcome(503, None, 1)

    delivered, failed, wait_ns = webhooks.deliver_event(platform, refusing, event_id)
    assert (delivered, failed) == (0, 1)
    assert wait_ns is not None
    due = platform.run(
        lambda u: u.conn.execute(select(webhook_deliveries.c.next_attempt_at_ns)).scalar_one(),
        write=False,
    )
    assert wait_ns == due - clock() and wait_ns >= 5 * 10**9  # 10 s base, jittered
    assert _deliveries(platform) == [(event_id, endpoint, "pending", 1)]
    assert webhooks.deliver_event(platform, refusing, event_id) == (0, 0, wait_ns)  # not yet
    clock.advance(-(-wait_ns // 10**9))
    assert webhooks.deliver_event(platform, lambda *a: webhooks.Outcome(200, None, 1), event_id)[
        :2
    ] == (1, 0)
    assert webhooks.deliver_event(platform, refusing, event_id)[2] is None  # ack: all done


def test_a_worker_round_publishes_and_delivers_through_the_stream(platform, settings):
    """``worker.tick`` with a stream: the relay, then the consumer, in the same round; the
    database sweep leaves the fresh delivery to the consumer."""
    from tindahan import worker

    endpoint = _endpoint(platform, "round")
    (event_id,) = _emit(platform, 1)
    sent: list[str] = []

    def answering(url, address, body, headers):
        sent.append(json.loads(body)["id"])
        return webhooks.Outcome(200, None, 1)

    stream = EventStream(settings)
    try:
        done = worker.tick(platform, answering, stream=stream)
        again = worker.tick(platform, answering, stream=stream)
    finally:
        stream.close()
    assert (done.events_published, done.delivered) == (1, 1)
    assert (again.events_published, again.delivered) == (0, 0)
    assert sent == [event_id]
    assert _deliveries(platform) == [(event_id, endpoint, "delivered", 1)]
