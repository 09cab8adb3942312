"""API keys: random, shown once, stored as a SHA-256 hash, prefixed by environment.

A key looks like ``tk_live_<43 characters>`` (256 random bits, URL-safe base64). Only its
SHA-256 is stored: keys are high-entropy secrets, so a fast hash is enough (there is no
dictionary to try), and a stolen database yields no usable key. ``display`` keeps the prefix
and last four characters so people can tell their keys apart.

The prefix says which environment the database is: ``tk_test_`` for a demo or sandbox
database (``settings.environment = test``, set by ``tindahan serve --demo``), ``tk_live_``
otherwise. A key whose prefix does not match the database it is used on is refused, so a
test key pasted into production fails loudly instead of touching real money.

Verified keys are remembered per process for ``limits.API_KEY_CACHE_SECONDS`` (by hash, never
by secret), which saves a query per request; revoking a key takes effect within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller, parse_scopes, unauthenticated
from tindahan.kernel.refusals import invalid, not_found
from tindahan.services.platform.listing import page
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Platform, Unit, iso, new_id
from tindahan.store.payment_tables import api_keys, settings

PREFIXES = {"live": "tk_live_", "test": "tk_test_"}


def environment(unit: Unit) -> str:
    value = unit.conn.execute(
        select(settings.c.value).where(settings.c.key == "environment")
    ).scalar_one_or_none()
    return value or "live"


def set_environment(platform: Platform, value: str) -> None:
    """Mark a database ``test`` (demo, sandbox) or ``live``; only while it has no keys."""
    assert value in PREFIXES

    def work(unit: Unit) -> None:
        current = environment(unit)
        if current == value:
            return
        has_keys = unit.conn.execute(select(api_keys.c.id).limit(1)).first()
        if has_keys:
            raise ValueError(f"this database is {current} and already has API keys")
        done = unit.conn.execute(
            update(settings).where(settings.c.key == "environment").values(value=value)
        ).rowcount
        if not done:
            unit.conn.execute(insert(settings).values(key="environment", value=value))

    platform.run(work)


def environment_of(platform: Platform) -> str:
    """``live`` or ``test``: the environment the database's keys are made for."""
    return platform.run(environment, write=False)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    unit: Unit,
    caller: Caller | None,
    *,
    party_id: str | None,
    scopes: frozenset[str] = frozenset(DEFAULT_SCOPES),
    secret: str | None = None,
) -> tuple[dict[str, Any], str]:
    """A new key for a party (or, with ``party_id=None``, for the operator).

    ``caller`` is None for the command line (whoever runs it holds the database). Returns the
    key's view and its secret, which is never available again. ``secret`` is for the demo's
    keys only (derived from the data key, so each start prints the same ones).
    """
    if caller is not None:
        caller.require("keys:write")
        if party_id is None:
            caller.require_operator()
    if party_id is not None:
        party_row(unit, caller or _OPERATOR, party_id)
    if secret is None:
        secret = PREFIXES[environment(unit)] + secrets.token_urlsafe(limits.API_KEY_BYTES)
    row = {
        "id": new_id("key"),
        "secret_hash": digest(secret),
        "display": secret[:8] + "…" + secret[-4:],
        "party_id": party_id,
        "is_operator": party_id is None,
        "scopes": ",".join(sorted(scopes)),
        "created_at_ns": unit.now(),
        "revoked_at_ns": None,
    }
    unit.conn.execute(insert(api_keys).values(**row))
    return view(row), secret


_OPERATOR = Caller("cli", None, frozenset(DEFAULT_SCOPES))


def create_for(
    unit: Unit, caller: Caller, *, party_id: str | None, scopes: str | None
) -> tuple[dict[str, Any], str]:
    """A key made through the API: a party's key makes keys for its own party only, and
    never with a scope it does not hold itself; the operator's make any."""
    caller.require("keys:write")
    wanted = parse_scopes(scopes) if scopes is not None else frozenset(DEFAULT_SCOPES)
    if not caller.operator:
        if party_id not in (None, caller.party_id):
            raise not_found("party", "party_id")
        party_id = caller.party_id
        if not wanted <= caller.scopes:
            raise invalid("scopes_invalid", "a key cannot grant scopes it does not hold", "scopes")
    return create(unit, caller, party_id=party_id, scopes=wanted)


def view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "api_key",
        "display": row["display"],
        "party_id": row["party_id"],
        "operator": bool(row["is_operator"]),
        "scopes": row["scopes"].split(","),
        "created": iso(row["created_at_ns"]),
        "revoked": iso(row["revoked_at_ns"]),
    }


def list_keys(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require("keys:write")
    query = select(api_keys).order_by(api_keys.c.id)
    if not caller.operator:
        query = query.where(api_keys.c.party_id == caller.party_id)
    return page([view(r) for r in unit.conn.execute(query).mappings()], False)


def revoke(unit: Unit, caller: Caller, key_id: str) -> dict[str, Any]:
    caller.require("keys:write")
    row = unit.conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
    if row is None or not (caller.operator or row["party_id"] == caller.party_id):
        raise not_found("API key", "id")
    now = row["revoked_at_ns"] or unit.now()
    unit.conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at_ns=now))
    _cache.forget(row["secret_hash"])
    return view({**row, "revoked_at_ns": now})


class _Cache:
    """Verified keys by hash, per process, for a few seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.entries: dict[str, tuple[int, Caller]] = {}

    def get(self, key: str) -> Caller | None:
        with self.lock:
            entry = self.entries.get(key)
        if entry and entry[0] > time.monotonic_ns():
            return entry[1]
        return None

    def put(self, key: str, caller: Caller) -> None:
        with self.lock:
            if len(self.entries) >= limits.API_KEY_CACHE_SIZE:
                self.entries.clear()
            self.entries[key] = (time.monotonic_ns() + limits.API_KEY_CACHE_SECONDS * 10**9, caller)

    def forget(self, key: str) -> None:
        with self.lock:
            self.entries.pop(key, None)


_cache = _Cache()


def remembered(secret: str | None) -> Caller | None:
    """The caller for a key verified in the last few seconds in this process, if any."""
    if not secret or not secret.startswith(tuple(PREFIXES.values())) or len(secret) > 128:
        return None
    return _cache.get(digest(secret))


def authenticate(platform: Platform, secret: str | None) -> Caller:
    """The caller behind an ``Authorization: Bearer`` secret, or a 401 refusal."""
    if not secret:
        raise unauthenticated(
            "api_key_missing", "send your API key as 'Authorization: Bearer tk_…'"
        )
    if not secret.startswith(tuple(PREFIXES.values())) or len(secret) > 128:
        raise unauthenticated("api_key_invalid", "that is not a Tindahan API key")
    hashed = digest(secret)
    cached = _cache.get(hashed)
    if cached is not None:
        return cached
    caller = platform.run(lambda unit: _lookup(unit, secret, hashed), write=False)
    _cache.put(hashed, caller)
    return caller


def _lookup(unit: Unit, secret: str, hashed: str) -> Caller:
    row = (
        unit.conn.execute(select(api_keys).where(api_keys.c.secret_hash == hashed))
        .mappings()
        .first()
    )
    if row is None:
        raise unauthenticated("api_key_invalid", "no such API key")
    if row["revoked_at_ns"] is not None:
        raise unauthenticated("api_key_revoked", "this API key has been revoked")
    if not secret.startswith(PREFIXES[environment(unit)]):
        raise unauthenticated("api_key_wrong_environment", "this key is for another environment")
    return Caller(row["id"], row["party_id"], frozenset(row["scopes"].split(",")))
