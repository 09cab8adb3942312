"""Shared fixtures: a fresh SQLite file, or a fresh database on the PostgreSQL server.

PostgreSQL tests use ``TINDAHAN_TEST_POSTGRES_URL`` (CI sets it to the local server; the
default is the same). Each test gets its own database, created from that server and
dropped afterwards; when no server answers, those tests are skipped with the reason.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, event, make_url
from sqlalchemy.engine import URL

from tests import profiles, snapshots
from tests.databases import Pool, drop_all
from tests.servers import Shared, running
from tindahan.services.platform import fees
from tindahan.store import database as database_module
from tindahan.store.database import Database, connect
from tindahan.store.media import MEDIA_DIR_ENV, PRIVATE_DIR_ENV
from tindahan.store.migrate import upgrade

profiles.load()  # before any test module makes its settings: they inherit the profile


def _sqlite_without_fsync(url: URL) -> Engine:
    """The store's SQLite engine, with ``synchronous=OFF`` after its own ``FULL``: a test
    needs no commit to survive a power cut, and on the shared machine's disk each fsync
    waited on the other engineers' (``demo seed``: 14 s of CPU in 143 s of wall with them,
    most of it commits waiting). The production setting is tested in
    tests/integration/test_test_databases.py."""
    engine = DURABLE_SQLITE_ENGINE(url)

    @event.listens_for(engine, "connect")
    def _no_fsync(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA synchronous=OFF")

    return engine


DURABLE_SQLITE_ENGINE = database_module._sqlite_engine
database_module._sqlite_engine = _sqlite_without_fsync

PG_URL = os.environ.get(
    "TINDAHAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


class Clock:
    """A settable wall clock (nanoseconds) for timeouts."""

    def __init__(self, start: int = 1_700_000_000 * 10**9) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: int) -> None:
        self.now += seconds * 10**9


def _admin_conninfo() -> str:
    url = make_url(PG_URL).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def postgres_available() -> str | None:
    """None when the server answers, else the reason it does not."""
    try:
        with psycopg.connect(_admin_conninfo(), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"no PostgreSQL at {make_url(PG_URL).render_as_string()}: {exc}".strip()


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    """Fee settings are cached per process for a few seconds: one test's changes must not
    leak into the next test's (its database has the defaults)."""
    fees.reset_settings_cache()
    yield
    fees.reset_settings_cache()


@pytest.fixture(scope="session", autouse=True)
def media_folder(tmp_path_factory) -> Path:
    """Product photos go to the run's temporary folder, never into the checkout's ./var."""
    folder = tmp_path_factory.mktemp("media")
    os.environ[MEDIA_DIR_ENV] = str(folder)
    os.environ[PRIVATE_DIR_ENV] = str(tmp_path_factory.mktemp("private"))
    return folder


@pytest.fixture(scope="session")
def shared_server() -> Iterator[Shared]:
    """One uvicorn server for the session; each API test serves its own app through it."""
    shared = Shared()
    with running(shared) as base_url:
        shared.base_url = base_url
        yield shared


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """A migrated database, made once per session: each test's database is a copy of it
    (``CREATE DATABASE … TEMPLATE``), which is much faster than migrating every time."""
    if postgres_available():
        yield None
        return
    name = f"tindahan_tpl_{secrets.token_hex(4)}"
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        database = connect(
            make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        )
        upgrade(database)
        database.dispose()
        yield name
    finally:
        _drop_database(name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, copied for each test that uses ``db``."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = connect(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists()
    return path


def _drop_database(name: str) -> None:
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _conninfo(name: str) -> str:
    return (
        make_url(PG_URL)
        .set(drivername="postgresql", database=name)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_pools(postgres_template) -> Iterator[dict[Any, Pool] | None]:
    """The worker's reusable PostgreSQL databases (tests/databases.py): copies of the
    migrated template for the tests that use ``db``, empty ones for the others, and copies
    of each snapshot (tests/snapshots.py, which adds their pools here)."""
    if postgres_template is None:
        yield None
        return
    pools: dict[Any, Pool] = {
        True: Pool(_admin_conninfo, _conninfo, postgres_template),
        False: Pool(_admin_conninfo, _conninfo, None),
    }
    try:
        yield pools
    finally:
        for pool in pools.values():
            pool.close()
        # the template too: one shared checkpoint for all (its own fixture's drop is then
        # a no-op)
        made = [name for pool in pools.values() for name in sorted(pool.made)]
        templates = {pool.template for pool in pools.values() if pool.template}
        drop_all(_admin_conninfo(), [*made, *sorted(templates | {postgres_template})])


@pytest.fixture(scope="session")
def snapshot_store(
    tmp_path_factory, sqlite_template, postgres_template, postgres_pools
) -> snapshots.Snapshots:
    """The worker's snapshots of expensive worlds (tests/snapshots.py)."""
    return snapshots.Snapshots(
        tmp_path_factory.mktemp("snapshots"),
        sqlite_template,
        postgres_template,
        postgres_pools,
        _admin_conninfo,
        _conninfo,
        lambda name: make_url(PG_URL).set(database=name).render_as_string(hide_password=False),
    )


#: Databases ``postgres_url`` handed out already equal to the migrated template (for tests
#: that use ``db``), so ``db`` need not copy the template again.
_TEMPLATE_COPIES: set[str] = set()


@pytest.fixture
def postgres_url(request, postgres_pools) -> Iterator[str]:
    """A database of its own on the PostgreSQL server for the test: empty, or, when the
    test uses ``db``, already the copy of the migrated template that ``db`` would make it.
    Reused by later tests once reset (tests/databases.py), never seen by two at once."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    assert postgres_pools is not None
    migrated = "db" in request.node.fixturenames
    recipe = snapshots.recipe_for(request) if migrated else None
    if recipe is not None:  # a copy of the snapshot's database (tests/snapshots.py)
        store = request.getfixturevalue("snapshot_store")
        pool = store.postgres(request, recipe, request.getfixturevalue("clock"))
    else:
        pool = postgres_pools[migrated]
    name = pool.take()
    if migrated:
        _TEMPLATE_COPIES.add(name)
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _TEMPLATE_COPIES.discard(name)
        pool.give(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """The same test on the embedded store and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(request, db_url, clock, sqlite_template, postgres_template) -> Iterator[Database]:
    """The test's database, migrated: a copy of the session's migrated template (already at
    the head revision, so not upgraded again: that costs 40 ms a test for nothing), or of a
    snapshot of the world the test asks for (tests/snapshots.py)."""
    copied = False
    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            recipe = snapshots.recipe_for(request)
            if recipe is not None:
                store = request.getfixturevalue("snapshot_store")
                store.sqlite(request, recipe, clock, target)
            else:
                shutil.copyfile(sqlite_template, target)
            copied = True
    elif postgres_template is not None:
        name = make_url(db_url).database
        if name not in _TEMPLATE_COPIES:
            with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
        copied = True
    database = connect(db_url, clock=clock)
    if not copied:
        upgrade(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def merchant_model(tmp_path_factory, worker_id):
    """A scorecard over the merchant features, trained once per run on a simulated
    population (features as of a date, defaults after it), and loaded from its folder.

    Under pytest-xdist the first worker to need it trains it into the run's shared temporary
    folder, under a file lock, and the others load that folder: the tests only read it."""
    from filelock import FileLock

    from tests.credit.models import train_merchant_model
    from tindahan.credit import artifact

    if worker_id == "master":  # not under xdist
        return train_merchant_model(tmp_path_factory.mktemp("merchant-model"))
    shared = tmp_path_factory.getbasetemp().parent / "merchant-model"
    trained = shared / ".trained"
    with FileLock(f"{shared}.lock"):
        if trained.exists():
            return artifact.load(shared)
        loaded = train_merchant_model(shared)
        trained.touch()
        return loaded


@pytest.fixture(scope="session")
def seeded_demo(tmp_path_factory, worker_id, media_folder) -> Iterator[Any]:
    """``demo seed`` once per run and store, shared by the xdist workers under a file lock;
    ``seeded_demo.copy_to(url)`` gives a test its own seeded database
    (``tests/seeded_demo.py``)."""
    from tests.seeded_demo import SeededDemo, worker_media

    alone = worker_id == "master"  # not under xdist: this process drops what it seeded
    shared = (
        tmp_path_factory.mktemp("seeded-demo")
        if alone
        else tmp_path_factory.getbasetemp().parent / SHARED_DEMO
    )
    made = SeededDemo(shared, *worker_media(), drops_shared=alone)
    try:
        yield made
    finally:
        made.drop()


#: The folder of the run's shared demo seed, beside the xdist workers' own folders.
SHARED_DEMO = "seeded-demo"


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The xdist controller, once every worker has ended, drops the PostgreSQL databases
    the workers' shared demo seed made (``tests/seeded_demo.py``)."""
    config = session.config
    if hasattr(config, "workerinput") or getattr(config.option, "dist", "no") == "no":
        return  # a worker, or no workers: the session fixture dropped its own
    from tests.seeded_demo import drop_shared

    # the workers' basetemps are folders of the controller's (pytest-xdist's workermanage)
    runs: pytest.TempPathFactory = config._tmp_path_factory  # type: ignore[attr-defined]
    drop_shared(runs.getbasetemp() / SHARED_DEMO)
