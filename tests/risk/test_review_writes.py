"""A verdict's writes: its alerts and the cases its open ones join — on PostgreSQL one
statement on the driver (``risk_gate._STORE_PG``), on SQLite a case per party then the
alerts — the same rows either way; and the array literals that statement (and the buckets')
sends, round-tripped through the server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from psycopg import _queries
from sqlalchemy import select, text

from tests.risk.test_live import platform
from tindahan.ledger.model import NewTransfer
from tindahan.payments.model import TransferCode
from tindahan.risk.engine import Alert, Verdict
from tindahan.risk.movement import Decision, Kind, Movement
from tindahan.services.ledger import risk_gate
from tindahan.services.unit import Platform, Unit
from tindahan.store.pgarray import bool_array, int_array, text_array
from tindahan.store.risk_tables import risk_alerts, risk_cases

__all__ = ["platform"]  # the fixture, shared with the live path's tests

NASTY = [
    "plain",
    "",
    "NULL",
    "with space",
    'a "quoted" word',
    "back\\slash\\",
    "{braces},commas",
    "ñ Ma. dela Cruz — ₱",
    '\\"',
    "'single'",
    None,
]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_array_literals_come_back_as_they_were_sent(platform: Platform) -> None:
    strings = NASTY
    ints = [0, -1, 7, 2**62, -(2**62)]
    bools = [True, False, True]

    def read(unit: Unit) -> Any:
        return unit.conn.execute(
            text(
                "SELECT CAST(:s AS text[]), CAST(:i AS bigint[]), CAST(:b AS boolean[]), "
                "CAST(:e AS text[]), CAST(:n AS int[])"
            ),
            {
                "s": text_array(strings),
                "i": int_array(ints),
                "b": bool_array(bools),
                "e": text_array([]),
                "n": int_array([]),
            },
        ).one()

    assert tuple(platform.run(read, write=False)) == (strings, ints, bools, [], [])


def _movement(n: int, sender: str = "cus_ana") -> tuple[Movement, NewTransfer]:
    m = Movement(f"pay.{n}", 1_800_000_000, Kind.P2P, sender, "cus_ben", 250_000, "PHP", "", "")
    principal = NewTransfer(
        id=m.id,
        debit_account_id=f"acc.{sender}",
        credit_account_id="acc.cus_ben",
        amount=m.amount_minor,
        ledger="PHP",
        code=TransferCode.P2P,
    )
    return m, principal


def _alert(m: Movement, rule: str, decision: Decision, **values: Any) -> Alert:
    explain = 'tripped: "quoted" \\ [a, b]'  # no placeholders: the text as it is
    return Alert(m.id, rule, 3, decision, decision is Decision.ALLOW, values, explain)


def _rows(platform: Platform) -> list[dict[str, Any]]:
    query = select(risk_alerts).order_by(risk_alerts.c.id)
    found = platform.run(lambda u: u.conn.execute(query).mappings().all(), write=False)
    return [dict(r) for r in found]


def _cases(platform: Platform) -> dict[str, str]:
    query = select(risk_cases.c.party_id, risk_cases.c.id)
    return dict(platform.run(lambda u: u.conn.execute(query).all(), write=False))


def test_a_verdicts_alerts_join_one_case_per_party_the_same_on_both_databases(
    platform: Platform,
) -> None:
    """Two reviews of Ana's, one of Ben's (the rule names its party), one alert-only: two
    cases, each open alert naming its party's; the allow closed and in no case. A later
    review of Ana's joins her case. Every other column is what the verdict said."""
    m, principal = _movement(1)
    verdict = Verdict(
        m.id,
        Decision.REVIEW,
        (
            _alert(m, "velocity", Decision.REVIEW, count=3, window="hour"),
            _alert(m, "fan_in", Decision.REVIEW, party="cus_ben", senders=5),
            _alert(m, "new_payee", Decision.REVIEW, amount=250_000),
            _alert(m, "covered_cash", Decision.ALLOW, total=600_000_00),
        ),
    )
    platform.run(lambda u: risk_gate._store(u, m, principal, verdict, "hold.pay.1"))
    cases = _cases(platform)
    assert sorted(cases) == ["cus_ana", "cus_ben"] and len(set(cases.values())) == 2
    rows = {r["rule"]: r for r in _rows(platform)}
    assert {rule: r["case_id"] for rule, r in rows.items()} == {
        "covered_cash": None,
        "fan_in": cases["cus_ben"],
        "new_payee": cases["cus_ana"],
        "velocity": cases["cus_ana"],
    }
    velocity = rows["velocity"]
    assert {k: v for k, v in velocity.items() if k not in ("case_id", "created_at_ns")} == {
        "id": "ra.pay.1.velocity",
        "transfer_id": "pay.1",
        "party_id": "cus_ana",
        "counterparty": "cus_ben",
        "kind": "p2p",
        "amount_minor": 250_000,
        "currency": "PHP",
        "rule": "velocity",
        "version": 3,
        "decision": "review",
        "shadow": False,
        "evidence": '{"count": 3, "window": "hour"}',
        "explanation": 'tripped: "quoted" \\ [a, b]',
        "hold_id": "hold.pay.1",
        "sender_account_id": "acc.cus_ana",
        "status": "open",
        "approved_by": None,
        "decided_by": None,
        "decided_at_ns": None,
    }
    assert (rows["fan_in"]["party_id"], rows["fan_in"]["counterparty"]) == ("cus_ben", "cus_ana")
    allowed = rows["covered_cash"]
    assert (allowed["status"], allowed["shadow"], allowed["hold_id"]) == ("closed", True, None)
    assert len({r["created_at_ns"] for r in rows.values()}) == 1

    later, principal2 = _movement(2)
    again = Verdict(later.id, Decision.REVIEW, (_alert(later, "velocity", Decision.REVIEW),))
    platform.run(lambda u: risk_gate._store(u, later, principal2, again, None))
    assert _cases(platform) == cases
    assert {r["id"]: r["case_id"] for r in _rows(platform)}["ra.pay.2.velocity"] == cases["cus_ana"]


def test_the_review_statement_is_parsed_once_by_psycopg() -> None:
    """However many alerts: the statement's text and parameters stay within what psycopg
    caches the parsing of (one parameter per column)."""
    statement = str(risk_gate._STORE_PG)
    bound = {name for name in risk_gate._store_params([_ROW]) if f":{name}" in statement}
    assert len(statement) <= _queries.MAX_CACHED_STATEMENT_LENGTH
    assert len(bound) <= _queries.MAX_CACHED_STATEMENT_PARAMS
    assert bound == set(risk_gate._store_params([_ROW] * 5))


_ROW = {
    "id": "ra.x.velocity",
    "transfer_id": "x",
    "party_id": "cus_a",
    "counterparty": "cus_b",
    "kind": "p2p",
    "amount_minor": 1,
    "currency": "PHP",
    "rule": "velocity",
    "version": 1,
    "decision": "review",
    "shadow": False,
    "evidence": "{}",
    "explanation": "",
    "hold_id": None,
    "sender_account_id": "acc",
    "status": "open",
    "created_at_ns": 1,
}


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_racing_reviews_of_one_party_join_one_case(platform: Platform) -> None:
    """Two movements' reviews of one party stored at once (one statement each): the partial
    unique index makes the second wait, then join the first's case."""
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def one(n: int) -> None:
        m, principal = _movement(n, "cus_racing")
        verdict = Verdict(m.id, Decision.REVIEW, (_alert(m, "velocity", Decision.REVIEW),))

        def work(unit: Unit) -> None:
            start.wait()
            risk_gate._store(unit, m, principal, verdict, None)

        try:
            platform.run(work)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    cases = _cases(platform)
    assert list(cases) == ["cus_racing"]
    assert [r["case_id"] for r in _rows(platform)] == [cases["cus_racing"]] * 2
