"""Sealing committed transfers into the SHA-256 block chain (see ``ledger.chain``).

Runs beside the writers, never inside them: it takes the queue of unsealed transfers in
timestamp order, hashes them onto the head of the chain, and marks them sealed — one block
per transaction. Two sealers racing for the same block number collide on its primary key
and the loser starts again from the new head. With an anchor configured, the new blocks'
heads are then signed and written outside the database (``services.ledger.anchoring``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from tindahan import limits
from tindahan.anchor.config import Anchor
from tindahan.ledger.chain import GENESIS_HASH, block_hash
from tindahan.services.ledger.anchoring import anchor_sealed
from tindahan.store import ledger as repo
from tindahan.store.database import Database


@dataclass(frozen=True)
class SealReport:
    blocks: int
    transfers: int
    anchored: int = 0


class SealConflictError(RuntimeError):
    """A transfer queued for sealing changed state while its block was being written."""


def seal(
    db: Database, *, max_blocks: int | None = None, anchor: Anchor | None = None
) -> SealReport:
    """Seal everything committed so far (or at most ``max_blocks`` blocks), then anchor every
    sealed block not anchored yet when the anchor's key is at hand."""
    sealed_blocks = sealed_transfers = 0
    while max_blocks is None or sealed_blocks < max_blocks:
        count = db.transact(lambda conn: _seal_one_block(db, conn))
        if count == 0:
            break
        sealed_blocks += 1
        sealed_transfers += count
    anchored = 0
    if anchor is not None and anchor.key is not None:
        anchored = anchor_sealed(db, anchor).anchored
    return SealReport(sealed_blocks, sealed_transfers, anchored)


def _seal_one_block(db: Database, conn: Connection) -> int:
    batch = repo.unsealed_transfers(conn, limits.SEAL_BLOCK_MAX)
    if not batch:
        return 0
    head = repo.chain_head(conn)
    block_no, prev_hash = (head[0] + 1, head[1]) if head else (1, GENESIS_HASH)
    digest, count = block_hash(prev_hash, block_no, batch)
    row = {
        "block_no": block_no,
        "prev_hash": prev_hash,
        "hash": digest,
        "transfer_count": count,
        "first_timestamp": batch[0].timestamp,
        "last_timestamp": batch[-1].timestamp,
        "sealed_at_ns": db.clock(),
    }
    changed = repo.insert_block(conn, row, [t.timestamp for t in batch])
    if changed != count:
        raise SealConflictError(f"block {block_no}: {changed} of {count} transfers marked")
    return count
