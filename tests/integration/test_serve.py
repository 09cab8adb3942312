"""``tindahan serve`` and ``make run`` before any request: where it listens, what it says."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.servers import free_port
from tindahan.cli import listen
from tindahan.cli.app import app
from tindahan.cli.listen import bind, is_loopback

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def test_make_run_passes_port_and_host_to_serve():
    dry = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed-run", "run", "PORT=8123", "HOST=0.0.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "tindahan serve --demo --host 0.0.0.0 --port 8123" in dry.stdout


def test_serve_on_a_taken_port_says_so_first_and_touches_nothing(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        target = tmp_path / "never.db"
        result = runner.invoke(
            app, ["serve", "--db", f"sqlite:///{target}", "--port", str(port), "--no-worker"]
        )
    assert result.exit_code == 2
    assert f"port {port} is in use on 127.0.0.1" in result.output
    assert "running at" not in result.output and "Traceback" not in result.output
    assert not target.exists()  # refused before the database was even opened


def test_bind_holds_the_port_and_accepts_connections_before_serving():
    port = free_port()
    with bind("127.0.0.1", port) as sock, socket.create_connection(("127.0.0.1", port), 5):
        assert sock.getsockname() == ("127.0.0.1", port)


@pytest.mark.parametrize(
    ("host", "message"),
    [("192.0.2.1", "not an address of this machine"), ("no such host.invalid", "not a known")],
)
def test_an_address_that_cannot_be_listened_on_is_named(host, message):
    result = runner.invoke(app, ["serve", "--host", host, "--port", str(free_port())])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("0.0.0.0", False)],
)
def test_loopback_addresses(host, loopback):
    assert is_loopback(host) is loopback


def test_serve_on_the_network_warns_loudly_and_trusts_the_named_proxy(tmp_path, monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    served: dict[str, object] = {}
    monkeypatch.setattr(listen, "serve", lambda sock, app, **options: served.update(options))
    port = free_port()
    args = ["serve", "--db", f"sqlite:///{tmp_path / 'lan.db'}", "--no-worker"]
    result = runner.invoke(
        app, [*args, "--host", "0.0.0.0", "--port", str(port), "--forwarded-allow-ips", "10.0.0.5"]
    )
    assert result.exit_code == 0, result.output
    assert f"WARNING: http://0.0.0.0:{port} is plain HTTP on the network" in result.output
    assert served["forwarded_allow_ips"] == "10.0.0.5"
    quiet = runner.invoke(app, [*args, "--port", str(free_port())])
    assert quiet.exit_code == 0 and "WARNING" not in quiet.output


def test_serve_takes_its_log_handler_away_when_it_stops(tmp_path, monkeypatch):
    """The JSON log lines go to the run's stderr; once serve returns, its handler is gone
    (a later record must not be written to a stream that has closed)."""
    import logging

    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    logger = logging.getLogger("tindahan")
    seen: list[int] = []

    def serving(sock, app, **options):
        seen.append(sum(getattr(h, "tindahan_json", False) for h in logger.handlers))

    monkeypatch.setattr(listen, "serve", serving)
    args = ["serve", "--db", f"sqlite:///{tmp_path / 'logs.db'}", "--no-worker"]
    assert runner.invoke(app, [*args, "--port", str(free_port())]).exit_code == 0
    assert seen == [1]  # installed while serving
    assert not [h for h in logger.handlers if getattr(h, "tindahan_json", False)]
