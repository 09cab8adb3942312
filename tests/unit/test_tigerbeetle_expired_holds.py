"""``ledger verify`` on a TigerBeetle ledger and a hold the cluster voided by its timeout.

The cluster voids such a hold by itself and leaves no transfer in the statement; the
recomputation counts it as voided (``tigerbeetle.verify._expired``), or verify would report
its accounts' pending balances as wrong. No cluster needed: the rule is on transfers.
"""

from __future__ import annotations

from dataclasses import replace

from tindahan.ledger import audit
from tindahan.ledger.model import Transfer, TransferFlags
from tindahan.tigerbeetle.verify import _expired

HOLD = Transfer(
    id="pay.x",
    debit_account_id="wal.buyer",
    credit_account_id="wal.shop",
    amount=700,
    ledger="PHP",
    code=1,
    flags=TransferFlags.PENDING,
    pending_id=None,
    timeout_seconds=1,
    expires_at_ns=2_000_000_000,
    metadata={},
    timestamp=1_000_000_000,
    created_at_ns=1_000_000_000,
)


def test_a_hold_past_its_timeout_counts_as_voided_and_one_before_it_still_held() -> None:
    assert _expired([HOLD], HOLD.timestamp + 999_999_999) == []  # still held
    voided = _expired([HOLD], 2_000_000_000)
    assert [(t.pending_id, t.flags) for t in voided] == [("pay.x", TransferFlags.VOID_PENDING)]
    balances = audit.recompute([HOLD, *voided])
    assert balances["wal.buyer"] == audit.ZERO and balances["wal.shop"] == audit.ZERO


def test_a_posted_or_voided_hold_and_a_hold_without_timeout_are_left_alone() -> None:
    post = replace(
        HOLD, id="pay.x.post", flags=TransferFlags.POST_PENDING, pending_id="pay.x", timestamp=2
    )
    void = replace(post, id="pay.x.void", flags=TransferFlags.VOID_PENDING)
    forever = replace(HOLD, id="pay.y", timeout_seconds=0, expires_at_ns=None)
    late = 10**12
    assert _expired([HOLD, post], late) == []
    assert _expired([HOLD, void], late) == []
    assert _expired([forever], late) == []
    assert audit.recompute([HOLD, post])["wal.shop"] == (0, 0, 0, 700)
