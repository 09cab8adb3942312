"""The risk gate: every money movement judged inside its own transaction, before booking.

``movement.book`` — the step every payment, cash-in and -out, refund, order payment,
funding and loan disbursement shares — calls ``judge`` with the batch it is about to book.
The gate finds the batch's principal transfer (the first whose code is a movement:
``KINDS``), raises the running aggregates in the database (``store.risk_tables``: one upsert
per bucket, which locks it, so racing movements of one party take turns and each sees the
others), builds the domain's view of them and runs the live rules (``tindahan.risk``) — the
same functions ``tindahan risk evaluate`` runs. Then:

* **allow** — nothing more (an alert of a shadow rule or of ``covered_cash`` is stored);
* **review** — the batch gets one more, linked leg: a *pending* transfer of what the
  receiving account got, from it to the operator's ``op.risk.holds``. The receiver sees the
  money but cannot spend it (pending debits count against a wallet's balance) until an
  analyst releases it (the hold is voided) or returns it (posted, then paid back to the
  sender) — ``services.risk.holds``. Money leaving the platform (cash-out, bank transfer out)
  cannot be held after it left, so a review of one refuses it (``risk_review``: the
  customer is told it is under review) and logs the rules, by the movement's id — the
  refusal rolls the transaction back, alert rows included (keeping them is not yet done);
* **block** — refused (``risk_blocked``); the transaction rolls back, nothing moved.

Which rules run live: ``LIVE_RULES`` — the ones whose aggregates are kept in the database
(cash per Manila day, velocity per clock hour, Manila day and 30 days, per counterparty per
day, last activity, payees already paid). Structuring, mules, round trips and refund spikes
run in ``risk evaluate`` and not yet live. The operator switches a rule's mode (on, shadow,
off) over the file's (``services.risk.rules``): the switches are read per movement (one
small read) and the rule set with them is made once per combination.

Every open alert (a review) joins its party's case (``services.risk.cases``): the party's
one unclosed case, made by the same statement if there is none.

The gate is off unless the operator turns a rule set on: ``TINDAHAN_RISK_RULES`` names a
rules file, or ``default`` for the shipped one.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from sqlalchemy import and_, func, insert, select, text

from tindahan.kernel.refusals import refused
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.payments.model import TransferCode
from tindahan.risk import ruleset
from tindahan.risk.aggregates import (
    DAY,
    HOUR,
    SPENDING,
    Aggregates,
    PartyState,
    Spans,
    Window,
    manila_day,
)
from tindahan.risk.checks import Check
from tindahan.risk.engine import Verdict, checks_of, spans_of
from tindahan.risk.engine import judge as judge_movement
from tindahan.risk.movement import CASH_KINDS, OUTFLOW_KINDS, Decision, Kind, Movement
from tindahan.services.unit import Unit, new_id
from tindahan.store.risk_tables import risk_alerts, risk_parties, risk_rule_modes, risk_usage
from tindahan.store.tables import accounts

log = logging.getLogger("tindahan.risk")
RULES_ENV = "TINDAHAN_RISK_RULES"
HOLDS_ACCOUNT = "op.risk.holds"
LIVE_RULES = frozenset({"covered_cash", "velocity", "dormant", "new_payee"})
KINDS = {
    TransferCode.P2P: Kind.P2P,
    TransferCode.MERCHANT_PAYMENT: Kind.MERCHANT,
    TransferCode.ESCROW_IN: Kind.MERCHANT,
    TransferCode.CASH_IN: Kind.CASH_IN,
    TransferCode.CASH_OUT: Kind.CASH_OUT,
    TransferCode.REFUND: Kind.REFUND,
    TransferCode.FUNDING: Kind.BANK_IN,
    TransferCode.LOAN_DISBURSEMENT: Kind.BANK_IN,
    TransferCode.INBOUND_TRANSFER: Kind.BANK_IN,
}
_NOT_NEW = TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING


@dataclass(frozen=True)
class Live:
    """A rule set turned on, with what judging needs of it made once."""

    rules: ruleset.RuleSet
    spans: Spans
    checks: list[tuple[ruleset.Rule, Check]]


Modes = tuple[tuple[str, str], ...]


@lru_cache(maxsize=16)
def _rules(setting: str, modes: Modes = ()) -> Live:
    rules = ruleset.default() if setting == "default" else ruleset.load(Path(setting))
    if modes:
        switched = dict(modes)
        rules = replace(
            rules,
            rules=tuple(
                replace(r, mode=ruleset.Mode(switched[r.id])) if r.id in switched else r
                for r in rules.rules
            ),
        )
    return Live(rules, spans_of(rules), checks_of(rules, LIVE_RULES))


def rule_modes(unit: Unit) -> Modes:
    """The operator's switches of rules' modes (``services.risk.rules``), by rule id."""
    query = select(risk_rule_modes.c.rule, risk_rule_modes.c.mode).order_by(risk_rule_modes.c.rule)
    return tuple((rule, mode) for rule, mode in unit.conn.execute(query))


def live_rules(unit: Unit | None = None) -> Live | None:
    """The rule set the operator turned on (with the modes switched since, given a unit of
    work to read them), or None (the gate is off)."""
    setting = os.environ.get(RULES_ENV, "").strip()
    if not setting:
        return None
    return _rules(setting, rule_modes(unit) if unit is not None else ())


def judge(unit: Unit, transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The batch to book: as given, or with a hold leg; raises on block."""
    live = live_rules(unit)
    if live is None:
        return list(transfers)
    principal = next((t for t in transfers if t.code in KINDS and not (t.flags & _NOT_NEW)), None)
    if principal is None or principal.ledger != live.rules.currency or not principal.amount:
        return list(transfers)
    m = _movement(unit, principal)
    aggregates = _raise_aggregates(unit, m, live.spans)
    verdict = judge_movement(live.checks, m, aggregates)
    if verdict.decision is Decision.ALLOW:
        _store(unit, m, principal, verdict, None)
        return list(transfers)
    if verdict.decision is Decision.BLOCK:
        raise refused("risk_blocked", "this movement is not allowed; contact support", None)
    if m.kind in OUTFLOW_KINDS:
        log.warning(
            "risk review refused outflow %s: %s", m.id, ", ".join(a.rule for a in verdict.alerts)
        )
        raise refused("risk_review", "this movement is under review; we will let you know", None)
    held = _held_amount(transfers, principal)
    if held <= 0:
        _store(unit, m, principal, verdict, None)
        return list(transfers)
    hold = NewTransfer(
        id=f"hold.{principal.id}"[:80],
        debit_account_id=principal.credit_account_id,
        credit_account_id=HOLDS_ACCOUNT,
        amount=held,
        ledger=principal.ledger,
        code=TransferCode.RISK_HOLD,
        flags=TransferFlags.PENDING,
        metadata={"risk_hold": principal.id},
    )
    _store(unit, m, principal, verdict, hold.id)
    chain = list(transfers)
    chain[-1] = replace(chain[-1], flags=chain[-1].flags | TransferFlags.LINKED)
    return [*chain, hold]


def _movement(unit: Unit, t: NewTransfer) -> Movement:
    ids = [t.debit_account_id, t.credit_account_id]
    owners = {
        row[0]: row[1] or row[0]
        for row in unit.conn.execute(
            select(accounts.c.id, accounts.c.owner).where(accounts.c.id.in_(ids))
        )
    }
    sender = owners.get(t.debit_account_id or "", t.debit_account_id or "?")
    receiver = owners.get(t.credit_account_id or "", t.credit_account_id or "?")
    kind = KINDS[TransferCode(int(t.code or 0))]
    return Movement(
        t.id, unit.now() // 10**9, kind, sender, receiver, int(t.amount or 0), str(t.ledger)
    )


def _held_amount(transfers: Sequence[NewTransfer], principal: NewTransfer) -> int:
    """What the receiving account is left with by the batch (its fees and set-asides off)."""
    account = principal.credit_account_id
    net = 0
    for t in transfers:
        amount = int(t.amount or 0)
        if t.credit_account_id == account:
            net += amount
        if t.debit_account_id == account:
            net -= amount
    return min(net, int(principal.amount or 0))


#: One statement raises every bucket a movement adds to (one to four rows), locking them.
_UPSERTS = {
    n: text(
        "INSERT INTO risk_usage (party_id, counterparty, metric, bucket, count, amount_minor) "
        "VALUES "
        + ", ".join(
            f"(:party{i}, :counterparty{i}, :metric{i}, :bucket{i}, 1, :amount)" for i in range(n)
        )
        + " ON CONFLICT (party_id, counterparty, metric, bucket) DO UPDATE SET "
        "count = risk_usage.count + 1, "
        "amount_minor = risk_usage.amount_minor + excluded.amount_minor "
        "RETURNING party_id, counterparty, metric, count, amount_minor"
    )
    for n in range(1, 5)
}


def _bump(
    unit: Unit, m: Movement, keys: list[tuple[str, str, str, int]]
) -> dict[tuple[str, str, str], Window]:
    """Raise these buckets ``(party, counterparty, metric, bucket)`` in one statement; each
    comes back as a window *before* this movement."""
    params: dict[str, object] = {"amount": m.amount_minor}
    for i, (party, other, metric, bucket) in enumerate(sorted(keys)):
        params.update(
            {
                f"party{i}": party,
                f"counterparty{i}": other,
                f"metric{i}": metric,
                f"bucket{i}": bucket,
            }
        )
    found: dict[tuple[str, str, str], Window] = {}
    for party, other, metric, count, amount in unit.conn.execute(_UPSERTS[len(keys)], params):
        window = Window(0)
        window.count, window.total = count - 1, amount - m.amount_minor
        found[(party, other, metric)] = window
    return found


def _raise_aggregates(unit: Unit, m: Movement, spans: Spans) -> Aggregates:
    """The buckets this movement adds to, raised; the domain's view of them before it."""
    aggregates = Aggregates(spans)
    day = manila_day(m.at)
    sender = aggregates.party(m.sender)
    keys: list[tuple[str, str, str, int]] = []
    if m.kind in SPENDING:
        keys += [
            (m.sender, "", "hour", m.at // HOUR),
            (m.sender, "", "day", day),
            (m.sender, m.receiver, "pair", day),
        ]
    if m.kind in CASH_KINDS:
        keys.append((m.cash_party, "", "cash", day))
    windows = _bump(unit, m, keys) if keys else {}
    if m.kind in SPENDING:
        sender.hour = windows[(m.sender, "", "hour")]
        sender.day = windows[(m.sender, "", "day")]
        sender.month = _month(unit, m, sender.day)
        aggregates.pairs[(m.sender, m.receiver)] = windows[(m.sender, m.receiver, "pair")]
    if m.kind in CASH_KINDS:
        cash = aggregates.party(m.cash_party)
        cash.cash_day, cash.cash_total = day, windows[(m.cash_party, "", "cash")].total
    _last_seen(unit, m, aggregates)
    _payees(unit, m, sender)
    return aggregates


def _month(unit: Unit, m: Movement, today: Window) -> Window:
    """The 29 days before today's bucket, plus today's before this movement."""
    day = manila_day(m.at)
    row = unit.conn.execute(
        select(
            func.coalesce(func.sum(risk_usage.c.count), 0),
            func.coalesce(func.sum(risk_usage.c.amount_minor), 0),
        ).where(
            and_(
                risk_usage.c.party_id == m.sender,
                risk_usage.c.counterparty == "",
                risk_usage.c.metric == "day",
                risk_usage.c.bucket.between(day - 29, day - 1),
            )
        )
    ).one()
    window = Window(30 * DAY)
    window.count, window.total = int(row[0]) + today.count, int(row[1]) + today.total
    return window


_SEEN = {
    n: text(
        "INSERT INTO risk_parties (party_id, last_seen_ns) VALUES "  # noqa: S608 (placeholders only)
        + ", ".join(f"(:party{i}, :now)" for i in range(n))
        + " ON CONFLICT (party_id) DO UPDATE SET last_seen_ns = excluded.last_seen_ns"
    )
    for n in (1, 2)
}


def _last_seen(unit: Unit, m: Movement, aggregates: Aggregates) -> None:
    """Read when the watched sides were last seen, then set it to now (two statements)."""
    watched = set()
    if m.kind not in (Kind.CASH_IN, Kind.BANK_IN):
        watched.add(m.sender)
    if m.kind not in OUTFLOW_KINDS:
        watched.add(m.receiver)
    if not watched:
        return
    ordered = sorted(watched)
    query = select(risk_parties.c.party_id, risk_parties.c.last_seen_ns).where(
        risk_parties.c.party_id.in_(ordered)
    )
    for party, seen_ns in unit.conn.execute(query):
        aggregates.party(party).last_seen = seen_ns // 10**9
    params: dict[str, object] = {"now": m.at * 10**9}
    params.update({f"party{i}": party for i, party in enumerate(ordered)})
    unit.conn.execute(_SEEN[len(ordered)], params)


_NEW_PAYEE = text(
    "INSERT INTO risk_payees (party_id, payee_id) VALUES (:party, :payee) "
    "ON CONFLICT DO NOTHING RETURNING party_id"
)


def _payees(unit: Unit, m: Movement, sender: PartyState) -> None:
    """One statement: the pair is recorded, and was known if nothing was inserted."""
    if m.kind in (Kind.CASH_IN, Kind.BANK_IN):
        return
    inserted = unit.conn.execute(_NEW_PAYEE, {"party": m.sender, "payee": m.receiver}).first()
    if inserted is None:
        sender.payees.add(m.receiver)


def _store(
    unit: Unit, m: Movement, principal: NewTransfer, verdict: Verdict, hold_id: str | None
) -> None:
    rows = [
        {
            "id": f"ra.{principal.id}.{a.rule}",
            "transfer_id": principal.id,
            "party_id": str(a.values.get("party", m.sender)),
            "counterparty": m.receiver if a.values.get("party", m.sender) == m.sender else m.sender,
            "kind": m.kind.value,
            "amount_minor": m.amount_minor,
            "currency": m.currency,
            "rule": a.rule,
            "version": a.version,
            "decision": a.decision.value,
            "shadow": a.shadow,
            "evidence": json.dumps(dict(a.values), sort_keys=True)[:2000],
            "explanation": a.explanation[:500],
            "hold_id": hold_id if a.decision is Decision.REVIEW else None,
            "sender_account_id": principal.debit_account_id or "",
            "status": "open" if a.decision is not Decision.ALLOW else "closed",
            "created_at_ns": unit.now(),
        }
        for a in verdict.alerts
    ]
    for row in rows:
        if row["status"] == "open":
            row["case_id"] = _case_of(unit, str(row["party_id"]))
    if rows:
        unit.conn.execute(insert(risk_alerts), rows)


#: The party's case that is not closed, made if there is none, in one statement: the partial
#: unique index (one unclosed case per party) is the conflict, so racing movements of one
#: party join one case.
_CASE = text(
    "INSERT INTO risk_cases (id, party_id, status, created_at_ns, updated_at_ns) "
    "VALUES (:id, :party, 'open', :now, :now) "
    "ON CONFLICT (party_id) WHERE status <> 'closed' "
    "DO UPDATE SET updated_at_ns = excluded.updated_at_ns RETURNING id"
)


def _case_of(unit: Unit, party_id: str) -> str:
    params = {"id": new_id("case"), "party": party_id, "now": unit.now()}
    return str(unit.conn.execute(_CASE, params).scalar_one())
