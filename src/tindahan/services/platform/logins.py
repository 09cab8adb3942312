"""People signing in to the web app: a phone number and a PIN (or a password), and the
browser sessions that follow.

Why it is built this way:
* **Argon2id** (argon2-cffi's ``PasswordHasher`` with OWASP's first configuration: 19 MiB,
  two passes, one lane; ``limits.PIN_HASH_MEMORY_KIB`` says why not RFC 9106's 64 MiB
  profile): a six-digit PIN is a million guesses, which a fast hash (the SHA-256 that
  suffices for API keys, with their 256 random bits) gives away in a second; a memory-hard
  hash makes every guess cost. A hash made under other parameters is redone at the next
  successful sign-in (``check_needs_rehash``).
* **Throttles, not a lock-out** (``throttles``, issue 17): every try is counted, before the
  PIN is checked, per (number, client), per number, per client address, per PIN and
  site-wide, identically for numbers with and without a login; a throttled try is refused
  (``SignInThrottledError``: 429 with ``Retry-After`` on the web) without checking the PIN.
  A stranger slows himself, not the owner, whose known browsers (``signin_devices``, a
  cookie set at each sign-in) skip the per-number limit. Counting takes its own short
  transaction; Argon2 runs outside any, and a right PIN gives the try back.
* **Sessions are stored hashed**: the browser holds a random secret (256 bits); the database
  holds only its SHA-256, so a copy of the database opens no session. A session ends when
  idle for ``limits.WEB_SESSION_IDLE_SECONDS`` and in any case after
  ``limits.WEB_SESSION_MAX_SECONDS``; ``last_seen`` is written at most every
  ``limits.WEB_SESSION_TOUCH_SECONDS``, so most page views are reads.
* **The phone number is stored encrypted** (the vault, as for parties) and found by its blind
  index; only the last four digits are kept in clear, to show.
* **One message for a wrong phone or a wrong PIN**, so nobody can learn which numbers have a
  login; when the number is unknown a dummy hash is verified anyway, so both take as long,
  and the same goes for a closed party's login and for throttled answers.
* **Argon2 runs on its own few threads, at a lower priority** (``_hashing``): every hash
  and verification goes to a pool of ``limits.PIN_HASH_THREADS`` threads per process whose
  nice value is ``limits.PIN_HASH_NICE`` above the caller's. argon2-cffi releases the GIL,
  so a hash never blocks the event loop or another request's Python; the pool bounds the
  memory (19 MiB a hash in flight) and, when the CPU is short, a PIN's hash waits for the
  cheap steps (menus, pages) rather than they for it (issue 24: USSD menu steps stuck
  behind other sessions' PIN hashes). The parameters, and so each guess's cost, are
  unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid
from tindahan.payments import parties as rules
from tindahan.payments.model import PartyStatus
from tindahan.services.platform import audit, sms, throttles
from tindahan.services.platform.parties import party_row
from tindahan.services.unit import Platform, Unit, iso, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.web_tables import logins, signin_devices, web_sessions

OPERATOR_KIND = "operator"
_hasher = PasswordHasher(
    time_cost=limits.PIN_HASH_PASSES,
    memory_cost=limits.PIN_HASH_MEMORY_KIB,
    parallelism=limits.PIN_HASH_LANES,
)
_CLI = Caller("cli", None, frozenset(DEFAULT_SCOPES))
_SECOND = 10**9
_T = TypeVar("_T")
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    """Run this thread (and the lanes libargon2 starts from it, which inherit it) at a
    lower priority; where the system refuses, at the same."""
    try:
        me = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, me, os.getpriority(os.PRIO_PROCESS, me) + limits.PIN_HASH_NICE
        )
    except (OSError, AttributeError):  # not Linux-like, or not allowed: no harm
        pass


def _hashing(work: Callable[[], _T]) -> _T:
    """Run ``work`` (an Argon2 hash or verification) on this process's hashing threads and
    wait for it. The pool is made per process (a forked server worker gets its own)."""
    global _pool
    pid = os.getpid()
    with _pool_lock:
        if _pool is None or _pool[0] != pid:
            pool = ThreadPoolExecutor(
                limits.PIN_HASH_THREADS, "argon2", initializer=_lower_priority
            )
            _pool = (pid, pool)
        executor = _pool[1]
    return executor.submit(work).result()


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the web app, through which session."""

    login_id: str
    session_id: str
    party_id: str | None  # None: operator staff
    kind: str  # "customer" | "merchant" | "agent" | "operator"
    name: str  # the party's current name, or the staff name
    caller: Caller  # Caller(key_id=login_id, party_id=party_id, scopes=DEFAULT_SCOPES)
    signed_in_ns: int = 0  # when this session began (its sign-in)

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
    return hash_secret(secrets.token_urlsafe(16))


def hash_secret(secret: str) -> str:
    return _hashing(lambda: _hasher.hash(secret))


def verify(encoded: str, secret: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(encoded, secret)
        except (VerificationError, InvalidHashError):
            return False

    return _hashing(check)


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
        "secret_hash": hash_secret(secret),
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
class SignInThrottledError(RefusalError):
    """Too many tries from here, on this number, with this PIN, or on the whole site: wait
    ``retry_after`` seconds. The same for a number with a login and one without."""

    def __init__(self, retry_after: int) -> None:
        message = f"too many tries: wait {retry_after} seconds, then try again"
        super().__init__(Category.AUTHENTICATION, "signin_locked", message, None)
        self.retry_after = retry_after


class SignedIn(NamedTuple):
    session_secret: str
    viewer: Viewer
    device_secret: str  # for the browser's owner cookie (the same one, if it sent a known one)


def _failed() -> RefusalError:
    return RefusalError(
        Category.AUTHENTICATION, "signin_failed", "wrong phone number or PIN", "secret"
    )


def sign_in(
    platform: Platform,
    phone: str,
    secret: str,
    client: str = "unknown",
    device: str | None = None,
) -> SignedIn:
    """A new session for the login with this phone and secret, tried from ``client`` (the
    request's address) with ``device`` (the browser's owner cookie, if it sent one)."""
    index = platform.vault.index(rules.phone_number(phone))
    buckets = take_try(platform, index, secret, client, device)
    row, party = platform.run(lambda unit: _login(unit, index), write=False)
    # Verified for an unknown number (a dummy hash) and for a closed party's login alike, so
    # every wrong answer costs the same; a secret longer than any password is wrong free.
    right = len(secret) <= limits.PASSWORD_MAX_LENGTH and verify(
        row["secret_hash"] if row is not None else _dummy_hash(), secret
    )
    closed = party is not None and party["status"] == PartyStatus.CLOSED
    if row is None or not right or closed:
        raise _failed()
    return platform.run(lambda unit: _open_session(unit, row, party, secret, buckets, device))


def take_try(
    platform: Platform, index: str, secret: str, client: str, device: str | None
) -> list[throttles.Bucket]:
    """Count a try of ``secret`` on the login whose number has this blind ``index`` (a
    sign-in, or the PIN asked before paying: ``services.platform.pins``), in its own short
    transaction; ``SignInThrottledError`` if a limit is reached. The buckets are given back
    (``throttles.give_back``) when the secret is right."""
    device_digest = digest(device) if device else None
    buckets, taken = platform.run(
        lambda unit: _count(unit, index, _buckets(unit, index, secret, client, device_digest))
    )
    if taken.wait_s:
        raise SignInThrottledError(taken.wait_s)
    return buckets


def _buckets(
    unit: Unit, index: str, secret: str, client: str, device_digest: str | None
) -> list[throttles.Bucket]:
    known = device_digest is not None and _known_device(unit, index, device_digest)
    address = unit.vault.index(f"client:{client}")
    where = f"d{device_digest}" if known else f"a{address}"
    made = [
        throttles.Bucket(throttles.SITE, "site"),
        throttles.Bucket(throttles.CLIENT, f"client:{address}"),
        throttles.Bucket(throttles.SECRET, f"secret:{unit.vault.index(f'secret:{secret}')}"),
        throttles.Bucket(throttles.PAIR, f"pair:{index}:{where}"),
    ]
    if not known:  # the owner's own browser is not slowed by strangers' tries on the number
        made.append(throttles.Bucket(throttles.NUMBER, f"number:{index}"))
    return made


def _known_device(unit: Unit, index: str, device_digest: str) -> bool:
    query = (
        select(signin_devices.c.digest)
        .join(logins, logins.c.id == signin_devices.c.login_id)
        .where(signin_devices.c.digest == device_digest, logins.c.phone_index == index)
    )
    return unit.conn.execute(query).first() is not None


def _count(
    unit: Unit, index: str, buckets: list[throttles.Bucket]
) -> tuple[list[throttles.Bucket], throttles.Taken]:
    """Count the try everywhere (one short transaction), with a notice to the owner when
    the number starts waiting."""
    taken = throttles.take(unit, buckets)
    if throttles.NUMBER.scope in taken.started:  # the notice to the owner, if there is one
        query = select(logins.c.id, logins.c.phone_cipher, parties.c.language).outerjoin(
            parties, parties.c.id == logins.c.party_id
        )
        found = unit.conn.execute(query.where(logins.c.phone_index == index)).first()
        if found is not None:
            login_id, phone_cipher, language = found
            details = {"wait_seconds": taken.wait_s}
            audit.record(unit, "signin", "login.throttled", "login", login_id, None, details)
            # and by SMS: at most once per wait that starts (the number's waits grow from
            # a minute to a quarter hour), so an attack cannot flood the owner's phone
            phone = unit.vault.open(phone_cipher, f"login_phone:{login_id}")
            sms.queue_to_number(unit, phone, language, "signin_throttled", {})
    return buckets, taken


def _login(unit: Unit, index: str) -> tuple[Any, Any]:
    row = unit.conn.execute(select(logins).where(logins.c.phone_index == index)).mappings()
    found = row.first()
    return found, (_party(unit, found["party_id"]) if found is not None else None)


def _open_session(
    unit: Unit,
    row: Any,
    party: Any,
    secret: str,
    buckets: list[throttles.Bucket],
    device: str | None,
) -> SignedIn:
    now = unit.now()
    throttles.give_back(unit, buckets)
    changes: dict[str, Any] = {"last_signed_in_ns": now}
    if _hasher.check_needs_rehash(row["secret_hash"]):
        changes["secret_hash"] = hash_secret(secret)
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
    viewer = _viewer(row, party, session_id, now)
    return SignedIn(session_secret, viewer, _device(unit, row, device))


def _device(unit: Unit, row: Any, device: str | None) -> str:
    """The browser's owner cookie: the one it sent if already this login's, else a new one."""
    if device and _known_device(unit, row["phone_index"], digest(device)):
        return device
    made = secrets.token_urlsafe(32)
    unit.conn.execute(
        insert(signin_devices).values(
            digest=digest(made), login_id=row["id"], created_at_ns=unit.now()
        )
    )
    return made


def _party(unit: Unit, party_id: str | None) -> Any:
    if party_id is None:
        return None
    query = select(parties.c.kind, parties.c.name, parties.c.status)
    return unit.conn.execute(query.where(parties.c.id == party_id)).mappings().first()


def _viewer(row: Any, party: Any, session_id: str, signed_in_ns: int) -> Viewer:
    party_id = row["party_id"]
    return Viewer(
        login_id=row["id"],
        session_id=session_id,
        party_id=party_id,
        kind=party["kind"] if party is not None else OPERATOR_KIND,
        name=party["name"] if party is not None else row["name"],
        caller=Caller(row["id"], party_id, frozenset(DEFAULT_SCOPES)),
        signed_in_ns=signed_in_ns,
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
    return _viewer(login, party, session["id"], session["created_at_ns"])


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
