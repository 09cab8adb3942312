"""A real uvicorn server in a thread, on a free port: how the API tests talk to the app.

The port is the operating system's pick of a socket bound here and handed to uvicorn, so
tests running side by side (pytest-xdist workers, other engineers' runs) never race for one.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

#: Longer than any test leaves a connection idle; the server still closes them on exit.
KEEP_ALIVE_SECONDS = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(app: Any) -> Iterator[str]:
    """``app`` served by uvicorn until the block ends; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        # A test's client may sit idle longer than uvicorn's 5 s default on a loaded machine
        # (other threads' requests, another worker); the server closing that keep-alive
        # connection as the client reuses it was "Server disconnected without a response".
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


class Shared:
    """One uvicorn server for many tests, serving the ASGI app of the test that is running:
    each test still gets an app of its own (its own platform, database and rate limiter),
    without a server start and stop per test. Made by the session's ``shared_server``."""

    def __init__(self) -> None:
        self.app: Any = None
        self.base_url = ""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        app = self.app
        if app is None:
            raise RuntimeError("no test is being served")
        await app(scope, receive, send)

    @contextmanager
    def serving(self, app: Any) -> Iterator[str]:
        """``app`` served until the block ends; yields the base URL."""
        self.app = app
        try:
            yield self.base_url
        finally:
            self.app = None
