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
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from tests import profiles
from tests.servers import Shared, running
from tindahan.services.platform import fees
from tindahan.store.database import Database, connect
from tindahan.store.media import MEDIA_DIR_ENV
from tindahan.store.migrate import upgrade

profiles.load()  # before any test module makes its settings: they inherit the profile

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
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


class TemplateCopies:
    """Copies of the migrated template for the tests that use ``db`` on PostgreSQL: the next
    one is made ahead, in a background thread, while the test before it runs, and databases
    tests are done with are dropped there too (one thread: one statement at a time). Each
    copy is still a database of its own, made from the untouched template."""

    def __init__(self, template: str) -> None:
        self.template = template
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        self.ahead: Future[str] | None = None
        self.drops: list[Future[None]] = []

    def _make(self) -> str:
        name = f"tindahan_test_{secrets.token_hex(4)}"
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def take(self) -> str:
        """A fresh copy of the template, for one test; hand it back with ``drop``."""
        made, self.ahead = self.ahead or self.thread.submit(self._make), None
        name = made.result()
        self.ahead = self.thread.submit(self._make)
        return name

    def drop(self, name: str) -> None:
        self.drops = [f for f in self.drops if not f.done() or f.exception()]
        self.drops.append(self.thread.submit(_drop_database, name))

    def close(self) -> None:
        if self.ahead is not None:
            self.drops.append(self.thread.submit(lambda f=self.ahead: _drop_database(f.result())))
        self.thread.shutdown(wait=True)
        for future in self.drops:
            future.result()  # a database that could not be dropped is an error, as before


@pytest.fixture(scope="session")
def postgres_copies(postgres_template) -> Iterator[TemplateCopies | None]:
    if postgres_template is None:
        yield None
        return
    copies = TemplateCopies(postgres_template)
    try:
        yield copies
    finally:
        copies.close()


#: Databases ``postgres_url`` made as copies of the migrated template (for tests that use
#: ``db``), so ``db`` need not drop an empty one and copy the template again.
_TEMPLATE_COPIES: set[str] = set()


@pytest.fixture
def postgres_url(request, postgres_copies) -> Iterator[str]:
    """A fresh database of its own on the PostgreSQL server: empty, or, when the test uses
    ``db``, already the copy of the migrated template that ``db`` would make it."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    if postgres_copies is not None and "db" in request.node.fixturenames:
        name = postgres_copies.take()
        _TEMPLATE_COPIES.add(name)
    else:
        name = f"tindahan_test_{secrets.token_hex(4)}"
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        _TEMPLATE_COPIES.discard(name)
        if postgres_copies is not None:
            postgres_copies.drop(name)
        else:
            _drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """The same test on the embedded store and on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def db(db_url, clock, sqlite_template, postgres_template) -> Iterator[Database]:
    """The test's database, migrated: a copy of the session's migrated template."""
    if db_url.startswith("sqlite:///"):
        target = Path(db_url.removeprefix("sqlite:///"))
        if not target.exists():
            shutil.copyfile(sqlite_template, target)
    elif postgres_template is not None and make_url(db_url).database not in _TEMPLATE_COPIES:
        name = make_url(db_url).database
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
    database = connect(db_url, clock=clock)
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
