"""A development cluster on loopback: format, start in the background, stop, report.

``up`` formats one data file per replica (``0_R.tigerbeetle``, about 1 GiB each: the
journal is preallocated) and starts ``tigerbeetle start`` for each, detached, its output in
``replica_R.log`` and its process id in ``replica_R.pid``; ``cluster.json`` keeps the cluster
id and addresses, so a second ``up`` on the same folder restarts the same cluster on the same
ports without formatting again. ``down`` stops exactly the processes named by the pid files,
and only if each is still the ``tigerbeetle`` that serves that folder's data file (a reused
pid is left alone). Production clusters are run as TigerBeetle's own documentation says.

``light`` starts a replica as TigerBeetle's ``--development`` does (its small object caches
and LSM compaction memory; Direct IO not demanded) but keeps production's 1 MiB request, so a
client sends the same 8,189-event batches (``ledger.TB_BATCH``) as to a production replica.
TigerBeetle locks all its memory at start: a default replica touches about 2.1 GB before it
listens (5–8 s of CPU, 15–40 s on a loaded machine), a light one 1.8 GB with the caches the
tests never fill left out (well under 1 s quiet). For the tests and the fault drills, which
start dozens of clusters; never for a cluster that keeps money.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tindahan.tigerbeetle.address import MAX_REPLICAS, ClusterAddress
from tindahan.tigerbeetle.server import require_binary

STATE = "cluster.json"
DEFAULT_CACHE_GRID = "256MiB"
#: ``tigerbeetle start``'s options for a light replica (the module's docstring says why).
LIGHT_OPTIONS = ("--development", "--experimental", "--limit-request=1MiB")
READY_TIMEOUT_S = 60
STOP_TIMEOUT_S = 15


class ClusterError(RuntimeError):
    """The cluster could not be formatted, started, found or stopped."""


@dataclass(frozen=True, slots=True)
class ReplicaState:
    replica: int
    address: str
    pid: int | None
    running: bool
    listening: bool


def data_file(folder: Path, cluster_id: int, replica: int) -> Path:
    return folder / f"{cluster_id}_{replica}.tigerbeetle"


def up(
    folder: Path,
    *,
    replicas: int = 1,
    port: int = 0,
    cluster_id: int = 0,
    cache_grid: str = DEFAULT_CACHE_GRID,
    light: bool = False,
) -> ClusterAddress:
    """Start (formatting first if new) the cluster kept in ``folder``; returns its address.

    ``port`` 0 picks free loopback ports; otherwise replicas listen on port, port+1, ….
    ``light``: each replica started with ``LIGHT_OPTIONS`` (tests and drills only).
    """
    if not 1 <= replicas <= MAX_REPLICAS:
        raise ClusterError(f"--replicas must be 1 to {MAX_REPLICAS}, not {replicas}")
    if not 0 <= port <= 65535 - replicas:
        raise ClusterError(f"--port must be 1 to {65535 - replicas} (or 0 for free ports)")
    binary = require_binary()
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    known = _load(folder)
    if known is not None:
        address = known
        if len(address.addresses) != replicas and replicas != 1:
            raise ClusterError(
                f"{folder} holds a {len(address.addresses)}-replica cluster; "
                "stop it and use another --dir for a new one"
            )
        states = status(folder)
        if all(s.running for s in states):
            return address
        if any(s.running for s in states):
            raise ClusterError(f"some replicas in {folder} run and some do not: run down first")
    else:
        ports = _free_ports(replicas) if port == 0 else list(range(port, port + replicas))
        address = ClusterAddress(cluster_id, tuple(f"127.0.0.1:{p}" for p in ports))
        for replica in range(replicas):
            _format(binary, folder, address, replica)
        (folder / STATE).write_text(
            json.dumps({"cluster_id": cluster_id, "addresses": list(address.addresses)}) + "\n"
        )
    for replica in range(len(address.addresses)):
        _start(binary, folder, address, replica, cache_grid, light)
    _wait_ready(folder, address)
    return address


def down(folder: Path, *, purge: bool = False) -> int:
    """Stop the replicas this folder's pid files name; returns how many were stopped.

    ``purge`` also deletes the data files and the cluster's state (the folder's own files
    only)."""
    folder = folder.resolve()
    address = _load(folder)
    if address is None:
        raise ClusterError(f"{folder} holds no cluster (no {STATE})")
    stopped = 0
    for replica in range(len(address.addresses)):
        pid_file = folder / f"replica_{replica}.pid"
        pid = _pid(pid_file)
        if pid is not None and _ours(pid, folder, address.cluster_id, replica):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_gone(pid, STOP_TIMEOUT_S):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                _wait_gone(pid, STOP_TIMEOUT_S)
            stopped += 1
        pid_file.unlink(missing_ok=True)
    if purge:
        for replica in range(len(address.addresses)):
            data_file(folder, address.cluster_id, replica).unlink(missing_ok=True)
            (folder / f"replica_{replica}.log").unlink(missing_ok=True)
        (folder / STATE).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only if nothing else was left in it
    return stopped


def status(folder: Path) -> list[ReplicaState]:
    folder = folder.resolve()
    address = _load(folder)
    if address is None:
        raise ClusterError(f"{folder} holds no cluster (no {STATE})")
    states = []
    for replica, where in enumerate(address.addresses):
        pid = _pid(folder / f"replica_{replica}.pid")
        running = pid is not None and _ours(pid, folder, address.cluster_id, replica)
        states.append(ReplicaState(replica, where, pid, running, _listening(where)))
    return states


def address_of(folder: Path) -> ClusterAddress:
    address = _load(folder.resolve())
    if address is None:
        raise ClusterError(f"{folder} holds no cluster (no {STATE})")
    return address


def kill_replica(folder: Path, replica: int) -> None:
    """Stop one replica at once (SIGKILL), for fault drills; ``up`` starts it again."""
    folder = folder.resolve()
    address = address_of(folder)
    pid = _pid(folder / f"replica_{replica}.pid")
    if pid is None or not _ours(pid, folder, address.cluster_id, replica):
        raise ClusterError(f"replica {replica} of {folder} is not running")
    os.kill(pid, signal.SIGKILL)
    _wait_gone(pid, STOP_TIMEOUT_S)
    (folder / f"replica_{replica}.pid").unlink(missing_ok=True)


def start_replica(
    folder: Path, replica: int, *, cache_grid: str = DEFAULT_CACHE_GRID, light: bool = False
) -> None:
    """Start one stopped replica again on its data file (after ``kill_replica``), while the
    others run, and wait until it listens: ``up`` starts only a wholly stopped cluster.
    ``light`` as the cluster's ``up`` was given (a light replica's requests are as large)."""
    folder = folder.resolve()
    address = address_of(folder)
    if not 0 <= replica < len(address.addresses):
        raise ClusterError(f"{folder} has no replica {replica}")
    pid = _pid(folder / f"replica_{replica}.pid")
    if pid is not None and _ours(pid, folder, address.cluster_id, replica):
        raise ClusterError(f"replica {replica} of {folder} is running already")
    _start(require_binary(), folder, address, replica, cache_grid, light)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _listening(address.addresses[replica]):
        started = _pid(folder / f"replica_{replica}.pid")
        if started is None or not _alive(started) or time.monotonic() > deadline:
            log = folder / f"replica_{replica}.log"
            tail = _tail(log.read_text(errors="replace")) if log.is_file() else ""
            raise ClusterError(f"replica {replica} did not start again: {tail}")
        time.sleep(0.1)


# -- helpers ---------------------------------------------------------------------------


def _load(folder: Path) -> ClusterAddress | None:
    state = folder / STATE
    if not state.is_file():
        return None
    try:
        data = json.loads(state.read_text())
        return ClusterAddress(int(data["cluster_id"]), tuple(str(a) for a in data["addresses"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ClusterError(f"{state} is damaged: {exc}") from exc


def _format(binary: Path, folder: Path, address: ClusterAddress, replica: int) -> None:
    path = data_file(folder, address.cluster_id, replica)
    if path.exists():
        raise ClusterError(f"{path} exists but {folder / STATE} does not: remove it first")
    if shutil.disk_usage(folder).free < 2 * 2**30:
        raise ClusterError(f"less than 2 GiB free in {folder}: each replica needs about 1 GiB")
    done = subprocess.run(
        [
            str(binary),
            "format",
            f"--cluster={address.cluster_id}",
            f"--replica={replica}",
            f"--replica-count={len(address.addresses)}",
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        raise ClusterError(f"formatting replica {replica} failed: {_tail(done.stderr)}")


def _start(
    binary: Path, folder: Path, address: ClusterAddress, replica: int, cache_grid: str, light: bool
) -> None:
    log = str(folder / f"replica_{replica}.log")
    # posix_spawn, not Popen: the replica outlives this process (its own session, so not
    # killed with the shell that ran `up`), and no Popen object is left to warn about it.
    pid = os.posix_spawn(
        str(binary),
        [
            str(binary),
            "start",
            f"--addresses={address.replica_addresses}",
            f"--cache-grid={cache_grid}",
            *(LIGHT_OPTIONS if light else ()),
            str(data_file(folder, address.cluster_id, replica)),
        ],
        dict(os.environ),
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    (folder / f"replica_{replica}.pid").write_text(f"{pid}\n")


def _wait_ready(folder: Path, address: ClusterAddress) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        states = status(folder)
        # Just after the spawn a replica may not show its own command line yet: judge it
        # dead only once its process has exited.
        dead = [s for s in states if s.pid is None or not _alive(s.pid)]
        if dead:
            log = folder / f"replica_{dead[0].replica}.log"
            tail = _tail(log.read_text(errors="replace")) if log.is_file() else ""
            down(folder)
            raise ClusterError(f"replica {dead[0].replica} exited at start: {tail}")
        if all(s.listening and s.running for s in states):
            return
        time.sleep(0.1)
    down(folder)
    raise ClusterError(f"the cluster did not listen within {READY_TIMEOUT_S} s")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def _pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _ours(pid: int, folder: Path, cluster_id: int, replica: int) -> bool:
    """Is ``pid`` alive and the tigerbeetle serving this replica's data file?"""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rpartition(")")[2].split()[0] == "Z":  # a zombie: exited, not yet reaped
        return False
    args = raw.decode(errors="replace").split("\0")
    return str(data_file(folder, cluster_id, replica)) in args and "start" in args


def _wait_gone(pid: int, timeout_s: int) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reap it when it was our own child
        if not Path(f"/proc/{pid}").exists() or _zombie(pid):
            return True
        time.sleep(0.05)
    return False


def _alive(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it was our own child
    return Path(f"/proc/{pid}").exists() and not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


def _tail(text: str) -> str:
    return " | ".join(text.strip().splitlines()[-5:])
