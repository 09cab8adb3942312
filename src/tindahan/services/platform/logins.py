"""People signing in to the web app: a phone number and a PIN (or a password), and the
browser sessions that follow.

Why it is built this way:
* **Argon2id** (argon2-cffi's ``PasswordHasher`` with its defaults, RFC 9106's second
  recommended profile): a six-digit PIN is a million guesses, which a fast hash (the SHA-256
  that suffices for API keys, with their 256 random bits) gives away in a second; a memory-hard
  hash makes every guess cost. A hash made under older parameters is redone at the next
  successful sign-in (``check_needs_rehash``).
* **Lock-out**: ``limits.SIGNIN_MAX_FAILURES`` consecutive wrong tries lock signing in for
  ``limits.SIGNIN_LOCKOUT_SECONDS``; while locked, even the right PIN is refused without being
  checked. The count is committed although the attempt is refused (the attempt runs in its
  own transaction and the refusal is raised after it), and the login row is taken
  ``FOR UPDATE`` so concurrent tries queue and are counted exactly.
* **Sessions are stored hashed**: the browser holds a random secret (256 bits); the database
  holds only its SHA-256, so a copy of the database opens no session. A session ends when
  idle for ``limits.WEB_SESSION_IDLE_SECONDS`` and in any case after
  ``limits.WEB_SESSION_MAX_SECONDS``; ``last_seen`` is written at most every
  ``limits.WEB_SESSION_TOUCH_SECONDS``, so most page views are reads.
* **The phone number is stored encrypted** (the vault, as for parties) and found by its blind
  index; only the last four digits are kept in clear, to show.
* **One message for a wrong phone or a wrong PIN**, so nobody can learn which numbers have a
  login; when the number is unknown a dummy hash is verified anyway, so both take as long.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid
from tindahan.payments import parties as rules
from tindahan.payments.model import PartyStatus
from tindahan.services.platform import audit
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Platform, Unit, iso, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.web_tables import logins, web_sessions

OPERATOR_KIND = "operator"
_hasher = PasswordHasher()
_CLI = Caller("cli", None, frozenset(DEFAULT_SCOPES))
_SECOND = 10**9


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the web app, through which session."""

    login_id: str
    session_id: str
    party_id: str | None  # None: operator staff
    kind: str  # "customer" | "merchant" | "agent" | "operator"
    name: str  # the party's current name, or the staff name
    caller: Caller  # Caller(key_id=login_id, party_id=party_id, scopes=DEFAULT_SCOPES)

    @property
    def operator(self) -> bool:
        return self.party_id is None


# --- secrets ---------------------------------------------------------------------------------
def _secret_invalid(message: str) -> RefusalError:
    return invalid("secret_invalid", message, "secret")


def _is_run(digits: str) -> bool:
    """One repeated digit (111111) or a straight run up or down (123456, 654321, 890123)."""
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
    return len(steps) == 1 and steps <= {0, 1, 9}


def check_secret(secret: str) -> str:
    """A PIN (``PIN_MIN_DIGITS``-``PIN_MAX_DIGITS`` digits, not a run) or a password
    (``PASSWORD_MIN_LENGTH``-``PASSWORD_MAX_LENGTH`` printable characters); returned as given."""
    if secret.isascii() and secret.isdigit():
        if not limits.PIN_MIN_DIGITS <= len(secret) <= limits.PIN_MAX_DIGITS:
            raise _secret_invalid(
                f"a PIN is {limits.PIN_MIN_DIGITS} to {limits.PIN_MAX_DIGITS} digits"
            )
        if _is_run(secret):
            message = "this PIN is too easy to guess (one digit repeated, or digits in a row)"
            raise invalid("secret_weak", message, "secret")
        return secret
    if not limits.PASSWORD_MIN_LENGTH <= len(secret) <= limits.PASSWORD_MAX_LENGTH:
        raise _secret_invalid(
            f"give a PIN of {limits.PIN_MIN_DIGITS} to {limits.PIN_MAX_DIGITS} digits, or a "
            f"password of {limits.PASSWORD_MIN_LENGTH} to {limits.PASSWORD_MAX_LENGTH} characters"
        )
    if not secret.isprintable():
        raise _secret_invalid("a password holds printable characters only")
    return secret


@functools.cache
def _dummy_hash() -> str:
    """Verified when the phone number is unknown, so that answer takes as long as a wrong PIN."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(encoded: str, secret: str) -> bool:
    try:
        return _hasher.verify(encoded, secret)
    except (VerificationError, InvalidHashError):
        return False


def digest(session_secret: str) -> str:
    return hashlib.sha256(session_secret.encode()).hexdigest()


# --- logins ----------------------------------------------------------------------------------
def create(
    unit: Unit,
    caller: Caller | None,
    *,
    party_id: str | None,
    phone: str,
    secret: str,
    name: str | None = None,
) -> dict[str, Any]:
    """A login for a party, or (``party_id=None``) for operator staff, who need a ``name``.

    ``caller`` is None for the command line (whoever runs it holds the database)."""
    if caller is not None:
        caller.require_operator()
    number = rules.phone_number(phone)
    check_secret(secret)
    login_id = new_id("lgn")
    if party_id is None:
        if name is None:
            raise invalid("parameter_missing", "operator staff need a name", "name")
        display = rules.name(name)
    else:
        party = party_row(unit, caller or _CLI, party_id)
        if party["status"] == PartyStatus.CLOSED:
            raise conflict("party_closed", "this party is closed", "party_id")
        has = unit.conn.execute(select(logins.c.id).where(logins.c.party_id == party_id))
        if has.first():
            raise conflict("login_exists", "this party already has a login", "party_id")
        display = rules.name(name) if name is not None else party["name"]
    index = unit.vault.index(number)
    if unit.conn.execute(select(logins.c.id).where(logins.c.phone_index == index)).first():
        raise conflict("phone_taken", "another login has this phone number", "phone")
    row = {
        "id": login_id,
        "party_id": party_id,
        "is_operator": party_id is None,
        "name": display,
        "phone_index": index,
        "phone_cipher": unit.vault.seal(number, f"login_phone:{login_id}"),
        "phone_last4": number[-4:],
        "secret_hash": _hasher.hash(secret),
        "failed_attempts": 0,
        "locked_until_ns": None,
        "created_at_ns": unit.now(),
        "last_signed_in_ns": None,
    }
    unit.conn.execute(insert(logins).values(**row))
    details = {"operator": party_id is None, "party_id": party_id}
    actor = caller.key_id if caller is not None else "cli"
    audit.record(unit, actor, "login.created", "login", login_id, None, details)
    return _view(row)


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "login",
        "party_id": row["party_id"],
        "operator": bool(row["is_operator"]),
        "name": row["name"],
        "phone_last4": row["phone_last4"],
        "created": iso(row["created_at_ns"]),
    }


# --- signing in ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Attempt:
    outcome: str  # "ok" | "failed" | "locked"
    secret: str = ""
    viewer: Viewer | None = None
    locked_minutes: int = 0


def _failed() -> RefusalError:
    return RefusalError(
        Category.AUTHENTICATION, "signin_failed", "wrong phone number or PIN", "secret"
    )


def _locked(minutes: int) -> RefusalError:
    unit = "minute" if minutes == 1 else "minutes"
    message = f"too many wrong tries: signing in is locked for {minutes} more {unit}"
    return RefusalError(Category.AUTHENTICATION, "signin_locked", message, None)


def sign_in(platform: Platform, phone: str, secret: str) -> tuple[str, Viewer]:
    """A new session for the login with this phone and secret: (its secret, the viewer)."""
    index = platform.vault.index(rules.phone_number(phone))
    attempt = platform.run(lambda unit: _attempt(unit, index, secret))
    if attempt.outcome == "locked":
        raise _locked(attempt.locked_minutes)
    if attempt.outcome != "ok" or attempt.viewer is None:
        raise _failed()
    return attempt.secret, attempt.viewer


def _attempt(unit: Unit, index: str, secret: str) -> _Attempt:
    """One try, in its own transaction: what it did to the count is committed whatever the
    outcome (``sign_in`` raises only after)."""
    row = (
        unit.conn.execute(select(logins).where(logins.c.phone_index == index).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        _verify(_dummy_hash(), secret)
        return _Attempt("failed")
    now = unit.now()
    if row["locked_until_ns"] is not None and now < row["locked_until_ns"]:
        left = row["locked_until_ns"] - now
        return _Attempt("locked", locked_minutes=max(1, -(-left // (60 * _SECOND))))
    party = _party(unit, row["party_id"])
    # Verified even for a closed party, so its answer takes as long as any other; a secret
    # longer than any password could be is wrong without costing a hash.
    right = len(secret) <= limits.PASSWORD_MAX_LENGTH and _verify(row["secret_hash"], secret)
    if party is not None and party["status"] == PartyStatus.CLOSED:
        return _Attempt("failed")
    if not right:
        _count_failure(unit, row, now)
        return _Attempt("failed")
    changes: dict[str, Any] = {"failed_attempts": 0, "locked_until_ns": None}
    changes["last_signed_in_ns"] = now
    if _hasher.check_needs_rehash(row["secret_hash"]):
        changes["secret_hash"] = _hasher.hash(secret)
    unit.conn.execute(update(logins).where(logins.c.id == row["id"]).values(**changes))
    session_secret = secrets.token_urlsafe(32)
    session_id = new_id("ses")
    unit.conn.execute(
        insert(web_sessions).values(
            id=session_id,
            secret_hash=digest(session_secret),
            login_id=row["id"],
            created_at_ns=now,
            last_seen_ns=now,
            expires_at_ns=now + limits.WEB_SESSION_MAX_SECONDS * _SECOND,
            ended_at_ns=None,
        )
    )
    return _Attempt("ok", session_secret, _viewer(row, party, session_id))


def _count_failure(unit: Unit, row: Any, now: int) -> None:
    failures = row["failed_attempts"] + 1
    if failures < limits.SIGNIN_MAX_FAILURES:
        unit.conn.execute(
            update(logins).where(logins.c.id == row["id"]).values(failed_attempts=failures)
        )
        return
    until = now + limits.SIGNIN_LOCKOUT_SECONDS * _SECOND
    unit.conn.execute(
        update(logins)
        .where(logins.c.id == row["id"])
        .values(failed_attempts=0, locked_until_ns=until)
    )
    details = {"failures": failures, "locked_until": iso(until)}
    audit.record(unit, row["id"], "login.locked", "login", row["id"], None, details)


def _party(unit: Unit, party_id: str | None) -> Any:
    if party_id is None:
        return None
    query = select(parties.c.kind, parties.c.name, parties.c.status)
    return unit.conn.execute(query.where(parties.c.id == party_id)).mappings().first()


def _viewer(row: Any, party: Any, session_id: str) -> Viewer:
    party_id = row["party_id"]
    return Viewer(
        login_id=row["id"],
        session_id=session_id,
        party_id=party_id,
        kind=party["kind"] if party is not None else OPERATOR_KIND,
        name=party["name"] if party is not None else row["name"],
        caller=Caller(row["id"], party_id, frozenset(DEFAULT_SCOPES)),
    )


# --- sessions --------------------------------------------------------------------------------
def viewer(platform: Platform, session_secret: str | None) -> Viewer | None:
    """Who holds this session secret, or None (no such session, ended, expired, idle too
    long, or the party is closed). Writes ``last_seen`` only when it is due."""
    if not session_secret:
        return None
    hashed = digest(session_secret)

    def look(unit: Unit) -> tuple[Any, Any, Any, int] | None:
        session = (
            unit.conn.execute(select(web_sessions).where(web_sessions.c.secret_hash == hashed))
            .mappings()
            .first()
        )
        if session is None:
            return None
        login = (
            unit.conn.execute(select(logins).where(logins.c.id == session["login_id"]))
            .mappings()
            .one()
        )
        return session, login, _party(unit, login["party_id"]), unit.now()

    found = platform.run(look, write=False)
    if found is None:
        return None
    session, login, party, now = found
    if session["ended_at_ns"] is not None or now >= session["expires_at_ns"]:
        return None
    if now - session["last_seen_ns"] >= limits.WEB_SESSION_IDLE_SECONDS * _SECOND:
        return None
    if party is not None and party["status"] == PartyStatus.CLOSED:
        return None
    if now - session["last_seen_ns"] >= limits.WEB_SESSION_TOUCH_SECONDS * _SECOND:
        touch = (
            update(web_sessions)
            .where(web_sessions.c.id == session["id"], web_sessions.c.last_seen_ns < now)
            .values(last_seen_ns=now)
        )
        platform.run(lambda unit: unit.conn.execute(touch))
    return _viewer(login, party, session["id"])


def sign_out(platform: Platform, session_secret: str | None) -> None:
    """End the session (nothing for an unknown or already ended one)."""
    if not session_secret:
        return
    hashed = digest(session_secret)

    def end(unit: Unit) -> None:
        unit.conn.execute(
            update(web_sessions)
            .where(web_sessions.c.secret_hash == hashed, web_sessions.c.ended_at_ns.is_(None))
            .values(ended_at_ns=unit.now())
        )

    platform.run(end)


def end_sessions(unit: Unit, login_id: str) -> int:
    """End every open session of a login (its PIN changed, it was locked by the operator);
    returns how many."""
    done = unit.conn.execute(
        update(web_sessions)
        .where(web_sessions.c.login_id == login_id, web_sessions.c.ended_at_ns.is_(None))
        .values(ended_at_ns=unit.now())
    )
    return int(done.rowcount)


def actor_names(unit: Unit, caller: Caller, actors: list[str]) -> dict[str, str]:
    """Operator only: the display name of each login among ``actors`` (audit entries name
    their actor by id: ``lgn_…``, ``key_…``, ``cli``); others are left out."""
    caller.require_operator()
    wanted = sorted({a for a in actors if a.startswith("lgn_")})[: limits.MAX_PAGE_SIZE]
    if not wanted:
        return {}
    found = unit.conn.execute(select(logins.c.id, logins.c.name).where(logins.c.id.in_(wanted)))
    return {login_id: name for login_id, name in found}
