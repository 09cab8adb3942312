"""Group commit's lock order on PostgreSQL (issue 18): two committers, as two server
processes would have, each on its own thread with its own group.

* Groups whose members touch the same accounts in opposite orders do not deadlock: each
  group locks every declared account first, in one ascending order, so the later group
  waits at its first statement holding nothing (without that order this interleaving is a
  deadlock, and PostgreSQL would end one group, which would then be split).
* Groups on disjoint accounts run at the same time (no lock of the whole server, as the
  advisory lock before this was).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.integration.test_group_commit import (
    ALL,
    FUNDED,
    _balances,
    _cast,
    _render,
    _render_refusal,
    platform,  # noqa: F401 (the fixture)
)
from tindahan.kernel.callers import Caller
from tindahan.services.ledger import verify
from tindahan.services.payments import payments
from tindahan.services.platform import chart, groupcommit, idempotency
from tindahan.services.unit import new_id

pytestmark = pytest.mark.postgres

MEET_S = 3.0  # how long a group waits, after its first member, for the other group


@pytest.fixture
def db_url(postgres_url: str) -> str:
    return postgres_url


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
    (b0, b1, _), (m0, m1) = _cast(platform)
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


def test_groups_on_disjoint_accounts_run_at_once(platform):  # noqa: F811
    (b0, b1, _), (m0, m1) = _cast(platform)
    one = new_id("pay")
    other = new_id("pay")
    while chart.fee_account(other) == chart.fee_account(one):  # fee shards differ too
        other = new_id("pay")
    groups = [[_payment(b0, m0, 10_000, "c1", one)], [_payment(b1, m1, 5_000, "c2", other)]]
    _, met = _both(groups, platform)
    assert met == [True, True], "one group waited for the other"
    assert [g[0].future.result().status_code for g in groups] == [200, 200]
