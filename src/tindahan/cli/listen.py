"""Listening for HTTP: bind the port first, then announce, then serve.

``tindahan serve`` binds its socket before it migrates, seeds or prints anything, so a
taken port is one plain sentence and a non-zero exit at once (not a "running at …" banner
followed by uvicorn's error), and the address it announces is one it already holds. The
bound socket is handed to uvicorn (one process, or its worker processes, which inherit it).
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
import threading
from typing import Any

from tindahan import limits


class ListenError(ValueError):
    """The address cannot be listened on (taken, not this machine's, not an address)."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (as uvicorn binds its own), or ``ListenError``."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family=family)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(_why(exc, host, port)) from None
    sock.set_inheritable(True)
    sock.listen(limits.SERVER_BACKLOG)  # reachable from now: connections wait in the queue
    return sock


def _why(exc: OSError, host: str, port: int) -> str:
    where = f"{host}:{port}"
    if exc.errno == errno.EADDRINUSE:
        return (
            f"port {port} is in use on {host} (another Tindahan or another program is "
            f"listening there): stop it, or choose another port with --port "
            f"(make run PORT=…)"
        )
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"not allowed to listen on {where} (ports below 1024 need privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: {host} is not an address of this machine"
    if isinstance(exc, socket.gaierror):
        return f"cannot listen on {where}: {host!r} is not a known host name or address"
    return f"cannot listen on {where}: {exc.strerror or exc}"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` (browsers' secure contexts)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(sock: socket.socket, app: str, *, workers: int, **options: Any) -> None:
    """Run the ASGI app factory ``app`` on the bound ``sock`` until a signal stops it."""
    import uvicorn  # here, not at the top: every other command starts without it
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(
        app,
        factory=True,
        workers=workers,
        timeout_worker_healthcheck=limits.SERVER_WORKER_HEALTHCHECK_S,
        **options,
    )
    server = uvicorn.Server(config)
    try:
        if workers > 1:
            Multiprocess(config, sockets=[sock]).run()
        else:
            server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it shut down on: done
        pass
    if workers == 1 and not server.started:
        raise ListenError("the web app did not start (its error is above)")


def serve_beside(sock: socket.socket, app: Any, stack: contextlib.ExitStack) -> None:
    """Serve the ASGI ``app`` on ``sock`` in a thread of this process (``/metrics`` on its
    own port), stopped when ``stack`` closes."""
    import uvicorn

    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="tindahan-metrics"
    )
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    stack.callback(stop)
