"""``tindahan ledger cluster build|up|down|status`` and the binary's lookup."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.tigerbeetle.conftest import TEST_CACHE_GRID, need_binary
from tindahan.cli.app import app
from tindahan.tigerbeetle import address as ledger_address
from tindahan.tigerbeetle import server

#: Not in the "tigerbeetle" xdist group: its cluster is its own test's, not a module's, so it
#: can run on the other worker while the group's modules run theirs (the group is one worker's
#: serial share of the suite; tests/tigerbeetle/conftest.py).

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_up_prints_the_url_last_and_down_stops_exactly_its_processes(tmp_path):
    need_binary()
    folder = tmp_path / "c"
    result = invoke(
        "ledger", "cluster", "up", "--dir", str(folder), "--cache-grid", TEST_CACHE_GRID, "--light"
    )
    try:
        assert result.exit_code == 0, result.output
        url = result.stdout.strip().splitlines()[-1]
        parsed = ledger_address.parse(url)
        assert parsed.cluster_id == 0 and len(parsed.addresses) == 1
        pid = int((folder / "replica_0.pid").read_text())
        assert Path(f"/proc/{pid}").exists()
        started = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"--development" in started and b"--limit-request=1MiB" in started  # --light
        status = invoke("ledger", "cluster", "status", "--dir", str(folder))
        assert status.exit_code == 0, status.output
        assert "listening" in status.stdout and status.stdout.strip().endswith(url)
        again = invoke("ledger", "cluster", "up", "--dir", str(folder))  # already running
        assert again.exit_code == 0 and again.stdout.strip().splitlines()[-1] == url
        assert int((folder / "replica_0.pid").read_text()) == pid
    finally:
        stopped = invoke("ledger", "cluster", "down", "--dir", str(folder), "--purge")
    assert stopped.exit_code == 0, stopped.output
    assert "stopped 1 replica" in stopped.stdout
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    assert not folder.exists()


def test_down_leaves_a_process_alone_that_is_not_the_clusters(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "cluster.json").write_text('{"cluster_id": 0, "addresses": ["127.0.0.1:1"]}')
    (folder / "replica_0.pid").write_text(f"{os.getpid()}\n")  # this test's own process
    result = invoke("ledger", "cluster", "down", "--dir", str(folder))
    assert result.exit_code == 0, result.output
    assert "stopped 0 replica" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["up", "--replicas", "7"], "--replicas must be 1 to 6"),
        (["down"], "holds no cluster"),
        (["status"], "holds no cluster"),
    ],
)
def test_bad_requests_are_refused_and_change_nothing(tmp_path, monkeypatch, args, message):
    monkeypatch.setenv(server.BIN_ENV, "/bin/true")  # never started: refused before
    folder = tmp_path / "c"
    result = invoke("ledger", "cluster", *args, "--dir", str(folder))
    assert result.exit_code == 2
    assert message in result.output
    assert not (folder / "cluster.json").exists()


def test_no_binary_names_how_to_build_it(tmp_path, monkeypatch):
    monkeypatch.setenv(server.BIN_ENV, str(tmp_path / "missing"))
    result = invoke("ledger", "cluster", "up", "--dir", str(tmp_path / "c"))
    assert result.exit_code == 2
    assert "not an executable file" in result.output


def test_lookup_order_is_env_then_path_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv(server.BIN_ENV, raising=False)
    assert server.find_binary() is None
    cached = server.cached_binary()
    cached.parent.mkdir(parents=True)
    cached.write_text("#!/bin/sh\n")
    cached.chmod(0o755)
    assert server.find_binary() == cached
    on_path = tmp_path / "bin" / "tigerbeetle"
    on_path.parent.mkdir()
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert server.find_binary() == on_path
    monkeypatch.setenv(server.BIN_ENV, str(cached))
    assert server.find_binary() == cached


def test_build_refuses_a_tarball_whose_sha256_differs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    fake = tmp_path / server.TARBALL
    with tarfile.open(fake, "w:gz"):
        pass
    monkeypatch.setenv(server.SRC_ENV, str(tmp_path))
    result = invoke("ledger", "cluster", "build")
    assert result.exit_code == 2
    assert "not the vendored release's" in result.output
    assert not server.cached_binary().exists()
