"""The gate's one statement on PostgreSQL stays within what psycopg caches the parsing of
(profiled: re-parsing a longer statement, or one with more parameters, on every payment was
half the gate's CPU), whatever the movement: the largest is a payment from a wallet with a
device and an IP address, to a new payee, both sides watched."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from psycopg import _queries
from sqlalchemy import Connection, TextClause, event

from tests.risk.test_live import OPERATOR, _alerts, _party, _pay, live, platform
from tindahan.ledger.model import NewTransfer
from tindahan.risk import ruleset
from tindahan.risk.aggregates import Aggregates
from tindahan.risk.engine import spans_of
from tindahan.risk.movement import Kind, Movement
from tindahan.services.ledger import risk_gate, risk_usage
from tindahan.services.risk import rules
from tindahan.services.unit import Platform, Unit
from tindahan.store import hotpath

__all__ = ["live", "platform"]  # the fixtures, shared with test_live


def test_the_largest_statement_and_its_parameters_are_cached_by_psycopg() -> None:
    spans = spans_of(ruleset.default())
    for kind in Kind:
        m = Movement("t1", 1_800_000_000, kind, "par_a", "par_b", 4_900_000, "PHP", "d" * 32, "i")
        rows = risk_usage._rows(m, Aggregates(spans), None)
        watched = risk_usage._watched(m)
        statement = risk_usage._together_sql(True, len(watched), True, True, ("device", "ip"))
        params = risk_usage._together_params(m, rows, watched, spans)
        bound = [name for name in params if f":{name}" in str(statement)]
        assert len(str(statement)) <= _queries.MAX_CACHED_STATEMENT_LENGTH, kind
        assert len(bound) <= _queries.MAX_CACHED_STATEMENT_PARAMS, kind
        assert rows, kind  # however many buckets: one parameter per column


@pytest.mark.usefixtures("live")
def test_the_gate_is_one_round_trip_on_postgresql_once_the_owners_are_known_and_switches_apply(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The owners of accounts a movement used before are known in the process; the
    operator's switches come back with the buckets, so a switch still applies to the very
    next movement. On SQLite (in process) the read stays its own statement."""
    ana, ben = _party(platform, "Ana", 5_000_000), _party(platform, "Ben")
    statements: list[int] = []
    seen = [0]
    judge, fetch_named = risk_gate.judge, hotpath.fetch_named

    def count(*_: object) -> None:
        seen[0] += 1

    def counted(unit: Unit, transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
        seen[0] = 0
        event.listen(unit.conn, "before_cursor_execute", count)
        try:
            return judge(unit, transfers)
        finally:
            event.remove(unit.conn, "before_cursor_execute", count)
            statements.append(seen[0])

    def fetch_counted(conn: Connection, statement: TextClause, params: Any) -> list[Any]:
        count()  # the gate's PostgreSQL statements run on the driver: one round trip each
        return fetch_named(conn, statement, params)

    monkeypatch.setattr(risk_gate, "judge", counted)
    monkeypatch.setattr(risk_usage, "fetch_named", fetch_counted)
    monkeypatch.setattr(risk_gate, "fetch_named", fetch_counted)
    # the gate's own read of owners: what the payment's wallet reads would teach it, unlearnt
    monkeypatch.setattr(risk_gate, "learn_owners", lambda *_: None)
    risk_gate._OWNERS.clear()
    _pay(platform, ana, ben, 10_000)  # the owners read
    _pay(platform, ana, ben, 10_000)  # known: the velocity limit is 2 an hour
    assert _alerts(platform) == []
    _pay(platform, ana, ben, 10_000)  # the third in the hour: held
    assert [a["rule"] for a in _alerts(platform)] == ["velocity"]
    platform.run(lambda u: rules.set_mode(u, OPERATOR, "velocity", "off", "tuning"))
    _pay(platform, ana, ben, 10_000)  # switched off: no alert, though the owners are known
    assert len(_alerts(platform)) == 1
    if platform.db.is_sqlite:  # the owners and switches, the pair, the buckets, last seen
        assert statements == [4, 4, 6, 4]  # (6: the alert's case and the alert)
    else:  # the owners and switches read once; then everything in one statement, and a
        assert statements == [2, 1, 2, 1]  # review's case and alert in one more


@pytest.mark.usefixtures("live")
def test_a_payments_wallet_reads_teach_the_gate_their_owners_as_its_own_read_finds_them(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payment's wallets, read by the service (``movement.holders``), tell the gate
    their accounts' parties: on PostgreSQL the first payment between two wallets the
    process never met is one round trip, not two. What it learnt is what its own read of
    the accounts' owners finds (``_owners_and_modes``)."""
    ana, ben = _party(platform, "Ana", 5_000_000), _party(platform, "Ben")
    risk_gate._OWNERS.clear()
    statements: list[int] = []
    judge, fetch_named = risk_gate.judge, hotpath.fetch_named
    learnt: dict[str, str] = {}

    def fetch_counted(conn: Connection, statement: TextClause, params: Any) -> list[Any]:
        if statements:  # the gate's, not the check's own read below
            statements[-1] += 1
        return fetch_named(conn, statement, params)

    def counted(unit: Unit, transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
        principal = transfers[0]
        known = risk_gate._known_owners(unit, principal)
        assert known is not None  # learnt from the wallets, before the gate
        learnt.update(known)
        read, _modes = risk_gate._owners_and_modes(unit, principal)
        assert read == known
        statements.append(0)
        return judge(unit, transfers)

    monkeypatch.setattr(risk_gate, "judge", counted)
    monkeypatch.setattr(risk_usage, "fetch_named", fetch_counted)
    monkeypatch.setattr(risk_gate, "fetch_named", fetch_counted)
    _pay(platform, ana, ben, 10_000)
    assert sorted(learnt.values()) == sorted([ana, ben])
    if not platform.db.is_sqlite:  # SQLite reads in process, learnt or not
        assert statements == [1]
