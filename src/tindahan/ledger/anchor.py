"""Signed heads of the hash chain, kept outside the database: the rules, without the crypto.

The hash chain (``ledger.chain``) proves that nothing changed *inside* a chain someone
recomputes; it cannot tell a rewritten chain from the true one, because whoever can write
every table can also re-seal. So each sealed block's head is signed with a key the database
never holds and appended to an **anchor** — an append-only file, a JetStream stream, a
command — that the database's owner cannot reach. One anchored head is one JSON line::

    {"v":1,"block_no":7,"hash":"…","prev_hash":"…","transfer_count":12,
     "sealed_at":"2026-12-06T19:40:00.000000Z","key_id":"…","signature":"…"}

The signature (Ed25519, made in ``tindahan.anchor``) covers every other field, in the fixed
order of :func:`message`. A line names its block's ``prev_hash``, so each line *extends* the
previous one (the next block number, linking to the previous hash): a line removed from the
middle, or reordered, breaks a link; lines removed from the end leave the database holding
sealed blocks the anchor never saw. Both are reported. This module is pure: it parses and
checks lines and compares them with the chain; signing and checking signatures is done by
the caller through :data:`SignatureCheck`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tindahan.ledger.chain import GENESIS_HASH

FORMAT_VERSION = 1
_DOMAIN = "tindahan ledger anchor"
_HEX = frozenset("0123456789abcdef")


class AnchorFormatError(ValueError):
    """An anchor line that is not a well-formed signed head."""


@dataclass(frozen=True, slots=True)
class AnchoredHead:
    """One sealed block's head, as signed into the anchor."""

    block_no: int
    hash: str
    prev_hash: str
    transfer_count: int
    sealed_at: str  # ISO 8601 UTC, from the block's own sealing time
    key_id: str
    signature: str = ""  # URL-safe base64; empty until signed

    def message(self) -> bytes:
        """The bytes that are signed: every field but the signature, in a fixed order, under
        a domain string so a signature made for something else never verifies here."""
        fields = [
            _DOMAIN,
            FORMAT_VERSION,
            self.block_no,
            self.hash,
            self.prev_hash,
            self.transfer_count,
            self.sealed_at,
            self.key_id,
        ]
        return json.dumps(fields, separators=(",", ":")).encode("ascii")

    def to_line(self) -> str:
        """The JSON line written to the anchor (no newline)."""
        body = {
            "v": FORMAT_VERSION,
            "block_no": self.block_no,
            "hash": self.hash,
            "prev_hash": self.prev_hash,
            "transfer_count": self.transfer_count,
            "sealed_at": self.sealed_at,
            "key_id": self.key_id,
            "signature": self.signature,
        }
        return json.dumps(body, separators=(",", ":"))


def parse_line(text: str) -> AnchoredHead:
    """One anchor line back into a head; any deviation is an :class:`AnchorFormatError`."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        raise AnchorFormatError("not a JSON object (cut off or overwritten?)") from None
    if not isinstance(body, dict):
        raise AnchorFormatError("not a JSON object")
    if body.get("v") != FORMAT_VERSION:
        raise AnchorFormatError(f"unknown format version {body.get('v')!r}")
    head = AnchoredHead(
        block_no=_int(body, "block_no"),
        hash=_hex(body, "hash"),
        prev_hash=_hex(body, "prev_hash"),
        transfer_count=_int(body, "transfer_count"),
        sealed_at=_text(body, "sealed_at"),
        key_id=_text(body, "key_id"),
        signature=_text(body, "signature"),
    )
    if head.block_no < 1 or head.transfer_count < 1:
        raise AnchorFormatError("block_no and transfer_count must be positive")
    return head


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise AnchorFormatError(f"{name} is missing or not an integer")
    return value


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise AnchorFormatError(f"{name} is missing or not text")
    return value


def _hex(body: dict[str, Any], name: str) -> str:
    value = _text(body, name)
    if len(value) != 64 or not set(value) <= _HEX:
        raise AnchorFormatError(f"{name} is not a SHA-256 hex digest")
    return value


#: Checks one head's signature against the auditor's public key: True when it verifies.
SignatureCheck = Callable[[AnchoredHead], bool]


@dataclass(frozen=True, slots=True)
class AnchorReading:
    """What an anchor holds: its valid heads in order, and what was wrong with it."""

    source: str
    heads: list[AnchoredHead]
    problems: list[str]

    @property
    def newest(self) -> AnchoredHead | None:
        return self.heads[-1] if self.heads else None


def read_lines(
    source: str, lines: Sequence[str], key_id: str, check: SignatureCheck
) -> AnchorReading:
    """Parse and check an anchor's lines: each well formed, signed by the expected key, and
    extending the one before it. Reading stops at the first bad line: nothing after a broken
    link can be trusted to belong to this chain."""
    heads: list[AnchoredHead] = []
    for number, text in enumerate(lines, start=1):
        where = f"anchor {source} line {number}"
        try:
            head = parse_line(text)
        except AnchorFormatError as exc:
            return AnchorReading(source, heads, [f"{where}: {exc}"])
        if head.key_id != key_id:
            problem = f"{where}: signed by key {head.key_id}, not the anchor key {key_id}"
            return AnchorReading(source, heads, [problem])
        if not check(head):
            return AnchorReading(source, heads, [f"{where}: the signature does not verify"])
        if not heads and (head.block_no != 1 or head.prev_hash != GENESIS_HASH):
            problem = f"{where}: starts at block {head.block_no}, not block 1: its start was cut"
            return AnchorReading(source, heads, [problem])
        if heads and (head.block_no != heads[-1].block_no + 1 or head.prev_hash != heads[-1].hash):
            problem = (
                f"{where}: block {head.block_no} does not extend the previous line "
                f"(block {heads[-1].block_no}): lines were removed, reordered or rewritten"
            )
            return AnchorReading(source, heads, [problem])
        heads.append(head)
    return AnchorReading(source, heads, [])


def chain_problems(reading: AnchorReading, chain: Mapping[int, str]) -> list[str]:
    """Compare the sealed chain (block number → hash) with what the anchor signed.

    Refused: a chain shorter than the anchor (blocks removed), a block whose hash differs
    from its signed head (rewritten and re-sealed), and sealed blocks after the anchor's
    newest (the anchor was truncated, or the sealer stopped before anchoring)."""
    newest = reading.newest
    last = max(chain, default=0)
    if newest is None:
        if last and not reading.problems:
            return [
                f"anchor {reading.source} is empty but {last} block(s) are sealed: "
                "the anchor was truncated or never written"
            ]
        return []
    problems = []
    for head in reading.heads:
        have = chain.get(head.block_no)
        if have is None:
            continue
        if have != head.hash:
            problems.append(
                f"block {head.block_no}: hash {have[:16]}… differs from the anchored "
                f"{head.hash[:16]}… signed at {head.sealed_at}: the chain was rewritten"
            )
            break  # every later block differs too
    if last < newest.block_no:
        problems.append(
            f"the chain ends at block {last} but the anchor {reading.source} holds block "
            f"{newest.block_no} (hash {newest.hash[:16]}…): sealed blocks were removed"
        )
    elif last > newest.block_no and not reading.problems:
        problems.append(
            f"blocks {newest.block_no + 1}–{last} are sealed but not in the anchor "
            f"{reading.source}, which ends at block {newest.block_no}: the anchor was "
            "truncated, or sealing stopped before anchoring (`tindahan ledger anchor` "
            "anchors them if the chain still extends the anchor)"
        )
    return problems
