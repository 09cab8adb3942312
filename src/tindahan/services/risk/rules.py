"""The rule list an operator sees, and their switch of a rule's mode (on, shadow, off).

The rule set itself is a file (``TINDAHAN_RISK_RULES``: ``default`` or a path); its rules'
ids, versions, decisions and parameters change only by a new file, reviewed like code. What
the operator changes from the console or the API is a rule's *mode*: turning a rule to
shadow while it is tuned, or off, must not wait for a deployment. The switch is stored
(``risk_rule_modes``: the rule, the mode, who and when), written to the audit log with the
mode before and after, and read by the gate on every movement
(``services.ledger.risk_gate.live_rules``). With the gate off the list shows the shipped
rules and says so: a switch is kept for when it is turned on.
"""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import select, text

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid, not_found
from tindahan.risk import ruleset
from tindahan.services.ledger import risk_gate
from tindahan.services.platform import audit
from tindahan.services.unit import Unit, iso
from tindahan.store.risk_tables import risk_rule_modes

MODES = tuple(m.value for m in ruleset.Mode)

_UPSERT = text(
    "INSERT INTO risk_rule_modes (rule, mode, changed_by, changed_at_ns) "
    "VALUES (:rule, :mode, :by, :now) ON CONFLICT (rule) DO UPDATE SET "
    "mode = excluded.mode, changed_by = excluded.changed_by, "
    "changed_at_ns = excluded.changed_at_ns"
)


def _file() -> tuple[str | None, ruleset.RuleSet]:
    """The setting (None: the gate is off) and the file's rule set (the shipped one if off)."""
    setting = os.environ.get(risk_gate.RULES_ENV, "").strip() or None
    live = risk_gate.live_rules()
    return setting, live.rules if live is not None else ruleset.default()


def list_rules(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require_operator()
    caller.require("risk:read")
    setting, rules = _file()
    switches = {row["rule"]: row for row in unit.conn.execute(select(risk_rule_modes)).mappings()}
    data = []
    for rule in rules.rules:
        switch = switches.get(rule.id)
        data.append(
            {
                "id": rule.id,
                "object": "risk_rule",
                "version": rule.version,
                "mode": switch["mode"] if switch else rule.mode.value,
                "file_mode": rule.mode.value,
                "decision": rule.decision.value,
                "live": rule.id in risk_gate.LIVE_RULES,
                "changed_by": switch["changed_by"] if switch else None,
                "changed": iso(switch["changed_at_ns"]) if switch else None,
            }
        )
    return {"object": "list", "data": data, "has_more": False, "gate_on": setting is not None}


def set_mode(
    unit: Unit, caller: Caller, rule_id: str, mode: str, note: str | None = None
) -> dict[str, Any]:
    """Switch one rule of the file to ``on``, ``shadow`` or ``off``; audited."""
    caller.require_operator()
    caller.require("risk:write")
    if mode not in MODES:
        raise invalid("mode_invalid", f"the mode is one of {', '.join(MODES)}", "mode")
    text_note = audit.check_note(note)
    _, rules = _file()
    if rules.get(rule_id) is None:
        raise not_found("rule", "rule_id")
    before = next(r["mode"] for r in list_rules(unit, caller)["data"] if r["id"] == rule_id)
    params = {"rule": rule_id, "mode": mode, "by": caller.key_id, "now": unit.now()}
    unit.conn.execute(_UPSERT, params)
    details = {"from": before, "to": mode}
    audit.record(unit, caller.key_id, "risk.rule_mode", "risk_rule", rule_id, text_note, details)
    return next(r for r in list_rules(unit, caller)["data"] if r["id"] == rule_id)
