"""Different wallets per device and per IP address (issue 20, item 1): how many *different*
wallets spent through one origin within the window — just at and just above the limit in
memory, a wallet counted once per window, the window sliding; then the live gate on SQLite
and PostgreSQL (the conditional bucket raised only for a fresh wallet, the hold, the
backtest seeing what the gate saw)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.risk.helpers import HOUR, T0, rules_hit
from tests.risk.test_live import _alerts, _balance, _party, _pay, platform
from tests.risk.test_origins import _engine, _from
from tindahan.risk import ruleset
from tindahan.risk.engine import Engine
from tindahan.risk.errors import RiskInputError
from tindahan.risk.movement import Decision
from tindahan.risk.ruleset import Mode
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.risk import backtest
from tindahan.services.unit import Platform
from tindahan.store.risk_tables import risk_origin_wallets, risk_usage

__all__ = ["platform"]  # the fixture, shared with test_live


def test_the_sixth_different_wallet_on_one_device_trips_the_fifth_does_not() -> None:
    engine = _engine("device_wallets")  # the shipped limits: 5 wallets within 24 hours
    for i in range(5):
        verdict = engine.evaluate(_from("p2p", f"w{i}", "mule", 100, T0 + i, device="phone"))
        assert not verdict.alerts  # at the limit
    again = [
        engine.evaluate(_from("p2p", f"w{i % 5}", "mule", 100, T0 + 10 + i, device="phone"))
        for i in range(20)
    ]
    assert not any(v.alerts for v in again)  # the same five wallets, many times: still five
    elsewhere = engine.evaluate(_from("p2p", "w9", "mule", 100, T0 + 40, device="other"))
    unknown = engine.evaluate(_from("p2p", "w8", "mule", 100, T0 + 41))
    assert not elsewhere.alerts and not unknown.alerts  # another device; no device known
    sixth = engine.evaluate(_from("p2p", "w5", "mule", 100, T0 + 50, device="phone"))
    assert sixth.decision is Decision.REVIEW and rules_hit(sixth) == ["device_wallets"]
    assert sixth.alerts[0].values == {
        "party": "w5",
        "wallets": 6,
        "limit": 5,
        "window_hours": 24,
        "device": "phone",
    }
    assert sixth.alerts[0].explanation == (
        "6 different wallets paid from one device within 24 hours (limit 5)"
    )
    # the first wallet again: not a new wallet, but the device still has six in the window
    assert rules_hit(engine.evaluate(_from("p2p", "w0", "x", 1, T0 + 60, device="phone"))) == [
        "device_wallets"
    ]


def test_the_window_slides_and_a_wallet_counts_again_once_it_left() -> None:
    engine = _engine("ip_wallets", max_wallets=2, window_hours=1)
    assert not engine.evaluate(_from("p2p", "a", "s", 100, T0, ip="10.0.0.1")).alerts
    assert not engine.evaluate(_from("p2p", "b", "s", 100, T0 + 1800, ip="10.0.0.1")).alerts
    # an hour after a: a's count left the window, so b and c make two
    later = engine.evaluate(_from("p2p", "c", "s", 100, T0 + HOUR, ip="10.0.0.1"))
    assert not later.alerts
    # a spends again: counted anew (3 within the hour: b, c, a)
    back = engine.evaluate(_from("p2p", "a", "s", 100, T0 + HOUR + 1, ip="10.0.0.1"))
    assert rules_hit(back) == ["ip_wallets"] and back.alerts[0].values["wallets"] == 3
    assert back.alerts[0].values["ip"] == "10.0.0.1"


def test_only_spending_wallets_count_at_an_origin() -> None:
    """An agent's counter phone cashes in for many customers: not wallets spending there."""
    engine = _engine("device_wallets", max_wallets=1)
    for i in range(4):
        assert not engine.evaluate(_from("cash_in", "agent", f"c{i}", 100, device="counter")).alerts
    assert not engine.evaluate(_from("p2p", "c1", "x", 100, device="counter")).alerts
    assert rules_hit(engine.evaluate(_from("p2p", "c2", "x", 100, device="counter"))) == [
        "device_wallets"
    ]


def test_the_shipped_rules_count_wallets_in_shadow() -> None:
    default = ruleset.default()
    for rule_id in ("device_wallets", "ip_wallets"):
        rule = default.get(rule_id)
        assert rule is not None and rule.mode is Mode.SHADOW
    engine = Engine(default)
    verdicts = [
        engine.evaluate(_from("p2p", f"p{i}", f"r{i}", 100, T0 + i, device="farm"))
        for i in range(6)
    ]
    assert all(v.decision is Decision.ALLOW for v in verdicts)
    shadow = [a for v in verdicts for a in v.alerts if a.rule == "device_wallets"]
    assert len(shadow) == 1 and shadow[0].shadow and shadow[0].values["wallets"] == 6


def test_a_malformed_limit_is_refused_with_its_field() -> None:
    text = (
        '[[rule]]\nid = "device_wallets"\nversion = 1\ndecision = "review"\n'
        "[rule.params]\nwindow_hours = 24\nmax_wallets = 0\n"
    )
    with pytest.raises(RiskInputError, match=r"\(rule device_wallets\): params\.max_wallets"):
        ruleset.parse(text, "rules.toml")


LIVE_RULES = """
[[rule]]
id = "device_wallets"
version = 2
decision = "review"
explain = "{wallets} wallets on one device"
[rule.params]
window_hours = 2
max_wallets = 2

[[rule]]
id = "ip_wallets"
version = 1
mode = "shadow"
decision = "review"
[rule.params]
window_hours = 24
max_wallets = 3
"""


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(LIVE_RULES)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))


@pytest.mark.usefixtures("live")
def test_live_the_third_wallet_on_one_phone_is_held_and_each_wallet_counts_once(
    platform: Platform, clock: Clock
) -> None:
    payers = [_party(platform, f"Payer {i}", 5_000_000) for i in range(4)]
    mule = _party(platform, "Mule")
    with risk_gate.client_origin("farm-phone-0001", "203.0.113.7"):
        for payer in payers[:2] * 3:  # two wallets, three times each
            _pay(platform, payer, mule, 1_000)
    assert _alerts(platform) == []
    with risk_gate.client_origin("farm-phone-0001", "198.51.100.2"):
        _pay(platform, payers[2], mule, 1_000)  # the third wallet on the phone
    (held,) = [a for a in _alerts(platform) if not a["shadow"]]
    assert (held["rule"], held["version"], held["party_id"]) == ("device_wallets", 2, payers[2])
    assert held["hold_id"] and held["explanation"] == "3 wallets on one device"
    assert '"wallets": 3' in held["evidence"] and "farm-phone" not in held["evidence"]
    assert _balance(platform, mule) == (7_000, 6_000)

    def read(u):
        counted = u.conn.execute(
            select(risk_usage.c.metric, risk_usage.c.count).where(
                risk_usage.c.metric.in_(["dwallets", "iwallets"])
            )
        ).all()
        pairs = u.conn.execute(select(risk_origin_wallets)).mappings().all()
        return sorted(counted), [dict(p) for p in pairs]

    counted, pairs = platform.run(read, write=False)
    assert counted == [("dwallets", 3), ("iwallets", 1), ("iwallets", 2)]  # not 7 movements
    assert len(pairs) == 6 and all(len(p["origin"]) <= 40 for p in pairs)
    assert "farm-phone" not in repr(pairs)  # only the keyed hash

    clock.advance(2 * 3600 + 1)  # the window (2 hours) passed
    with risk_gate.client_origin("farm-phone-0001", "198.51.100.2"):
        _pay(platform, payers[3], mule, 1_000)  # a fourth wallet, but alone in its window
        _pay(platform, payers[0], mule, 1_000)  # counted anew: two in the window
    assert len([a for a in _alerts(platform) if not a["shadow"]]) == 1
    with risk_gate.client_origin("farm-phone-0001", None):
        _pay(platform, payers[1], mule, 1_000)  # the third in the new window
    opened = [a for a in _alerts(platform) if not a["shadow"]]
    assert [(a["rule"], a["party_id"]) for a in opened[1:]] == [("device_wallets", payers[1])]
    assert verify.verify(platform.db).ok

    replayed = platform.run(lambda u: backtest.movements(u, 0, 2**62), write=False)
    engine = Engine(ruleset.parse(LIVE_RULES, "rules.toml"))
    flagged = [v for v in engine.run(replayed) if any(a.rule == "device_wallets" for a in v.alerts)]
    assert len(flagged) == 2  # the backtest sees what the gate saw
