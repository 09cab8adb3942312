"""Where signed heads go: an append-only file (always), a NATS JetStream stream and an
operator's command (each optional).

* **File** — one JSON line per head, appended with ``O_APPEND`` and ``fsync``, under an
  exclusive ``flock`` so two sealers (the server's worker thread and a ``tindahan worker``)
  never interleave or append the same block twice. Put it where the database's owner cannot
  write: another machine's mount, a WORM bucket synced from it, an ``chattr +a`` file.
* **JetStream** — a stream created with ``deny_delete`` and ``deny_purge``, so a client
  cannot remove what was published; each head is published with ``Nats-Msg-Id`` =
  ``<key id>.<block>``, so a head sent twice (a sealer that crashed before recording it in
  the file) is stored once within the server's duplicate window, and a later copy is an
  identical line that readers skip.
* **Command** — any program (``TINDAHAN_ANCHOR_COMMAND``, split like a shell would, run
  without one) receives the new lines on its standard input; a non-zero exit stops
  anchoring with its message. It is write-only: ``verify`` cannot read it back.

The secondary sinks are written first and the file last, so the file never claims a head the
others did not get.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shlex
import subprocess
from collections.abc import Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tindahan import limits
from tindahan.ledger.anchor import AnchoredHead


class AnchorError(RuntimeError):
    """An anchor could not be written or read."""


@dataclass(frozen=True)
class FileAnchor:
    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the file's exclusive lock (creating the file if needed)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o640)
        except OSError as exc:
            raise AnchorError(f"cannot open the anchor file {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def lines(self) -> list[str]:
        """Every line; none when the file does not exist yet."""
        try:
            return self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise AnchorError(f"cannot read the anchor file {self.path}: {exc}") from None

    def last_line(self) -> str | None:
        """The newest line, read from the end of the file only."""
        try:
            with self.path.open("rb") as handle:
                size = handle.seek(0, os.SEEK_END)
                handle.seek(max(0, size - limits.ANCHOR_TAIL_BYTES))
                tail = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise AnchorError(f"cannot read the anchor file {self.path}: {exc.strerror}") from None
        lines = tail.decode("utf-8", errors="replace").splitlines()
        return lines[-1] if lines else None

    def append(self, heads: Sequence[AnchoredHead]) -> None:
        data = "".join(head.to_line() + "\n" for head in heads).encode("utf-8")
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            problem = f"cannot append to the anchor file {self.path}: {exc.strerror}"
            raise AnchorError(problem) from None


def run_blocking(work: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to its end from synchronous code: on this thread when no event loop
    runs here, else on a thread of its own (``asyncio.run`` refuses to nest; sealing may be
    called from code that already runs a loop, such as an async route or a test browser)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


@dataclass(frozen=True)
class NatsAnchor:
    url: str
    stream: str
    subject: str

    @property
    def name(self) -> str:
        return f"nats stream {self.stream}"

    def publish(self, heads: Sequence[AnchoredHead]) -> None:
        run_blocking(self._run(self._publish, heads))

    def lines(self) -> list[str]:
        lines: list[str] = run_blocking(self._run(self._read))
        return lines

    async def _run(self, work: Any, *args: Any) -> Any:
        try:
            import nats
            from nats.errors import Error as NatsError
        except ImportError:
            raise AnchorError(
                "the NATS anchor needs nats-py: pip install 'tindahan[anchor]'"
            ) from None

        try:
            client = await nats.connect(
                self.url,
                connect_timeout=limits.ANCHOR_NATS_TIMEOUT_S,
                max_reconnect_attempts=0,
                allow_reconnect=False,
            )
        except (OSError, NatsError, TimeoutError) as exc:
            said = str(exc) or type(exc).__name__
            raise AnchorError(f"no NATS answers at {self.url}: {said}") from None
        try:
            return await work(client.jetstream(timeout=limits.ANCHOR_NATS_TIMEOUT_S), *args)
        except (NatsError, TimeoutError) as exc:
            raise AnchorError(f"{self.name}: {exc or type(exc).__name__}") from None
        finally:
            await client.close()

    async def _publish(self, js: Any, heads: Sequence[AnchoredHead]) -> None:
        from nats.js.errors import NotFoundError

        try:
            await js.stream_info(self.stream)
        except NotFoundError:
            await js.add_stream(
                name=self.stream, subjects=[self.subject], deny_delete=True, deny_purge=True
            )
        for head in heads:
            await js.publish(
                self.subject,
                head.to_line().encode("utf-8"),
                stream=self.stream,
                headers={"Nats-Msg-Id": f"{head.key_id}.{head.block_no}"},
            )

    async def _read(self, js: Any) -> list[str]:
        from nats.js.errors import NotFoundError

        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            return []
        found = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                message = await js.get_msg(self.stream, seq=seq)
            except NotFoundError:
                continue
            if message.subject == self.subject and message.data is not None:
                found.append(message.data.decode("utf-8", errors="replace"))
        return found


@dataclass(frozen=True)
class CommandAnchor:
    command: str

    @property
    def name(self) -> str:
        return "the anchor command"

    def publish(self, heads: Sequence[AnchoredHead]) -> None:
        data = "".join(head.to_line() + "\n" for head in heads)
        try:
            done = subprocess.run(  # the operator's own command, run without a shell
                shlex.split(self.command),
                input=data,
                capture_output=True,
                text=True,
                timeout=limits.ANCHOR_COMMAND_TIMEOUT_S,
                check=False,
            )
        except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
            raise AnchorError(f"the anchor command failed to run: {exc}") from None
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise AnchorError(f"the anchor command exited with {done.returncode}: {said}")
