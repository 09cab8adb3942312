"""The operator audit log: who changed what, when, and why (compliance reads it).

Every change an operator makes to a party (a freeze, a tier), every login made, every
lock-out is one row written in the same transaction as the change itself, so the log never
shows a change that did not happen, nor misses one that did. Rows are only ever inserted.
The actor is the caller's ``key_id``: an API key id (``key_…``), a login id (``lgn_…``), or
``cli`` / ``demo`` for the command line and the demo seeder.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import and_, insert, or_, select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.web_tables import audit_log


def check_note(note: str | None) -> str | None:
    """The note trimmed (None when empty), at most ``limits.AUDIT_NOTE_MAX_LENGTH``."""
    if note is None:
        return None
    value = note.strip()
    if len(value) > limits.AUDIT_NOTE_MAX_LENGTH:
        message = f"note is at most {limits.AUDIT_NOTE_MAX_LENGTH} characters"
        raise invalid("note_invalid", message, "note")
    return value or None


def record(
    unit: Unit,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    note: str | None = None,
    details: dict[str, Any] | None = None,
) -> str:
    """Write one entry in the caller's transaction; returns its id."""
    entry_id = new_id("aud")
    unit.conn.execute(
        insert(audit_log).values(
            id=entry_id,
            at_ns=unit.now(),
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            note=check_note(note),
            details=json.dumps(details or {}, sort_keys=True, separators=(",", ":")),
        )
    )
    return entry_id


def list_entries(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None = None,
    object_id: str | None = None,
) -> dict[str, Any]:
    """Operator only: the entries, newest first, optionally of one object."""

    caller.require_operator()
    if not 1 <= limit <= limits.MAX_PAGE_SIZE:
        raise invalid("limit_invalid", f"limit is 1 to {limits.MAX_PAGE_SIZE}", "limit")
    query = select(audit_log).order_by(audit_log.c.at_ns.desc(), audit_log.c.id.desc())
    if object_id is not None:
        query = query.where(audit_log.c.object_id == object_id)
    if starting_after:
        cursor = unit.conn.execute(
            select(audit_log.c.at_ns, audit_log.c.object_id).where(audit_log.c.id == starting_after)
        ).first()
        if cursor is None or (object_id is not None and cursor.object_id != object_id):
            message = "starting_after is not an entry of this list"
            raise invalid("cursor_invalid", message, "starting_after")
        query = query.where(
            or_(
                audit_log.c.at_ns < cursor.at_ns,
                and_(audit_log.c.at_ns == cursor.at_ns, audit_log.c.id < starting_after),
            )
        )
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page([_view(r) for r in found[:limit]], len(found) > limit)


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "audit_entry",
        "at": iso(row["at_ns"]),
        "actor": row["actor"],
        "action": row["action"],
        "object_type": row["object_type"],
        "object_id": row["object_id"],
        "note": row["note"],
        "details": json.loads(row["details"]),
    }
