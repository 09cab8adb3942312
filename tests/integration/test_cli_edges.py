"""The command line's rough edges a newcomer hit (issue 21, item 13): each a clear answer."""

from __future__ import annotations

import secrets

import psycopg
import pytest
from sqlalchemy import make_url
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.conftest import PG_URL, _admin_conninfo, _drop_database, postgres_available
from tindahan.cli import app as cli_app
from tindahan.cli.app import app
from tindahan.services.platform import keys, parties
from tindahan.services.seed import demo
from tindahan.services.seed.demo import OPERATOR
from tindahan.services.unit import Platform
from tindahan.store.vault import Vault

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_a_path_is_taken_as_sqlite_and_only_var_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("db", "upgrade", "--db", "./var/tindahan.db")
    assert result.exit_code == 0, result.output
    assert "sqlite:///var/tindahan.db" in result.output
    assert (tmp_path / "var" / "tindahan.db").is_file()
    absolute = tmp_path / "shop.db"
    assert invoke("db", "upgrade", "--db", str(absolute)).exit_code == 0
    assert invoke("ledger", "verify", "--db", str(absolute)).exit_code == 0


def test_upgrade_makes_no_other_folders(tmp_path):
    target = tmp_path / "typo" / "deeper" / "shop.db"
    result = invoke("db", "upgrade", "--db", str(target))
    assert result.exit_code == 2
    assert "no folder" in result.output and "create it first" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "typo").exists()


def test_upgrade_creates_a_missing_postgresql_database():
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    name = f"tindahan_new_{secrets.token_hex(4)}"
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        result = invoke("db", "upgrade", "--db", url)
        assert result.exit_code == 0, result.output
        with psycopg.connect(_admin_conninfo()) as admin:
            found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            assert found.fetchone() is not None
        assert invoke("ledger", "verify", "--db", url).exit_code == 0
    finally:
        _drop_database(name)


def test_qr_encode_to_a_missing_folder_is_one_clear_line(tmp_path):
    target = tmp_path / "missing" / "q.png"
    result = invoke("qr", "encode", "--name", "Tindahan", "--city", "Pasig", "--out", str(target))
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: --out: cannot write '{target}': No such file or directory"
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", ""], "--name (tag 59): value must not be empty"),
        (["--name", "Tindahan", "--city", "Marikina", "--mcc", "12"], "--mcc (tag 52)"),
        (["--name", "Tindahan", "--city", "Marikina", "--guid", ""], "--guid (tag 28.00)"),
    ],
)
def test_qr_encode_names_the_option_not_only_the_tag(args, message):
    base = {"--city": "Marikina"}
    given = dict(zip(args[::2], args[1::2], strict=True))
    merged = [part for option, value in {**base, **given}.items() for part in (option, value)]
    result = invoke("qr", "encode", *merged)
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    ("option", "message"),
    [("--event", "no such event 'evt_UNKNOWN'"), ("--endpoint", "no such webhook endpoint")],
)
def test_replay_of_something_unknown_says_so(db, option, message):
    url = db.url.render_as_string(hide_password=False)
    result = invoke("webhooks", "replay", "--db", url, option, "evt_UNKNOWN")
    assert result.exit_code == 2
    assert message in result.output


def test_demo_reset_refuses_a_live_database(db):
    url = db.url.render_as_string(hide_password=False)
    result = invoke("demo", "reset", "--db", url, "--yes")
    assert result.exit_code == 2
    assert "not a demo database" in result.output


def test_demo_reset_wipes_and_loads_the_demo_again(db, monkeypatch):
    url = db.url.render_as_string(hide_password=False)
    platform = Platform(db, Vault.from_environment())
    keys.set_environment(platform, "test")
    platform.run(lambda u: parties.create(u, OPERATOR, parties.NewParty("customer", "Stray")))
    loaded: list[bool] = []

    def load(platform: Platform, url: str) -> None:
        loaded.append(demo.is_empty(platform))
        keys.set_environment(platform, "test")

    monkeypatch.setattr(cli_app, "_load_demo", load)
    monkeypatch.setattr(cli_app, "_banner", lambda platform: None)
    asked = invoke("demo", "reset", "--db", url)  # no --yes, no answer: nothing wiped
    assert asked.exit_code != 0 and not demo.is_empty(platform)
    result = invoke("demo", "reset", "--db", url, "--yes")
    assert result.exit_code == 0, result.output
    assert loaded == [True]  # the stray party is gone; the demo was loaded into the empty one
    assert invoke("ledger", "verify", "--db", url).exit_code == 0
