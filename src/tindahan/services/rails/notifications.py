"""camt.054 notifications from the clearing house, kept as received (issue 19, item 7).

The switch announces each movement on Tindahan's settlement account as it books it; the
worker collects them and ``receive`` keeps one row per entry: references, amount, direction,
booking day and when it arrived. The debtor's and creditor's names and accounts in the
message are personal data Tindahan already holds where it needs them, so they are not kept
a second time. A message received twice is kept once (by its message id and the entry's
position), so a retried collection stores nothing new.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.rails import MessageType
from tindahan.rails import xml as rails_xml
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.rails_tables import rail_notifications


def receive(unit: Unit, data: bytes) -> int:
    """Keep a camt.054's entries; returns how many were new (``MessageError`` if unreadable)."""
    message = rails_xml.read(data)
    if message.message_type is not MessageType.CAMT_054:
        raise invalid(
            "message_unexpected",
            f"a notification is a camt.054, not {message.message_type}",
            "message",
        )
    kept = set(
        unit.conn.execute(
            select(rail_notifications.c.position).where(
                rail_notifications.c.message_id == message.message_id
            )
        ).scalars()
    )
    rows = [
        {
            "id": new_id("ntf"),
            "message_id": message.message_id,
            "position": position,
            "account": message.account,
            "uetr": item.uetr,
            "end_to_end_id": item.end_to_end_id,
            "amount_minor": item.amount_minor,
            "currency": item.currency,
            "credit": item.credit_debit == "CRDT",
            "booking_date": item.booking_date.isoformat() if item.booking_date else "",
            "reference": item.reference,
            "received_at_ns": unit.now(),
        }
        for position, item in enumerate(message.transactions)
        if position not in kept and item.amount_minor and item.currency
    ]
    if rows:
        unit.conn.execute(insert(rail_notifications), rows)
    return len(rows)


def recent(unit: Unit, caller: Caller, limit: int) -> dict[str, Any]:
    """The newest notifications first (the console's rails monitor), with the total kept."""
    caller.require_operator()
    rows = (
        unit.conn.execute(
            select(rail_notifications)
            .order_by(rail_notifications.c.received_at_ns.desc(), rail_notifications.c.id)
            .limit(limit + 1)
        )
        .mappings()
        .all()
    )
    listed = page([_view(row) for row in rows[:limit]], len(rows) > limit)
    listed["total"] = unit.conn.execute(
        select(func.count()).select_from(rail_notifications)
    ).scalar_one()
    return listed


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "message_id": row["message_id"],
        "uetr": row["uetr"],
        "end_to_end_id": row["end_to_end_id"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "direction": "credit" if row["credit"] else "debit",
        "booking_date": row["booking_date"],
        "received": iso(row["received_at_ns"]),
    }
