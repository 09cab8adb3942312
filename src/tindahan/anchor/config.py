"""Which anchor to use, from the environment: nothing here lives in the database.

* ``TINDAHAN_ANCHOR_KEY`` / ``TINDAHAN_ANCHOR_KEY_FILE`` — the private key: with it, sealing
  signs and appends every new block's head.
* ``TINDAHAN_ANCHOR_PUBLIC_KEY`` — the public key alone: ``verify`` checks the anchor but
  nothing is signed (what an auditor runs).
* ``TINDAHAN_ANCHOR_FILE`` — the anchor file, ``var/anchor.jsonl`` by default.
* ``TINDAHAN_ANCHOR_NATS_URL`` (and ``TINDAHAN_ANCHOR_NATS_STREAM``, ``TINDAHAN_ANCHOR``
  by default) — also publish to, and verify against, a JetStream stream.
* ``TINDAHAN_ANCHOR_COMMAND`` — also pipe the new lines to this command.

With neither key set there is no anchor: the chain is still sealed and verified, and
``verify`` says that it was not checked against an anchor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tindahan.anchor.keys import (
    AnchorKey,
    AnchorVerifier,
    verifier_from_environment,
)
from tindahan.anchor.sinks import CommandAnchor, FileAnchor, NatsAnchor

ENV_FILE = "TINDAHAN_ANCHOR_FILE"
ENV_NATS_URL = "TINDAHAN_ANCHOR_NATS_URL"
ENV_NATS_STREAM = "TINDAHAN_ANCHOR_NATS_STREAM"
ENV_COMMAND = "TINDAHAN_ANCHOR_COMMAND"
DEFAULT_FILE = Path("var") / "anchor.jsonl"
DEFAULT_STREAM = "TINDAHAN_ANCHOR"


@dataclass(frozen=True)
class Anchor:
    """The key (None for a verify-only auditor), the public key, and where heads go."""

    verifier: AnchorVerifier
    file: FileAnchor
    key: AnchorKey | None = None
    nats: NatsAnchor | None = None
    command: CommandAnchor | None = None

    @classmethod
    def from_environment(cls) -> Anchor | None:
        key = AnchorKey.from_environment()
        verifier = verifier_from_environment(key)
        if verifier is None:
            return None
        path = os.environ.get(ENV_FILE) or str(DEFAULT_FILE)
        url = os.environ.get(ENV_NATS_URL)
        command = os.environ.get(ENV_COMMAND)
        return cls(
            verifier,
            FileAnchor(Path(path)),
            key,
            nats_anchor(url, os.environ.get(ENV_NATS_STREAM) or DEFAULT_STREAM) if url else None,
            CommandAnchor(command) if command and command.strip() else None,
        )

    @property
    def readable(self) -> list[FileAnchor | NatsAnchor]:
        """The anchors ``verify`` reads back: the file, and the stream when there is one."""
        return [self.file] if self.nats is None else [self.file, self.nats]

    @property
    def secondary(self) -> list[NatsAnchor | CommandAnchor]:
        return [sink for sink in (self.nats, self.command) if sink is not None]


def nats_anchor(url: str, stream: str) -> NatsAnchor:
    return NatsAnchor(url, stream, f"tindahan.anchor.{stream.lower()}")
