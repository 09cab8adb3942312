"""The ledger's rules, on the in-memory reference ledger: one test per result code."""

from __future__ import annotations

import pytest

from tindahan import limits
from tindahan.ledger import (
    AccountFlags,
    CreateAccountResult,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    TransferFlags,
)
from tindahan.ledger.memory import MemoryLedger

R = CreateTransferResult
F = TransferFlags
WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS


class Clock:
    def __init__(self) -> None:
        self.now = 10**18

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(clock) -> MemoryLedger:
    led = MemoryLedger(clock)
    outcomes = led.create_accounts(
        [
            NewAccount("bank", "PHP", 500),
            NewAccount("juan", "PHP", 100, "c-juan", WALLET),
            NewAccount("nena", "PHP", 110, "m-nena", WALLET),
            NewAccount("fees", "PHP", 300),
            NewAccount("loan", "PHP", 400, flags=AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS),
            NewAccount("usd", "USD", 100, flags=WALLET),
        ]
    )
    assert all(o.result == CreateAccountResult.OK for o in outcomes)
    assert _results(led, [NewTransfer("fund", "bank", "juan", 10_000, "PHP", 1)]) == [R.OK]
    return led


def _results(led: MemoryLedger, batch: list[NewTransfer]) -> list[str]:
    return [o.result for o in led.create_transfers(batch)]


def _snapshot(led: MemoryLedger):
    return dict(led.accounts), dict(led.transfers)


def test_a_transfer_moves_money_and_keeps_the_sum(ledger):
    assert _results(ledger, [NewTransfer("t1", "juan", "nena", 2_550, "PHP", 10)]) == [R.OK]
    assert ledger.accounts["juan"].balance_posted == 7_450
    assert ledger.accounts["nena"].balance_posted == 2_550
    assert ledger.violations() == []


@pytest.mark.parametrize(
    ("transfer", "expected"),
    [
        (NewTransfer("", "juan", "nena", 1, "PHP", 1), R.ID_INVALID),
        (NewTransfer("~sys", "juan", "nena", 1, "PHP", 1), R.ID_INVALID),
        (NewTransfer("x" * 65, "juan", "nena", 1, "PHP", 1), R.ID_INVALID),
        (NewTransfer("t", "juan", "nena", 1, "PHP", 1, flags=1 << 10), R.FLAGS_INVALID),
        (
            NewTransfer("t", "juan", "nena", 1, "PHP", 1, flags=F.PENDING | F.POST_PENDING),
            R.FLAGS_ARE_MUTUALLY_EXCLUSIVE,
        ),
        (NewTransfer("t", "juan", "juan", 1, "PHP", 1), R.ACCOUNTS_MUST_BE_DIFFERENT),
        (NewTransfer("t", None, "nena", 1, "PHP", 1), R.DEBIT_ACCOUNT_ID_INVALID),
        (NewTransfer("t", "juan", "bad id", 1, "PHP", 1), R.CREDIT_ACCOUNT_ID_INVALID),
        (NewTransfer("t", "juan", "nena", 0, "PHP", 1), R.AMOUNT_MUST_BE_POSITIVE),
        (NewTransfer("t", "juan", "nena", -5, "PHP", 1), R.AMOUNT_MUST_BE_POSITIVE),
        (NewTransfer("t", "juan", "nena", True, "PHP", 1), R.AMOUNT_MUST_BE_POSITIVE),
        (NewTransfer("t", "juan", "nena", 2**63, "PHP", 1), R.AMOUNT_EXCEEDS_MAX),
        (NewTransfer("t", "juan", "nena", None, "PHP", 1), R.AMOUNT_REQUIRED),
        (NewTransfer("t", "juan", "nena", 1, "php", 1), R.LEDGER_INVALID),
        (NewTransfer("t", "juan", "nena", 1, "PHP", 0), R.CODE_INVALID),
        (NewTransfer("t", "juan", "nena", 1, "PHP", 1, metadata={"k": 5}), R.METADATA_INVALID),
        (
            NewTransfer("t", "juan", "nena", 1, "PHP", 1, timeout_seconds=5),
            R.TIMEOUT_RESERVED_FOR_PENDING_TRANSFER,
        ),
        (NewTransfer("t", "juan", "nena", 1, "PHP", 1, pending_id="x"), R.PENDING_ID_MUST_BE_EMPTY),
        (
            NewTransfer("t", "juan", "nena", 1, "PHP", 1, F.PENDING, timeout_seconds=-1),
            R.TIMEOUT_INVALID,
        ),
        (
            NewTransfer(
                "t",
                "juan",
                "nena",
                1,
                "PHP",
                1,
                F.PENDING,
                timeout_seconds=limits.MAX_PENDING_TIMEOUT_SECONDS + 1,
            ),
            R.TIMEOUT_INVALID,
        ),
        (NewTransfer("t", "ghost", "nena", 1, "PHP", 1), R.DEBIT_ACCOUNT_NOT_FOUND),
        (NewTransfer("t", "juan", "ghost", 1, "PHP", 1), R.CREDIT_ACCOUNT_NOT_FOUND),
        (NewTransfer("t", "juan", "usd", 1, "PHP", 1), R.ACCOUNTS_MUST_HAVE_SAME_LEDGER),
        (
            NewTransfer("t", "juan", "nena", 1, "USD", 1),
            R.TRANSFER_MUST_HAVE_SAME_LEDGER_AS_ACCOUNTS,
        ),
        (NewTransfer("t", "juan", "nena", 10_001, "PHP", 1), R.EXCEEDS_CREDITS),
        (NewTransfer("t", "bank", "loan", 1, "PHP", 1), R.EXCEEDS_DEBITS),
        (NewTransfer("t", "fees", "juan", limits.MAX_AMOUNT_MINOR, "PHP", 1), R.OVERFLOWS_CREDITS),
        (NewTransfer("t", pending_id=None, flags=F.POST_PENDING), R.PENDING_ID_REQUIRED),
        (NewTransfer("t", pending_id="t", flags=F.POST_PENDING), R.PENDING_ID_MUST_BE_DIFFERENT),
        (NewTransfer("t", pending_id="nope", flags=F.VOID_PENDING), R.PENDING_TRANSFER_NOT_FOUND),
        (NewTransfer("t", pending_id="fund", flags=F.POST_PENDING), R.PENDING_TRANSFER_NOT_PENDING),
    ],
)
def test_bad_input_gets_its_own_result_and_writes_nothing(ledger, transfer, expected):
    before = _snapshot(ledger)
    assert _results(ledger, [transfer]) == [expected]
    assert _snapshot(ledger) == before
    assert ledger.create_transfers([transfer])[0].message  # every code has words


def test_overflowing_debits_is_refused(ledger):
    ledger.create_transfers(
        [NewTransfer("big", "fees", "bank", limits.MAX_AMOUNT_MINOR - 5, "PHP", 1)]
    )
    assert _results(ledger, [NewTransfer("t", "fees", "nena", 10, "PHP", 1)]) == [
        R.OVERFLOWS_DEBITS
    ]


def test_retry_with_same_fields_returns_original_and_moves_nothing(ledger):
    t = NewTransfer("pay-1", "juan", "nena", 500, "PHP", 10, metadata={"order": "o1"})
    first = ledger.create_transfers([t])[0]
    balances = dict(ledger.accounts)
    again = ledger.create_transfers([t])[0]
    assert again.result == R.EXISTS
    assert again.transfer == first.transfer
    assert ledger.accounts == balances


@pytest.mark.parametrize(
    "changed",
    [
        NewTransfer("pay-1", "juan", "nena", 501, "PHP", 10),
        NewTransfer("pay-1", "juan", "fees", 500, "PHP", 10),
        NewTransfer("pay-1", "juan", "nena", 500, "PHP", 11),
        NewTransfer("pay-1", "juan", "nena", 500, "PHP", 10, metadata={"order": "o2"}),
        NewTransfer("pay-1", "juan", "nena", 500, "PHP", 10, flags=F.PENDING),
    ],
)
def test_same_id_other_fields_is_refused(ledger, changed):
    ledger.create_transfers([NewTransfer("pay-1", "juan", "nena", 500, "PHP", 10)])
    before = _snapshot(ledger)
    assert _results(ledger, [changed]) == [R.EXISTS_WITH_DIFFERENT_FIELDS]
    assert _snapshot(ledger) == before


def test_pending_reserves_then_partial_post_releases_the_rest(ledger):
    hold = NewTransfer("hold", "juan", "nena", 4_000, "PHP", 40, flags=F.PENDING)
    assert _results(ledger, [hold]) == [R.OK]
    juan = ledger.accounts["juan"]
    assert (juan.debits_pending, juan.available) == (4_000, 6_000)
    assert _results(ledger, [NewTransfer("spend", "juan", "fees", 6_001, "PHP", 1)]) == [
        R.EXCEEDS_CREDITS
    ]
    post = NewTransfer("post", pending_id="hold", amount=2_500, flags=F.POST_PENDING)
    assert _results(ledger, [post]) == [R.OK]
    juan, nena = ledger.accounts["juan"], ledger.accounts["nena"]
    assert (juan.debits_pending, juan.debits_posted) == (0, 2_500)
    assert (nena.credits_pending, nena.credits_posted) == (0, 2_500)
    assert ledger.violations() == []


def test_post_more_than_reserved_is_refused(ledger):
    ledger.create_transfers([NewTransfer("hold", "juan", "nena", 100, "PHP", 40, flags=F.PENDING)])
    post = NewTransfer("post", pending_id="hold", amount=101, flags=F.POST_PENDING)
    assert _results(ledger, [post]) == [R.EXCEEDS_PENDING_TRANSFER_AMOUNT]


def test_void_releases_and_a_hold_resolves_once(ledger):
    ledger.create_transfers([NewTransfer("hold", "juan", "nena", 100, "PHP", 40, flags=F.PENDING)])
    assert _results(ledger, [NewTransfer("void", pending_id="hold", flags=F.VOID_PENDING)]) == [
        R.OK
    ]
    assert ledger.accounts["juan"].debits_pending == 0
    assert _results(ledger, [NewTransfer("post", pending_id="hold", flags=F.POST_PENDING)]) == [
        R.PENDING_TRANSFER_ALREADY_VOIDED
    ]
    assert _results(ledger, [NewTransfer("void2", pending_id="hold", flags=F.VOID_PENDING)]) == [
        R.PENDING_TRANSFER_ALREADY_VOIDED
    ]


def test_posted_hold_cannot_be_posted_again(ledger):
    ledger.create_transfers([NewTransfer("hold", "juan", "nena", 100, "PHP", 40, flags=F.PENDING)])
    ledger.create_transfers([NewTransfer("post", pending_id="hold", flags=F.POST_PENDING)])
    assert _results(ledger, [NewTransfer("post2", pending_id="hold", flags=F.POST_PENDING)]) == [
        R.PENDING_TRANSFER_ALREADY_POSTED
    ]


def test_void_with_another_amount_or_account_is_refused(ledger):
    ledger.create_transfers([NewTransfer("hold", "juan", "nena", 100, "PHP", 40, flags=F.PENDING)])
    assert _results(
        ledger, [NewTransfer("v", pending_id="hold", amount=50, flags=F.VOID_PENDING)]
    ) == [R.PENDING_TRANSFER_HAS_DIFFERENT_AMOUNT]
    assert _results(
        ledger, [NewTransfer("v", "bank", pending_id="hold", flags=F.VOID_PENDING)]
    ) == [R.PENDING_TRANSFER_HAS_DIFFERENT_DEBIT_ACCOUNT_ID]
    assert _results(
        ledger,
        [NewTransfer("v", credit_account_id="fees", pending_id="hold", flags=F.VOID_PENDING)],
    ) == [R.PENDING_TRANSFER_HAS_DIFFERENT_CREDIT_ACCOUNT_ID]
    assert _results(
        ledger, [NewTransfer("v", ledger="USD", pending_id="hold", flags=F.VOID_PENDING)]
    ) == [R.PENDING_TRANSFER_HAS_DIFFERENT_LEDGER]
    assert _results(
        ledger, [NewTransfer("v", code=41, pending_id="hold", flags=F.VOID_PENDING)]
    ) == [R.PENDING_TRANSFER_HAS_DIFFERENT_CODE]


def test_expired_hold_cannot_be_posted_and_the_sweep_voids_it(ledger, clock):
    hold = NewTransfer("hold", "juan", "nena", 700, "PHP", 40, flags=F.PENDING, timeout_seconds=60)
    ledger.create_transfers([hold])
    clock.now += 59 * 10**9
    assert ledger.expire_pending() == 0
    clock.now += 1 * 10**9
    assert _results(ledger, [NewTransfer("post", pending_id="hold", flags=F.POST_PENDING)]) == [
        R.PENDING_TRANSFER_EXPIRED
    ]
    assert _results(ledger, [NewTransfer("void", pending_id="hold", flags=F.VOID_PENDING)]) == [
        R.PENDING_TRANSFER_EXPIRED
    ]
    assert ledger.expire_pending() == 1
    assert ledger.accounts["juan"].debits_pending == 0
    assert "~expire:hold" in ledger.transfers
    assert ledger.expire_pending() == 0
    assert ledger.violations() == []


def test_linked_chain_commits_whole_or_not_at_all(ledger):
    chain = [
        NewTransfer("p", "juan", "nena", 1_000, "PHP", 10, flags=F.LINKED),
        NewTransfer("p-fee", "nena", "fees", 15, "PHP", 20, flags=F.LINKED),
        NewTransfer("p-tax", "nena", "fees", 999_999, "PHP", 21),
    ]
    before = _snapshot(ledger)
    assert _results(ledger, chain) == [
        R.LINKED_EVENT_FAILED,
        R.LINKED_EVENT_FAILED,
        R.EXCEEDS_CREDITS,
    ]
    assert _snapshot(ledger) == before
    chain[2] = NewTransfer("p-tax", "nena", "fees", 2, "PHP", 21)
    assert _results(ledger, chain) == [R.OK, R.OK, R.OK]
    assert ledger.accounts["nena"].balance_posted == 983


def test_chain_replay_is_idempotent_but_mixed_old_and_new_fails(ledger):
    chain = [
        NewTransfer("p", "juan", "nena", 1_000, "PHP", 10, flags=F.LINKED),
        NewTransfer("p-fee", "nena", "fees", 15, "PHP", 20),
    ]
    assert _results(ledger, chain) == [R.OK, R.OK]
    assert _results(ledger, chain) == [R.EXISTS, R.EXISTS]
    mixed = [chain[0], NewTransfer("p-new", "nena", "fees", 1, "PHP", 20)]
    before = _snapshot(ledger)
    assert _results(ledger, mixed) == [R.EXISTS, R.LINKED_EVENT_FAILED]
    assert _snapshot(ledger) == before


def test_open_chain_at_batch_end_fails(ledger):
    batch = [
        NewTransfer("a", "juan", "nena", 1, "PHP", 1),
        NewTransfer("b", "juan", "nena", 1, "PHP", 1, flags=F.LINKED),
        NewTransfer("c", "juan", "nena", 1, "PHP", 1, flags=F.LINKED),
    ]
    assert _results(ledger, batch) == [R.OK, R.LINKED_EVENT_FAILED, R.LINKED_EVENT_CHAIN_OPEN]


def test_later_events_see_earlier_ones_in_the_batch(ledger):
    batch = [
        NewTransfer("a", "juan", "nena", 6_000, "PHP", 1),
        NewTransfer("b", "juan", "nena", 6_000, "PHP", 1),
        NewTransfer("hold", "nena", "fees", 6_000, "PHP", 1, flags=F.PENDING),
        NewTransfer("post", pending_id="hold", flags=F.POST_PENDING),
        NewTransfer("a", "juan", "nena", 6_000, "PHP", 1),
    ]
    assert _results(ledger, batch) == [R.OK, R.EXCEEDS_CREDITS, R.OK, R.OK, R.EXISTS]


def test_balancing_debit_takes_what_is_there(ledger):
    t = NewTransfer("sweep", "juan", "loan", None, "PHP", 50, flags=F.BALANCING_DEBIT)
    ledger.create_transfers([NewTransfer("draw", "loan", "bank", 20_000, "PHP", 1)])
    out = ledger.create_transfers([t])[0]
    assert out.result == R.OK and out.transfer.amount == 10_000
    assert ledger.accounts["juan"].available == 0
    assert _results(
        ledger, [NewTransfer("sweep2", "juan", "loan", 5, "PHP", 50, flags=F.BALANCING_DEBIT)]
    ) == [R.EXCEEDS_CREDITS]
    # A replay of the balancing transfer is recognised even though it moved less than asked.
    assert ledger.create_transfers([t])[0].result == R.EXISTS


def test_balancing_debit_moves_at_most_the_amount(ledger):
    out = ledger.create_transfers(
        [NewTransfer("sweep", "juan", "nena", 300, "PHP", 50, flags=F.BALANCING_DEBIT)]
    )[0]
    assert out.transfer.amount == 300


def test_balancing_credit_stops_at_the_receivable(ledger):
    ledger.create_transfers([NewTransfer("draw", "loan", "bank", 700, "PHP", 1)])
    out = ledger.create_transfers(
        [NewTransfer("repay", "juan", "loan", 5_000, "PHP", 50, flags=F.BALANCING_CREDIT)]
    )[0]
    assert out.result == R.OK and out.transfer.amount == 700


def test_timestamps_strictly_increase(ledger):
    batch = [NewTransfer(f"t{i}", "juan", "nena", 1, "PHP", 1) for i in range(5)]
    ledger.create_transfers(batch)
    stamps = [t.timestamp for t in sorted(ledger.transfers.values(), key=lambda t: t.timestamp)]
    assert stamps == sorted(set(stamps))


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        (NewAccount("", "PHP", 1), CreateAccountResult.ID_INVALID),
        (NewAccount("a", "PESO", 1), CreateAccountResult.LEDGER_INVALID),
        (NewAccount("a", "PHP", 0), CreateAccountResult.CODE_INVALID),
        (NewAccount("a", "PHP", 1, "x" * 65), CreateAccountResult.OWNER_INVALID),
        (NewAccount("a", "PHP", 1, flags=8), CreateAccountResult.FLAGS_INVALID),
        (NewAccount("a", "PHP", 1, flags=3), CreateAccountResult.FLAGS_ARE_MUTUALLY_EXCLUSIVE),
        (NewAccount("juan", "PHP", 100, "c-juan", WALLET), CreateAccountResult.EXISTS),
        (
            NewAccount("juan", "PHP", 100, "c-maria", WALLET),
            CreateAccountResult.EXISTS_WITH_DIFFERENT_FIELDS,
        ),
    ],
)
def test_account_results(ledger, account, expected):
    assert ledger.create_accounts([account])[0].result == expected


def test_every_result_code_has_words():
    from tindahan.ledger.model import TRANSFER_RESULT_MESSAGES

    assert set(TRANSFER_RESULT_MESSAGES) == set(CreateTransferResult)
    assert all(TRANSFER_RESULT_MESSAGES.values())
