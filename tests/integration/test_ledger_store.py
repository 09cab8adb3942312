"""The database stores (SQLite and PostgreSQL) against the in-memory reference ledger, and
the database's own guards: constraints, append-only triggers, verify catching tampering."""

from __future__ import annotations

import itertools

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.profiles import examples
from tests.strategies import ACCOUNTS, FUNDING, steps
from tindahan.ledger import (
    AccountFlags,
    CreateTransferResult,
    NewAccount,
    NewTransfer,
    TransferFlags,
)
from tindahan.ledger.memory import MemoryLedger
from tindahan.services.ledger import transfers as service
from tindahan.services.ledger.seal import seal
from tindahan.services.ledger.verify import verify
from tindahan.store.commerce_tables import SEARCH_OBJECTS
from tindahan.store.tables import accounts, metadata, transfers

R = CreateTransferResult
F = TransferFlags
WALLET = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
_run = itertools.count()


def _prefix(batch, p):
    def pre(value):
        return f"{p}{value}" if isinstance(value, str) else value

    return [
        NewTransfer(
            pre(t.id),
            pre(t.debit_account_id),
            pre(t.credit_account_id),
            t.amount,
            t.ledger,
            t.code,
            t.flags,
            pre(t.pending_id),
            t.timeout_seconds,
            t.metadata,
        )
        for t in batch
    ]


def _same_outcomes(store, memory, p):
    assert [o.result for o in store] == [o.result for o in memory]
    for s, m in zip(store, memory, strict=True):
        if m.transfer is None:
            assert s.transfer is None
            continue
        assert s.transfer.id == p + m.transfer.id
        assert s.transfer.amount == m.transfer.amount
        assert s.transfer.flags == m.transfer.flags
        assert s.transfer.debit_account_id == p + m.transfer.debit_account_id
        assert s.transfer.expires_at_ns == m.transfer.expires_at_ns


@settings(
    max_examples=examples(20),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(workload=steps)
def test_store_gives_the_reference_ledgers_results(db, clock, workload):
    p = f"r{next(_run)}-"
    memory = MemoryLedger(clock)
    memory.create_accounts(ACCOUNTS)
    service.create_accounts(
        db, [NewAccount(p + a.id, a.ledger, a.code, a.owner, a.flags) for a in ACCOUNTS]
    )
    _same_outcomes(
        service.create_transfers(db, _prefix(FUNDING, p)), memory.create_transfers(FUNDING), p
    )
    for step in workload:
        if isinstance(step, int):
            clock.advance(step)
            memory.expire_pending()
            service.expire_pending(db)
            continue
        _same_outcomes(
            service.create_transfers(db, _prefix(step, p)), memory.create_transfers(step), p
        )
    stored = service.lookup_accounts(db, [p + a.id for a in ACCOUNTS])
    for a in memory.accounts.values():
        s = stored[p + a.id]
        assert (s.debits_pending, s.debits_posted, s.credits_pending, s.credits_posted) == (
            a.debits_pending,
            a.debits_posted,
            a.credits_pending,
            a.credits_posted,
        )
    assert verify(db).violations == []


def _counts(db):
    with db.begin(write=False) as conn:
        return (
            conn.scalar(select(func.count()).select_from(transfers)),
            list(conn.execute(select(accounts).order_by(accounts.c.id))),
        )


@pytest.fixture
def funded(db):
    service.create_accounts(
        db,
        [
            NewAccount("bank", "PHP", 500),
            NewAccount("juan", "PHP", 100, "c-juan", WALLET),
            NewAccount("nena", "PHP", 110, "m-nena", WALLET),
            NewAccount("fees", "PHP", 300),
            NewAccount("usd", "USD", 100, flags=WALLET),
        ],
    )
    assert service.create_transfers(db, [NewTransfer("fund", "bank", "juan", 10_000, "PHP", 1)])[
        0
    ].ok
    return db


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (NewTransfer("x", "juan", "ghost", 1, "PHP", 1), R.CREDIT_ACCOUNT_NOT_FOUND),
        (NewTransfer("x", "juan", "usd", 1, "PHP", 1), R.ACCOUNTS_MUST_HAVE_SAME_LEDGER),
        (NewTransfer("x", "juan", "nena", 0, "PHP", 1), R.AMOUNT_MUST_BE_POSITIVE),
        (NewTransfer("x", "juan", "nena", -3, "PHP", 1), R.AMOUNT_MUST_BE_POSITIVE),
        (NewTransfer("x", "juan", "nena", 2**63, "PHP", 1), R.AMOUNT_EXCEEDS_MAX),
        (NewTransfer("fund", "bank", "juan", 9, "PHP", 1), R.EXISTS_WITH_DIFFERENT_FIELDS),
        (NewTransfer("x", "juan", "nena", 10_001, "PHP", 1), R.EXCEEDS_CREDITS),
    ],
)
def test_a_bad_event_fails_its_whole_linked_batch_and_writes_nothing(funded, bad, expected):
    before = _counts(funded)
    batch = [
        NewTransfer("pay", "juan", "nena", 100, "PHP", 10, F.LINKED),
        NewTransfer("fee", "nena", "fees", 2, "PHP", 20, F.LINKED),
        bad,
    ]
    results = [o.result for o in service.create_transfers(funded, batch)]
    assert results == [R.LINKED_EVENT_FAILED, R.LINKED_EVENT_FAILED, expected]
    assert _counts(funded) == before


def test_posting_a_voided_or_expired_hold_is_refused(funded, clock):
    hold = NewTransfer("hold", "juan", "nena", 500, "PHP", 40, F.PENDING, timeout_seconds=30)
    hold2 = NewTransfer("hold2", "juan", "nena", 500, "PHP", 40, F.PENDING)
    assert all(o.ok for o in service.create_transfers(funded, [hold, hold2]))
    assert service.create_transfers(
        funded, [NewTransfer("v", pending_id="hold2", flags=F.VOID_PENDING)]
    )[0].ok
    post2 = NewTransfer("p2", pending_id="hold2", flags=F.POST_PENDING)
    assert service.create_transfers(funded, [post2])[0].result == R.PENDING_TRANSFER_ALREADY_VOIDED
    clock.advance(30)
    post = NewTransfer("p", pending_id="hold", flags=F.POST_PENDING)
    assert service.create_transfers(funded, [post])[0].result == R.PENDING_TRANSFER_EXPIRED
    assert service.expire_pending(funded) == 1
    assert service.create_transfers(funded, [post])[0].result == R.PENDING_TRANSFER_ALREADY_VOIDED
    juan = service.lookup_accounts(funded, ["juan"])["juan"]
    assert (juan.debits_pending, juan.debits_posted) == (0, 0)
    assert verify(funded).ok


def test_posted_transfers_are_append_only(funded):
    for statement in (
        "UPDATE ledger_transfers SET amount = amount + 1",
        "DELETE FROM ledger_transfers",
        "DELETE FROM ledger_accounts WHERE id = 'fees'",
        "UPDATE ledger_accounts SET ledger = 'USD' WHERE id = 'fees'",
    ):
        refused = pytest.raises(DBAPIError, match=r"append-only|never deleted|only an account")
        with refused, funded.begin() as conn:
            conn.execute(text(statement))
    seal(funded)
    refused = pytest.raises(DBAPIError, match=r"append-only|stays in its block")
    with refused, funded.begin() as conn:
        conn.execute(text("UPDATE ledger_seals SET block_no = NULL"))


def test_database_refuses_an_overdraft_written_by_hand(funded):
    with pytest.raises(DBAPIError, match="debits_within_credits"), funded.begin() as conn:
        conn.execute(text("UPDATE ledger_accounts SET debits_posted = 10001 WHERE id = 'juan'"))


def test_database_refuses_a_transfer_across_currencies_written_by_hand(funded):
    with pytest.raises(DBAPIError), funded.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_transfers (timestamp, id, debit_account_id, "
                "credit_account_id, amount, ledger, code, flags, pending_id, timeout_seconds, "
                "expires_at_ns, metadata, created_at_ns) VALUES "
                "(1, 'x', 'juan', 'usd', 5, 'PHP', 1, 0, NULL, 0, NULL, '{}', 0)"
            )
        )


def _disable_guards(conn):
    if conn.dialect.name == "postgresql":
        conn.execute(text("ALTER TABLE ledger_transfers DISABLE TRIGGER USER"))
    else:
        conn.execute(text("DROP TRIGGER ledger_transfers_no_update"))


def test_verify_catches_a_posted_transfer_edited_in_the_database(funded):
    service.create_transfers(funded, [NewTransfer("pay", "juan", "nena", 250, "PHP", 10)])
    seal(funded)
    assert verify(funded).ok
    with funded.begin() as conn:  # a DBA with enough rights, bypassing the guards
        _disable_guards(conn)
        conn.execute(text("UPDATE ledger_transfers SET amount = 25000 WHERE id = 'pay'"))
    report = verify(funded)
    assert not report.ok
    joined = "\n".join(report.violations)
    assert "hash mismatch" in joined
    assert "'juan'" in joined and "'nena'" in joined  # balances no longer match transfers


def test_verify_catches_a_transfer_inserted_by_hand(funded):
    with funded.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_transfers (timestamp, id, debit_account_id, "
                "credit_account_id, amount, ledger, code, flags, pending_id, timeout_seconds, "
                "expires_at_ns, metadata, created_at_ns) VALUES "
                "(99999999999, 'forged', 'bank', 'nena', 5, 'PHP', 1, 0, NULL, 0, NULL, '{}', 0)"
            )
        )
    problems = "\n".join(verify(funded).violations)
    assert "'forged' was not written by the ledger" in problems
    assert "'nena'" in problems


def test_sealing_covers_every_transfer_once(funded):
    service.create_transfers(
        funded, [NewTransfer(f"t{i}", "juan", "nena", 1, "PHP", 1) for i in range(30)]
    )
    before = verify(funded)
    assert before.ok and before.unsealed == 31 and before.blocks == 0
    assert seal(funded).transfers == 31
    assert seal(funded).transfers == 0
    service.create_transfers(funded, [NewTransfer("late", "juan", "nena", 1, "PHP", 1)])
    assert seal(funded).blocks == 1
    after = verify(funded)
    assert (after.blocks, after.sealed, after.unsealed, after.ok) == (2, 32, 0, True)


def _not_search(name, _type, _parent):
    """The full-text objects each engine has its own way (``SEARCH_OBJECTS``)."""
    return not (name or "").startswith(SEARCH_OBJECTS)


def test_migrations_build_exactly_the_tables_the_code_uses(db):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_search})
        diff = compare_metadata(context, metadata)
    assert diff == []


def test_a_retry_answers_exists_even_when_it_could_not_be_paid_now(funded):
    spend_all = NewTransfer("all", "juan", "nena", 10_000, "PHP", 10)
    assert service.create_transfers(funded, [spend_all])[0].result == R.OK
    again = service.create_transfers(funded, [spend_all])[0]
    assert again.result == R.EXISTS  # not exceeds_credits, though juan is empty now
    changed = NewTransfer("all", "juan", "nena", 10_001, "PHP", 10)
    assert service.create_transfers(funded, [changed])[0].result == R.EXISTS_WITH_DIFFERENT_FIELDS
    assert service.lookup_accounts(funded, ["nena"])["nena"].credits_posted == 10_000


def _mixed_batch(rng, size, prefix):
    wallets = ["w1", "w2", "w3", "bank"]
    batch, holds = [], []
    for n in range(size):
        tid = f"{prefix}{n}"
        roll = rng.randrange(10)
        if roll == 0 and holds:
            flag = F.POST_PENDING if rng.randrange(2) else F.VOID_PENDING
            batch.append(NewTransfer(tid, pending_id=holds.pop(), flags=flag))
            continue
        debit, credit = rng.sample(wallets, 2)
        flags = F.PENDING if roll == 1 else F.NONE
        if roll == 2:
            flags |= F.LINKED
        if flags & F.PENDING:
            holds.append(tid)
        batch.append(NewTransfer(tid, debit, credit, rng.randint(1, 900), "PHP", 1, flags))
    if batch[-1].flags & F.LINKED:
        batch[-1] = NewTransfer(batch[-1].id, "bank", "w1", 1, "PHP", 1)
    return batch


@pytest.mark.parametrize("size", [63, 64, 65, 700])
def test_large_batches_match_the_reference_ledger(db, clock, size):
    """Batches above ``hotpath.SMALL_BATCH`` take the array write on PostgreSQL."""
    import random

    memory = MemoryLedger(clock)
    memory.create_accounts(ACCOUNTS)
    service.create_accounts(db, ACCOUNTS)
    _same_outcomes(service.create_transfers(db, FUNDING), memory.create_transfers(FUNDING), "")
    rng = random.Random(size)
    for round_no in range(3):
        batch = _mixed_batch(rng, size, f"b{round_no}-")
        store_out = service.create_transfers(db, batch)
        _same_outcomes(store_out, memory.create_transfers(batch), "")
        assert sum(o.result == R.OK for o in store_out) > size // 2
    assert verify(db).violations == []
    stored = service.lookup_accounts(db, [a.id for a in ACCOUNTS])
    for a in memory.accounts.values():
        assert stored[a.id].credits_posted == a.credits_posted
        assert stored[a.id].debits_pending == a.debits_pending
