"""Notifications: what a party is told on the pages and through ``GET /v1/notifications``
(issue 21, item 4).

``record`` is called by ``events.emit`` (and ``emit_many``) for every event, inside the
event's transaction: the domain's rule (``webhooks.notices``) says who is told of it, and the
rows are written with the event — if the order's payment rolls back, so does the merchant's
"new paid order". What the rule needs beyond the event's data is read here: a shipment's
buyer and order reference, a sender's name (masked, ``payments.sends.masked_name``).

Reading is tenancy-scoped: a party lists and marks its own; an operator names the party.
Marking read sets ``read_at_ns`` once (a second mark changes nothing).

**SMS** (issue 24) is not sent from here: the SMS outbox is driven by the same events in the
same transaction (``services.platform.sms.queue_event``, called beside ``record`` in
``emit``). A notice kind that should also be texted is added to ``sms.notices``, not here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.payments.sends import masked_name
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import orders
from tindahan.store.payment_tables import notifications, parties
from tindahan.webhooks import notices

#: The events the rule turns into notices; anything else costs nothing here.
_TOLD = frozenset(
    {
        "order.paid",
        "order.shipped",
        "order.late",
        "order.refunded",
        "order.disputed",
        "shipment.updated",
        "mobile_transfer.succeeded",
        "cash_in.succeeded",
        "payout.succeeded",
        "payout.failed",
        "bank_transfer.succeeded",
        "bank_transfer.failed",
        "bank_transfer.returned",
    }
)


def _context(unit: Unit, event_type: str, data: Mapping[str, Any]) -> dict[str, notices.Fact]:
    if event_type == "shipment.updated":
        row = unit.conn.execute(
            select(orders.c.buyer_id, orders.c.short_ref).where(orders.c.id == data["order_id"])
        ).first()
        return {"buyer_id": row[0], "short_ref": row[1]} if row else {}
    if event_type == "mobile_transfer.succeeded" and data.get("payer_id"):
        name = unit.conn.execute(
            select(parties.c.name).where(parties.c.id == data["payer_id"])
        ).scalar()
        return {"sender_name": masked_name(name) if name else None}
    return {}


def record(unit: Unit, event_id: str, event_type: str, data: Mapping[str, Any]) -> int:
    """The notices of one event, written in its transaction. Returns how many."""
    if event_type not in _TOLD:
        return 0
    found = notices.notices_of(event_type, data, _context(unit, event_type, data))
    if not found:
        return 0
    now = unit.now()
    rows = [
        {
            "id": new_id("ntf"),
            "party_id": n.party_id,
            "kind": n.kind,
            "subject_id": n.subject_id,
            "event_id": event_id,
            "facts": json.dumps(n.facts, sort_keys=True, separators=(",", ":")),
            "read_at_ns": None,
            "created_at_ns": now,
        }
        for n in found
    ]
    unit.conn.execute(insert(notifications), rows)
    return len(rows)


def record_many(unit: Unit, items: Sequence[tuple[str, str, Mapping[str, Any]]]) -> int:
    """``record`` for ``emit_many``'s events: (event id, type, data) each."""
    return sum(record(unit, event_id, kind, data) for event_id, kind, data in items)


def _owner(caller: Caller, party_id: str | None) -> str:
    if caller.operator:
        if not party_id:
            raise invalid("parameter_missing", "an operator key must give party_id", "party_id")
        return party_id
    if party_id not in (None, caller.party_id):
        raise not_found("party", "party_id")
    assert caller.party_id is not None
    return caller.party_id


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "notification",
        "party_id": row["party_id"],
        "kind": row["kind"],
        "subject_id": row["subject_id"],
        "event_id": row["event_id"],
        "facts": json.loads(row["facts"]),
        "read": row["read_at_ns"] is not None,
        "read_at": iso(row["read_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def list_notifications(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None = None,
    *,
    unread: bool = False,
    party_id: str | None = None,
) -> dict[str, Any]:
    """Newest first; the cursor is the last notification id of the previous page."""
    caller.require("parties:read")
    owner = _owner(caller, party_id)
    n = notifications.c
    query = (
        select(notifications)
        .where(n.party_id == owner)
        .order_by(n.created_at_ns.desc(), n.id.desc())
        .limit(limit + 1)
    )
    if unread:
        query = query.where(n.read_at_ns.is_(None))
    if starting_after:
        cursor = (
            unit.conn.execute(
                select(n.created_at_ns, n.id).where(n.id == starting_after, n.party_id == owner)
            )
            .mappings()
            .first()
        )
        if cursor is None:
            raise invalid(
                "cursor_invalid", "starting_after is not a notification of yours", "starting_after"
            )
        query = query.where(
            or_(
                n.created_at_ns < cursor["created_at_ns"],
                and_(n.created_at_ns == cursor["created_at_ns"], n.id < cursor["id"]),
            )
        )
    rows = unit.conn.execute(query).mappings().all()
    return page([view(r) for r in rows[:limit]], len(rows) > limit)


def unread_count(unit: Unit, caller: Caller, party_id: str | None = None) -> int:
    """Unread notices, counted up to ``limits.NOTIFICATIONS_BADGE_MAX`` + 1 (a badge says
    "99+" past that; counting a party's whole history on every page would be wasted)."""
    caller.require("parties:read")
    owner = _owner(caller, party_id)
    n = notifications.c
    capped = (
        select(n.id)
        .where(n.party_id == owner, n.read_at_ns.is_(None))
        .limit(limits.NOTIFICATIONS_BADGE_MAX + 1)
        .subquery()
    )
    return int(unit.conn.execute(select(func.count()).select_from(capped)).scalar_one())


def mark_read(
    unit: Unit, caller: Caller, ids: Sequence[str] | None = None, party_id: str | None = None
) -> dict[str, Any]:
    """Mark these notices (all the party's unread ones when ``ids`` is None) read. An id
    that is not the party's is "no such notification", and nothing is marked."""
    caller.require("parties:read")
    owner = _owner(caller, party_id)
    n = notifications.c
    where = [n.party_id == owner, n.read_at_ns.is_(None)]
    if ids is not None:
        wanted = sorted(set(ids))
        if len(wanted) > limits.MAX_PAGE_SIZE:
            raise invalid("parameter_invalid", f"at most {limits.MAX_PAGE_SIZE} ids", "ids")
        mine = set(
            unit.conn.execute(select(n.id).where(n.party_id == owner, n.id.in_(wanted))).scalars()
        )
        if mine != set(wanted):
            raise not_found("notification", "ids")
        where.append(n.id.in_(wanted))
    marked = unit.conn.execute(update(notifications).where(*where).values(read_at_ns=unit.now()))
    return {
        "object": "notification_read",
        "marked": marked.rowcount,
        "unread": unread_count(unit, caller, owner),
    }
