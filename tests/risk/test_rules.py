"""Each rule just below and just above its thresholds, on the in-memory aggregates."""

from __future__ import annotations

import dataclasses

import pytest

from tindahan.risk import ruleset
from tindahan.risk.engine import Engine
from tindahan.risk.movement import Decision
from tindahan.risk.ruleset import Mode

from .helpers import DAY, HOUR, T0, mv, only, rules_hit

PESO = 100


def test_covered_cash_adds_up_one_manila_day_and_only_reports() -> None:
    engine = only("covered_cash")
    first = engine.evaluate(mv("cash_in", "agent", "ana", 300_000 * PESO))
    exactly = engine.evaluate(mv("cash_out", "ana", "agent", 200_000 * PESO, T0 + HOUR))
    assert rules_hit(first) == rules_hit(exactly) == []  # ₱500,000 is not *over* ₱500,000
    over = engine.evaluate(mv("cash_in", "agent2", "ana", 1, T0 + 2 * HOUR))
    assert rules_hit(over) == ["covered_cash"]
    assert over.decision is Decision.ALLOW  # reported, not blocked
    assert over.alerts[0].values["total_minor"] == 500_000 * PESO + 1
    # the next Manila day starts at 16:00 UTC: a fresh total
    next_day = T0 - 2 * HOUR + DAY - 8 * HOUR
    assert rules_hit(engine.evaluate(mv("cash_in", "agent", "ana", 400_000 * PESO, next_day))) == []


def test_covered_cash_ignores_transfers() -> None:
    engine = only("covered_cash")
    assert rules_hit(engine.evaluate(mv("p2p", "ana", "ben", 600_000 * PESO))) == []


@pytest.mark.parametrize(("count", "tripped"), [(2, False), (3, True)])
def test_structuring_counts_movements_just_below_a_threshold(count: int, tripped: bool) -> None:
    engine = only("structuring")
    verdicts = [
        engine.evaluate(mv("cash_in", "agent", "ana", 49_000 * PESO, T0 + i * 10 * HOUR))
        for i in range(count)
    ]
    assert (verdicts[-1].decision is Decision.REVIEW) is tripped
    assert all(v.decision is Decision.ALLOW for v in verdicts[:-1])


def test_structuring_band_edges_and_window() -> None:
    engine = only("structuring")
    # 10% below ₱50,000 is ₱45,000: ₱44,999.99 is outside the band, ₱50,000 itself too
    for amount in (45_000 * PESO - 1, 50_000 * PESO, 45_000 * PESO - 1):
        engine.evaluate(mv("cash_in", "agent", "ana", amount))
    assert engine.evaluate(mv("cash_in", "agent", "ana", 45_000 * PESO)).decision is Decision.ALLOW
    engine.evaluate(mv("cash_in", "agent", "ana", 49_999 * PESO, T0 + HOUR))
    # a third within 48 h trips; one after the window does not
    late = only("structuring")
    late.evaluate(mv("cash_in", "agent", "ana", 46_000 * PESO))
    late.evaluate(mv("cash_in", "agent", "ana", 46_000 * PESO, T0 + HOUR))
    assert (
        late.evaluate(mv("cash_in", "agent", "ana", 46_000 * PESO, T0 + 48 * HOUR)).decision
        is Decision.ALLOW
    )
    assert (
        engine.evaluate(mv("cash_in", "agent", "ana", 49_999 * PESO, T0 + 2 * HOUR)).decision
        is Decision.REVIEW
    )


@pytest.mark.parametrize(("count", "tripped"), [(30, False), (31, True)])
def test_velocity_count_per_hour(count: int, tripped: bool) -> None:
    engine = only("velocity", pair_day_max_count=1000)
    last = None
    for i in range(count):
        last = engine.evaluate(mv("merchant", "ana", f"shop{i}", 10 * PESO, T0 + i * 60))
    assert last is not None
    assert (last.decision is Decision.REVIEW) is tripped
    if tripped:
        assert last.alerts[0].values["window"] == "hour"


def test_velocity_hour_window_slides() -> None:
    engine = only("velocity", pair_day_max_count=1000)
    for i in range(30):
        engine.evaluate(mv("merchant", "ana", f"shop{i}", 10 * PESO, T0 + i))
    assert (
        engine.evaluate(mv("merchant", "ana", "x", 10 * PESO, T0 + HOUR)).decision is Decision.ALLOW
    )


@pytest.mark.parametrize(
    ("amount", "tripped"), [(200_000 * PESO, False), (200_000 * PESO + 1, True)]
)
def test_velocity_amount_per_hour(amount: int, tripped: bool) -> None:
    engine = only("velocity")
    engine.evaluate(mv("p2p", "ana", "ben", 100_000 * PESO))
    last = engine.evaluate(mv("p2p", "ana", "cy", amount - 100_000 * PESO, T0 + 60))
    assert (last.decision is Decision.REVIEW) is tripped


def test_velocity_per_counterparty_per_day() -> None:
    engine = only("velocity")
    verdicts = [
        engine.evaluate(mv("p2p", "ana", "ben", PESO, T0 + i * 2 * HOUR)) for i in range(11)
    ]
    assert [v.decision for v in verdicts].count(Decision.REVIEW) == 1
    assert verdicts[-1].alerts[0].values["window"] == "day to one payee"


def _fan_in(engine: Engine, senders: int, each: int) -> None:
    for i in range(senders):
        engine.evaluate(mv("p2p", f"stranger{i}", "mule", each, T0 + i * HOUR))


@pytest.mark.parametrize(
    ("senders", "out_share", "tripped"), [(4, 100, False), (5, 69, False), (5, 70, True)]
)
def test_mule_fan_in_then_fast_out(senders: int, out_share: int, tripped: bool) -> None:
    engine = only("mule")
    _fan_in(engine, senders, 10_000 * PESO)
    total = senders * 10_000 * PESO
    out = engine.evaluate(mv("cash_out", "mule", "agent", total * out_share // 100, T0 + 10 * HOUR))
    assert (out.decision is Decision.REVIEW) is tripped


def test_mule_senders_must_be_new() -> None:
    engine = only("mule")
    for i in range(5):  # each friend paid before the window: not new when they pay again
        engine.evaluate(mv("p2p", f"friend{i}", "mule", PESO, T0 - 10 * DAY))
    for i in range(5):
        engine.evaluate(mv("p2p", f"friend{i}", "mule", 10_000 * PESO, T0 + i * HOUR))
    assert (
        engine.evaluate(mv("bank_out", "mule", "bank", 50_000 * PESO, T0 + 6 * HOUR)).decision
        is Decision.ALLOW
    )


@pytest.mark.parametrize(("idle_days", "tripped"), [(89, False), (90, True)])
def test_dormant_then_large(idle_days: int, tripped: bool) -> None:
    engine = only("dormant")
    engine.evaluate(mv("cash_in", "agent", "ana", 100 * PESO))
    later = engine.evaluate(mv("p2p", "ana", "ben", 50_000 * PESO, T0 + idle_days * DAY))
    assert (later.decision is Decision.REVIEW) is tripped


def test_dormant_needs_a_large_amount_and_a_history() -> None:
    engine = only("dormant")
    engine.evaluate(mv("cash_in", "agent", "ana", 100 * PESO))
    assert (
        engine.evaluate(mv("p2p", "ana", "ben", 50_000 * PESO - 1, T0 + 200 * DAY)).decision
        is Decision.ALLOW
    )
    assert (
        engine.evaluate(mv("p2p", "new", "cy", 900_000 * PESO, T0 + 200 * DAY)).decision
        is Decision.ALLOW
    )


@pytest.mark.parametrize(
    ("amount", "tripped"), [(100_000 * PESO - 1, False), (100_000 * PESO, True)]
)
def test_first_large_payment_to_a_new_payee(amount: int, tripped: bool) -> None:
    engine = only("new_payee")
    assert (engine.evaluate(mv("p2p", "ana", "ben", amount)).decision is Decision.REVIEW) is tripped


def test_a_known_payee_is_not_new() -> None:
    engine = only("new_payee")
    engine.evaluate(mv("p2p", "ana", "ben", PESO))
    assert (
        engine.evaluate(mv("p2p", "ana", "ben", 500_000 * PESO, T0 + DAY)).decision
        is Decision.ALLOW
    )


@pytest.mark.parametrize(("back_percent", "tripped"), [(79, False), (80, True)])
def test_round_trip_of_three_wallets(back_percent: int, tripped: bool) -> None:
    engine = only("round_trip")
    engine.evaluate(mv("p2p", "a", "b", 50_000 * PESO))
    engine.evaluate(mv("p2p", "b", "c", 50_000 * PESO, T0 + HOUR))
    back = engine.evaluate(mv("p2p", "c", "a", 50_000 * PESO * back_percent // 100, T0 + 2 * HOUR))
    assert (back.decision is Decision.REVIEW) is tripped
    if tripped:
        assert back.alerts[0].values["hops"] == 3
        assert back.alerts[0].values["path"] == "a>b>c>a"


def test_round_trip_window() -> None:
    engine = only("round_trip")
    engine.evaluate(mv("p2p", "a", "b", 50_000 * PESO))
    assert (
        engine.evaluate(mv("p2p", "b", "a", 50_000 * PESO, T0 + 72 * HOUR)).decision
        is Decision.ALLOW
    )
    engine.evaluate(mv("p2p", "a", "b", 50_000 * PESO, T0 + 73 * HOUR))
    assert (
        engine.evaluate(mv("p2p", "b", "a", 50_000 * PESO, T0 + 74 * HOUR)).decision
        is Decision.REVIEW
    )


@pytest.mark.parametrize(("refunds", "tripped"), [(4, False), (5, True)])
def test_refund_spike(refunds: int, tripped: bool) -> None:
    engine = only("refund_spike")
    for i in range(10):
        engine.evaluate(mv("merchant", f"buyer{i}", "shop", 1_000 * PESO, T0 + i * 60))
    last = None
    for i in range(refunds):  # ₱3,000 of ₱10,000 sales is 30%
        last = engine.evaluate(
            mv("refund", "shop", f"buyer{i}", 3_000 * PESO // refunds + 1, T0 + HOUR + i)
        )
    assert last is not None
    assert (last.decision is Decision.REVIEW) is tripped


def test_refunds_below_the_ratio_pass() -> None:
    engine = only("refund_spike")
    for i in range(10):
        engine.evaluate(mv("merchant", f"buyer{i}", "shop", 1_000 * PESO, T0 + i * 60))
    verdicts = [
        engine.evaluate(mv("refund", "shop", f"buyer{i}", 500 * PESO, T0 + HOUR + i))
        for i in range(5)
    ]
    assert verdicts[-1].decision is Decision.ALLOW  # ₱2,500 of ₱10,000 is 25% < 30%


def test_shadow_alerts_without_deciding_and_block_decides() -> None:
    default = ruleset.default()
    rule = default.get("new_payee")
    assert rule is not None
    shadow = Engine(
        dataclasses.replace(default, rules=(dataclasses.replace(rule, mode=Mode.SHADOW),))
    )
    verdict = shadow.evaluate(mv("p2p", "ana", "ben", 200_000 * PESO))
    assert verdict.decision is Decision.ALLOW
    assert [(a.rule, a.shadow) for a in verdict.alerts] == [("new_payee", True)]
    block = Engine(
        dataclasses.replace(default, rules=(dataclasses.replace(rule, decision=Decision.BLOCK),))
    )
    blocked = block.evaluate(mv("p2p", "ana", "ben", 200_000 * PESO))
    assert blocked.decision is Decision.BLOCK
    # a blocked movement moved nothing: ben is still a new payee
    assert (
        block.evaluate(mv("p2p", "ana", "ben", 200_000 * PESO, T0 + 1)).decision is Decision.BLOCK
    )


def test_a_rule_that_raises_holds_the_money(caplog: pytest.LogCaptureFixture) -> None:
    engine = only("new_payee")
    engine._active = [(engine._active[0][0], _boom)]
    verdict = engine.evaluate(mv("p2p", "ana", "ben", PESO))
    assert verdict.decision is Decision.REVIEW
    assert verdict.alerts[0].values == {"error": "ZeroDivisionError"}
    assert "new_payee" in caplog.text


def _boom(*_: object) -> None:
    raise ZeroDivisionError("boom")


def test_other_currencies_pass_untouched() -> None:
    engine = only("new_payee")
    assert engine.evaluate(mv("p2p", "ana", "ben", 900_000 * PESO, currency="USD")).alerts == ()


def test_explanations_fill_the_template() -> None:
    verdict = only("covered_cash").evaluate(mv("cash_in", "agent", "ana", 600_000 * PESO))
    assert verdict.alerts[0].explanation == (
        "cash of 60000000 centavos in one banking day is over 50000000: a covered transaction"
    )
