"""Telling a database failover from any other error, and what a request may do about it.

With PostgreSQL behind pg_auto_failover (or Patroni) and a multi-host URL
(``host=a,b``, ``target_session_attrs=read-write``), losing the primary shows up in a
server as one of:

* the connection is gone (the server was killed, its machine lost): SQLAlchemy marks the
  error ``connection_invalidated``, or psycopg says so with no SQLSTATE or class ``08``;
* ``57P01`` admin_shutdown, ``57P02`` crash_shutdown, ``57P03`` cannot_connect_now (a
  fast shutdown, a crash-restart, a server still starting);
* ``25006`` read_only_sql_transaction: the connection still reaches the old primary, now a
  standby (demoted), which takes no writes.

Every connection the pool holds is then suspect: ``store.database`` marks these errors as
disconnects, so SQLAlchemy throws away every pooled connection made before the failure and
the next checkout connects afresh, and libpq picks whichever host now takes writes.

Whether to run the failed request again is ``decide``: only a read or a request under an
Idempotency-Key is run again whole (the key and the money movement commit in one
transaction, so a request whose COMMIT was lost in flight either committed — the retry
replays its stored answer — or did not — the retry does it once). Anything else that may
have moved money is never run again blindly: it is answered 503 ``database_failover`` with
Retry-After, and the caller decides. A plain function of plain values, so it is tested with
no database at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from sqlalchemy.exc import DBAPIError

from tindahan import limits

#: SQLSTATEs that mean "this server is going away or does not take writes now".
FAILOVER_SQLSTATES = frozenset({"25006", "57P01", "57P02", "57P03"})
#: SQLSTATE class 08: connection exceptions (lost, refused, failed at start).
CONNECTION_CLASS = "08"
#: Methods that change nothing, so running them again is always safe.
READS = frozenset({"GET", "HEAD", "OPTIONS"})


def sqlstate_is_failover(sqlstate: str | None) -> bool:
    return sqlstate is not None and (
        sqlstate in FAILOVER_SQLSTATES or sqlstate.startswith(CONNECTION_CLASS)
    )


def driver_error_is_failover(error: BaseException) -> bool:
    """A psycopg error (the driver's own, not SQLAlchemy's wrapper) that means failover.

    psycopg's ``OperationalError`` with no SQLSTATE is a connection that failed or broke
    (``connection failed: …``, ``server closed the connection unexpectedly``, ``consuming
    input failed``); SQLite's errors never come here (their module is ``sqlite3``).
    """
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate_is_failover(sqlstate):
        return True
    kind = type(error)
    from_psycopg = kind.__module__.split(".")[0] == "psycopg"
    names = {k.__name__ for k in kind.__mro__}
    return from_psycopg and sqlstate is None and "OperationalError" in names


def is_failover(exc: BaseException) -> bool:
    """Whether ``exc`` (raised anywhere in a request) says the database failed over."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DBAPIError):
            if current.connection_invalidated:
                return True
            if current.orig is not None and driver_error_is_failover(current.orig):
                return True
        elif driver_error_is_failover(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class Action(Enum):
    RETRY = "retry"  # run the whole request again, after ``Decision.wait_ms``
    REFUSE = "refuse"  # answer 503 with Retry-After; nothing is run again
    RAISE = "raise"  # too late to answer differently (the answer has begun): let it fail


@dataclass(frozen=True)
class Decision:
    action: Action
    #: The error code of a refusal: ``database_failover`` (not safe to run again),
    #: ``database_unavailable`` (safe, but the window ran out: retry under the same key).
    code: str | None = None
    wait_ms: int = 0


def decide(
    *, method: str, keyed: bool, answer_started: bool, attempt: int, elapsed_ms: int
) -> Decision:
    """What to do with a request whose ``attempt``-th run (0 first) met a failover.

    ``keyed``: the route runs under an Idempotency-Key and the request carries one.
    ``elapsed_ms``: since the request's first run began.
    """
    if answer_started:
        return Decision(Action.RAISE)
    if method.upper() not in READS and not keyed:
        return Decision(Action.REFUSE, "database_failover")
    wait_ms = min(limits.FAILOVER_BACKOFF_CAP_MS, limits.FAILOVER_BACKOFF_BASE_MS * 2**attempt)
    if elapsed_ms + wait_ms > limits.FAILOVER_RETRY_WINDOW_MS:
        return Decision(Action.REFUSE, "database_unavailable")
    return Decision(Action.RETRY, wait_ms=wait_ms)
