"""Property tests: random workloads never break an invariant, and replays are idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from tests.profiles import examples
from tests.strategies import ACCOUNTS, FUNDING, steps
from tindahan.ledger import CreateTransferResult
from tindahan.ledger.memory import MemoryLedger


class Clock:
    def __init__(self) -> None:
        self.now = 10**18

    def __call__(self) -> int:
        return self.now


def _fresh() -> tuple[MemoryLedger, Clock]:
    clock = Clock()
    ledger = MemoryLedger(clock)
    ledger.create_accounts(ACCOUNTS)
    assert all(o.ok for o in ledger.create_transfers(FUNDING))
    return ledger, clock


@pytest.mark.slow
@settings(max_examples=examples(300), deadline=None)
@given(steps)
def test_random_workloads_keep_every_invariant(workload):
    ledger, clock = _fresh()
    for step in workload:
        if isinstance(step, int):
            clock.now += step * 10**9
            ledger.expire_pending()
        else:
            before = dict(ledger.accounts), dict(ledger.transfers)
            outcomes = ledger.create_transfers(step)
            assert len(outcomes) == len(step)
            if not any(o.result == CreateTransferResult.OK for o in outcomes):
                assert (dict(ledger.accounts), dict(ledger.transfers)) == before
        assert ledger.violations() == []
        for account in ledger.accounts.values():
            assert min(account.debits_pending, account.debits_posted) >= 0
            assert min(account.credits_pending, account.credits_posted) >= 0


@settings(max_examples=examples(200), deadline=None)
@given(steps)
def test_replaying_a_batch_returns_the_originals_and_moves_nothing(workload):
    ledger, _clock = _fresh()
    for step in workload:
        if isinstance(step, int):
            continue
        first = ledger.create_transfers(step)
        balances = dict(ledger.accounts)
        count = len(ledger.transfers)
        again = ledger.create_transfers(step)
        # An event that failed the first time may pass now (money arrived meanwhile);
        # one that passed must answer ``exists`` with the original and move nothing.
        fresh = sum(1 for o in again if o.result == CreateTransferResult.OK)
        assert len(ledger.transfers) == count + fresh
        if fresh == 0:
            assert ledger.accounts == balances
        for one, two in zip(first, again, strict=True):
            if one.result == CreateTransferResult.OK:
                assert two.result == CreateTransferResult.EXISTS
                assert two.transfer == one.transfer
