"""A rule set: rules as data, read from a TOML file and validated against the catalogue.

The file::

    currency = "PHP"            # the currency the amounts are in

    [[rule]]
    id = "velocity"             # a rule of ``catalogue.CATALOGUE``
    version = 3                 # bumped by whoever changes the parameters
    mode = "on"                 # on | shadow (alerts, decides nothing) | off
    decision = "review"         # allow | review | block, when it trips
    explain = "{party} made {count} movements in one {window}"   # names only its values
    [rule.params]
    hour_max_count = 30
    ...

TOML because the standard library reads it (``tomllib``) and it has no implicit typing
surprises. Nothing is half-loaded: the whole file is validated before a rule set exists, and
an error names the line of the ``[[rule]]`` it is about and the field.
"""

from __future__ import annotations

import enum
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from tindahan import limits
from tindahan.risk.catalogue import CATALOGUE, ParamKind
from tindahan.risk.errors import RiskInputError
from tindahan.risk.movement import Decision, Kind

E = TypeVar("E", bound=enum.StrEnum)
ParamValue = int | tuple[int, ...] | frozenset[Kind]


class Mode(enum.StrEnum):
    ON = "on"
    SHADOW = "shadow"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    version: int
    mode: Mode
    decision: Decision
    explain: str
    params: Mapping[str, ParamValue]


@dataclass(frozen=True, slots=True)
class RuleSet:
    currency: str
    rules: tuple[Rule, ...]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def active(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.mode is not Mode.OFF)


RULE_KEYS = {"id", "version", "mode", "decision", "explain", "params"}


@lru_cache(maxsize=1)
def default() -> RuleSet:
    """The rule set that ships: ``default_rules.toml`` beside this module (read once)."""
    text = resources.files("tindahan.risk").joinpath("default_rules.toml").read_text("utf-8")
    return parse(text, "default_rules.toml")


def load(path: Path) -> RuleSet:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise RiskInputError(f"cannot read the rules file {path}: {exc.strerror}") from None
    if size > limits.RISK_MAX_RULES_FILE_BYTES:
        raise RiskInputError(f"{path}: larger than {limits.RISK_MAX_RULES_FILE_BYTES} bytes")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RiskInputError(f"cannot read the rules file {path}: {exc}") from None
    return parse(text, path.name)


def parse(text: str, name: str) -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RiskInputError(f"{name}: not valid TOML: {exc}") from None
    lines = _rule_lines(text)
    unknown = set(data) - {"currency", "rule"}
    if unknown:
        raise RiskInputError(f"{name}: unknown top-level field {sorted(unknown)[0]!r}")
    currency = data.get("currency", "PHP")
    if currency != "PHP":
        raise RiskInputError(f"{name}: currency: the rules' amounts are in PHP, not {currency!r}")
    raw = data.get("rule", [])
    if not isinstance(raw, list):
        raise RiskInputError(f"{name}: rule must be an array of tables ([[rule]])")
    rules: list[Rule] = []
    for index, table in enumerate(raw):
        where = f"{name} line {lines[index]}" if index < len(lines) else f"{name} rule {index + 1}"
        if isinstance(table, dict) and any(r.id == table.get("id") for r in rules):
            raise RiskInputError(f"{where}: id: rule {table.get('id')!r} appears twice")
        rules.append(_rule(table, where))
    return RuleSet(currency, tuple(rules))


def _rule_lines(text: str) -> list[int]:
    """The line of each ``[[rule]]`` header, in order (tomllib keeps no positions)."""
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip().startswith("[[rule]]")]


def _rule(table: Any, where: str) -> Rule:
    if not isinstance(table, dict):
        raise RiskInputError(f"{where}: a rule must be a table")
    extra = set(table) - RULE_KEYS
    if extra:
        raise RiskInputError(f"{where}: unknown field {sorted(extra)[0]!r}")
    rule_id = table.get("id")
    if not isinstance(rule_id, str) or rule_id not in CATALOGUE:
        known = ", ".join(CATALOGUE)
        raise RiskInputError(f"{where}: id: unknown rule {rule_id!r} (known: {known})")
    where = f"{where} (rule {rule_id})"
    version = table.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RiskInputError(f"{where}: version must be a whole number, 1 or more")
    mode = _choice(table.get("mode", "on"), Mode, where, "mode")
    decision = _choice(table.get("decision"), Decision, where, "decision")
    explain = table.get("explain", "")
    if not isinstance(explain, str):
        raise RiskInputError(f"{where}: explain must be a string")
    _check_template(explain, rule_id, where)
    params = _params(table.get("params", {}), rule_id, where)
    return Rule(rule_id, version, mode, decision, explain, params)


def _choice(value: Any, kind: type[E], where: str, field: str) -> E:
    try:
        return kind(value)
    except ValueError:
        allowed = " | ".join(e.value for e in kind)
        raise RiskInputError(f"{where}: {field} must be {allowed}, not {value!r}") from None


def _check_template(explain: str, rule_id: str, where: str) -> None:
    allowed = set(CATALOGUE[rule_id].values) | {"error"}
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(explain) if f is not None]
    except ValueError as exc:
        raise RiskInputError(f"{where}: explain: {exc}") from None
    for field in names:
        if field not in allowed:
            raise RiskInputError(
                f"{where}: explain names {{{field}}}, which this rule does not report "
                f"(it reports {', '.join(sorted(allowed))})"
            )


def _params(raw: Any, rule_id: str, where: str) -> dict[str, ParamValue]:
    if not isinstance(raw, dict):
        raise RiskInputError(f"{where}: params must be a table")
    wanted = CATALOGUE[rule_id].params
    extra = set(raw) - set(wanted)
    if extra:
        raise RiskInputError(f"{where}: params.{sorted(extra)[0]}: not a parameter of {rule_id}")
    missing = [p for p in wanted if p not in raw]
    if missing:
        raise RiskInputError(f"{where}: params.{missing[0]}: missing")
    return {p: _param(raw[p], kind, f"{where}: params.{p}") for p, kind in wanted.items()}


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _param(value: Any, kind: ParamKind, where: str) -> ParamValue:
    bad = RiskInputError(f"{where} must be {kind.value}, not {value!r}")
    if kind is ParamKind.KINDS:
        if not isinstance(value, list) or not value:
            raise bad
        try:
            return frozenset(Kind(v) for v in value)
        except ValueError:
            known = ", ".join(k.value for k in Kind)
            raise RiskInputError(f"{where}: {value!r} names an unknown kind ({known})") from None
    if kind is ParamKind.MINORS:
        if not isinstance(value, list) or not value:
            raise bad
        if not all(_whole(v) and 0 < v <= limits.MAX_AMOUNT_MINOR for v in value):
            raise bad
        return tuple(sorted(value))
    if not _whole(value):
        raise bad
    low = 0 if kind in (ParamKind.MINOR, ParamKind.PERCENT) else 1
    high = 100 if kind is ParamKind.PERCENT else limits.MAX_AMOUNT_MINOR
    if not low <= value <= high:
        raise bad
    return int(value)
