"""Backups of the whole database, and restoring one into an empty database.

Two formats, each the tool its database ships for the job, chosen by the database:

* **SQLite**: the online backup API (``sqlite3.Connection.backup``), page by page from a
  live database while the server keeps writing; the backup is itself a SQLite file, checked
  with ``PRAGMA integrity_check`` before it replaces anything.
* **PostgreSQL**: ``pg_dump --format=custom`` (one consistent snapshot, compressed), and
  ``pg_restore`` back. ``pg_dump`` must be at least the server's major version; Debian's
  ``postgresql-client`` beside the server has the same one.

Restoring refuses a database that already holds tables unless ``force`` is given: a restore
over a live ledger would silently replace every balance. A backup of one kind cannot be
restored into the other (the first bytes say which it is: ``SQLite format 3`` or ``PGDMP``).

What a backup does not hold: the data key and the anchor key (``TINDAHAN_DATA_KEY``,
``TINDAHAN_ANCHOR_KEY``). Personal data in it stays encrypted; keep the keys apart from the
backups, and both, or the restored personal data cannot be read.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import URL

from tindahan.store.database import (
    DatabaseUrlError,
    connect,
    create_missing,
    libpq_conninfo,
    normalize_url,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
#: pg_dump/pg_restore may take long on a big database, but never for ever.
PG_TOOL_TIMEOUT_S = 6 * 3600


class BackupError(ValueError):
    """A backup or restore that cannot be done, said in one line."""


@dataclass(frozen=True, slots=True)
class Backup:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    size_bytes: int


def backup(raw_url: str, out: Path) -> Backup:
    """Write a backup of the database at ``raw_url`` to ``out`` (replaced atomically)."""
    url = normalize_url(raw_url)
    folder = out.expanduser().parent
    if not folder.is_dir():
        raise BackupError(f"no folder {str(folder)!r} for the backup: create it first")
    if out.is_dir():
        raise BackupError(f"{str(out)!r} is a folder: give a file name for the backup")
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".tindahan-backup-", delete=False) as tmp:
        partial = Path(tmp.name)
    try:
        if _is_sqlite(url):
            _sqlite_backup(_sqlite_path(url, must_exist=True), partial)
            kind = "sqlite"
        else:
            _run_pg_tool("pg_dump", url, ["--format=custom", "--no-owner", f"--file={partial}"])
            kind = "postgresql"
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return Backup(out, kind, out.stat().st_size)


def restore(raw_url: str, source: Path, *, force: bool = False) -> str:
    """Restore the backup at ``source`` into the database at ``raw_url``; returns its kind."""
    url = normalize_url(raw_url)
    kind = backup_kind(source)
    target = "sqlite" if _is_sqlite(url) else "postgresql"
    if kind != target:
        raise BackupError(
            f"{str(source)!r} is a {kind} backup; it cannot go into a {target} database"
        )
    if _is_sqlite(url):
        path = _sqlite_path(url, must_exist=False)
        if path.exists() and _has_tables(raw_url) and not force:
            raise _not_empty(raw_url)
        _sqlite_backup(source, path)
    else:
        create_missing(raw_url)
        if _has_tables(raw_url):
            if not force:
                raise _not_empty(raw_url)
            _empty_postgres(raw_url)
        _run_pg_tool("pg_restore", url, ["--no-owner", "--exit-on-error", str(source)])
    return kind


def backup_kind(source: Path) -> str:
    """``sqlite`` or ``postgresql``, from the file's first bytes."""
    if not source.is_file():
        raise BackupError(f"no backup file at {str(source)!r}")
    with source.open("rb") as handle:
        head = handle.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_MAGIC):
        return "postgresql"
    raise BackupError(
        f"{str(source)!r} is not a Tindahan backup "
        "(neither a SQLite file nor pg_dump's custom format)"
    )


def _is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_path(url: URL, *, must_exist: bool) -> Path:
    name = url.database or ""
    if name in ("", ":memory:"):
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    path = Path(name)
    if must_exist and not path.is_file():
        raise BackupError(f"no database at {name!r}")
    if not path.parent.is_dir():
        raise BackupError(f"no folder {str(path.parent)!r} for the database")
    return path


def _sqlite_backup(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target`` with SQLite's online backup, then check the copy."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        check = src.execute("PRAGMA quick_check").fetchone()
        if check is None or check[0] != "ok":
            raise BackupError(f"{str(source)!r} is damaged: {check[0] if check else 'unreadable'}")
        src.backup(dst)
        if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"the copy at {str(target)!r} failed SQLite's integrity check")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"cannot copy {str(source)!r}: {exc}") from exc
    finally:
        dst.close()
        src.close()


def _has_tables(raw_url: str) -> bool:
    try:
        with connect(raw_url, create=False) as database:
            return bool(inspect(database.engine).get_table_names())
    except DatabaseUrlError:
        return False


def _not_empty(raw_url: str) -> BackupError:
    return BackupError(
        f"the database {raw_url!r} is not empty: restoring would replace everything in it; "
        "give --force to do that"
    )


def _empty_postgres(raw_url: str) -> None:
    with connect(raw_url) as database, database.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")


def _run_pg_tool(tool: str, url: URL, args: list[str]) -> None:
    """Run ``pg_dump``/``pg_restore`` against ``url``, the password in the environment
    (never on the command line, where ``ps`` shows it)."""
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} is not installed (Debian: apt-get install postgresql-client)")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    dbname = libpq_conninfo(url.set(password=None))  # a multi-host URL's hosts as libpq has them
    try:
        done = subprocess.run(
            [program, f"--dbname={dbname}", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=PG_TOOL_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BackupError(f"{tool} did not finish within {PG_TOOL_TIMEOUT_S} s") from exc
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise BackupError(f"{tool} failed: {lines[0] if lines else f'exit {done.returncode}'}")
