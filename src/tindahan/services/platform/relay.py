"""The outbox's relay to a message stream (issue 23, item 2): which events are still to be
published, and marking them published once the stream has acknowledged them.

The marker is per event (``events.published_at_ns``), not one high-water mark: events are
written by concurrent transactions that commit out of the order of their timestamps, and a
single "published up to" time would skip an event that committed after the relay had passed
its moment. An event is marked only after the stream acknowledged it; a relay that dies in
between publishes it again on its next round, and the stream drops the copy (its message id
is the event id, inside the stream's duplicate window). Delivery is therefore at least once
into the stream and exactly once in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from tindahan import limits
from tindahan.services.unit import Platform, Unit
from tindahan.store.payment_tables import events


@dataclass(frozen=True)
class Unpublished:
    event_id: str
    event_type: str
    body: bytes  # the event exactly as webhooks carry it (``events.data``)


def pending(platform: Platform, limit: int = limits.NATS_RELAY_BATCH) -> list[Unpublished]:
    """The oldest events not yet published, oldest first."""

    def work(unit: Unit) -> list[Unpublished]:
        rows = unit.conn.execute(
            select(events.c.id, events.c.type, events.c.data)
            .where(events.c.published_at_ns.is_(None))
            .order_by(events.c.created_at_ns, events.c.id)
            .limit(limit)
        ).all()
        return [Unpublished(r[0], r[1], r[2].encode()) for r in rows]

    return platform.run(work, write=False)


def mark_published(platform: Platform, event_ids: list[str]) -> int:
    """Record that the stream holds these events; returns how many were newly marked."""
    if not event_ids:
        return 0

    def work(unit: Unit) -> int:
        result = unit.conn.execute(
            update(events)
            .where(events.c.id.in_(event_ids), events.c.published_at_ns.is_(None))
            .values(published_at_ns=unit.now())
        )
        return int(result.rowcount)

    return platform.run(work)
