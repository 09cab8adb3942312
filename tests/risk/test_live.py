"""The live path: the risk gate inside every movement's transaction, holds on the ledger,
releases and returns with four eyes — on SQLite and PostgreSQL, ``ledger verify`` after."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.api.conftest import TEST_DATA_KEY
from tindahan import limits
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.payments import cash, payments
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import chart, parties
from tindahan.services.risk import holds
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import wallets
from tindahan.store.risk_tables import risk_alerts
from tindahan.store.tables import accounts
from tindahan.store.vault import Vault

ALL = frozenset(SCOPES)
OPERATOR = Caller("op1", None, ALL)
SECOND = Caller("op2", None, ALL)

RULES = """
[[rule]]
id = "velocity"
version = 7
decision = "review"
explain = "{count} in one {window}"
[rule.params]
hour_max_count = 2
hour_max_minor = 10000000
day_max_count = 100
day_max_minor = 50000000
month_max_count = 1000
month_max_minor = 500000000
pair_day_max_count = 100

[[rule]]
id = "new_payee"
version = 1
decision = "DECISION"
[rule.params]
min_minor = 3000000
kinds = ["p2p"]
"""


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES.replace("DECISION", "review"))
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    return path


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(base64.urlsafe_b64decode(TEST_DATA_KEY)))
    chart.ensure_operator_accounts(made)
    return made


def _party(platform: Platform, name: str, funded: int = 0) -> str:
    new = parties.NewParty(kind="customer", name=name, tier="full")
    party_id: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    if funded:
        wallet_id = _wallet(platform, party_id)["id"]
        for _ in range(funded // 5_000_000):  # the tier's per-transaction maximum
            platform.run(lambda u: cash.fund(u, OPERATOR, wallet_id, 5_000_000, "PHP", "test"))
    return party_id


def _wallet(platform: Platform, party_id: str) -> dict:
    query = select(wallets).where(wallets.c.party_id == party_id, wallets.c.kind == "main")
    return dict(platform.run(lambda u: u.conn.execute(query).mappings().one(), write=False))


def _balance(platform: Platform, party_id: str) -> tuple[int, int]:
    """(posted balance, what is spendable: pending debits off)."""
    account_id = _wallet(platform, party_id)["account_id"]
    row = platform.run(
        lambda u: (
            u.conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().one()
        ),
        write=False,
    )
    posted = row["credits_posted"] - row["debits_posted"]
    return posted, posted - row["debits_pending"]


def _pay(platform: Platform, payer: str, payee: str, amount: int) -> PaymentView:
    new = payments.NewPayment(payee_id=payee, amount_minor=amount, currency="PHP", payer_id=payer)
    return platform.run(lambda u: payments.pay(u, OPERATOR, new))


def _alerts(platform: Platform) -> list[dict]:
    query = select(risk_alerts).order_by(risk_alerts.c.created_at_ns, risk_alerts.c.id)
    return [
        dict(r) for r in platform.run(lambda u: u.conn.execute(query).mappings().all(), write=False)
    ]


def test_off_unless_turned_on(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(risk_gate.RULES_ENV, raising=False)
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    for _ in range(3):
        _pay(platform, ana, ben, 4_000_000 // 4)
    assert _alerts(platform) == []
    assert _balance(platform, ben) == (3_000_000, 3_000_000)


def test_a_review_holds_the_money_until_an_analyst_releases_it(
    live: Path, platform: Platform
) -> None:
    ana, ben, cy = (
        _party(platform, "Ana", 10_000_000),
        _party(platform, "Ben"),
        _party(platform, "Cy"),
    )
    for _ in range(3):
        _pay(platform, ana, ben, 100_000)  # ₱1,000 each; the third is the hour's third
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["version"], alert["decision"], alert["status"]) == (
        "velocity",
        7,
        "review",
        "open",
    )
    assert alert["party_id"] == ana and '"count": 3' in alert["evidence"]
    queued = platform.run(lambda u: holds.queue(u, OPERATOR), write=False)
    assert [a["id"] for a in queued] == [alert["id"]]
    assert _balance(platform, ben) == (300_000, 200_000)  # ben sees it, cannot spend it
    with pytest.raises(RefusalError) as caught:
        _pay(platform, ben, cy, 250_000)
    assert caught.value.code == "insufficient_funds"
    decided = platform.run(
        lambda u: holds.decide(u, OPERATOR, alert["id"], "release", "checked: family")
    )
    assert decided["status"] == "released" and decided["decided_by"] == "op1"
    assert platform.run(lambda u: holds.queue(u, OPERATOR), write=False) == []
    assert _balance(platform, ben) == (300_000, 300_000)
    _pay(platform, ben, cy, 250_000)
    with pytest.raises(RefusalError) as again:
        platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "return"))
    assert again.value.code == "alert_decided"
    assert verify.verify(platform.db).ok


def test_one_payment_tripping_a_review_and_an_alert_only_rule_stores_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: Platform
) -> None:
    """An open alert (it goes to a case) and a closed one (alert only) from one payment are
    stored together; they once failed the payment's whole transaction (found by the gate's
    benchmark: a velocity review and a device's alert-only rule at once)."""
    path = tmp_path / "rules.toml"
    text = RULES.replace("DECISION", "allow").replace("min_minor = 3000000", "min_minor = 1000")
    path.write_text(text)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    ana, ben, cy = (
        _party(platform, "Ana", 10_000_000),
        _party(platform, "Ben"),
        _party(platform, "Cy"),
    )
    _pay(platform, ana, ben, 100_000)
    _pay(platform, ana, ben, 100_000)
    _pay(platform, ana, cy, 100_000)  # the hour's third (review) and a new payee (alert only)
    last = [a for a in _alerts(platform) if a["counterparty"] == cy]
    assert sorted((a["rule"], a["status"], a["case_id"] is None) for a in last) == [
        ("new_payee", "closed", True),
        ("velocity", "open", False),
    ]
    assert _balance(platform, cy) == (100_000, 0)  # held for review, not lost
    assert verify.verify(platform.db).ok


def test_a_return_pays_the_sender_back_with_four_eyes(
    live: Path, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "RISK_FOUR_EYES_MINOR", 3_000_000)
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    _pay(platform, ana, ben, 4_000_000)  # a first ₱40,000 to a new payee
    (alert,) = _alerts(platform)
    assert alert["rule"] == "new_payee"
    assert _balance(platform, ana)[0] == 6_000_000
    assert _balance(platform, ben) == (4_000_000, 0)
    with pytest.raises(RefusalError) as unapproved:
        platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "return"))
    assert unapproved.value.code == "four_eyes_required"
    platform.run(lambda u: holds.approve(u, OPERATOR, alert["id"]))
    with pytest.raises(RefusalError) as same:
        platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "return"))
    assert same.value.code == "four_eyes_required"
    decided = platform.run(lambda u: holds.decide(u, SECOND, alert["id"], "return"))
    assert (decided["status"], decided["approved_by"], decided["decided_by"]) == (
        "returned",
        "op1",
        "op2",
    )
    assert _balance(platform, ben) == (0, 0)
    assert _balance(platform, ana) == (10_000_000, 10_000_000)
    assert verify.verify(platform.db).ok


def test_a_block_refuses_and_nothing_moves(live: Path, platform: Platform) -> None:
    live.write_text(RULES.replace("DECISION", "block"))
    risk_gate._rules.cache_clear()
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    with pytest.raises(RefusalError) as caught:
        _pay(platform, ana, ben, 4_000_000)
    assert caught.value.code == "risk_blocked"
    assert "rule" not in caught.value.message and "payee" not in caught.value.message
    assert _balance(platform, ana) == (10_000_000, 10_000_000)
    assert _balance(platform, ben) == (0, 0)
    (alert,) = _alerts(platform)  # written after the refusal rolled back: an analyst sees it
    assert (alert["rule"], alert["decision"], alert["hold_id"]) == ("new_payee", "block", None)
    _pay(platform, ana, ben, 100_000)  # small enough: allowed
    assert verify.verify(platform.db).ok


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_two_payments_racing_past_a_velocity_limit_get_one_review(
    live: Path, platform: Platform
) -> None:
    ana, ben, cy = (
        _party(platform, "Ana", 10_000_000),
        _party(platform, "Ben"),
        _party(platform, "Cy"),
    )
    _pay(platform, ana, cy, 100_000)  # the hour's first; the limit is two
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def one() -> None:
        try:
            start.wait()
            _pay(platform, ana, ben, 100_000)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    reviews = [a for a in _alerts(platform) if a["rule"] == "velocity"]
    assert len(reviews) == 1
    assert _balance(platform, ben) == (200_000, 100_000)
    assert verify.verify(platform.db).ok


def test_backtest_replays_the_ledger_through_a_proposed_rule_set(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import date, timedelta

    from tindahan.lending.calendar import business_date
    from tindahan.risk import ruleset
    from tindahan.services.risk import backtest

    monkeypatch.delenv(risk_gate.RULES_ENV, raising=False)  # history made with the gate off
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    for _ in range(3):
        _pay(platform, ana, ben, 100_000)
    proposed = ruleset.parse(RULES.replace("DECISION", "block"), "proposed.toml")
    today = business_date(platform.now())
    result = platform.run(
        lambda u: backtest.backtest(u, OPERATOR, today, today, proposed), write=False
    )
    assert result["movements"] == 5  # two fundings, three payments
    assert result["alerts_per_rule"] == {"velocity": 1, "new_payee": 0}
    assert (result["held_minor"], result["blocked_minor"], result["parties_hit"]) == (100_000, 0, 1)
    earlier = today - timedelta(days=3)
    quiet = platform.run(
        lambda u: backtest.backtest(u, OPERATOR, earlier, earlier, proposed), write=False
    )
    assert quiet["movements"] == 0
    with pytest.raises(RefusalError):
        platform.run(lambda u: backtest.backtest(u, OPERATOR, today, earlier, proposed))
    assert isinstance(today, date)
    assert _alerts(platform) == []  # a backtest changes nothing


COVERED = """
[[rule]]
id = "covered_cash"
version = 2
decision = "allow"
explain = "cash of {total_minor} over {threshold_minor}"
[rule.params]
threshold_minor = 6000000
"""


def test_covered_and_suspicious_transaction_reports(
    tmp_path: Path, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tindahan.lending.calendar import business_date
    from tindahan.services.risk import reports

    path = tmp_path / "covered.toml"
    path.write_text(COVERED + RULES.replace("DECISION", "review"))
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    monkeypatch.setattr(limits, "RISK_FOUR_EYES_MINOR", 10**12)
    agent = platform.run(
        lambda u: parties.create(u, OPERATOR, parties.NewParty(kind="agent", name="Aling Nena"))
    )["id"]
    float_id = _wallet_kind(platform, agent, "float")
    for _ in range(3):
        platform.run(lambda u: cash.fund(u, OPERATOR, float_id, 5_000_000, "PHP", "float"))
    ana = _party(platform, "Ana")

    def cash_in(amount: int) -> None:
        platform.run(lambda u: cash.cash_in(u, OPERATOR, ana, amount, "PHP", agent))

    for amount in (4_000_000, 2_000_000, 1):  # ₱60,000.01 in one day: over on the third
        cash_in(amount)
    ben = _party(platform, "Ben")
    _pay(platform, ana, ben, 3_500_000)  # a first ₱35,000 to a new payee: held
    held = next(a for a in _alerts(platform) if a["rule"] == "new_payee")
    platform.run(lambda u: holds.decide(u, OPERATOR, held["id"], "return"))
    today = business_date(platform.now())
    ctr = platform.run(lambda u: reports.rows(u, OPERATOR, "ctr", today, today), write=False)
    assert [(r["report_type"], r["amount"], r["subject_ref"], r["rule"]) for r in ctr] == [
        ("CTR", "0.01", ana, "covered_cash")
    ]
    assert ctr[0]["deadline"] > today.isoformat()
    str_rows = platform.run(lambda u: reports.rows(u, OPERATOR, "str", today, today), write=False)
    assert [(r["report_type"], r["amount"], r["rule"]) for r in str_rows] == [
        ("STR", "35000.00", "new_payee")
    ]
    with pytest.raises(RefusalError):
        platform.run(lambda u: reports.rows(u, OPERATOR, "sar", today, today), write=False)
    assert verify.verify(platform.db).ok


def _wallet_kind(platform: Platform, party_id: str, kind: str) -> str:
    query = select(wallets.c.id).where(wallets.c.party_id == party_id, wallets.c.kind == kind)
    return str(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_the_alert_queue_and_decisions_from_the_command_line(
    live: Path, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from tindahan.cli.app import app

    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.setattr(limits, "RISK_FOUR_EYES_MINOR", 3_000_000)
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    _pay(platform, ana, ben, 4_000_000)
    url = platform.db.url.render_as_string(hide_password=False)
    runner = CliRunner()
    listed = runner.invoke(app, ["risk", "alerts", "--json", "--db", url])
    assert listed.exit_code == 0, listed.output
    (alert,) = json.loads(listed.stdout)["alerts"]
    assert (alert["rule"], alert["decision"], alert["status"]) == ("new_payee", "review", "open")
    alone = runner.invoke(
        app, ["risk", "decide", alert["id"], "release", "--as", "rosa", "--db", url]
    )
    assert alone.exit_code == 2 and "four_eyes_required" in alone.stderr
    approved = runner.invoke(app, ["risk", "approve", alert["id"], "--as", "rosa", "--db", url])
    assert approved.exit_code == 0, approved.output
    done = runner.invoke(
        app,
        ["risk", "decide", alert["id"], "release", "--as", "lito", "--note", "known", "--db", url],
    )
    assert done.exit_code == 0, done.output
    assert "released by lito" in done.stdout
    assert _balance(platform, ben) == (4_000_000, 4_000_000)
    again = runner.invoke(
        app, ["risk", "decide", alert["id"], "return", "--as", "lito", "--db", url]
    )
    assert again.exit_code == 2 and "already released" in again.stderr


UN_LIST = Path(__file__).parent / "data" / "consolidated.xml"


def test_a_party_is_screened_at_creation_and_a_confirmed_hit_freezes_it(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tindahan.services.platform import screening

    watch = tmp_path / "watch.csv"
    watch.write_text("id,name,aliases\nw1,Pedro Penduko,Pedring\n")
    monkeypatch.setenv(screening.LISTS_ENV, f"{UN_LIST},{watch}")
    juan = _party(platform, "Juan S. Dela Cruz Jr.", 5_000_000)
    ben = _party(platform, "Ben Reyes")
    pedro = _party(platform, "Penduko, Pedro")
    hits = platform.run(lambda u: screening.list_hits(u, OPERATOR), write=False)
    assert sorted((h["party_id"], h["source"], h["ref"], h["score"]) for h in hits) == sorted(
        [(juan, "un", "QDi.900", 100), (pedro, "watch.csv", "w1", 100)]
    )
    by_party = {h["party_id"]: h for h in hits}
    cleared = platform.run(
        lambda u: screening.decide_hit(u, OPERATOR, by_party[pedro]["id"], "clear")
    )
    assert cleared["status"] == "cleared"
    confirmed = platform.run(
        lambda u: screening.decide_hit(u, OPERATOR, by_party[juan]["id"], "confirm", "same DOB")
    )
    assert (confirmed["status"], confirmed["decided_by"]) == ("confirmed", "op1")
    with pytest.raises(RefusalError) as frozen:
        _pay(platform, juan, ben, 100_000)
    assert frozen.value.code == "wallet_frozen"
    with pytest.raises(RefusalError) as twice:
        platform.run(lambda u: screening.decide_hit(u, OPERATOR, by_party[juan]["id"], "clear"))
    assert twice.value.code == "hit_decided"


def test_a_bad_list_refuses_party_creation_whole(
    platform: Platform, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tindahan.services.platform import screening

    bad = tmp_path / "un.xml"
    bad.write_text('<!DOCTYPE x [<!ENTITY a "b">]><CONSOLIDATED_LIST/>')
    monkeypatch.setenv(screening.LISTS_ENV, str(bad))
    with pytest.raises(RefusalError) as caught:
        _party(platform, "Ana Santos")
    assert caught.value.code == "screening_list_invalid" and "DTDForbidden" in caught.value.message
    monkeypatch.delenv(screening.LISTS_ENV)
    _party(platform, "Ana Santos")  # the phone-less party was never half-created


def test_a_person_is_told_under_review_in_words_never_the_rule() -> None:
    from tindahan.kernel.refusals import refused
    from tindahan.web.messages import refusal_text

    review = refusal_text(refused("risk_review", "this movement is under review"))
    assert review.startswith("This is under review") and "rule" not in review
    assert "contact Tindahan" in refusal_text(refused("risk_blocked", "not allowed"))


def test_verify_names_an_alert_whose_decision_was_rewritten(live: Path, platform: Platform) -> None:
    from sqlalchemy import text

    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    _pay(platform, ana, ben, 4_000_000)
    (alert,) = _alerts(platform)
    platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "return"))
    assert verify.verify(platform.db).ok
    with platform.db.begin() as conn:  # issue 17: the record says the money was released
        conn.execute(text("UPDATE risk_alerts SET status = 'released'"))
    problems = verify.verify(platform.db).violations
    assert f"risk alert {alert['id']} is released but its hold shows post, back" in problems
