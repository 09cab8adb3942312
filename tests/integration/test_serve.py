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


#: Run in each ``serve --workers`` child before uvicorn's answering thread exists: a worker
#: that takes longer than uvicorn's default health-ping time-out (5 s) to get there, as on
#: a machine under load, must still come up (README, "Speed of inbound transfers").
SLOW_WORKER = """
import os, pathlib, sys, time
if "--multiprocessing-fork" in sys.argv:
    (pathlib.Path(__file__).parent / f"worker-{os.getpid()}").touch()
    time.sleep(7)
"""


@pytest.mark.slow
def test_serve_with_two_workers_answers_even_when_its_workers_start_slowly(tmp_path):
    """``serve --workers 2`` starts and answers (a real process, each worker slow to start),
    and starts each worker once: with uvicorn's 5 s health ping, a worker was killed before
    it could answer and started again, for ever when both were slow (the server then never
    answered: on the loaded machine, importing the CLI alone took longer than 5 s)."""
    import os
    import signal
    import sys
    import time

    import httpx

    from tindahan import limits

    assert limits.SERVER_WORKER_HEALTHCHECK_S > 7 * 5  # the slow start below, with room
    (tmp_path / "sitecustomize.py").write_text(SLOW_WORKER)
    port = free_port()
    env = {
        **os.environ,
        "TINDAHAN_DATA_KEY": TEST_DATA_KEY,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
    }
    command = [str(Path(sys.executable).with_name("tindahan")), "serve", "--no-worker"]
    command += ["--db", f"sqlite:///{tmp_path / 'two.db'}", "--port", str(port), "--workers", "2"]
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT
        )
    try:
        deadline, answered = time.monotonic() + 150, None
        while answered is None and time.monotonic() < deadline and server.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            except httpx.HTTPError:
                time.sleep(0.5)
        assert answered is not None and answered.status_code == 200, log.read_text()
        assert len(list(tmp_path.glob("worker-*"))) == 2  # none killed and started again
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
