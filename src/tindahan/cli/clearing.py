"""The simulated clearing switch beside ``serve --demo``: a child process on a free loopback
port, stopped with the server.

So that every journey of the demo works in a browser — a merchant withdraws to a bank
account and sees it credited — ``make run`` needs a clearing house to answer. It runs as
``tindahan rails switch``, in its own process, rather than inside the server, because that
is what it stands for: another institution, reached only over signed HTTP
(``worker.rails.HttpRail``), with its own state, which a real connector replaces by
configuration alone. Running it as a child keeps that seam honest in the demo (the same
messages, signatures and failures as with a separate switch) and costs one process.

The secret is fresh for each run and both ends get it through the environment: the child
through its own, the server's worker through ``TINDAHAN_RAILS_SWITCH_URL`` and
``TINDAHAN_RAILS_SECRET`` set before the worker starts. When those are already set (a
switch the operator runs), nothing is started. The child is terminated when ``serve``
stops, and killed if it does not end within ``limits.SWITCH_STOP_SECONDS``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from tindahan import limits

HOST = "127.0.0.1"
#: ``tindahan rails switch``, through the rails commands alone: importing the whole CLI (every
#: capability, the credit models) takes several times longer on a busy machine.
_START = "from tindahan.cli.rails import app; app()"


@dataclass
class Switch:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=limits.SWITCH_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def configured() -> bool:
    """A switch is already named in the environment (the operator runs one)."""
    from tindahan.worker import rails as worker_rails

    return bool(os.environ.get(worker_rails.URL_ENV) and os.environ.get(worker_rails.SECRET_ENV))


def free_port() -> int:
    """A port no one listens on now (the kernel's choice; the child binds it right after)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((HOST, port)) == 0


def start(database: str | None = None) -> Switch | None:
    """Start the switch and point this process's worker at it; None if it did not come up
    within ``limits.SWITCH_START_SECONDS`` (the demo then runs without bank transfers).
    ``database``: the switch's own SQLite file (its default, ``./var/switch.sqlite3``)."""
    from tindahan.worker import rails as worker_rails

    port = free_port()
    secret = secrets.token_urlsafe(32)
    env = {**os.environ, worker_rails.SECRET_ENV: secret}
    command = [sys.executable, "-c", _START, "switch", "--port", str(port)]
    if database is not None:
        command += ["--db", database]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    switch = Switch(process, f"http://{HOST}:{port}")
    deadline = time.monotonic() + limits.SWITCH_START_SECONDS
    while not _listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            switch.stop()
            return None
        time.sleep(0.1)
    os.environ[worker_rails.URL_ENV] = switch.url
    os.environ[worker_rails.SECRET_ENV] = secret
    return switch
