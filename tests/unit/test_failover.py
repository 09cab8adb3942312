"""The failover decision (``tindahan.store.failover``) and multi-host URLs, with no database:
which errors mean the database failed over, and which requests may be run again."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy.exc import IntegrityError, OperationalError

from tindahan import limits
from tindahan.store.database import DatabaseUrlError, libpq_conninfo, normalize_url
from tindahan.store.failover import Action, decide, is_failover


def _wrapped(orig: Exception, *, invalidated: bool = False) -> OperationalError:
    return OperationalError("SELECT 1", None, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        pg.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
        pg.AdminShutdown("terminating connection due to administrator command"),
        pg.CrashShutdown("terminating connection because of crash of another server process"),
        pg.CannotConnectNow("the database system is starting up"),
        pg.ConnectionFailure("connection failure"),
        psycopg.OperationalError("connection failed: Connection refused"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
    ],
)
def test_failover_errors_are_recognised_raw_and_wrapped(error: Exception) -> None:
    assert is_failover(error)
    assert is_failover(_wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        pg.UniqueViolation("duplicate key value violates unique constraint"),
        pg.SerializationFailure("could not serialize access"),
        pg.LockNotAvailable("canceling statement due to lock timeout"),
        pg.CheckViolation("new row violates check constraint"),
        sqlite3.OperationalError("database is locked"),
        ValueError("not a database error"),
    ],
)
def test_other_errors_are_not_a_failover(error: Exception) -> None:
    assert not is_failover(error)
    assert not is_failover(_wrapped(error))


def test_a_connection_sqlalchemy_invalidated_is_a_failover_whatever_the_driver_said() -> None:
    assert is_failover(_wrapped(sqlite3.OperationalError("gone"), invalidated=True))
    assert not is_failover(IntegrityError("INSERT", None, pg.UniqueViolation("dup")))


def test_a_failover_behind_another_exception_is_found() -> None:
    try:
        try:
            raise _wrapped(pg.AdminShutdown("terminating connection"))
        except OperationalError as exc:
            raise RuntimeError("the use case failed") from exc
    except RuntimeError as outer:
        assert is_failover(outer)


def _decide(
    method: str = "POST", *, keyed: bool = False, started: bool = False, attempt: int = 0
) -> Action:
    return decide(
        method=method, keyed=keyed, answer_started=started, attempt=attempt, elapsed_ms=0
    ).action


def test_reads_and_keyed_requests_are_run_again() -> None:
    assert _decide("GET") is Action.RETRY
    assert _decide("HEAD") is Action.RETRY
    assert _decide("POST", keyed=True) is Action.RETRY
    assert _decide("get") is Action.RETRY


def test_a_write_without_a_key_is_never_run_again() -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        found = decide(method=method, keyed=False, answer_started=False, attempt=0, elapsed_ms=0)
        assert found.action is Action.REFUSE
        assert found.code == "database_failover"


def test_an_answer_already_begun_is_left_to_fail() -> None:
    assert _decide("GET", started=True) is Action.RAISE
    assert _decide("POST", keyed=True, started=True) is Action.RAISE


def test_backoff_doubles_to_its_cap_and_the_window_ends_in_a_refusal() -> None:
    waits = [
        decide(method="GET", keyed=False, answer_started=False, attempt=n, elapsed_ms=0).wait_ms
        for n in range(12)
    ]
    assert waits[0] == limits.FAILOVER_BACKOFF_BASE_MS
    assert waits[1] == 2 * waits[0]
    assert max(waits) == waits[-1] == limits.FAILOVER_BACKOFF_CAP_MS
    late = decide(
        method="POST",
        keyed=True,
        answer_started=False,
        attempt=3,
        elapsed_ms=limits.FAILOVER_RETRY_WINDOW_MS,
    )
    assert (late.action, late.code) == (Action.REFUSE, "database_unavailable")


@pytest.mark.parametrize(
    ("raw", "hosts", "ports"),
    [
        (
            "postgresql://u@10.0.0.1:5432,10.0.0.2:5433/tindahan?target_session_attrs=read-write",
            "10.0.0.1,10.0.0.2",
            "5432,5433",
        ),
        (
            "postgresql+psycopg://u@/tindahan?host=a:1&host=b:2&target_session_attrs=read-write",
            "a,b",
            "1,2",
        ),
        ("postgresql+psycopg://u@/tindahan?host=a,b&port=1,2", "a,b", "1,2"),
    ],
)
def test_multi_host_urls(raw: str, hosts: str, ports: str) -> None:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    url = normalize_url(raw)
    assert url.drivername == "postgresql+psycopg"
    assert url.database == "tindahan"
    _, kwargs = PGDialect_psycopg().create_connect_args(url)
    assert (kwargs["host"], str(kwargs["port"])) == (hosts, ports)
    if "target_session_attrs" in raw:
        assert kwargs["target_session_attrs"] == "read-write"


def test_a_bad_host_list_is_refused_clearly() -> None:
    with pytest.raises(DatabaseUrlError, match="host:port pairs"):
        normalize_url("postgresql://u@a:1,,b:2/tindahan")


def test_libpq_tools_get_every_host_and_the_other_settings() -> None:
    url = normalize_url("postgresql://u@a:1,b:2/tindahan?target_session_attrs=read-write")
    conninfo = libpq_conninfo(url)
    assert "host='a,b'" in conninfo and "port='1,2'" in conninfo
    assert "target_session_attrs='read-write'" in conninfo and "dbname='tindahan'" in conninfo
    quoted = libpq_conninfo(normalize_url("postgresql://u:it's@a:1/t"))
    assert "password='it\\'s'" in quoted
