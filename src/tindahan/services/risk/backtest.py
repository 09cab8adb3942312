"""Replaying history through a rule set, to tune thresholds before they go live.

The movements are the ledger's own transfers of the kinds the gate judges
(``risk_gate.KINDS``), each with its accounts' owners as sender and receiver, in the order
they were booked, and where each was asked from when the gate recorded it (``risk_origins``:
the keyed device and IP, for the rules per device and per IP). The replay starts
``limits.RISK_BACKTEST_WARMUP_DAYS`` before ``start`` so the windows are full on the first
day counted; alerts are counted from ``start`` to ``end`` (Manila days, both included). It
runs every rule of the set (not only the live ones) over in-memory aggregates, in one
read-only transaction, and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.ledger.model import TransferFlags
from tindahan.lending.calendar import PH_TIME
from tindahan.payments.model import TransferCode
from tindahan.risk.engine import Engine
from tindahan.risk.movement import Decision, Movement
from tindahan.risk.ruleset import RuleSet
from tindahan.services.ledger.risk_gate import KINDS, party_of
from tindahan.services.unit import Unit
from tindahan.store.risk_tables import risk_origins
from tindahan.store.tables import accounts, transfers

_NOT_NEW = int(TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING)


def _start_ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=PH_TIME).timestamp()) * 10**9


def movements(unit: Unit, start_ns: int, end_ns: int) -> list[Movement]:
    debit, credit = accounts.alias("debit"), accounts.alias("credit")
    sender, debit_order, debit_escrow = party_of(debit)  # an escrow account: the merchant
    receiver, credit_order, credit_escrow = party_of(credit)
    query = (
        select(
            transfers.c.id,
            transfers.c.created_at_ns,
            transfers.c.code,
            transfers.c.flags,
            transfers.c.debit_account_id,
            transfers.c.credit_account_id,
            sender.label("sender"),
            receiver.label("receiver"),
            transfers.c.amount,
            transfers.c.ledger,
            risk_origins.c.device,
            risk_origins.c.ip,
        )
        .join(debit, debit.c.id == transfers.c.debit_account_id)
        .join(credit, credit.c.id == transfers.c.credit_account_id)
        .outerjoin(debit_order, debit_escrow)
        .outerjoin(credit_order, credit_escrow)
        .outerjoin(risk_origins, risk_origins.c.transfer_id == transfers.c.id)
        .where(
            transfers.c.code.in_([int(c) for c in KINDS]),
            transfers.c.created_at_ns >= start_ns,
            transfers.c.created_at_ns < end_ns,
        )
        .order_by(transfers.c.timestamp)
        .limit(limits.RISK_BACKTEST_MAX_MOVEMENTS + 1)
    )
    found = []
    for row in unit.conn.execute(query):
        if row.flags & _NOT_NEW:
            continue
        found.append(
            Movement(
                row.id,
                row.created_at_ns // 10**9,
                KINDS[TransferCode(row.code)],
                row.sender or row.debit_account_id,
                row.receiver or row.credit_account_id,
                row.amount,
                row.ledger,
                row.device or "",
                row.ip or "",
            )
        )
    if len(found) > limits.RISK_BACKTEST_MAX_MOVEMENTS:
        raise invalid(
            "range_too_large",
            f"more than {limits.RISK_BACKTEST_MAX_MOVEMENTS:,} movements: take a shorter range",
            "to",
        )
    return found


def backtest(unit: Unit, caller: Caller, start: date, end: date, rules: RuleSet) -> dict[str, Any]:
    """Alerts per rule, parties hit, money that would have been held or blocked."""
    caller.require_operator()
    if end < start:
        raise invalid("range_invalid", "--to is before --from", "to")
    counted_from = _start_ns(start)
    replayed = movements(
        unit,
        _start_ns(start - timedelta(days=limits.RISK_BACKTEST_WARMUP_DAYS)),
        _start_ns(end + timedelta(days=1)),
    )
    engine = Engine(rules)
    per_rule: Counter[str] = Counter()
    parties: set[str] = set()
    held = blocked = counted = 0
    for m in replayed:
        verdict = engine.evaluate(m)
        if m.at * 10**9 < counted_from:
            continue
        counted += 1
        for alert in verdict.alerts:
            per_rule[alert.rule] += 1
            parties.add(str(alert.values.get("party", m.sender)))
        if verdict.decision is Decision.REVIEW:
            held += m.amount_minor
        elif verdict.decision is Decision.BLOCK:
            blocked += m.amount_minor
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "movements": counted,
        "alerts_per_rule": {rule: per_rule.get(rule, 0) for rule in (r.id for r in rules.active)},
        "parties_hit": len(parties),
        "held_minor": held,
        "blocked_minor": blocked,
    }
