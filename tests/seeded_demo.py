"""``tindahan demo seed`` run once per run and store, copied into each test that needs a
seeded demo.

The demo (half a year of sales, shops, products with photos, buyers with addresses) takes
about 14 s of CPU to seed, more on PostgreSQL. The first test that asks for it seeds an
empty database (as the tests' ``db_url`` gives), kept as a template: a test gets a copy of
it (SQLite: the file; PostgreSQL: ``CREATE DATABASE … TEMPLATE``), so no test's writes
reach another's.

Once per run, not once per worker: under pytest-xdist the seed goes to a folder every worker
of the run sees (the parent of the workers' temporary folders), under a file lock per store.
The first worker to need a store seeds it and writes a record (the template and the seed's
output); a worker that comes later waits on the lock and reads the record. The photos the
seed draws are written to that shared folder's own media folders and copied into each
worker's (``media_folder``): the media store is content-addressed, so the copy is the same
bytes under the same names. The folder is per run (a new pytest basetemp each run), so an
interrupted run leaves no lock or record that could block or mislead the next.

Who drops the shared PostgreSQL template: not a worker (the other may still copy from it)
but the controller, in ``pytest_sessionfinish`` (``drop_shared``), after every worker ended;
without xdist the session fixture drops it itself. A seed that fails writes no record, so
the next worker tries again and fails in its own test too.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

import psycopg
import pytest
from filelock import FileLock
from sqlalchemy import make_url

from tests.conftest import PG_URL, _admin_conninfo
from tests.databases import drop_all
from tindahan.store.media import MEDIA_DIR_ENV, PRIVATE_DIR_ENV

#: The shared folder's list of the PostgreSQL databases seeded in it (dropped at the end).
_MADE = "postgres-databases.txt"


class SeededDemo:
    """The run's seeded templates, by store (in ``shared``), and this worker's copies.

    ``own`` holds what only this worker makes (the renamed empty databases, dropped at its
    end); ``media`` and ``private`` are this worker's media folders."""

    def __init__(self, shared: Path, media: Path, private: Path, *, drops_shared: bool) -> None:
        self.shared = shared
        self.media = media
        self.private = private
        self.drops_shared = drops_shared  # no xdist: no controller drops the template
        self.seeded: dict[str, tuple[str, str]] = {}  # store -> (template, first output)
        self.databases: list[str] = []  # renamed out of the way here, dropped at the end

    def _template(self, store: str) -> tuple[str, str]:
        """The store's seeded template and the seed's output: seeded by the first worker to
        ask, read from its record by the others."""
        if store not in self.seeded:
            self.shared.mkdir(parents=True, exist_ok=True)
            record = self.shared / f"{store}.json"
            with FileLock(str(self.shared / f"{store}.lock")):
                if not record.exists():
                    made = self._seed(store)
                    part = record.with_suffix(".part")
                    part.write_text(json.dumps({"template": made[0], "output": made[1]}))
                    part.replace(record)  # whole or absent, never half written
            found = json.loads(record.read_text())
            for kind, mine in (("media", self.media), ("private", self.private)):
                seeded = self.shared / f"{kind}-{store}"
                if seeded.exists():
                    shutil.copytree(seeded, mine, dirs_exist_ok=True)
            self.seeded[store] = (found["template"], found["output"])
        return self.seeded[store]

    def _seed(self, store: str) -> tuple[str, str]:
        from typer.testing import CliRunner

        from tests.api.conftest import TEST_DATA_KEY
        from tindahan.cli.app import app

        if store == "sqlite":
            template = str(self.shared / "demo.db")
            url = f"sqlite:///{template}"
        else:
            template = f"tindahan_demo_{secrets.token_hex(4)}"
            with (self.shared / _MADE).open("a") as made:  # listed first: dropped even if
                made.write(template + "\n")  # the seed fails half-way
            with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{template}"')
            url = make_url(PG_URL).set(database=template).render_as_string(hide_password=False)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
            patch.setenv(MEDIA_DIR_ENV, str(self.shared / f"media-{store}"))
            patch.setenv(PRIVATE_DIR_ENV, str(self.shared / f"private-{store}"))
            result = CliRunner().invoke(app, ["demo", "seed", "--db", url])
        assert result.exit_code == 0, result.output
        if store == "sqlite":  # the last connection to close checkpoints the WAL
            assert not Path(template + "-wal").exists()
        return template, result.output

    def copy_to(self, db_url: str) -> str:
        """Make ``db_url`` (an empty database, or a SQLite file not made yet) a seeded one,
        as ``demo seed`` leaves it; the first seed's output."""
        store = "sqlite" if db_url.startswith("sqlite:") else "postgres"
        template, output = self._template(store)
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
        """This worker's renamed databases, and the seeded template when no controller
        will (no xdist)."""
        drop_all(_admin_conninfo(), self.databases)
        if self.drops_shared:
            drop_shared(self.shared)


def drop_shared(shared: Path) -> None:
    """Drop the PostgreSQL databases seeded in ``shared`` (none listed: nothing to do)."""
    listed = shared / _MADE
    if listed.exists():
        drop_all(_admin_conninfo(), sorted(set(listed.read_text().split())))
        listed.unlink()


def worker_media() -> tuple[Path, Path]:
    """This worker's public and private media folders (set by ``media_folder``)."""
    return Path(os.environ[MEDIA_DIR_ENV]), Path(os.environ[PRIVATE_DIR_ENV])
