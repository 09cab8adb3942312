"""USSD sessions in the database (issue 24).

Why the database and not Redis: a step is one short transaction on the row (insert it at
the first step, read it at the others), so the session and the money it moves live in the
one store whose commits the ledger already trusts; nothing has to be kept consistent across
two stores, a worker restart loses nothing, and Redis stays optional. The menus' state is
the session text itself, so the row is small (``store.ussd_tables``).

A dropped session leaves nothing half done: money moves only in the last step's single
transaction (after the PIN), never across steps; a session abandoned before it holds no
reservation, no pending transfer, nothing to undo.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select

from tindahan import limits
from tindahan.services.unit import Platform, Unit
from tindahan.store.ussd_tables import ussd_sessions

_SECOND = 10**9


@dataclass(frozen=True)
class Session:
    key: str  # SHA-256 of the aggregator's session id
    signup: bool
    timed_out: bool
    other_phone: bool


def key_of(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _checked(row: Any, key: str, phone_index: str, now: int) -> Session:
    if row.phone_index != phone_index:
        return Session(key, bool(row.signup), False, True)
    if now - row.started_at_ns > limits.USSD_SESSION_TIMEOUT_S * _SECOND:
        return Session(key, bool(row.signup), True, False)
    return Session(key, bool(row.signup), False, False)


def find(unit: Unit, session_id: str, phone_index: str) -> Session | None:
    """The session already begun, checked for its phone and its age; None if it is new.

    Read only: a later step writes nothing (the row is written once, at the first step), so
    its transaction takes no write lock (SQLite) and commits without a WAL flush
    (PostgreSQL). Every later step of every session used to update the row's last step and
    count, which nothing read."""
    key = key_of(session_id)
    query = select(
        ussd_sessions.c.phone_index, ussd_sessions.c.signup, ussd_sessions.c.started_at_ns
    ).where(ussd_sessions.c.id == key)
    row = unit.conn.execute(query).first()
    return None if row is None else _checked(row, key, phone_index, unit.now())


def step(unit: Unit, session_id: str, phone_index: str, steps: int, signup: bool) -> Session:
    """The session for this step: begun now if new (a sign-up when ``signup``), else checked
    for its phone and its age (as ``find``)."""
    key = key_of(session_id)
    now = unit.now()
    row = unit.conn.execute(select(ussd_sessions).where(ussd_sessions.c.id == key)).first()
    if row is None:
        # Two first steps at once: the loser's INSERT is a duplicate and its unit of work
        # runs again, finding the winner's row.
        unit.conn.execute(
            insert(ussd_sessions).values(
                id=key,
                phone_index=phone_index,
                signup=signup,
                started_at_ns=now,
                last_step_ns=now,
                steps=steps,
            )
        )
        return Session(key, signup, False, False)
    return _checked(row, key, phone_index, now)


def purge(platform: Platform) -> int:
    """Forget sessions begun more than ``limits.USSD_SESSION_KEEP_S`` ago (the worker)."""
    before = platform.now() - limits.USSD_SESSION_KEEP_S * _SECOND
    stale = delete(ussd_sessions).where(ussd_sessions.c.started_at_ns < before)
    return platform.run(lambda unit: int(unit.conn.execute(stale).rowcount))
