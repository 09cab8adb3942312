"""Cases: a party's reviews grouped, assigned, noted and decided — release with four eyes,
return, freeze, report — and the operator's switch of a rule's mode; on SQLite and
PostgreSQL, ``ledger verify`` after every decision that moves money."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.risk.test_live import (
    OPERATOR,
    SECOND,
    _alerts,
    _balance,
    _party,
    _pay,
    live,
    platform,
)
from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import verify
from tindahan.services.risk import cases, reports, rules
from tindahan.services.unit import Platform, Unit
from tindahan.store.web_tables import audit_log

__all__ = ["live", "platform"]  # the fixtures, shared with the live path's tests

MERCHANT = Caller("key_merchant", "pty_someone", frozenset({"payments:read"}))


def _actions(platform: Platform, object_id: str) -> list[str]:
    query = select(audit_log.c.action).where(audit_log.c.object_id == object_id)
    query = query.order_by(audit_log.c.at_ns, audit_log.c.id)
    return list(platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False))


def _only_case(platform: Platform) -> dict:
    (found,) = platform.run(lambda u: cases.list_cases(u, OPERATOR), write=False)["data"]
    return dict(platform.run(lambda u: cases.get(u, OPERATOR, found["id"]), write=False))


def _held_twice(platform: Platform) -> tuple[str, str, dict]:
    """Ana pays Ben three times in an hour (the third is reviewed: velocity) and Cy a first
    ₱40,000 (reviewed: new payee): two holds, one case for Ana."""
    ana, ben, cy = (
        _party(platform, "Ana", 10_000_000),
        _party(platform, "Ben"),
        _party(platform, "Cy"),
    )
    for _ in range(3):
        _pay(platform, ana, ben, 100_000)
    _pay(platform, ana, cy, 4_000_000)
    return ana, ben, _only_case(platform)


def test_a_partys_alerts_join_one_case_that_is_assigned_noted_and_released(
    live: Path, platform: Platform, clock: Clock
) -> None:
    ana, ben, case = _held_twice(platform)
    cy = next(a["counterparty_id"] for a in case["alerts"] if a["rule"] == "new_payee")
    assert (case["party_id"], case["status"], case["alert_count"]) == (ana, "open", 3)
    assert case["held_minor"] == 100_000 + 4_000_000 and not case["four_eyes"]
    rules_seen = {(a["rule"], a["rule_version"]) for a in case["alerts"]}
    assert rules_seen == {("velocity", 7), ("new_payee", 1)}
    velocity = {
        (a["evidence"]["count"], a["counterparty_id"], a["amount_minor"])
        for a in case["alerts"]
        if a["rule"] == "velocity"
    }
    assert velocity == {(3, ben, 100_000), (4, cy, 4_000_000)}
    assert {a["case_id"] for a in _alerts(platform)} == {case["id"]}

    assigned = platform.run(lambda u: cases.assign(u, OPERATOR, case["id"]))
    assert (assigned["status"], assigned["assignee"]) == ("in_review", "op1")
    with pytest.raises(RefusalError) as stranger:
        platform.run(lambda u: cases.assign(u, OPERATOR, case["id"], "lgn_nobody"))
    assert stranger.value.code == "assignee_invalid"
    platform.run(lambda u: cases.note(u, OPERATOR, case["id"], "called Ana: rent for Ben"))
    clock.advance(60)  # notes are in time order
    noted = platform.run(lambda u: cases.note(u, SECOND, case["id"], "  checked the lease  "))
    assert [(n["author"], n["body"]) for n in noted["notes"]] == [
        ("op1", "called Ana: rent for Ben"),
        ("op2", "checked the lease"),
    ]
    with pytest.raises(RefusalError) as empty:
        platform.run(lambda u: cases.note(u, OPERATOR, case["id"], "   "))
    assert empty.value.code == "note_invalid"

    closed = platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "release", "family"))
    assert (closed["status"], closed["decision"], closed["held_minor"]) == ("closed", "release", 0)
    assert {a["status"] for a in closed["alerts"]} == {"released"}
    assert _balance(platform, ben) == (300_000, 300_000)
    with pytest.raises(RefusalError) as twice:
        platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "return"))
    assert twice.value.code == "case_closed"
    assert sorted(_actions(platform, case["id"])) == [
        "risk.case.assign",
        "risk.case.note",
        "risk.case.note",
        "risk.case.release",
    ]
    _pay(platform, ana, ben, 100_000)  # a new review after the case closed opens a new one
    active = platform.run(lambda u: cases.list_cases(u, OPERATOR), write=False)["data"]
    assert len(active) == 1 and active[0]["id"] != case["id"]
    assert verify.verify(platform.db).ok


def test_releasing_above_the_limit_needs_a_second_operator(
    live: Path, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "RISK_FOUR_EYES_MINOR", 3_000_000)
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    _pay(platform, ana, ben, 4_000_000)  # ₱40,000 held: above the ₱30,000 of this test
    case = _only_case(platform)
    assert case["four_eyes"]
    with pytest.raises(RefusalError) as alone:
        platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "release"))
    assert alone.value.code == "four_eyes_required"
    platform.run(lambda u: cases.approve(u, OPERATOR, case["id"], "looks fine"))
    with pytest.raises(RefusalError) as same:
        platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "release"))
    assert same.value.code == "four_eyes_required"
    assert _balance(platform, ben) == (4_000_000, 0)  # refusals moved nothing
    # a hold joining after the approval raises the amount: the approval no longer covers it
    for _ in range(3):
        _pay(platform, ana, ben, 100_000)
    with pytest.raises(RefusalError) as stale:
        platform.run(lambda u: cases.decide(u, SECOND, case["id"], "release"))
    assert stale.value.code == "four_eyes_required"
    platform.run(lambda u: cases.approve(u, OPERATOR, case["id"]))
    done = platform.run(lambda u: cases.decide(u, SECOND, case["id"], "release"))
    assert (done["approved_by"], done["decided_by"], done["decision"]) == ("op1", "op2", "release")
    assert _balance(platform, ben) == (4_300_000, 4_300_000)
    assert verify.verify(platform.db).ok


def test_return_pays_the_sender_back_and_report_files_an_str(
    live: Path, platform: Platform
) -> None:
    from tindahan.lending.calendar import business_date

    ana, ben, case = _held_twice(platform)
    returned = platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "return", "scam"))
    assert {a["status"] for a in returned["alerts"]} == {"returned"}
    assert _balance(platform, ana) == (10_000_000 - 200_000, 10_000_000 - 200_000)
    assert _balance(platform, ben) == (200_000, 200_000)
    assert returned["notes"][0]["body"] == "scam"
    assert verify.verify(platform.db).ok

    dee = _party(platform, "Dee")
    _pay(platform, ana, dee, 4_000_000)
    second = next(
        c
        for c in platform.run(lambda u: cases.list_cases(u, OPERATOR), write=False)["data"]
        if c["id"] != case["id"]
    )
    reported = platform.run(lambda u: cases.decide(u, OPERATOR, second["id"], "report"))
    assert reported["held_minor"] == 4_000_000  # a report keeps the money held
    today = business_date(platform.now())
    rows = platform.run(lambda u: reports.rows(u, OPERATOR, "str", today, today), write=False)
    assert sorted(r["amount"] for r in rows) == ["1000.00", "40000.00", "40000.00"]
    to_dee = [r for r in rows if r["counterparty_ref"] == dee]
    assert len(to_dee) == 1 and "new_payee" in to_dee[0]["rule"]


def test_freeze_stops_the_partys_wallets(live: Path, platform: Platform) -> None:
    ana, ben, case = _held_twice(platform)
    frozen = platform.run(lambda u: cases.decide(u, OPERATOR, case["id"], "freeze", "mule"))
    assert (frozen["decision"], frozen["held_minor"]) == ("freeze", 4_100_000)
    with pytest.raises(RefusalError) as stopped:
        _pay(platform, ana, ben, 1_000)
    assert stopped.value.code == "wallet_frozen"
    assert _actions(platform, case["id"]) == ["risk.case.freeze"]
    assert verify.verify(platform.db).ok


def test_bad_input_and_non_operators_change_nothing(live: Path, platform: Platform) -> None:
    _, _, case = _held_twice(platform)
    for work, code in [
        (lambda u: cases.decide(u, OPERATOR, case["id"], "forgive"), "decision_invalid"),
        (lambda u: cases.decide(u, OPERATOR, "case_nope", "release"), "resource_missing"),
        (lambda u: cases.list_cases(u, OPERATOR, "pending"), "status_invalid"),
        (lambda u: cases.note(u, OPERATOR, case["id"], "x" * 501), "note_invalid"),
        (lambda u: cases.get(u, MERCHANT, case["id"]), "operator_only"),
        (lambda u: cases.decide(u, MERCHANT, case["id"], "release"), "operator_only"),
        (lambda u: rules.set_mode(u, OPERATOR, "velocity", "loud"), "mode_invalid"),
        (lambda u: rules.set_mode(u, OPERATOR, "no_such_rule", "off"), "resource_missing"),
    ]:
        with pytest.raises(RefusalError) as caught:
            platform.run(work)
        assert caught.value.code == code
    assert _only_case(platform)["status"] == "open"
    assert _actions(platform, case["id"]) == []


def test_an_operator_switches_a_rule_to_shadow_and_the_gate_follows(
    live: Path, platform: Platform
) -> None:
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    listed = platform.run(lambda u: rules.list_rules(u, OPERATOR), write=False)
    assert listed["gate_on"]
    assert {(r["id"], r["version"], r["mode"]) for r in listed["data"]} == {
        ("velocity", 7, "on"),
        ("new_payee", 1, "on"),
    }
    switched = platform.run(lambda u: rules.set_mode(u, OPERATOR, "new_payee", "shadow", "tuning"))
    assert (switched["mode"], switched["file_mode"], switched["changed_by"]) == (
        "shadow",
        "on",
        "op1",
    )
    _pay(platform, ana, ben, 4_000_000)  # would be held; in shadow it only alerts
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["shadow"], alert["hold_id"]) == ("new_payee", True, None)
    assert _balance(platform, ben) == (4_000_000, 4_000_000)
    assert platform.run(lambda u: cases.list_cases(u, OPERATOR), write=False)["data"] == []
    query = select(audit_log.c.details).where(audit_log.c.action == "risk.rule_mode")
    (details,) = platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False)
    assert json.loads(details) == {"from": "on", "to": "shadow"}
    platform.run(lambda u: rules.set_mode(u, OPERATOR, "new_payee", "on"))
    cy = _party(platform, "Cy")
    _pay(platform, ana, cy, 4_000_000)
    assert _balance(platform, cy) == (4_000_000, 0)


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_racing_alerts_of_one_party_join_one_case(platform: Platform) -> None:
    """Two transactions make the party's case at once: the partial unique index (one
    unclosed case per party) makes the second wait, then join the first's case."""
    import threading

    from tindahan.services.ledger import risk_gate
    from tindahan.store.risk_tables import risk_cases

    start = threading.Barrier(2)
    found: list[str] = []
    errors: list[BaseException] = []

    def one() -> None:
        def work(unit: Unit) -> str:
            start.wait()
            return risk_gate._case_of(unit, "cus_racing")

        try:
            found.append(platform.run(work))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(found) == 2 and found[0] == found[1]
    query = select(risk_cases.c.id).where(risk_cases.c.party_id == "cus_racing")
    assert platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False) == found[:1]
