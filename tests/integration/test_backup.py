"""`tindahan db backup` and `db restore`: a restored database is the same ledger, verified.

On both stores: a ledger with transfers (sealed by the worker, so the hash chain is part of
what must survive), backed up while open, restored into a fresh database, where `ledger
verify` passes and every balance is the one backed up. And the refusals: a database that is
not empty, a file that is no backup, a backup of the other kind, a missing folder.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.conftest import PG_URL, _admin_conninfo
from tindahan.cli.app import app
from tindahan.store.database import connect

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


@pytest.fixture
def fresh_target(db_url, tmp_path) -> Iterator[str]:
    """An empty database of the same store as ``db_url``, to restore into."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"tindahan_restore_{secrets.token_hex(4)}"
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _ledger(db_url: str) -> None:
    assert invoke("db", "upgrade", "--db", db_url).exit_code == 0
    bench = invoke("ledger", "bench", "--db", db_url, "--transfers", "200", "--batch", "20")
    assert bench.exit_code == 0, bench.output
    assert invoke("worker", "--db", db_url, "--once").exit_code == 0  # seal the blocks


def _balances(url: str) -> list[tuple[object, ...]]:
    with connect(url, create=False) as database, database.begin(write=False) as conn:
        rows = conn.execute(
            text(
                "SELECT id, debits_posted, credits_posted, debits_pending, credits_pending"
                " FROM ledger_accounts ORDER BY id"
            )
        )
        return [tuple(row) for row in rows]


def test_a_restored_backup_is_the_same_ledger_and_verifies(db_url, fresh_target, tmp_path):
    _ledger(db_url)
    out = tmp_path / "tindahan.backup"
    made = invoke("db", "backup", "--db", db_url, "--out", str(out))
    assert made.exit_code == 0, made.output
    kind = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    assert f"{kind} backup written to" in made.output and out.stat().st_size > 0

    restored = invoke("db", "restore", "--db", fresh_target, "--from", str(out))
    assert restored.exit_code == 0, restored.output
    verify = invoke("ledger", "verify", "--db", fresh_target)
    assert verify.exit_code == 0, verify.output
    assert "hash chain ok" in verify.output and " 0 not sealed yet" in verify.output
    before = _balances(db_url)
    assert len(before) > 2 and _balances(fresh_target) == before

    # The target now holds a ledger: a second restore is refused and changes nothing ...
    again = invoke("db", "restore", "--db", fresh_target, "--from", str(out))
    assert again.exit_code == 2 and "is not empty" in again.output and "--force" in again.output
    # ... unless forced, which replaces it whole.
    forced = invoke("db", "restore", "--db", fresh_target, "--from", str(out), "--force")
    assert forced.exit_code == 0, forced.output
    assert _balances(fresh_target) == before
    assert invoke("ledger", "verify", "--db", fresh_target).exit_code == 0


def test_refusals_name_the_problem(sqlite_url, tmp_path):
    _ledger(sqlite_url)
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    cases = [
        (
            ("db", "backup", "--db", sqlite_url, "--out", str(tmp_path / "no" / "b.bak")),
            "no folder",
        ),
        (("db", "backup", "--db", sqlite_url, "--out", str(tmp_path)), "is a folder"),
        (("db", "restore", "--db", target, "--from", str(not_a_backup)), "not a Tindahan backup"),
        (("db", "restore", "--db", target, "--from", str(tmp_path / "x")), "no backup file"),
    ]
    for args, message in cases:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "restored.db").exists()
    # A backup of one store cannot go into the other (refused before connecting to either).
    sqlite_backup = tmp_path / "s.bak"
    assert invoke("db", "backup", "--db", sqlite_url, "--out", str(sqlite_backup)).exit_code == 0
    pg_backup = tmp_path / "p.bak"
    pg_backup.write_bytes(b"PGDMP" + bytes(64))
    nowhere = make_url(PG_URL).set(database="tindahan_never_made").render_as_string()
    for source, into in ((sqlite_backup, nowhere), (pg_backup, target)):
        wrong = invoke("db", "restore", "--db", into, "--from", str(source))
        assert wrong.exit_code == 2 and "cannot go into a" in wrong.output, wrong.output
