"""Building movements and one-rule engines for the risk tests."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from tindahan.risk import ruleset
from tindahan.risk.engine import Engine, Verdict
from tindahan.risk.movement import Kind, Movement

T0 = 1_767_225_600 + 2 * 3600  # 2026-01-01 10:00 in Manila
HOUR = 3600
DAY = 24 * HOUR
_ids = itertools.count(1)


def mv(
    kind: str, sender: str, receiver: str, amount: int, at: int = T0, currency: str = "PHP"
) -> Movement:
    return Movement(f"t{next(_ids)}", at, Kind(kind), sender, receiver, amount, currency)


def only(rule_id: str, **params: Any) -> Engine:
    """An engine running just this rule of the shipped set, with some parameters changed."""
    default = ruleset.default()
    rule = default.get(rule_id)
    assert rule is not None
    merged = {**rule.params, **params}
    return Engine(dataclasses.replace(default, rules=(dataclasses.replace(rule, params=merged),)))


def rules_hit(verdict: Verdict) -> list[str]:
    return [a.rule for a in verdict.alerts]
