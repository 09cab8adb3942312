"""Tamper evidence: SHA-256 over a canonical encoding of transfers, chained block by block.

Writers never read a "previous hash": that single row would make every writer wait on every
other. Instead each committed transfer is queued as unsealed in its own transaction, and a
sealer (the worker, ``tindahan ledger seal``) later takes the queued transfers, orders them
by ledger timestamp and seals them into the next block::

    block_hash = SHA-256(prev_hash | block_no | count | SHA-256(canonical(t)) for t in block)

A transfer whose transaction commits late (its timestamp lower than some already sealed)
simply lands in a later block, so the chain covers every transfer exactly once, in
sealing order, and by timestamp within each block. Change one field of one sealed transfer
and its block's hash changes, and with it every later link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from tindahan.ledger.model import Transfer

GENESIS_HASH = "0" * 64
ENCODING_VERSION = 1


def canonical(t: Transfer) -> bytes:
    """One transfer as bytes: every field, fixed order, no whitespace, UTF-8 JSON."""
    fields = [
        ENCODING_VERSION,
        t.id,
        t.debit_account_id,
        t.credit_account_id,
        t.amount,
        t.ledger,
        t.code,
        int(t.flags),
        t.pending_id,
        t.timeout_seconds,
        t.expires_at_ns,
        sorted(t.metadata.items()),
        t.timestamp,
        t.created_at_ns,
    ]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def transfer_digest(t: Transfer) -> bytes:
    return hashlib.sha256(canonical(t)).digest()


def block_hash(prev_hash: str, block_no: int, transfers: Iterable[Transfer]) -> tuple[str, int]:
    """The hash of a block holding ``transfers`` (already in timestamp order) and their count."""
    body = hashlib.sha256()
    count = 0
    for t in transfers:
        body.update(transfer_digest(t))
        count += 1
    head = f"{prev_hash}|{block_no}|{count}|".encode("ascii")
    return hashlib.sha256(head + body.digest()).hexdigest(), count
