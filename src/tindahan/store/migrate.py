"""Create or upgrade the schema with Alembic, on whatever database ``Database`` points at.

The Alembic scripts ship inside the package, so ``tindahan db upgrade`` works from an
installed wheel with no ``alembic.ini`` on disk.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tindahan.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(db: Database, revision: str = "head") -> str:
    """Bring the schema to ``revision``; returns the revision it is at afterwards."""
    config = _config()
    with db.engine.connect() as conn:
        conn = conn.execution_options(tindahan_write=True)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
        conn.commit()
    return current(db) or ""


def downgrade(db: Database, revision: str) -> str:
    """Take the schema back to ``revision`` (tests of a migration's data step)."""
    config = _config()
    with db.engine.connect() as conn:
        conn = conn.execution_options(tindahan_write=True)
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
        conn.commit()
    return current(db) or ""


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
