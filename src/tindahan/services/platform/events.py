"""The outbox: events written in the same transaction as the change they announce.

``emit`` stores the event and one pending delivery per subscribed webhook endpoint (the
parties concerned, plus the operator's endpoints), inside the payment's own transaction:
if the payment commits, its deliveries exist; if it rolls back, no receiver hears of it.
Delivering is the worker's job (``services.platform.webhooks.deliver_due``). The SMS an
event becomes (``sms.notices``) are queued the same way, in the same transaction
(``services.platform.sms``), and so are the notices the pages show
(``services.platform.notifications``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Text, bindparam, insert, or_, select, text

from tindahan.services.platform import notifications, sms
from tindahan.services.unit import Unit, iso, new_id
from tindahan.sms.notices import for_event
from tindahan.store import deferred
from tindahan.store.hotpath import fetch_named
from tindahan.store.payment_tables import events, webhook_deliveries, webhook_endpoints
from tindahan.store.pgarray import int_array, text_array

#: The endpoints that hear an event: enabled, the parties' own or the operator's, subscribed
#: to its type or to everything. Built once (see ``movement._HOLDERS``).
_SUBSCRIBED = select(webhook_endpoints.c.id).where(
    webhook_endpoints.c.status == "enabled",
    or_(
        webhook_endpoints.c.party_id.in_(bindparam("party_ids", expanding=True)),
        webhook_endpoints.c.party_id.is_(None),
    ),
    or_(
        webhook_endpoints.c.enabled_events.like(bindparam("pattern")),
        webhook_endpoints.c.enabled_events == ",*,",
    ),
)


def emit(unit: Unit, event_type: str, data: Mapping[str, Any], party_ids: Iterable[str]) -> str:
    event_id = new_id("evt")
    now = unit.now()
    body = {
        "id": event_id,
        "object": "event",
        "type": event_type,
        "created": iso(now),
        "data": data,
    }
    data_text = json.dumps(body, separators=(",", ":"))
    params: dict[str, Any] = {
        "party_ids": sorted(set(party_ids)),
        "pattern": "%," + event_type + ",%",
    }
    if unit.db.is_sqlite:  # no INSERT inside a WITH there: two statements
        row = {"id": event_id, "type": event_type, "data": data_text, "created_at_ns": now}
        unit.conn.execute(insert(events), row)
        endpoints: list[str] = list(unit.conn.execute(_SUBSCRIBED, params).scalars())
    else:  # one round trip: the event's insert (and its SMS) ride with the subscribers' read
        stored = {
            "event_id": event_id,
            "event_type": event_type,
            "event_data": data_text,
            "at": now,
            "party_ids": text_array(params["party_ids"]),
            "pattern": params["pattern"],
        }
        texts = sms.event_rows(unit, event_id, event_type, data, params["party_ids"])
        later = deferred.of(unit.conn)
        if later is not None:  # written with the group's other events (``emit_group``)
            later.add(deferred.EVENTS, ({**stored, "party_list": params["party_ids"]}, texts))
            notifications.record(unit, event_id, event_type, data)
            return event_id
        statement = _STORED_AND_SUBSCRIBED
        if texts:
            statement = _STORED_TEXTED_AND_SUBSCRIBED
            stored.update(sms.array_params(texts))
        endpoints = [row[0] for row in fetch_named(unit.conn, statement, stored)]
    rows = [_delivery(endpoint_id, event_id, now) for endpoint_id in endpoints]
    if rows:
        unit.conn.execute(insert(webhook_deliveries), rows)
    if unit.db.is_sqlite:
        sms.queue_event(unit, event_id, event_type, data, params["party_ids"])
    notifications.record(unit, event_id, event_type, data)
    return event_id


#: PostgreSQL: the event's insert as a data-modifying CTE of the subscribers' read, one
#: statement (PostgreSQL runs such a CTE exactly once, referenced or not) — the same
#: endpoints as ``_SUBSCRIBED``, the parties as one ``text[]`` (``store.pgarray``), so the
#: statement is a constant run on the driver (``fetch_named``: SQLAlchemy's per-statement
#: work, with an expanding IN, cost more client CPU than the statement; profiled on the
#: inbound credits, README "Bank rails").
_STORED_AND_SUBSCRIBED = text(
    "WITH new_event AS (INSERT INTO events (id, type, data, created_at_ns) "
    "VALUES (:event_id, :event_type, :event_data, :at) RETURNING id) "
    "SELECT id FROM webhook_endpoints WHERE status = 'enabled' "
    "AND (party_id = ANY(CAST(:party_ids AS text[])) OR party_id IS NULL) "
    "AND (enabled_events LIKE :pattern OR enabled_events = ',*,')"
).bindparams(
    bindparam("event_id", type_=events.c.id.type),
    bindparam("event_type", type_=events.c.type.type),
    bindparam("event_data", type_=events.c.data.type),
    bindparam("at", type_=events.c.created_at_ns.type),
    bindparam("party_ids", type_=Text()),
    bindparam("pattern", type_=Text()),
)
#: The same with the event's SMS (``sms.event_rows``) inserted in a second data-modifying
#: CTE (``sms.FROM_ARRAYS``): the messages cost no round trip of their own.
_STORED_TEXTED_AND_SUBSCRIBED = text(
    _STORED_AND_SUBSCRIBED.text.replace(
        "RETURNING id) ", "RETURNING id), new_texts AS (" + sms.FROM_ARRAYS + ") ", 1
    )
).bindparams(
    *_STORED_AND_SUBSCRIBED._bindparams.values(),
    *(bindparam(name, type_=Text()) for name in sms.ARRAY_PARAMS),
)


#: Every enabled endpoint of these parties or of the operator, with what it listens to.
_LISTENING = select(
    webhook_endpoints.c.id, webhook_endpoints.c.party_id, webhook_endpoints.c.enabled_events
).where(
    webhook_endpoints.c.status == "enabled",
    or_(
        webhook_endpoints.c.party_id.in_(bindparam("party_ids", expanding=True)),
        webhook_endpoints.c.party_id.is_(None),
    ),
)


def emit_many(unit: Unit, items: Sequence[tuple[str, dict[str, Any], Iterable[str]]]) -> list[str]:
    """``emit`` for many events at once (the loans' daily close announces thousands): one
    query for the endpoints that could hear any of them, two inserts. Each event reaches
    exactly the endpoints ``emit`` would have given it."""
    if not items:
        return []
    now = unit.now()
    concerned = sorted({p for _, _, parties in items for p in parties})
    endpoints = list(unit.conn.execute(_LISTENING, {"party_ids": concerned}))
    event_rows, deliveries, ids = [], [], []
    for event_type, data, parties in items:
        event_id = new_id("evt")
        ids.append(event_id)
        body = {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": iso(now),
            "data": data,
        }
        event_rows.append(
            {
                "id": event_id,
                "type": event_type,
                "data": json.dumps(body, separators=(",", ":")),
                "created_at_ns": now,
            }
        )
        wanted = set(parties)
        for endpoint_id, owner, enabled in endpoints:
            hears = enabled == ",*," or f",{event_type}," in enabled
            if hears and (owner is None or owner in wanted):
                deliveries.append(_delivery(endpoint_id, event_id, now))
    unit.conn.execute(insert(events), event_rows)
    if deliveries:
        unit.conn.execute(insert(webhook_deliveries), deliveries)
    texts = [
        (event_id, notice)
        for event_id, (event_type, data, parties) in zip(ids, items, strict=True)
        for notice in for_event(event_type, data, parties)
    ]
    if texts:
        sms.queue_notices(unit, texts)
    notifications.record_many(
        unit,
        [(event_id, kind, data) for event_id, (kind, data, _p) in zip(ids, items, strict=True)],
    )
    return ids


#: A group's events (``store.deferred``), their SMS and the endpoints that hear each, in one
#: statement: the events and the messages as one array per column, and the endpoints of
#: every (event, party) pair — a NULL party for each event, for the operator's — each
#: endpoint once an event, as ``_SUBSCRIBED`` finds them for one.
_GROUP_STORED_TEXTED_AND_SUBSCRIBED = text(
    "WITH new_events AS (INSERT INTO events (id, type, data, created_at_ns) "  # noqa: S608 (names, placeholders)
    "SELECT * FROM unnest(CAST(:event_ids AS text[]), CAST(:event_types AS text[]), "
    "CAST(:event_data AS text[]), CAST(:ats AS bigint[]))), "
    "new_texts AS (" + sms.FROM_ARRAYS + ") "
    "SELECT DISTINCT e.event_id, w.id FROM unnest(CAST(:pair_events AS text[]), "
    "CAST(:pair_parties AS text[]), CAST(:pair_patterns AS text[])) "
    "AS e(event_id, party_id, pattern) JOIN webhook_endpoints AS w "
    "ON w.status = 'enabled' AND (w.party_id = e.party_id OR w.party_id IS NULL) "
    "AND (w.enabled_events LIKE e.pattern OR w.enabled_events = ',*,')"
).bindparams(
    *(
        bindparam(name, type_=Text())
        for name in (
            "event_ids",
            "event_types",
            "event_data",
            "ats",
            "pair_events",
            "pair_parties",
            "pair_patterns",
            *sms.ARRAY_PARAMS,
        )
    )
)


def emit_group(unit: Unit, emitted: Sequence[tuple[dict[str, Any], list[Any]]]) -> None:
    """Write a group's events as ``emit`` would have written each (PostgreSQL): the events
    and their SMS in one statement with the endpoints that hear them, then the deliveries
    (one more statement, only when an endpoint hears one). ``emitted``: what ``emit`` kept,
    each event's values and its messages."""
    if not emitted:
        return
    events_ = [stored for stored, _ in emitted]
    pairs = [
        (e["event_id"], party, e["pattern"]) for e in events_ for party in [*e["party_list"], None]
    ]
    params = {
        "event_ids": text_array(e["event_id"] for e in events_),
        "event_types": text_array(e["event_type"] for e in events_),
        "event_data": text_array(e["event_data"] for e in events_),
        "ats": int_array(e["at"] for e in events_),
        "pair_events": text_array(p[0] for p in pairs),
        "pair_parties": text_array(p[1] for p in pairs),
        "pair_patterns": text_array(p[2] for p in pairs),
        **sms.array_params([t for _, texts in emitted for t in texts]),
    }
    heard = fetch_named(unit.conn, _GROUP_STORED_TEXTED_AND_SUBSCRIBED, params)
    at = {e["event_id"]: e["at"] for e in events_}
    rows = [_delivery(endpoint_id, event_id, at[event_id]) for event_id, endpoint_id in heard]
    if rows:
        unit.conn.execute(insert(webhook_deliveries), rows)


def _delivery(endpoint_id: str, event_id: str, now: int) -> dict[str, Any]:
    return {
        "id": new_id("whd"),
        "event_id": event_id,
        "endpoint_id": endpoint_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at_ns": now,
        "locked_until_ns": 0,
        "created_at_ns": now,
    }
