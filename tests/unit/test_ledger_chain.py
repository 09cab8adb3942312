"""The hash chain's encoding: every field counts, order counts, and it never drifts."""

from __future__ import annotations

import dataclasses

import pytest

from tindahan.ledger.chain import GENESIS_HASH, block_hash, canonical
from tindahan.ledger.model import Transfer, TransferFlags

T = Transfer(
    id="pay-1",
    debit_account_id="c-juan-wallet",
    credit_account_id="m-nena",
    amount=8_550,
    ledger="PHP",
    code=10,
    flags=TransferFlags.NONE,
    pending_id=None,
    timeout_seconds=0,
    expires_at_ns=None,
    metadata={"order": "o-1", "ñ": "piso"},
    timestamp=8192,
    created_at_ns=1_700_000_000_000_000_000,
)


def test_encoding_is_pinned():
    """A change here would orphan every chain ever sealed: bump ENCODING_VERSION instead."""
    assert (
        canonical(T)
        == (
            '[1,"pay-1","c-juan-wallet","m-nena",8550,"PHP",10,0,null,0,null,'
            '[["order","o-1"],["ñ","piso"]],8192,1700000000000000000]'
        ).encode()
    )
    digest, count = block_hash(GENESIS_HASH, 1, [T])
    assert count == 1 and len(digest) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"id": "pay-2"},
        {"debit_account_id": "x"},
        {"credit_account_id": "x"},
        {"amount": 8_551},
        {"ledger": "USD"},
        {"code": 11},
        {"flags": TransferFlags.PENDING},
        {"pending_id": "p"},
        {"timeout_seconds": 5},
        {"expires_at_ns": 5},
        {"metadata": {"order": "o-2", "ñ": "piso"}},
        {"timestamp": 8193},
        {"created_at_ns": 1},
    ],
)
def test_every_field_changes_the_block_hash(change):
    edited = dataclasses.replace(T, **change)
    assert block_hash(GENESIS_HASH, 1, [T]) != block_hash(GENESIS_HASH, 1, [edited])


def test_links_and_order_change_the_hash():
    other = dataclasses.replace(T, id="pay-2", timestamp=8193)
    base = block_hash(GENESIS_HASH, 1, [T, other])
    assert base != block_hash(GENESIS_HASH, 1, [other, T])
    assert base != block_hash("1" * 64, 1, [T, other])
    assert base != block_hash(GENESIS_HASH, 2, [T, other])
    assert base != block_hash(GENESIS_HASH, 1, [T])
