"""The TigerBeetle fault drill (``make drill-tigerbeetle``), short: one phase, a small load.

The whole drill (a replica lost, quorum lost, the server killed) takes minutes and runs by
hand (README); here its first phase runs on a real 3-replica cluster, ``tindahan serve
--ledger`` and PostgreSQL, so the drill itself cannot rot: replica 0 is killed under load,
payments must go on, and after it is back every acknowledged payment is there exactly once
with its transfers and ``ledger verify`` passes. The replicas start light
(``cluster.LIGHT_OPTIONS``): four replica starts of 2.1 GB of locked memory each were most
of this test's minutes on a loaded machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL, postgres_available
from tests.tigerbeetle.conftest import need_binary
from tindahan.bench import tigerbeetle_drill

#: Not in the "tigerbeetle" xdist group: its cluster is its own test's, not a module's, so it
#: can run on the other worker while the group's modules run theirs (the group is one worker's
#: serial share of the suite; tests/tigerbeetle/conftest.py).


@pytest.fixture
def database(postgres_pools) -> Iterator[str]:
    """A migrated database of the test pool (the drill's ``db upgrade`` finds it done)."""
    reason = postgres_available()
    if reason:
        pytest.skip(reason)
    pool = postgres_pools[True]
    name = pool.take()
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        pool.give(name)


@pytest.mark.postgres
def test_losing_a_replica_under_load_loses_nothing_and_payments_go_on(database: str) -> None:
    need_binary()
    args = tigerbeetle_drill.parse(
        [
            *("--phases", "replica", "--db", database, "--light"),
            *("--rate", "5", "--seconds", "6", "--fault-at", "1", "--down", "3"),
        ]
    )
    found = tigerbeetle_drill.drill(args)
    [phase] = found["phases"]
    assert phase["payments"] == 30
    assert phase["acknowledged"] == 30  # buyers hold ₱10 billion each: nothing is refused
    assert phase["unanswered"] == phase["abandoned"] == 0
    assert phase["succeeded_while_a_replica_was_down"] > 0
    assert phase["left_unfinished_after_recovery"] == 0
    once = phase["exactly_once"]
    assert once["applied"] == 30
    assert once["applied_twice"] == once["acknowledged_missing_or_wrong"] == 0
    assert once["transfers_checked"] == 3 * phase["acknowledged"]  # hold, post, fee
    assert phase["ledger_verify"]["ok"], phase["ledger_verify"]["said"]
    assert found["passed"]


@pytest.mark.parametrize(
    "argv",
    [["--phases", "replica,nope"], ["--phases", ""], ["--rate", "0"], ["--down", "-1"]],
)
def test_the_drill_refuses_bad_options(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        tigerbeetle_drill.parse(argv)
    assert stopped.value.code == 2
