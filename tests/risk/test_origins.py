"""Velocity per device and per IP address (issue 20, item 1): the rules just below and just
above their limits in memory, the CSV's optional columns, the live gate on SQLite and
PostgreSQL (buckets, holds, the origins kept only as keyed hashes, the backtest replaying
them) and the adapter that hands the request's device and IP to the gate."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import Clock
from tests.risk.helpers import HOUR, T0, mv, rules_hit
from tests.risk.test_live import _alerts, _balance, _party, _pay, platform
from tindahan.api.origin import DEVICE_COOKIE, ClientOrigin
from tindahan.risk import events, ruleset
from tindahan.risk.engine import Engine
from tindahan.risk.errors import RiskInputError
from tindahan.risk.movement import Decision, Movement
from tindahan.risk.ruleset import Mode
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.risk import backtest
from tindahan.services.unit import Platform
from tindahan.store.risk_tables import risk_origins, risk_usage
from tindahan.web import session

__all__ = ["platform"]  # the fixture, shared with test_live


def _engine(rule_id: str, **params: int) -> Engine:
    """The shipped rule, turned on (it ships in shadow), with some parameters changed."""
    default = ruleset.default()
    rule = default.get(rule_id)
    assert rule is not None and rule.mode is Mode.SHADOW  # the shipped default
    on = dataclasses.replace(rule, mode=Mode.ON, params={**rule.params, **params})
    return Engine(dataclasses.replace(default, rules=(on,)))


def _from(
    kind: str, sender: str, receiver: str, amount: int, at: int = T0, device: str = "", ip: str = ""
) -> Movement:
    return dataclasses.replace(mv(kind, sender, receiver, amount, at), device=device, ip=ip)


def test_many_wallets_from_one_device_trip_at_the_count_limit() -> None:
    engine = _engine("device_velocity", hour_max_count=3)
    first = [
        engine.evaluate(_from("p2p", f"payer{i}", "mule", 100, device="phone1")) for i in range(3)
    ]
    assert all(v.decision is Decision.ALLOW and not v.alerts for v in first)  # at the limit
    other = engine.evaluate(_from("p2p", "payer9", "mule", 100, device="phone2"))
    assert not other.alerts  # another device has its own windows
    nobody = engine.evaluate(_from("p2p", "payer8", "mule", 100))
    assert not nobody.alerts  # no device known: the rule passes it
    fourth = engine.evaluate(_from("p2p", "payer4", "mule", 100, device="phone1"))
    assert fourth.decision is Decision.REVIEW and rules_hit(fourth) == ["device_velocity"]
    values = fourth.alerts[0].values
    assert values == {
        "party": "payer4",
        "window": "hour",
        "count": 4,
        "amount_minor": 400,
        "limit": 3,
        "device": "phone1",
    }


def test_the_hour_slides_and_the_day_amount_limit_of_an_ip() -> None:
    engine = _engine("ip_velocity", hour_max_count=2, day_max_minor=1_000)
    for i in range(2):
        assert not engine.evaluate(_from("p2p", f"a{i}", "b", 300, T0 + i, ip="1.2.3.4")).alerts
    later = engine.evaluate(_from("p2p", "a2", "b", 399, T0 + HOUR, ip="1.2.3.4"))
    assert not later.alerts  # the hour moved on (two left it); 999 in the day: at most 1,000
    over = engine.evaluate(_from("p2p", "a3", "b", 2, T0 + HOUR + 1, ip="1.2.3.4"))
    assert rules_hit(over) == ["ip_velocity"]
    assert over.alerts[0].values["window"] == "day"
    assert over.alerts[0].values["amount_minor"] == 1_001


def test_only_spending_counts_on_a_device() -> None:
    """An agent's counter phone does many cash-ins: those are the customers' money coming
    in, not spending through the phone."""
    engine = _engine("device_velocity", hour_max_count=1)
    for i in range(3):
        verdict = engine.evaluate(_from("cash_in", "agent", f"c{i}", 100, device="counter"))
        assert not verdict.alerts
    assert not engine.evaluate(_from("cash_out", "c1", "agent", 100, device="counter")).alerts
    assert rules_hit(engine.evaluate(_from("p2p", "c2", "x", 100, device="counter"))) == [
        "device_velocity"
    ]


def test_the_shipped_rules_watch_origins_in_shadow() -> None:
    engine = Engine(ruleset.default())
    verdicts = [
        engine.evaluate(_from("p2p", f"p{i}", f"r{i}", 100, T0 + i, device="farm"))
        for i in range(21)
    ]
    assert all(v.decision is Decision.ALLOW for v in verdicts)
    shadow = [a for v in verdicts for a in v.alerts if a.rule == "device_velocity"]
    assert len(shadow) == 1 and shadow[0].shadow  # the 21st of the hour, decides nothing


def test_the_csv_takes_optional_device_and_ip_columns() -> None:
    text = (
        "id,occurred_at,kind,sender,receiver,amount_minor,currency,ip,device\n"
        "e1,2026-03-02T09:00:00Z,p2p,ana,ben,100,PHP,10.0.0.1,dev-1\n"
        "e2,2026-03-02T09:01:00Z,p2p,cy,ben,100,PHP,,\n"
    )
    first, second = events.read(text.splitlines(keepends=True), "e.csv")
    assert (first.device, first.ip) == ("dev-1", "10.0.0.1")
    assert (second.device, second.ip) == ("", "")
    plain = events.read(
        [
            "id,occurred_at,kind,sender,receiver,amount_minor,currency\n",
            "e1,2026-03-02T09:00:00Z,p2p,ana,ben,100,PHP\n",
        ],
        "e.csv",
    )
    assert (plain[0].device, plain[0].ip) == ("", "")
    too_long = text.replace("dev-1", "d" * 65)
    with pytest.raises(RiskInputError, match=r"e\.csv line 2: device: longer than 64"):
        events.read(too_long.splitlines(keepends=True), "e.csv")
    short = (
        "id,occurred_at,kind,sender,receiver,amount_minor,currency,device\n"
        "e1,2026-03-02T09:00:00Z,p2p,a,b,1,PHP\n"
    )
    with pytest.raises(RiskInputError, match="line 2: 7 fields, the header has 8"):
        events.read(short.splitlines(keepends=True), "e.csv")


LIVE_RULES = """
[[rule]]
id = "device_velocity"
version = 3
decision = "review"
explain = "{count} from one device"
[rule.params]
hour_max_count = 2
hour_max_minor = 100000000
day_max_count = 100
day_max_minor = 500000000

[[rule]]
id = "ip_velocity"
version = 1
mode = "shadow"
decision = "review"
[rule.params]
hour_max_count = 1
hour_max_minor = 100000000
day_max_count = 100
day_max_minor = 500000000
"""


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(LIVE_RULES)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))


@pytest.mark.usefixtures("live")
def test_live_wallets_paying_from_one_device_are_held_and_origins_kept_hashed(
    platform: Platform, clock: Clock
) -> None:
    payers = [_party(platform, f"Payer {i}", 5_000_000) for i in range(4)]
    mule = _party(platform, "Mule")
    with risk_gate.client_origin("secret-device-cookie", "203.0.113.7"):
        for payer in payers[:2]:
            _pay(platform, payer, mule, 10_000)
    with risk_gate.client_origin("another-device-01", "203.0.113.7"):
        _pay(platform, payers[2], mule, 10_000)  # another phone behind the same address
    assert [a["rule"] for a in _alerts(platform) if not a["shadow"]] == []
    with risk_gate.client_origin("secret-device-cookie", "198.51.100.2"):
        _pay(platform, payers[3], mule, 10_000)  # the third from the first phone
    opened = [a for a in _alerts(platform) if not a["shadow"]]
    assert [(a["rule"], a["party_id"], a["decision"]) for a in opened] == [
        ("device_velocity", payers[3], "review")
    ]
    assert opened[0]["hold_id"] and opened[0]["explanation"] == "3 from one device"
    shadows = [a["rule"] for a in _alerts(platform) if a["shadow"]]
    assert shadows == ["ip_velocity", "ip_velocity"]  # 2nd and 3rd from 203.0.113.7
    assert _balance(platform, mule) == (40_000, 30_000)
    _pay(platform, payers[0], mule, 10_000)  # no client (the worker, the CLI): no origin

    def read(u):
        origins = u.conn.execute(select(risk_origins)).mappings().all()
        usage = u.conn.execute(
            select(risk_usage.c.party_id, risk_usage.c.metric, risk_usage.c.count).where(
                risk_usage.c.metric.in_(["ohour", "oday"])
            )
        ).all()
        return [dict(o) for o in origins], usage

    origins, usage = platform.run(read, write=False)
    assert len(origins) == 4
    stored = repr(origins) + repr(usage)
    for raw in ("secret-device-cookie", "another-device-01", "203.0.113.7", "198.51.100.2"):
        assert raw not in stored  # only keyed hashes are kept
    devices = {o["device"] for o in origins}
    assert len(devices) == 2 and all(len(d) == 32 for d in devices)
    assert len({o["ip"] for o in origins}) == 2
    counts = {(party.partition(":")[0], metric, count) for party, metric, count in usage}
    assert ("device", "ohour", 3) in counts and ("ip", "oday", 3) in counts
    assert verify.verify(platform.db).ok

    replayed = platform.run(lambda u: backtest.movements(u, 0, 2**62), write=False)
    from_origins = [m for m in replayed if m.device]
    assert len(from_origins) == 4 and {m.device for m in from_origins} == devices
    engine = Engine(ruleset.parse(LIVE_RULES, "rules.toml"))
    flagged = [v for v in engine.run(replayed) if v.decision is Decision.REVIEW]
    assert len(flagged) == 1  # the backtest sees what the gate saw


def test_the_same_device_keys_the_same_and_keys_differ_by_what() -> None:
    from tindahan.store.vault import Vault

    vault = Vault(b"k" * 32)

    class U:
        pass

    unit = U()
    unit.vault = vault  # type: ignore[attr-defined]
    one = risk_gate._keyed(unit, "device", "abc")  # type: ignore[arg-type]
    assert one == risk_gate._keyed(unit, "device", "abc")  # type: ignore[arg-type]
    assert one != risk_gate._keyed(unit, "ip", "abc")  # type: ignore[arg-type]
    assert risk_gate._keyed(unit, "ip", None) == ""  # type: ignore[arg-type]
    other = Vault(b"j" * 32)
    unit.vault = other  # type: ignore[attr-defined]
    assert risk_gate._keyed(unit, "device", "abc") != one  # type: ignore[arg-type]


def _ask(headers: dict[str, str], client: tuple[str, int] | None = ("203.0.113.9", 5555)):
    """One request through ``ClientOrigin``: (status, what the app inside saw or None)."""
    seen: list[risk_gate.Origin | None] = []
    sent: list[dict] = []

    async def inner(scope, receive, send):
        seen.append(risk_gate._origin.get())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/x",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": client,
    }
    asyncio.run(ClientOrigin(inner)(scope, receive, send))
    status = sent[0]["status"]
    body = b"".join(m.get("body", b"") for m in sent[1:])
    return status, (seen[0] if seen else None), body


def test_the_adapter_hands_the_device_and_ip_to_the_gate() -> None:
    assert DEVICE_COOKIE == session.DEVICE  # the web session's device cookie
    status, got, _ = _ask({"Tindahan-Device-Id": "android-1234:abcd"})
    assert status == 204 and got == risk_gate.Origin("android-1234:abcd", "203.0.113.9")
    _, got, _ = _ask({"Cookie": f"lang=fil; {DEVICE_COOKIE}=browser-secret-xyz"})
    assert got == risk_gate.Origin("browser-secret-xyz", "203.0.113.9")
    _, got, _ = _ask(
        {"Cookie": f"{DEVICE_COOKIE}=browser-secret-xyz", "Tindahan-Device-Id": "api-device-9"}
    )
    assert got is not None and got.device == "api-device-9"  # the header wins
    _, got, _ = _ask({"Cookie": 'bad"cookie'}, client=None)
    assert got == risk_gate.Origin(None, None)  # nothing known: no origin
    assert risk_gate._origin.get() is None  # and nothing left behind


@pytest.mark.parametrize("bad", ["short", "x" * 129, "has space", "semi;colon", ""])
def test_a_bad_device_header_is_refused_before_anything_runs(bad: str) -> None:
    status, got, body = _ask({"Tindahan-Device-Id": bad})
    assert status == 400 and got is None
    error = json.loads(body)["error"]
    assert (error["code"], error["param"]) == ("invalid_device_id", "Tindahan-Device-Id")
