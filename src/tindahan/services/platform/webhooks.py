"""Webhook endpoints, and delivering the outbox to them.

Delivery (``deliver_due``, run by the worker):

1. *claim* a batch of due deliveries in a short transaction (PostgreSQL ``FOR UPDATE SKIP
   LOCKED``, so several workers share the work) by setting a lease (``locked_until_ns``);
2. POST each outside any transaction, signed (``webhooks.signature``): ``Tindahan-Signature:
   t=…,v1=…`` over ``"{t}.{body}"`` with the endpoint's secret;
3. record the attempt in the delivery log; a 2xx marks the delivery ``delivered``; anything
   else schedules the next attempt with exponential backoff, until
   ``limits.WEBHOOK_MAX_ATTEMPTS``, after which it is ``failed`` until replayed.

A receiver that is down loses nothing: its deliveries stay pending (or failed, for
``tindahan webhooks replay``) in the database, and delivery resumes when it answers again.
Once one delivery to an endpoint fails in a round, the rest of that endpoint's wait for the
next round, so one dead receiver does not hold up everyone else's.

Endpoint URLs: ``https://`` in a live environment, and for a party's endpoint only public
internet addresses (``webhooks.destinations``), so a merchant cannot aim the platform at its
internals: checked at registration (a name that does not resolve is refused) and again at
every delivery, which connects to the very address it checked (no second lookup, so DNS
rebinding gains nothing) and follows no redirect. The operator's own endpoint (no party) may
point at the operator's networks. Test environments (the demo, tests) may use ``http://``
and localhost; their deliveries are pinned the same way but not checked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import and_, func, insert, or_, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.services.platform.keys import environment
from tindahan.services.platform.listing import page
from tindahan.services.unit import Platform, Unit, iso, new_id
from tindahan.store.payment_tables import (
    events,
    parties,
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
)
from tindahan.webhooks import destinations
from tindahan.webhooks.destinations import DestinationRefusedError, IPAddress
from tindahan.webhooks.events import ALL, EVENT_TYPES
from tindahan.webhooks.schedule import next_delay_seconds
from tindahan.webhooks.signature import HEADER, new_secret, sign


# --- endpoints -------------------------------------------------------------------------------
def _check_url(unit: Unit, owner: str | None, url: str) -> str:
    if len(url) > limits.WEBHOOK_URL_MAX_LENGTH:
        raise invalid("url_invalid", "the URL is too long", "url")
    parts = urlsplit(url)
    live = environment(unit) == "live"
    allowed = ("https",) if live else ("https", "http")
    try:
        host, _port = parts.hostname, parts.port
    except ValueError:
        host = None
    if parts.scheme not in allowed or not host:
        raise invalid("url_invalid", f"the URL must be {' or '.join(allowed)}://host/…", "url")
    if parts.username is not None or parts.password is not None:
        raise invalid("url_invalid", "the URL must not hold a user name or password", "url")
    if live:
        try:  # the operator's own endpoint may be internal, but must resolve
            destinations.resolve(host, destinations.system_lookup, public_only=owner is not None)
        except DestinationRefusedError as refused:
            message = f"{refused}: webhooks go to public internet addresses only"
            raise invalid("url_invalid", message, "url") from None
    return url


def _party_exists(unit: Unit, party_id: str) -> bool:
    return (
        unit.conn.execute(select(parties.c.id).where(parties.c.id == party_id)).first() is not None
    )


def _events(enabled: list[str]) -> str:
    if not enabled:
        raise invalid(
            "events_invalid", "subscribe to at least one event (or '*')", "enabled_events"
        )
    unknown = sorted(set(enabled) - set(EVENT_TYPES) - {ALL})
    if unknown:
        raise invalid("events_invalid", f"unknown event type {unknown[0]!r}", "enabled_events")
    return "," + ",".join(sorted(set(enabled))) + ","


def create_endpoint(
    unit: Unit, caller: Caller, url: str, enabled_events: list[str], party_id: str | None
) -> dict[str, Any]:
    """A new endpoint; its signing secret is in this response only."""
    caller.require("webhooks:write")
    owner = caller.party_id
    if caller.operator:
        owner = party_id  # None: the operator's own endpoint, which hears every event
        if party_id is not None and not _party_exists(unit, party_id):
            raise not_found("party", "party_id")  # a 404, not a foreign-key error
    elif party_id not in (None, caller.party_id):
        raise not_found("party", "party_id")
    count = unit.conn.execute(
        select(func.count())
        .select_from(webhook_endpoints)
        .where(
            webhook_endpoints.c.party_id.is_(None)
            if owner is None
            else webhook_endpoints.c.party_id == owner
        )
    ).scalar_one()
    if count >= limits.MAX_WEBHOOK_ENDPOINTS:
        raise conflict("too_many_endpoints", f"at most {limits.MAX_WEBHOOK_ENDPOINTS} endpoints")
    endpoint_id = new_id("we")
    secret = new_secret()
    row = {
        "id": endpoint_id,
        "party_id": owner,
        "url": _check_url(unit, owner, url),
        "secret_cipher": unit.vault.seal(secret, f"webhook:{endpoint_id}"),
        "enabled_events": _events(enabled_events),
        "status": "enabled",
        "created_at_ns": unit.now(),
    }
    unit.conn.execute(insert(webhook_endpoints).values(**row))
    return {**endpoint_view(row), "secret": secret}


def endpoint_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "webhook_endpoint",
        "party_id": row["party_id"],
        "url": row["url"],
        "enabled_events": row["enabled_events"].strip(",").split(","),
        "status": row["status"],
        "created": iso(row["created_at_ns"]),
    }


def _endpoint(unit: Unit, caller: Caller, endpoint_id: str) -> Any:
    row = (
        unit.conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id))
        .mappings()
        .first()
    )
    if row is None or not (caller.operator or row["party_id"] == caller.party_id):
        raise not_found("webhook endpoint", "id")
    return row


def get_endpoint(unit: Unit, caller: Caller, endpoint_id: str) -> dict[str, Any]:
    caller.require("webhooks:read")
    return endpoint_view(_endpoint(unit, caller, endpoint_id))


def list_endpoints(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require("webhooks:read")
    query = select(webhook_endpoints).order_by(webhook_endpoints.c.id)
    if not caller.operator:
        query = query.where(webhook_endpoints.c.party_id == caller.party_id)
    return page([endpoint_view(r) for r in unit.conn.execute(query).mappings()], False)


def set_endpoint_status(
    unit: Unit, caller: Caller, endpoint_id: str, status: str
) -> dict[str, Any]:
    caller.require("webhooks:write")
    if status not in ("enabled", "disabled"):
        raise invalid("status_invalid", "status is enabled or disabled", "status")
    row = _endpoint(unit, caller, endpoint_id)
    unit.conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(status=status)
    )
    return endpoint_view({**row, "status": status})


def delivery_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "webhook_delivery",
        "event_id": row["event_id"],
        "event_type": row["type"],
        "endpoint_id": row["endpoint_id"],
        "status": row["status"],
        "attempts": row["attempts"],
        "last_status_code": row["last_status_code"],
        "last_error": row["last_error"],
        "next_attempt_at": iso(row["next_attempt_at_ns"]) if row["status"] == "pending" else None,
        "delivered_at": iso(row["delivered_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def list_deliveries(
    unit: Unit, caller: Caller, endpoint_id: str, limit: int, starting_after: str | None
) -> dict[str, Any]:
    """The delivery log of one endpoint, newest first."""
    caller.require("webhooks:read")
    _endpoint(unit, caller, endpoint_id)
    query = (
        select(webhook_deliveries, events.c.type)
        .join(events, events.c.id == webhook_deliveries.c.event_id)
        .where(webhook_deliveries.c.endpoint_id == endpoint_id)
        .order_by(webhook_deliveries.c.id.desc())
    )
    if starting_after:
        query = query.where(webhook_deliveries.c.id < starting_after)
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page([delivery_view(r) for r in found[:limit]], len(found) > limit)


def list_all_deliveries(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None
) -> dict[str, Any]:
    """Operator only: the delivery log of every endpoint, newest first (the console's).
    Ids are random, so the order (and the cursor) is by creation time, then id."""
    caller.require("webhooks:read")
    caller.require_operator()
    made = webhook_deliveries.c.created_at_ns
    query = (
        select(webhook_deliveries, events.c.type)
        .join(events, events.c.id == webhook_deliveries.c.event_id)
        .order_by(made.desc(), webhook_deliveries.c.id.desc())
    )
    if starting_after:
        at = unit.conn.execute(
            select(made).where(webhook_deliveries.c.id == starting_after)
        ).scalar_one_or_none()
        if at is None:
            raise invalid("cursor_invalid", "starting_after is not a delivery", "starting_after")
        query = query.where(
            or_(made < at, and_(made == at, webhook_deliveries.c.id < starting_after))
        )
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page([delivery_view(r) for r in found[:limit]], len(found) > limit)


# --- delivery ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    delivery_id: str
    endpoint_id: str
    url: str
    secret: str
    body: bytes
    attempts: int
    public_only: bool  # a party's endpoint in a live environment


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


#: Sends one signed delivery: (url, the address to connect to, body, headers) -> Outcome.
#: The worker passes ``http_sender``'s, which connects to that address and no other.
Sender = Callable[[str, IPAddress, bytes, dict[str, str]], Outcome]


def _claim(
    unit: Unit,
    event_id: str | None = None,
    lease_s: int = limits.WEBHOOK_LEASE_SECONDS,
    due_before_ns: int = 0,
) -> list[Claimed]:
    """Lease a batch of due deliveries: all of one event's (``event_id``, the NATS consumer's
    message) or any event's that were due at least ``due_before_ns`` ago (the sweep)."""
    now = unit.now()
    query = (
        select(
            webhook_deliveries.c.id,
            webhook_deliveries.c.endpoint_id,
            webhook_deliveries.c.attempts,
            webhook_endpoints.c.url,
            webhook_endpoints.c.party_id,
            webhook_endpoints.c.secret_cipher,
            events.c.data,
        )
        .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
        .join(events, events.c.id == webhook_deliveries.c.event_id)
        .where(
            webhook_deliveries.c.status == "pending",
            webhook_deliveries.c.next_attempt_at_ns <= now - due_before_ns,
            webhook_deliveries.c.locked_until_ns <= now,
            webhook_endpoints.c.status == "enabled",
        )
        .order_by(webhook_deliveries.c.next_attempt_at_ns)
        .limit(limits.WEBHOOK_BATCH)
    )
    if event_id is not None:
        query = query.where(webhook_deliveries.c.event_id == event_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update(of=webhook_deliveries, skip_locked=True)
    rows = list(unit.conn.execute(query).mappings())
    live = environment(unit) == "live"
    if rows:
        unit.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_([r["id"] for r in rows]))
            .values(locked_until_ns=now + lease_s * 10**9)
        )
    return [
        Claimed(
            r["id"],
            r["endpoint_id"],
            r["url"],
            unit.vault.open(r["secret_cipher"], f"webhook:{r['endpoint_id']}"),
            r["data"].encode(),
            r["attempts"],
            live and r["party_id"] is not None,
        )
        for r in rows
    ]


def _send(item: Claimed, send: Sender, headers: dict[str, str]) -> Outcome:
    """Resolve once, check, then send to the checked address; a refusal is a failed attempt."""
    host = urlsplit(item.url).hostname or ""
    try:
        where = destinations.resolve(host, destinations.system_lookup, public_only=item.public_only)
    except DestinationRefusedError as refused:
        return Outcome(None, f"refused: {refused}", 0)
    return send(item.url, where.address, item.body, headers)


def deliver_due(platform: Platform, send: Sender, due_before_s: int = 0) -> tuple[int, int]:
    """One round: returns (delivered, failed attempts). With NATS, the worker's sweep passes
    ``due_before_s`` so it only takes what the consumer has left overdue (replays, strays)."""
    claimed = platform.run(partial(_claim, due_before_ns=due_before_s * 10**9))
    return _deliver(platform, send, claimed)


def deliver_event(
    platform: Platform, send: Sender, event_id: str, lease_s: int = limits.WEBHOOK_LEASE_SECONDS
) -> tuple[int, int, int | None]:
    """Deliver one event's due deliveries (the NATS consumer's work for one message):
    (delivered, failed attempts, nanoseconds until its next pending delivery may be tried,
    or None when none is pending: every endpoint has it, or has given up)."""
    claimed = platform.run(partial(_claim, event_id=event_id, lease_s=lease_s))
    delivered, failed = _deliver(platform, send, claimed)
    return delivered, failed, platform.run(partial(_next_try, event_id=event_id), write=False)


def _next_try(unit: Unit, event_id: str) -> int | None:
    """How long until the event's earliest pending delivery is due and not leased."""
    rows = unit.conn.execute(
        select(webhook_deliveries.c.next_attempt_at_ns, webhook_deliveries.c.locked_until_ns)
        .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
        .where(
            webhook_deliveries.c.event_id == event_id,
            webhook_deliveries.c.status == "pending",
            webhook_endpoints.c.status == "enabled",
        )
    ).all()
    if not rows:
        return None
    soonest: int = min(max(due, lease) for due, lease in rows)
    return max(0, soonest - unit.now())


def _deliver(platform: Platform, send: Sender, claimed: list[Claimed]) -> tuple[int, int]:
    delivered = failed = 0
    down: set[str] = set()
    for item in claimed:
        if item.endpoint_id in down:
            platform.run(partial(_release, delivery_id=item.delivery_id))
            continue
        timestamp = platform.now() // 10**9
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Tindahan-Webhooks/1",
            HEADER: sign(item.secret, timestamp, item.body),
        }
        outcome = _send(item, send, headers)
        platform.run(partial(_record, item=item, outcome=outcome))
        if outcome.ok:
            delivered += 1
        else:
            failed += 1
            down.add(item.endpoint_id)
    return delivered, failed


def _release(unit: Unit, delivery_id: str) -> None:
    unit.conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == delivery_id)
        .values(locked_until_ns=0)
    )


def _record(unit: Unit, item: Claimed, outcome: Outcome) -> None:
    now = unit.now()
    unit.conn.execute(
        insert(webhook_attempts).values(
            delivery_id=item.delivery_id,
            attempted_at_ns=now,
            status_code=outcome.status_code,
            error=(outcome.error or "")[:500] or None,
            duration_ms=outcome.duration_ms,
        )
    )
    attempts = item.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "locked_until_ns": 0,
        "last_status_code": outcome.status_code,
        "last_error": (outcome.error or "")[:500] or None,
    }
    if outcome.ok:
        values.update(status="delivered", delivered_at_ns=now)
    elif attempts >= limits.WEBHOOK_MAX_ATTEMPTS:
        values.update(status="failed")
    else:
        values.update(next_attempt_at_ns=now + next_delay_seconds(attempts) * 10**9)
    unit.conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.id == item.delivery_id)
        .values(**values)
    )


def pinned(url: str, address: IPAddress) -> tuple[str, str, str]:
    """(the URL with its host replaced by ``address``, the ``Host`` header, the TLS name)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    at = f"[{address}]" if address.version == 6 else str(address)
    port = f":{parts.port}" if parts.port is not None else ""
    named = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=at + port)), named + port, host


def http_sender(client: Any) -> Sender:
    """A ``Sender`` over an ``httpx.Client``: it connects to the checked address, names the
    host in ``Host`` and in TLS (SNI, and the certificate is checked against that name), and
    follows no redirect (a 3xx is a failure)."""

    def send(url: str, address: IPAddress, body: bytes, headers: dict[str, str]) -> Outcome:
        started = time.monotonic_ns()
        target, host_header, tls_name = pinned(url, address)
        try:
            request = client.build_request(
                "POST",
                target,
                content=body,
                headers={**headers, "Host": host_header},
                extensions={"sni_hostname": tls_name},
            )
            response = client.send(request, follow_redirects=False)
        except Exception as exc:  # any transport failure is a failed attempt, retried later
            return Outcome(
                None, f"{type(exc).__name__}: {exc}", (time.monotonic_ns() - started) // 10**6
            )
        return Outcome(response.status_code, None, (time.monotonic_ns() - started) // 10**6)

    return send


def replay(
    platform: Platform,
    *,
    event_id: str | None = None,
    endpoint_id: str | None = None,
    since_ns: int | None = None,
    only_failed: bool = False,
) -> int:
    """Queue deliveries again, now (``tindahan webhooks replay``); returns how many."""

    def work(unit: Unit) -> int:
        _known(unit, events, event_id, "event", "event")
        _known(unit, webhook_endpoints, endpoint_id, "webhook endpoint", "endpoint")
        query = update(webhook_deliveries).values(
            status="pending", next_attempt_at_ns=unit.now(), locked_until_ns=0, attempts=0
        )
        if event_id:
            query = query.where(webhook_deliveries.c.event_id == event_id)
        if endpoint_id:
            query = query.where(webhook_deliveries.c.endpoint_id == endpoint_id)
        if since_ns is not None:
            query = query.where(webhook_deliveries.c.created_at_ns >= since_ns)
        if only_failed:
            query = query.where(webhook_deliveries.c.status == "failed")
        return int(unit.conn.execute(query).rowcount)

    return platform.run(work)


def _known(unit: Unit, table: Any, wanted: str | None, what: str, param: str) -> None:
    """A replay naming an event or endpoint that does not exist is a mistake, not 0."""
    if wanted and unit.conn.execute(select(table.c.id).where(table.c.id == wanted)).first() is None:
        raise not_found(f"{what} {wanted!r}", param)
