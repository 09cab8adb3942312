"""One decision per movement: run the active rules over the running aggregates.

The decision is the strictest of the alerts of rules that are *on*; a rule in *shadow*
still raises its alert (marked ``shadow``, decision ``allow``) so its effect can be seen
before it decides anything; a rule *off* is not run. A rule that raises is never a silent
pass: the movement gets ``review`` with an alert naming the rule and the error, and the
error is logged (without the parties: their names are personal data).

Movements in a currency other than the rule set's pass with no alert and are not added to
the aggregates: the thresholds are pesos, and a foreign-currency wallet's movements are
watched where they are converted (the FX leg of an order is a PHP movement).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import cast

from tindahan.risk.aggregates import DAY, HOUR, Aggregates, Spans
from tindahan.risk.checks import CHECKS, Check, Values
from tindahan.risk.movement import SEVERITY, Decision, Kind, Movement
from tindahan.risk.ruleset import Mode, Rule, RuleSet, default

log = logging.getLogger("tindahan.risk")


@dataclass(frozen=True, slots=True)
class Alert:
    movement_id: str
    rule: str
    version: int
    decision: Decision
    shadow: bool
    values: Mapping[str, int | str]
    template: str = field(repr=False, default="")

    @property
    def explanation(self) -> str:
        if not self.template:
            return ", ".join(f"{k}={v}" for k, v in self.values.items())
        try:
            return self.template.format_map(dict(self.values))
        except (KeyError, IndexError, ValueError):
            return ", ".join(f"{k}={v}" for k, v in self.values.items())


@dataclass(frozen=True, slots=True)
class Verdict:
    movement_id: str
    decision: Decision
    alerts: tuple[Alert, ...]


def spans_of(rules: RuleSet) -> Spans:
    """The windows the aggregates keep, from the rule set (the defaults for rules it lacks)."""
    fallback = default()

    def rule(rule_id: str) -> Rule:
        found = rules.get(rule_id) or fallback.get(rule_id)
        assert found is not None  # the default rule set has every rule
        return found

    structuring = rule("structuring").params
    return Spans(
        near=cast(int, structuring["window_hours"]) * HOUR,
        mule=cast(int, rule("mule").params["window_hours"]) * HOUR,
        refunds=cast(int, rule("refund_spike").params["window_days"]) * DAY,
        thresholds_minor=cast(tuple[int, ...], structuring["thresholds_minor"]),
        band_percent=cast(int, structuring["band_percent"]),
        near_kinds=cast(frozenset[Kind], structuring["kinds"]),
        device_wallets=cast(int, rule("device_wallets").params["window_hours"]) * HOUR,
        ip_wallets=cast(int, rule("ip_wallets").params["window_hours"]) * HOUR,
    )


class Engine:
    """The rules of a rule set, with their own running aggregates in memory."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.aggregates = Aggregates(spans_of(rules))
        self._active = checks_of(rules)

    def evaluate(self, m: Movement) -> Verdict:
        if m.currency != self.rules.currency:
            return Verdict(m.id, Decision.ALLOW, ())
        verdict = judge(self._active, m, self.aggregates)
        if verdict.decision is not Decision.BLOCK:
            self.aggregates.record(m)
        return verdict

    def run(self, movements: Iterable[Movement]) -> list[Verdict]:
        return [self.evaluate(m) for m in movements]


def checks_of(rules: RuleSet, only: frozenset[str] | None = None) -> list[tuple[Rule, Check]]:
    """The active rules with their checks (those named in ``only``, when given)."""
    return [(r, CHECKS[r.id]) for r in rules.active if only is None or r.id in only]


def judge(active: list[tuple[Rule, Check]], m: Movement, aggregates: Aggregates) -> Verdict:
    """The decision on one movement given the aggregates before it; changes nothing."""
    alerts: list[Alert] = []
    decision = Decision.ALLOW
    for rule, check in active:
        try:
            values = check(rule.params, m, aggregates)
        except Exception as exc:  # a broken rule holds the money; it never lets it through
            log.exception("risk rule %s v%d raised on movement %s", rule.id, rule.version, m.id)
            values = {"error": type(exc).__name__}
            alerts.append(Alert(m.id, rule.id, rule.version, Decision.REVIEW, False, values))
            decision = _stricter(decision, Decision.REVIEW)
            continue
        if values is None:
            continue
        if rule.mode is Mode.SHADOW:
            alerts.append(_alert(m, rule, Decision.ALLOW, True, values))
            continue
        alerts.append(_alert(m, rule, rule.decision, False, values))
        decision = _stricter(decision, rule.decision)
    return Verdict(m.id, decision, tuple(alerts))


def _alert(m: Movement, rule: Rule, decision: Decision, shadow: bool, values: Values) -> Alert:
    return Alert(m.id, rule.id, rule.version, decision, shadow, values, rule.explain)


def _stricter(a: Decision, b: Decision) -> Decision:
    return a if SEVERITY[a] >= SEVERITY[b] else b
