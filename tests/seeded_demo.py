"""``tindahan demo seed`` run once per worker and store, copied into each test that needs a
seeded demo.

The demo (half a year of sales, shops, products with photos, buyers with addresses) took
about 14 s of CPU to seed and was seeded per test by the phone journey, the demo logins
and, once per module, the command-line tests. Now the first test of a worker that asks for
it seeds an empty database of its own (as the tests' ``db_url`` gives), kept as a template:
a test gets a copy of it (SQLite: the file; PostgreSQL: ``CREATE DATABASE … TEMPLATE``), so
no test's writes reach another's. Once per worker rather than once per run: the photos the
seed draws go to the worker's media folder (``media_folder``), which another worker does
not see.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.conftest import PG_URL, _admin_conninfo
from tests.databases import drop_all
from tindahan.cli.app import app


class SeededDemo:
    """The seeded templates of one worker, by store, and the first seed's output."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seeded: dict[str, tuple[str, str]] = {}  # store -> (template, first output)
        self.databases: list[str] = []  # made on the PostgreSQL server, dropped at the end

    def _seed(self, store: str) -> tuple[str, str]:
        if store == "sqlite":
            template = str(self.folder / "demo.db")
            url = f"sqlite:///{template}"
        else:
            template = f"tindahan_demo_{secrets.token_hex(4)}"
            with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{template}"')
            self.databases.append(template)
            url = make_url(PG_URL).set(database=template).render_as_string(hide_password=False)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
            result = CliRunner().invoke(app, ["demo", "seed", "--db", url])
        assert result.exit_code == 0, result.output
        if store == "sqlite":  # the last connection to close checkpoints the WAL
            assert not Path(template + "-wal").exists()
        self.seeded[store] = (template, result.output)
        return self.seeded[store]

    def copy_to(self, db_url: str) -> str:
        """Make ``db_url`` (an empty database, or a SQLite file not made yet) a seeded one,
        as ``demo seed`` leaves it; the first seed's output."""
        store = "sqlite" if db_url.startswith("sqlite:") else "postgres"
        template, output = self.seeded.get(store) or self._seed(store)
        if store == "sqlite":
            shutil.copyfile(template, db_url.removeprefix("sqlite:///"))
        else:
            self._replace(str(make_url(db_url).database), template)
        return output

    def _replace(self, name: str, template: str) -> None:
        """``name`` becomes a copy of ``template``. The empty database is renamed out of the
        way, not dropped: on PostgreSQL 15 a drop waits for a checkpoint of the whole server
        (5–15 s on a busy one); the renamed ones are dropped together at the end."""
        gone = f"tindahan_was_{secrets.token_hex(6)}"
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            for attempt in range(5):  # a connection may arrive between the two statements
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                try:
                    admin.execute(f'ALTER DATABASE "{name}" RENAME TO "{gone}"')
                    break
                except psycopg.errors.ObjectInUse:
                    if attempt == 4:
                        raise
            self.databases.append(gone)
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    def drop(self) -> None:
        drop_all(_admin_conninfo(), self.databases)
