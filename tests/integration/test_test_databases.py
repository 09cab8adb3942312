"""The tests' databases: the reused PostgreSQL ones (tests/databases.py) start every test as
a fresh copy of the migrated template would (what a test wrote is gone, a database whose
schema a test changed is replaced, not reset); the tests' SQLite skips the fsync that the
store's own keeps."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import make_url, text

from tests.conftest import DURABLE_SQLITE_ENGINE, _admin_conninfo, _conninfo, postgres_available
from tests.databases import Changed, Pool, Snapshot, drop_all, reset, snapshot
from tindahan.store.database import connect


@pytest.fixture
def pool(postgres_template) -> Iterator[Pool]:
    if postgres_template is None:
        pytest.skip(postgres_available() or "no PostgreSQL template")
    made = Pool(_admin_conninfo, _conninfo, postgres_template)
    yield made
    made.close()
    drop_all(_admin_conninfo(), sorted(made.made))


def _dirty(conninfo: str) -> None:
    """Rows where the template has none (an append-only ledger table among them), the
    template's own rows changed, a sequence moved on."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("DELETE FROM kyc_tiers")
        conn.execute("DELETE FROM alembic_version")
        conn.execute(
            "INSERT INTO ledger_accounts (id, ledger, code, flags, debits_pending, "
            "debits_posted, credits_pending, credits_posted, timestamp) "
            "VALUES ('a1', 'PHP', 1, 0, 0, 0, 0, 0, 1)"
        )
        conn.execute("SELECT nextval('ledger_clock_seq')")


@pytest.mark.postgres
def test_a_reset_database_equals_a_fresh_copy_of_the_template(pool):
    name = pool.take()
    fresh = pool.state
    assert isinstance(fresh, Snapshot)
    assert {table for table, _ in fresh.rows} >= {"alembic_version", "kyc_tiers"}
    _dirty(_conninfo(name))
    assert snapshot(_conninfo(name)) != fresh
    reset(_conninfo(name), fresh)
    assert snapshot(_conninfo(name)) == fresh
    pool.give(name)


@pytest.mark.postgres
def test_a_database_whose_schema_a_test_changed_is_replaced(pool):
    name = pool.take()
    with psycopg.connect(_conninfo(name), autocommit=True) as conn:
        conn.execute("ALTER TABLE ledger_transfers DISABLE TRIGGER USER")
    with pytest.raises(Changed):
        reset(_conninfo(name), pool.state)
    pool.give(name)
    pool.take()  # the fresh copy made ahead
    again = pool.take()  # the changed one, given back: replaced by a new copy
    assert again != name
    assert snapshot(_conninfo(again)) == pool.state


def test_the_store_syncs_every_sqlite_commit_and_only_the_tests_do_not(sqlite_url):
    durable = DURABLE_SQLITE_ENGINE(make_url(sqlite_url))
    with durable.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    durable.dispose()
    database = connect(sqlite_url)
    with database.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 0  # OFF
    database.dispose()
