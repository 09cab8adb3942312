"""Idempotency keys (DESIGN.md invariant 5): a retried POST returns the first response.

``run`` does, in *one* transaction with the use case itself:

1. look ``(scope, key)`` up (scope = the caller's party, or the operator): a stored
   response is answered again, with nothing run;
2. run the use case and render its response;
3. store the response under the key (UNIQUE ``(scope, key)``); commit. A concurrent
   request with the same key that got there first makes this insert a unique violation
   (PostgreSQL waits for the first to commit to know): the whole transaction — its ledger
   transfers included — rolls back and runs again, now finding the stored response. The same
   key sent twice at once moves money once. (Storing at the end rather than claiming the key
   first saves two statements on every request; a twin does its work in vain, rarely.)

A refused request (4xx) is stored too, in a second transaction after the first rolled back,
so its retry gets the same refusal, as Stripe does. The request hash covers method, path and
the parsed JSON body (so key order and spacing do not matter); the same key with another
request is refused with 409 ``idempotency_key_reused``. Stored responses are kept
``limits.IDEMPOTENCY_TTL_SECONDS``; after that the key is forgotten (``purge``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import bindparam, delete, insert, select

from tindahan import limits
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.unit import Platform, Unit
from tindahan.store import deferred
from tindahan.store.hotpath import fetch_named
from tindahan.store.payment_tables import idempotency_keys

T = TypeVar("T")


#: Response fields holding personal data, stored as null whatever the use case: an order's
#: delivery address rests only sealed (``services.commerce.addresses``); a replay shows null
#: there and the order's GET shows it.
PERSONAL = ("shipping_address",)


@dataclass(frozen=True)
class Response:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False
    #: Fields stored as null: secrets shown to the first caller only.
    hidden: tuple[str, ...] = ()

    def stored_body(self) -> str:
        hidden = self.hidden + PERSONAL
        return json.dumps({k: None if k in hidden else v for k, v in self.body.items()})


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method.upper(), path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > limits.IDEMPOTENCY_KEY_MAX_LENGTH or not key.isprintable():
        message = (
            f"Idempotency-Key is 1 to {limits.IDEMPOTENCY_KEY_MAX_LENGTH} printable characters"
        )
        raise RefusalError(Category.INVALID, "idempotency_key_invalid", message, "Idempotency-Key")
    return key


def run(
    platform: Platform,
    scope: str,
    key: str,
    fingerprint: str,
    work: Callable[[Unit], T],
    render: Callable[[T], Response],
    render_refusal: Callable[[RefusalError], Response],
) -> Response:
    check_key(key)
    try:
        return platform.run(lambda unit: attempt(unit, scope, key, fingerprint, work, render))
    except RefusalError as refusal:
        if refusal.category is Category.IDEMPOTENCY:
            raise
        response = render_refusal(refusal)
        return platform.run(lambda unit: store_refusal(unit, scope, key, fingerprint, response))


_LOOKUP = select(idempotency_keys).where(
    idempotency_keys.c.scope == bindparam("scope"), idempotency_keys.c.key == bindparam("key")
)


_LOOKUP_KEYS = tuple(_LOOKUP.selected_columns.keys())
#: Every column named: the statement runs on the driver with the row as its parameters.
_INSERT = insert(idempotency_keys)


def _stored(unit: Unit, scope: str, key: str, fingerprint: str) -> Response | None:
    params = {"scope": scope, "key": key}
    row: Any
    later = deferred.of(unit.conn)
    if later is not None and (row := later.record(scope, key)) is not None:
        pass  # a twin earlier in the group: its record, not yet written
    elif later is not None and (scope, key) in later.looked_up:
        row = later.looked_up[(scope, key)]  # the group looked its keys up at its start
    elif unit.conn.dialect.name == "postgresql":  # on the driver (``store.hotpath``)
        found = fetch_named(unit.conn, _LOOKUP, params)
        row = dict(zip(_LOOKUP_KEYS, found[0], strict=True)) if found else None
    else:
        row = unit.conn.execute(_LOOKUP, params).mappings().first()
    if row is None:
        return None
    if row["created_at_ns"] <= unit.now() - limits.IDEMPOTENCY_TTL_SECONDS * 10**9:
        _forget(unit, scope, key)  # past its lifetime: the key is new again
        return None
    if row["request_hash"] != fingerprint:
        raise RefusalError(
            Category.IDEMPOTENCY,
            "idempotency_key_reused",
            "this Idempotency-Key was used with a different request",
            "Idempotency-Key",
        )
    return Response(row["status_code"], json.loads(row["response_body"]), replayed=True)


def attempt(
    unit: Unit,
    scope: str,
    key: str,
    fingerprint: str,
    work: Callable[[Unit], T],
    render: Callable[[T], Response],
) -> Response:
    found = _stored(unit, scope, key, fingerprint)
    if found is not None:
        return found
    response = render(work(unit))
    _insert(unit, scope, key, fingerprint, response)
    return response


def _insert(unit: Unit, scope: str, key: str, fingerprint: str, response: Response) -> None:
    """Store the response under the key. A twin request that got here first makes this a
    unique violation: the whole transaction rolls back and runs again, finding the twin's
    response (``Database.transact`` retries duplicates: ``fetch_named`` raises the same
    ``IntegrityError`` SQLAlchemy would)."""
    row = {
        "scope": scope,
        "key": key,
        "request_hash": fingerprint,
        "status_code": response.status_code,
        "response_body": response.stored_body(),
        "created_at_ns": unit.now(),
    }
    later = deferred.of(unit.conn)
    if later is not None:  # written with the group's other keys (``store.deferred``)
        later.add(deferred.KEYS, row)
    elif unit.conn.dialect.name == "postgresql":
        fetch_named(unit.conn, _INSERT, row)
    else:
        unit.conn.execute(_INSERT, row)


#: A group's keys looked up at once (PostgreSQL), and its records written at once.
_LOOK_UP_MANY = (
    "SELECT " + ", ".join(_LOOKUP_KEYS) + " FROM idempotency_keys "  # noqa: S608 (names only)
    "WHERE (scope, key) IN (SELECT * FROM unnest(%s::text[], %s::text[]))"
)
_INSERT_MANY = (
    "INSERT INTO idempotency_keys (" + ", ".join(_LOOKUP_KEYS) + ") "  # noqa: S608
    "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::text[], "
    "%s::bigint[])"
)


def look_up_many(conn: Any, wanted: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The records of these keys (PostgreSQL, one statement), None for a key not stored:
    what ``_stored`` then reads instead of the table, for a group's batching members."""
    found: dict[tuple[str, str], Any] = dict.fromkeys(wanted)
    if wanted:
        scopes, keys = zip(*wanted, strict=True)
        for row in conn.exec_driver_sql(_LOOK_UP_MANY, (list(scopes), list(keys))):
            found[(row[0], row[1])] = dict(zip(_LOOKUP_KEYS, row, strict=True))
    return found


def insert_many(conn: Any, rows: list[dict[str, Any]]) -> None:
    """A group's records in one statement (PostgreSQL). A key stored meanwhile outside the
    group is a unique violation: the group fails whole and is run member by member."""
    if rows:
        columns = tuple([r[name] for r in rows] for name in _LOOKUP_KEYS)
        conn.exec_driver_sql(_INSERT_MANY, columns)


def _forget(unit: Unit, scope: str, key: str) -> None:
    unit.conn.execute(
        delete(idempotency_keys).where(
            idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
        )
    )


def store_refusal(
    unit: Unit, scope: str, key: str, fingerprint: str, response: Response
) -> Response:
    found = _stored(unit, scope, key, fingerprint)
    if found is not None:
        return found  # a concurrent twin got there first: answer what it answered
    _insert(unit, scope, key, fingerprint, response)
    return response


def purge(platform: Platform) -> int:
    """Forget responses older than the TTL (the worker runs this)."""
    cutoff = platform.now() - limits.IDEMPOTENCY_TTL_SECONDS * 10**9
    return platform.run(
        lambda unit: (
            unit.conn.execute(
                delete(idempotency_keys).where(idempotency_keys.c.created_at_ns <= cutoff)
            ).rowcount
        )
    )
