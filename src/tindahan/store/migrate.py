"""Create or upgrade the schema with Alembic, on whatever database ``Database`` points at.

The Alembic scripts ship inside the package, so ``tindahan db upgrade`` works from an
installed wheel with no ``alembic.ini`` on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from tindahan.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head") -> str:
    """Bring the schema to ``revision``; returns the revision it is at afterwards."""
    config = _config()
    with db.engine.connect() as conn, _rebuilds_allowed(db, conn):
        conn = conn.execution_options(tindahan_write=True)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
    return current(db) or ""


def downgrade(db: Database, revision: str) -> str:
    """Take the schema back to ``revision`` (tests of a migration's data step)."""
    config = _config()
    with db.engine.connect() as conn, _rebuilds_allowed(db, conn):
        conn = conn.execution_options(tindahan_write=True)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()
    return current(db) or ""


@contextmanager
def _rebuilds_allowed(db: Database, conn: Connection) -> Iterator[None]:
    """SQLite changes a table's columns or constraints by building a new table and dropping
    the old one (Alembic's batch mode); with foreign keys enforced, dropping a table that
    other rows refer to fails. SQLite's own procedure (sqlite.org/lang_altertable.html,
    "Making Other Kinds Of Table Schema Changes") turns enforcement off outside the
    transaction, and checks every reference with ``PRAGMA foreign_key_check`` before
    turning it back on; the same is done here. PostgreSQL alters in place: nothing to do."""
    if not db.is_sqlite:
        yield
        return
    raw: Any = conn.connection.driver_connection  # no transaction is open on it yet
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"a migration left rows referring to nothing: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def current(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def wipe(db: Database) -> None:
    """Drop everything: the SQLite file (and its WAL) goes, a PostgreSQL database's
    ``public`` schema is dropped and made again. For ``tindahan demo reset`` only, which
    first checks that this is a demo (test-environment) database; ``upgrade`` rebuilds."""
    if db.is_sqlite:
        db.engine.dispose()
        path = Path(db.url.database or "")
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            leftover.unlink(missing_ok=True)
        return
    with db.engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
        conn.commit()
    db.engine.dispose()
