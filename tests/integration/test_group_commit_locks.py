"""Group commit's lock order on PostgreSQL (issue 18): two committers, as two server
processes would have, each on its own thread with its own group.

* Groups whose members touch the same accounts in opposite orders do not deadlock: each
  group locks every declared account first, in one ascending order, so the later group
  waits at its first statement holding nothing (without that order this interleaving is a
  deadlock, and PostgreSQL would end one group, which would then be split).
* So do groups of refunds and order payments, which lock their payment's or order's row
  (as alone, before any account): a group locks its members' orders, then payments, then
  accounts, each in ascending order.
* Groups on disjoint accounts run at the same time (no lock of the whole server, as the
  advisory lock before this was).
* A group's changes to the accounts it locked first are summed into one update (a hot
  merchant's settlement account updated once a group), with every balance check kept.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

from tests.integration.test_group_commit import (
    ALL,
    FUNDED,
    OPERATOR,
    _balances,
    _cast,
    _render,
    _render_refusal,
    _request,
    platform,  # noqa: F401 (the fixture)
)
from tindahan.kernel.callers import Caller
from tindahan.services.ledger import movement, verify
from tindahan.services.payments import payments, wallets
from tindahan.services.payments.payments import payment_row
from tindahan.services.platform import chart, groupcommit, idempotency
from tindahan.services.unit import new_id
from tindahan.store import hotpath

pytestmark = pytest.mark.postgres

MEET_S = 3.0  # how long a group waits, after its first member, for the other group


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


def _people(made: Any) -> tuple[list[str], list[str]]:
    cast = _cast(made, people_only=True)
    return cast.buyers, cast.merchants


def _payment(
    payer: str, payee: str, amount_minor: int, key: str, payment_id: str | None = None
) -> groupcommit.Request:
    caller = Caller(f"key-{payer}", payer, ALL)
    new = payments.NewPayment(payee_id=payee, amount_minor=amount_minor, currency="PHP")
    payment_id = payment_id or new_id("pay")
    fingerprint = idempotency.request_hash("POST", "/v1/payments", [payee, amount_minor])
    return groupcommit.Request(
        caller.scope,
        key,
        fingerprint,
        lambda u: payments.pay(u, caller, new, payment_id=payment_id),
        _render,
        _render_refusal,
        payments.group_locks(caller, new, payment_id),
    )


def _meeting(committer: groupcommit.Committer, barrier: threading.Barrier) -> list[bool]:
    """After its group's first member, the committer waits for the other's (or MEET_S);
    the list says whether they met."""
    met: list[bool] = []
    real = committer._member

    def member(conn: Any, request: groupcommit.Request) -> Any:
        found = real(conn, request)
        if not met:
            try:
                barrier.wait(MEET_S)
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
        return found

    committer._member = member  # type: ignore[method-assign]
    return met


def _both(groups: list[list[groupcommit.Request]], made: Any) -> tuple[list[Any], list[bool]]:
    barrier = threading.Barrier(len(groups))
    committers = [groupcommit.Committer(made, 0, 8) for _ in groups]
    meetings = [_meeting(c, barrier) for c in committers]
    threads = [
        threading.Thread(target=c.run_group, args=(g,))
        for c, g in zip(committers, groups, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [c.split for c in committers] == [0, 0], "a group failed whole (a deadlock?)"
    assert [c.groups for c in committers] == [1, 1]
    return committers, [m[0] for m in meetings]


def test_groups_in_opposite_orders_do_not_deadlock(platform):  # noqa: F811
    (b0, b1, _), (m0, m1) = _people(platform)
    first = [_payment(b0, m0, 10_000, "a1"), _payment(b1, m1, 5_000, "a2")]
    second = [_payment(b1, m1, 2_500, "b1"), _payment(b0, m0, 1_000, "b2")]
    _both([first, second], platform)
    answers = [r.future.result() for r in first + second]
    assert [a.status_code for a in answers] == [200] * 4
    assert _balances(platform, [b0, b1]) == [
        ("main", FUNDED - 11_000),
        ("payments", 3),
        ("main", FUNDED - 7_500),
        ("payments", 3),
    ]
    assert verify.verify(platform.db).ok


def test_refunds_and_order_payments_in_opposite_orders_do_not_deadlock(platform, monkeypatch):  # noqa: F811
    """Two groups: refunds of two payments and an order's payment, in opposite orders.
    Without the rows declared (``locks=None``) the first group holds payment 0's row and
    its buyer's wallet, the second the order's row and waits for that wallet, then the
    first waits for the order: a deadlock, and a split group."""
    monkeypatch.setattr(sys.modules[__name__], "MEET_S", 1.0)  # a deadlock meets sooner
    cast = _cast(platform)

    def member(drawn: tuple[Any, ...]) -> groupcommit.Request:
        scope, key, fingerprint, work, locks = _request(drawn, cast)
        return groupcommit.Request(scope, key, fingerprint, work, _render, _render_refusal, locks)

    first = [member(("refund", 0, 2_500, 1)), member(("refund", 1, 2_500, 2))]
    first.append(member(("order", 0, 3)))
    second = [member(("order", 0, 4)), member(("refund", 1, 1_000, 5))]
    second.append(member(("refund", 0, 1_000, 6)))
    _both([first, second], platform)
    codes = [r.future.result().status_code for r in first + second]
    assert codes[:2] + codes[4:] == [200] * 4
    assert sorted([codes[2], codes[3]]) == [200, 400]  # the order is paid once
    refunded = platform.run(
        lambda u: [payment_row(u, OPERATOR, p)["refunded_minor"] for p in cast.paid],
        write=False,
    )
    assert refunded == [3_500, 3_500]
    assert verify.verify(platform.db).ok


def test_groups_on_disjoint_accounts_run_at_once(platform):  # noqa: F811
    (b0, b1, _), (m0, m1) = _people(platform)
    one = new_id("pay")
    other = new_id("pay")
    while chart.fee_account(other) == chart.fee_account(one):  # fee shards differ too
        other = new_id("pay")
    groups = [[_payment(b0, m0, 10_000, "c1", one)], [_payment(b1, m1, 5_000, "c2", other)]]
    _, met = _both(groups, platform)
    assert met == [True, True], "one group waited for the other"
    assert [g[0].future.result().status_code for g in groups] == [200, 200]


def test_a_hot_account_is_updated_once_a_group_with_its_checks_kept(platform, monkeypatch):  # noqa: F811
    """Five payments to one merchant in one group: its settlement account (and every other
    declared account) gets one update for the whole group, before the COMMIT — none from
    the members — and each member's funds check still sees what the earlier ones spent:
    the buyer's third ₱250 payment is refused though no update was written yet."""
    (b0, b1, b2), (m0, _) = _people(platform)
    group = [
        _payment(b0, m0, 25_000, "h1"),
        _payment(b0, m0, 25_000, "h2"),
        _payment(b0, m0, 25_000, "h3"),  # ₱100 left: refused
        _payment(b1, m0, 5_000, "h4"),
        _payment(b2, m0, 45_000, "h5"),
    ]
    flushed: list[tuple[int, dict[str, tuple[int, int, int, int]], int]] = []
    locked_at: list[int] = []
    real_lock, real_add = hotpath.lock_wallets_and_accounts, hotpath.add_balances

    def lock(conn: Any, parties: Any, accounts: Any) -> Any:
        found = real_lock(conn, parties, accounts)
        locked_at.append(_updates(conn))
        return found

    def add(conn: Any, deltas: dict[str, tuple[int, int, int, int]]) -> None:
        before = _updates(conn)
        real_add(conn, deltas)
        flushed.append((before, dict(deltas), _updates(conn)))

    monkeypatch.setattr(hotpath, "lock_wallets_and_accounts", lock)
    monkeypatch.setattr(hotpath, "add_balances", add)
    committer = groupcommit.Committer(platform, 0, 8)
    committer.run_group(group)
    answers = [r.future.result() for r in group]
    assert [a.status_code for a in answers] == [200, 200, 400, 200, 200]
    assert answers[2].body["error"]["code"] == "insufficient_funds"
    assert committer.groups == 1 and committer.split == 0

    [(before, deltas, after)] = flushed
    settlement = _wallet_account(platform, m0, "settlement")
    assert before == locked_at[0], "a member updated a declared account itself"
    assert after - before == len(deltas)  # one row update per account, the hot one included
    assert deltas[settlement][3] == 25_000 * 2 + 5_000 + 45_000  # its credits, summed
    fees = sum(a.body["fee_minor"] for a in answers if a.status_code == 200)
    assert _balances(platform, [b0, m0]) == [
        ("main", FUNDED - 50_000),
        ("payments", 3),
        ("main", 0),
        ("settlement", 100_000 - fees),
        ("payments", 4),
    ]
    assert verify.verify(platform.db).ok


def _updates(conn: Any) -> int:
    """Rows of ``ledger_accounts`` updated by this backend and not yet in its statistics
    (PostgreSQL 15 counts the current transaction's and earlier ones' not yet flushed), so
    only differences within one transaction are read."""
    found = conn.exec_driver_sql(
        "SELECT coalesce(sum(n_tup_upd), 0) FROM pg_stat_xact_user_tables "
        "WHERE relname = 'ledger_accounts'"
    ).scalar()
    return int(found)


def _wallet_account(made: Any, party_id: str, kind: str) -> str:
    found = made.run(
        lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id=party_id), write=False
    )
    wallet_id = next(w["id"] for w in found["data"] if w["kind"] == kind)
    return str(made.run(lambda u: movement.holder_of(u, wallet_id), write=False).account_id)
