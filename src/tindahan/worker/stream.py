"""Events on NATS JetStream (issue 23, item 2), on when ``TINDAHAN_NATS_URL`` is set.

Two jobs run in every worker round (``tindahan worker``, or ``serve``'s worker thread):

* **the relay** publishes each outbox event (``events``, written in the payment's own
  transaction by ``services.platform.events.emit``) to the stream ``TINDAHAN_EVENTS`` on the
  subject ``tindahan.events.<type>`` (``tindahan.events.payment.succeeded``), with
  ``Nats-Msg-Id`` = the event id, then marks it published in the database
  (``services.platform.relay``). A relay that dies between the two re-publishes on its next
  round and the stream drops the copy (its duplicate window, ``limits.NATS_DUPLICATE_WINDOW_S``).
  The stream is created if missing (file storage, messages kept
  ``NATS_STREAM_MAX_AGE_DAYS`` days, so other consumers — analytics, risk — can start late).
* **webhook delivery** is the durable pull consumer ``tindahan-webhooks``, shared by every
  worker process on every machine: JetStream gives each message to one of them. The worker
  sends that event's due deliveries (``webhooks.deliver_event``: leased in the database, so
  each endpoint gets it from one worker at a time, every attempt recorded in the delivery
  log), then acks the message when no delivery of it is pending, or naks it with a delay
  equal to the wait until the next attempt, which is the schedule without NATS
  (``webhooks.schedule``). A worker that dies mid-delivery never acks: after
  ``NATS_ACK_WAIT_S`` JetStream gives the message to another worker, whose claim succeeds
  because the dead worker's lease was as long. Webhooks stay at least once, as without
  NATS: a receiver may see an event twice (if the worker died after the POST and before
  recording it) and should keep the event ids it has seen.

The database's own sweep (``webhooks.deliver_due``) still runs, but only for deliveries
overdue by ``NATS_SWEEP_GRACE_S``: replays and any event the stream no longer holds.

The NATS client is asynchronous; it runs on an event loop of its own in a daemon thread,
and the worker's synchronous round waits on it with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tindahan import limits
from tindahan.services.platform import relay, webhooks
from tindahan.services.unit import Platform

log = logging.getLogger("tindahan.worker.stream")

URL_ENV = "TINDAHAN_NATS_URL"
STREAM = "TINDAHAN_EVENTS"
SUBJECT_PREFIX = "tindahan.events"
CONSUMER = "tindahan-webhooks"
#: How long the stream keeps an event for its consumers (webhooks are done long before).
NATS_STREAM_MAX_AGE_DAYS = 7

T = TypeVar("T")


class StreamError(Exception):
    """NATS did not answer, or refused: the round's stream work waits for the next round."""


@dataclass(frozen=True)
class Settings:
    url: str
    stream: str = STREAM
    subject_prefix: str = SUBJECT_PREFIX
    consumer: str = CONSUMER
    ack_wait_s: int = limits.NATS_ACK_WAIT_S

    def subject(self, event_type: str) -> str:
        return f"{self.subject_prefix}.{event_type}"


@dataclass
class Message:
    """One event handed to this worker by the consumer."""

    event_id: str
    raw: Any  # nats.aio.msg.Msg


class EventStream:
    """A connection to JetStream, kept open across rounds on its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, daemon=True, name="tindahan-nats"
        )
        self._thread.start()
        self._client: Any = None
        self._js: Any = None
        self._sub: Any = None

    # --- plumbing ------------------------------------------------------------------------
    def _call(self, work: Coroutine[Any, Any, T], timeout: int) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        try:
            return future.result(timeout)
        except StreamError:
            raise
        except Exception as exc:  # the client's errors, timeouts: the round retries later
            future.cancel()
            raise StreamError(f"NATS at {self.settings.url}: {exc!r}") from None

    async def _jetstream(self) -> Any:
        if self._client is not None and not self._client.is_closed:
            return self._js
        import nats
        from nats.js.api import StreamConfig
        from nats.js.errors import NotFoundError

        self._client = await nats.connect(
            self.settings.url, connect_timeout=limits.NATS_TIMEOUT_S, max_reconnect_attempts=-1
        )
        self._js = self._client.jetstream(timeout=limits.NATS_TIMEOUT_S)
        self._sub = None
        try:
            await self._js.stream_info(self.settings.stream)
        except NotFoundError:
            await self._js.add_stream(
                StreamConfig(
                    name=self.settings.stream,
                    subjects=[f"{self.settings.subject_prefix}.>"],
                    duplicate_window=limits.NATS_DUPLICATE_WINDOW_S,
                    max_age=NATS_STREAM_MAX_AGE_DAYS * 86400,
                )
            )
        return self._js

    def close(self) -> None:
        async def shut() -> None:
            if self._client is not None and not self._client.is_closed:
                await self._client.close()

        with contextlib.suppress(StreamError):  # closing a dead connection: nothing to do
            self._call(shut(), limits.NATS_TIMEOUT_S)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(limits.NATS_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()

    # --- the relay -----------------------------------------------------------------------
    def publish(self, items: Sequence[relay.Unpublished]) -> int:
        """Publish in order, each acknowledged by the stream; returns how many the stream
        took as new (the others were duplicates it dropped)."""

        async def work() -> int:
            js = await self._jetstream()
            fresh = 0
            for item in items:
                ack = await js.publish(
                    self.settings.subject(item.event_type),
                    item.body,
                    stream=self.settings.stream,
                    headers={"Nats-Msg-Id": item.event_id},
                )
                fresh += not ack.duplicate
            return fresh

        return self._call(work(), limits.NATS_TIMEOUT_S * (1 + len(items)))

    # --- the consumer --------------------------------------------------------------------
    def fetch(self, batch: int = limits.NATS_FETCH_BATCH) -> list[Message]:
        async def work() -> list[Message]:
            from nats.js.api import AckPolicy, ConsumerConfig

            js = await self._jetstream()
            if self._sub is None:
                self._sub = await js.pull_subscribe(
                    f"{self.settings.subject_prefix}.>",
                    durable=self.settings.consumer,
                    stream=self.settings.stream,
                    config=ConsumerConfig(
                        ack_policy=AckPolicy.EXPLICIT,
                        ack_wait=self.settings.ack_wait_s,
                        max_deliver=-1,
                    ),
                )
            try:
                got = await self._sub.fetch(batch, timeout=limits.NATS_FETCH_WAIT_MS / 1000)
            except TimeoutError:  # nothing came within the wait (nats' own is a subclass)
                return []
            return [Message(_event_id(m), m) for m in got]

        return self._call(work(), limits.NATS_TIMEOUT_S + 1)

    def ack(self, message: Message) -> None:
        self._call(message.raw.ack(), limits.NATS_TIMEOUT_S)

    def nak(self, message: Message, delay_s: int) -> None:
        self._call(message.raw.nak(delay=delay_s), limits.NATS_TIMEOUT_S)

    def working(self, message: Message) -> None:
        """Restart the message's ack timer: this worker is about to deliver it."""
        self._call(message.raw.in_progress(), limits.NATS_TIMEOUT_S)


def _event_id(msg: Any) -> str:
    headers = msg.headers or {}
    return str(headers.get("Nats-Msg-Id", ""))


def from_environment() -> EventStream | None:
    url = os.environ.get(URL_ENV, "").strip()
    return EventStream(Settings(url)) if url else None


# --- a round ---------------------------------------------------------------------------------
def relay_round(platform: Platform, stream: EventStream) -> int:
    """Publish what is unpublished, then mark it; returns how many were marked. Nothing is
    marked unless the stream acknowledged all of the batch."""
    items = relay.pending(platform)
    if not items:
        return 0
    stream.publish(items)
    return relay.mark_published(platform, [item.event_id for item in items])


def deliver_round(
    platform: Platform, stream: EventStream, send: webhooks.Sender
) -> tuple[int, int]:
    """Take messages, fetch after fetch while they come full (up to
    ``limits.NATS_ROUND_MESSAGES``), and deliver each event; returns (delivered, failed)."""
    delivered = failed = taken = 0
    while taken < limits.NATS_ROUND_MESSAGES:
        messages = stream.fetch()
        taken += len(messages)
        for message in messages:
            done, missed = _deliver_message(platform, stream, send, message)
            delivered, failed = delivered + done, failed + missed
        if len(messages) < limits.NATS_FETCH_BATCH:
            break
    return delivered, failed


def _deliver_message(
    platform: Platform, stream: EventStream, send: webhooks.Sender, message: Message
) -> tuple[int, int]:
    if not message.event_id:  # not one of ours: nothing to deliver, never again
        stream.ack(message)
        return 0, 0
    stream.working(message)
    delivered, failed, wait_ns = webhooks.deliver_event(
        platform, send, message.event_id, lease_s=stream.settings.ack_wait_s
    )
    if wait_ns is None:
        stream.ack(message)
    else:
        stream.nak(message, max(1, -(-wait_ns // 10**9)))  # whole seconds, up
    return delivered, failed
