"""Anchoring sealed blocks: sign each new block's head and append it outside the database.

Runs after sealing (``services.ledger.seal``), under the anchor file's lock: it reads the
file's newest signed head, checks that the database still holds that very block (same
number, same hash) and only then signs the blocks after it, oldest first, and appends them.
When the database no longer matches what was anchored, it refuses and signs nothing: the
sealer must never lend its key to a rewritten chain. A crash between sealing and anchoring
leaves blocks unanchored until the next run, which picks them up; ``verify`` names them
meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tindahan.anchor.config import Anchor
from tindahan.anchor.keys import AnchorKey
from tindahan.anchor.sinks import AnchorError, FileAnchor
from tindahan.ledger.anchor import AnchoredHead, AnchorFormatError, parse_line
from tindahan.ledger.chain import GENESIS_HASH
from tindahan.services.unit import iso
from tindahan.store import ledger as repo
from tindahan.store.database import Database


class AnchorMismatchError(AnchorError):
    """The database's chain no longer extends what the anchor signed: nothing is signed."""


@dataclass(frozen=True)
class AnchorReport:
    anchored: int  # heads appended by this run
    newest: AnchoredHead | None  # the anchor's newest head after it


def anchor_sealed(db: Database, anchor: Anchor) -> AnchorReport:
    """Sign and append every sealed block the anchor has not seen yet."""
    key = anchor.key
    if key is None:
        raise AnchorError("no anchor key (TINDAHAN_ANCHOR_KEY): nothing can be signed")
    with anchor.file.locked():
        newest = _newest(anchor)
        first = newest.block_no if newest else 1
        rows = db.transact(lambda conn: repo.blocks_from(conn, first), write=False)
        if newest is not None:
            _check_extends(newest, rows)
            rows = rows[1:]
        elif rows and (rows[0]["block_no"] != 1 or rows[0]["prev_hash"] != GENESIS_HASH):
            raise AnchorMismatchError("the chain does not start at block 1: nothing anchored")
        heads = [_signed(key, row) for row in rows]
        if heads:
            for sink in anchor.secondary:
                sink.publish(heads)
            anchor.file.append(heads)
    return AnchorReport(len(heads), heads[-1] if heads else newest)


def _newest(anchor: Anchor) -> AnchoredHead | None:
    """The file's newest head, its signature checked: a damaged tail stops anchoring."""
    file: FileAnchor = anchor.file
    line = file.last_line()
    if line is None:
        return None
    try:
        head = parse_line(line)
    except AnchorFormatError as exc:
        raise AnchorError(f"the anchor file {file.name} ends with a damaged line: {exc}") from None
    if head.key_id != anchor.verifier.key_id or not anchor.verifier.check(head):
        raise AnchorError(f"the anchor file {file.name} ends with a line this key did not sign")
    return head


def _check_extends(newest: AnchoredHead, rows: list[dict[str, Any]]) -> None:
    if not rows or rows[0]["block_no"] != newest.block_no:
        raise AnchorMismatchError(
            f"the anchor holds block {newest.block_no} but the database does not: "
            "sealed blocks were removed; nothing anchored"
        )
    if rows[0]["hash"] != newest.hash:
        raise AnchorMismatchError(
            f"block {newest.block_no} differs from its anchored head: "
            "the chain was rewritten; nothing anchored"
        )


def _signed(key: AnchorKey, row: dict[str, Any]) -> AnchoredHead:
    head = AnchoredHead(
        block_no=int(row["block_no"]),
        hash=row["hash"],
        prev_hash=row["prev_hash"],
        transfer_count=int(row["transfer_count"]),
        sealed_at=iso(int(row["sealed_at_ns"])) or "",
        key_id="",
    )
    return key.sign(head)
