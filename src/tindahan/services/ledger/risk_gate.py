"""The risk gate: every money movement judged inside its own transaction, before booking.

``movement.book`` — the step every payment, cash-in and -out, refund, order payment,
funding and loan disbursement shares — calls ``judge`` with the batch it is about to book.
The gate finds the batch's principal transfer (the first whose code is a movement:
``KINDS``), raises the running aggregates in the database (``risk_usage``: one upsert per
bucket, which locks it, so racing movements of one party take turns and each sees the
others), builds the domain's view of them and runs the rules (``tindahan.risk``) — the
same functions ``tindahan risk evaluate`` runs. Then:

* **allow** — nothing more (an alert of a shadow rule or of ``covered_cash`` is stored);
* **review** — the batch gets one more, linked leg: a *pending* transfer of what the
  receiving account got, from it to the operator's ``op.risk.holds``. The receiver sees the
  money but cannot spend it (pending debits count against a wallet's balance) until an
  analyst releases it (the hold is voided) or returns it (posted, then paid back to the
  sender) — ``services.risk.holds``. Money leaving the platform (cash-out, bank transfer out)
  cannot be held after it left, so a review of one refuses it (``risk_review``: the
  customer is told it is under review) and logs the rules, by the movement's id; the
  refusal rolls the transaction back and its alerts are written after (open, no hold);
* **block** — refused (``risk_blocked``); the transaction rolls back, nothing moved, and the
  alerts are written after it (the refusal's ``aftermath``).

Every rule of the rule set runs live — covered cash, structuring, velocity, mules, dormancy,
first large payments to new payees, round trips, refund spikes — over aggregates the
database keeps (``risk_usage``: bucketed windows, pairs, last activity). The operator
switches a rule's mode (on, shadow, off) over the file's (``services.risk.rules``): the
switches are read per movement and the rule set with them is made once per combination. The
accounts' owners and the switches are one read before the buckets; on PostgreSQL, once the
process knows both accounts' owners (they never change: ``_OWNERS``; read by the gate, or
learnt from the wallets the movement's service read, ``learn_owners``), the switches come
back in the buckets' one statement instead, so the gate is one round trip.

Every open alert (a review) joins its party's case (``services.risk.cases``): the party's
one unclosed case, made by the same statement if there is none.

Where a movement was asked from — the client's device (the web session's device cookie, or
the API's ``Tindahan-Device-Id`` header) and IP address (the request's client, behind the
proxies ``serve --forwarded-allow-ips`` trusts) — reaches the gate from the adapter
through ``client_origin`` (a context variable: the services' signatures stay as they are).
Both are keyed with the vault's index key (HMAC-SHA256, first 32 hex digits) before
anything keeps them: ``risk_origins`` holds them per movement (what ``risk backtest``
replays), the buckets count per origin, an alert's evidence names the hashes. A raw IP
address or device secret is never stored: the hashes link movements of one client to each
other and to nothing else without the key. A movement asked without a client (the worker,
the CLI, a test) has no origin: the rules per device and per IP pass it.

The gate is off unless the operator turns a rule set on: ``TINDAHAN_RISK_RULES`` names a
rules file, or ``default`` for the shipped one.

A service may flag the movement it books itself (``flagged``): a name on an inbound bank
transfer that screening found on a list (``services.rails.inbound``). The flag is an alert
with the decision *review*, added to the rules' verdict — the money is held the same way
and the alert joins the party's case — and it holds the money even with the rules off
(screening is the operator's other switch, ``TINDAHAN_SCREENING_LISTS``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, literal, select, text, union_all

from tindahan.kernel.refusals import RefusalError, refused
from tindahan.ledger.model import AccountCode, NewTransfer, TransferFlags
from tindahan.payments.model import TransferCode
from tindahan.risk import ruleset
from tindahan.risk.aggregates import HOUR, Spans
from tindahan.risk.catalogue import CATALOGUE
from tindahan.risk.checks import Check
from tindahan.risk.engine import Alert, Verdict, checks_of, spans_of
from tindahan.risk.engine import judge as judge_movement
from tindahan.risk.movement import OUTFLOW_KINDS, Decision, Kind, Movement
from tindahan.risk.ruleset import Mode
from tindahan.services.ledger.risk_usage import Modes, Trips, raise_aggregates, trace
from tindahan.services.unit import Unit, new_id
from tindahan.store.commerce_tables import orders
from tindahan.store.hotpath import fetch_named
from tindahan.store.pgarray import bool_array, int_array, text_array
from tindahan.store.risk_tables import risk_alerts, risk_rule_modes
from tindahan.store.tables import accounts

log = logging.getLogger("tindahan.risk")
RULES_ENV = "TINDAHAN_RISK_RULES"
HOLDS_ACCOUNT = "op.risk.holds"
#: The rules the gate runs: every rule of the catalogue (each reads aggregates the database
#: keeps, ``risk_usage``).
LIVE_RULES = frozenset(CATALOGUE)
KINDS = {
    TransferCode.P2P: Kind.P2P,
    TransferCode.MERCHANT_PAYMENT: Kind.MERCHANT,
    TransferCode.ESCROW_IN: Kind.MERCHANT,
    TransferCode.CASH_IN: Kind.CASH_IN,
    TransferCode.CASH_OUT: Kind.CASH_OUT,
    TransferCode.REFUND: Kind.REFUND,
    TransferCode.ESCROW_REFUND: Kind.REFUND,  # the merchant's, through the order (party_of)
    TransferCode.FUNDING: Kind.BANK_IN,
    TransferCode.LOAN_DISBURSEMENT: Kind.BANK_IN,
    TransferCode.INBOUND_TRANSFER: Kind.BANK_IN,
    TransferCode.BANK_TRANSFER: Kind.BANK_OUT,
}
_NOT_NEW = TransferFlags.POST_PENDING | TransferFlags.VOID_PENDING


@dataclass(frozen=True)
class Live:
    """A rule set turned on, with what judging needs of it made once."""

    rules: ruleset.RuleSet
    spans: Spans
    checks: list[tuple[ruleset.Rule, Check]]
    #: What round trips need traced, when that rule is on or in shadow.
    trips: Trips | None


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
    return Live(rules, spans_of(rules), checks_of(rules), _trips(rules))


def _trips(rules: ruleset.RuleSet) -> Trips | None:
    rule = rules.get("round_trip")
    if rule is None or rule.mode is Mode.OFF:
        return None
    p = rule.params
    kinds, least = p["kinds"], p["min_minor"]
    hours, hops = p["window_hours"], p["max_hops"]
    assert isinstance(kinds, frozenset) and isinstance(least, int)  # the catalogue's kinds
    assert isinstance(hours, int) and isinstance(hops, int)
    return Trips(kinds, least, hours * HOUR, hops)


def rule_modes(unit: Unit) -> Modes:
    """The operator's switches of rules' modes (``services.risk.rules``), by rule id."""
    return tuple((rule, mode) for rule, mode in unit.conn.execute(_MODES))


_MODES = select(risk_rule_modes.c.rule, risk_rule_modes.c.mode).order_by(risk_rule_modes.c.rule)


#: A rule set turned on for this context only, over ``TINDAHAN_RISK_RULES`` (``rules_on``).
_turned_on: ContextVar[str | None] = ContextVar("risk_rules_on", default=None)


def live_rules(unit: Unit | None = None) -> Live | None:
    """The rule set the operator turned on (with the modes switched since, given a unit of
    work to read them), or None (the gate is off)."""
    setting = _setting()
    if not setting:
        return None
    return _rules(setting, rule_modes(unit) if unit is not None else ())


def _setting() -> str:
    return _turned_on.get() or os.environ.get(RULES_ENV, "").strip()


@contextmanager
def rules_on(setting: str = "default") -> Iterator[None]:
    """The gate on with this rule set (``default`` or a file) inside the block, whatever the
    environment says: how the demo shows the operator what the shipped rules catch."""
    token = _turned_on.set(setting)
    try:
        yield
    finally:
        _turned_on.reset(token)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request came from, as the adapter saw it (raw: keyed before it is kept)."""

    device: str | None = None
    ip: str | None = None


_origin: ContextVar[Origin | None] = ContextVar("risk_client_origin", default=None)


@contextmanager
def client_origin(device: str | None, ip: str | None) -> Iterator[None]:
    """Movements booked inside the block were asked from this device and IP address."""
    token = _origin.set(Origin(device or None, ip or None))
    try:
        yield
    finally:
        _origin.reset(token)


#: How many hex digits of the keyed hash are kept (128 bits: no collisions in practice).
ORIGIN_HASH_LENGTH = 32


def _keyed(unit: Unit, what: str, value: str | None) -> str:
    if not value:
        return ""
    return unit.vault.index(f"risk:{what}:{value}")[:ORIGIN_HASH_LENGTH]


@dataclass(frozen=True, slots=True)
class Flag:
    """An alert a service raises on the movement it books (not a rule of the rule set):
    the movement is held for review, with these values as the evidence."""

    rule: str
    version: int
    values: Mapping[str, int | str]
    explain: str


_flag: ContextVar[Flag | None] = ContextVar("risk_flag", default=None)


@contextmanager
def flagged(flag: Flag) -> Iterator[None]:
    """The movement booked inside the block is held for review with this alert."""
    token = _flag.set(flag)
    try:
        yield
    finally:
        _flag.reset(token)


def judge(unit: Unit, transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The batch to book: as given, or with a hold leg; raises on block."""
    setting = _setting()
    flag = _flag.get()
    if not setting and flag is None:
        return list(transfers)
    principal = next((t for t in transfers if t.code in KINDS and not (t.flags & _NOT_NEW)), None)
    if principal is None or not principal.amount:
        return list(transfers)
    # the file's currency (switches change modes only): other currencies pass the rules
    ruled = bool(setting) and principal.ledger == _rules(setting).rules.currency
    if not ruled and flag is None:
        return list(transfers)
    # PostgreSQL: owners known in this process, the switches come with the buckets (one
    # round trip for the gate); else both read first (one more; SQLite: in process)
    owners = _known_owners(unit, principal) if ruled and not unit.db.is_sqlite else None
    modes: Modes | None = None
    if owners is None:
        owners, modes = _owners_and_modes(unit, principal)
    m = _movement(unit, principal, owners)
    verdict = Verdict(m.id, Decision.ALLOW, ())
    if ruled:
        spans = _rules(setting).spans  # the switches change modes only, never windows
        aggregates, read = raise_aggregates(unit, m, spans, read_modes=modes is None)
        if modes is None:
            modes = read if read is not None else rule_modes(unit)
        live = _rules(setting, modes)
        trace(unit, m, aggregates, live.trips)
        verdict = judge_movement(live.checks, m, aggregates)
    if flag is not None:
        verdict = _with_flag(verdict, m, flag)
    if verdict.decision is Decision.ALLOW:
        _store(unit, m, principal, verdict, None)
        return list(transfers)
    if verdict.decision is Decision.BLOCK:
        raise _refusal(m, principal, verdict, "risk_blocked", "this movement is not allowed")
    if m.kind in OUTFLOW_KINDS:
        raise _refusal(m, principal, verdict, "risk_review", "this movement is under review")
    held = _held_amount(transfers, principal)
    if held <= 0:
        _store(unit, m, principal, verdict, None)
        return list(transfers)
    hold = NewTransfer(
        id=hold_id(principal.id),
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


def hold_id(transfer_id: str) -> str:
    """The id of the review's hold on the movement whose principal transfer is this one."""
    return f"hold.{transfer_id}"[:80]


def _with_flag(verdict: Verdict, m: Movement, flag: Flag) -> Verdict:
    """The rules' verdict with the service's own alert: review, unless already a block."""
    alert = Alert(m.id, flag.rule, flag.version, Decision.REVIEW, False, flag.values, flag.explain)
    decision = Decision.BLOCK if verdict.decision is Decision.BLOCK else Decision.REVIEW
    return Verdict(m.id, decision, (*verdict.alerts, alert))


def _refusal(
    m: Movement, principal: NewTransfer, verdict: Verdict, code: str, what: str
) -> RefusalError:
    """The refusal of a blocked movement, or of a reviewed one leaving the platform (money
    that left cannot be held): nothing moves, and its alerts are kept (the refusal's
    aftermath, committed after the rollback) for an analyst to see — never the rule in the
    message."""
    log.warning("risk %s refused %s: %s", code, m.id, ", ".join(a.rule for a in verdict.alerts))
    message = "we will let you know" if code == "risk_review" else "contact support"
    refusal = refused(code, f"{what}; {message}", None)
    refusal.aftermath = lambda unit: _store(unit, m, principal, verdict, None)
    return refusal


def party_of(account: Any) -> Any:
    """The party a movement on this account is: its owner, except an order's escrow account,
    which is the order's merchant's — so an order paid into escrow is the merchant's sale, and
    a refund out of it (a cancellation, a dispute resolved for the buyer) the merchant's refund
    (refund spikes). With ``escrow_orders(account)`` joined."""
    order = orders.alias(f"{account.name}_order")
    joined = and_(account.c.code == int(AccountCode.ESCROW), order.c.id == account.c.owner)
    return func.coalesce(order.c.merchant_id, account.c.owner), order, joined


#: Made once: building the query costs more than running it (profiled). The accounts'
#: owners and the operator's rule switches in one round trip, told apart by the first column.
_PARTY, _ORDER, _ESCROW = party_of(accounts)
_OWNERS_AND_MODES = union_all(
    select(literal("account"), accounts.c.id, _PARTY)
    .select_from(accounts.outerjoin(_ORDER, _ESCROW))
    .where(accounts.c.id.in_([bindparam("debit"), bindparam("credit")])),
    select(literal("mode"), risk_rule_modes.c.rule, risk_rule_modes.c.mode),
)


def _owners_and_modes(unit: Unit, t: NewTransfer) -> tuple[dict[str, str], Modes]:
    params = {"debit": t.debit_account_id, "credit": t.credit_account_id}
    if unit.conn.dialect.name == "postgresql":  # on the driver: no per-statement work
        params.update(_constants(unit.conn.dialect))
        found = fetch_named(unit.conn, _OWNERS_AND_MODES, params)
    else:
        found = list(unit.conn.execute(_OWNERS_AND_MODES, params))
    owners: dict[str, str] = {}
    modes: list[tuple[str, str]] = []
    for what, key, value in found:
        if what == "account":
            owners[key] = value or key
        else:
            modes.append((key, value))
    _remember(unit, owners)
    return owners, tuple(sorted(modes))


@lru_cache(maxsize=4)
def _constants(dialect: Any) -> dict[str, Any]:
    """``_OWNERS_AND_MODES``' own bound values (its tags, the escrow code), which the
    driver must be given with the accounts' ids."""
    bound = _OWNERS_AND_MODES.compile(dialect=dialect).params
    return {name: value for name, value in bound.items() if name not in ("debit", "credit")}


#: The party each account is, as read (per database): an account's owner never changes, nor
#: an escrow account's order's merchant, so a second movement on the same accounts needs no
#: read of them. Bounded: emptied when full (a read refills it).
_OWNERS: dict[tuple[int, str], str] = {}
_OWNERS_MAX = 100_000


def _remember(unit: Unit, owners: Mapping[str, str]) -> None:
    if len(_OWNERS) + len(owners) > _OWNERS_MAX:
        _OWNERS.clear()
    database = id(unit.db)
    for account, party in owners.items():
        _OWNERS[(database, account)] = party


def learn_owners(unit: Unit, wallets: Iterable[tuple[str, str]]) -> None:
    """Remember wallets' accounts' parties as a service read them (``movement.holders``:
    the wallet's ``account_id`` and ``party_id``), so the gate judging the movement those
    wallets are about to make needs no read of its own (PostgreSQL: one round trip, not
    two, the first time the process meets an account). Safe because it is the same fact
    the gate's read gives: a wallet's ledger account is opened with its party as the owner
    in the transaction that makes the wallet (``parties._open_wallets``), neither is ever
    changed, a wallet's account is never an escrow account (the one kind ``party_of`` maps
    elsewhere), and account ids are fresh random ids, never reused — so a pair read in a
    transaction that then rolls back is still never wrong."""
    _remember(unit, dict(wallets))


def _known_owners(unit: Unit, t: NewTransfer) -> dict[str, str] | None:
    """Both accounts' parties if this process has read them before, else None."""
    database = id(unit.db)
    found = {}
    for account in (t.debit_account_id, t.credit_account_id):
        party = _OWNERS.get((database, account or ""))
        if party is None:
            return None
        found[account or ""] = party
    return found


def _movement(unit: Unit, t: NewTransfer, owners: dict[str, str]) -> Movement:
    sender = owners.get(t.debit_account_id or "", t.debit_account_id or "?")
    receiver = owners.get(t.credit_account_id or "", t.credit_account_id or "?")
    kind = KINDS[TransferCode(int(t.code or 0))]
    origin = _origin.get()
    device = ip = ""
    if origin is not None:
        device, ip = _keyed(unit, "device", origin.device), _keyed(unit, "ip", origin.ip)
    return Movement(
        t.id,
        unit.now() // 10**9,
        kind,
        sender,
        receiver,
        int(t.amount or 0),
        str(t.ledger),
        device,
        ip,
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


def _store(
    unit: Unit, m: Movement, principal: NewTransfer, verdict: Verdict, hold_id: str | None
) -> None:
    """The verdict's alerts, each open one (a review) joined to its party's case (made if
    there is none). PostgreSQL: the cases and the alerts in one statement on the driver
    (``_STORE_PG``); SQLite: each party's case, then the alerts' one insert."""
    rows = _alert_rows(unit, m, principal, verdict, hold_id)
    if not rows:
        return
    if unit.conn.dialect.name == "postgresql":
        fetch_named(unit.conn, _STORE_PG, _store_params(rows))
        return
    cases = {party: _case_of(unit, party) for party in _open_parties(rows)}
    for row in rows:  # every row names case_id: one statement takes them all, same keys
        row["case_id"] = cases.get(str(row["party_id"])) if row["status"] == "open" else None
    unit.conn.execute(insert(risk_alerts), rows)


def _alert_rows(
    unit: Unit, m: Movement, principal: NewTransfer, verdict: Verdict, hold_id: str | None
) -> list[dict[str, Any]]:
    now = unit.now()
    return [
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
            "created_at_ns": now,
        }
        for a in verdict.alerts
    ]


def _open_parties(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The parties with an open alert, each once, in order (racing movements lock their
    cases in one order)."""
    return sorted({str(row["party_id"]) for row in rows if row["status"] == "open"})


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


#: PostgreSQL: a review's writes in one round trip — each open alert's party's case (``_CASE``
#: for every such party at once, a data-modifying CTE), then every alert, an open one naming
#: its case. The alerts' columns go as arrays (array literals, ``store.pgarray``), the
#: movement's as scalars: one statement text whatever the verdict, parsed once by psycopg.
_STORE_PG = text(
    "WITH c AS (INSERT INTO risk_cases (id, party_id, status, created_at_ns, updated_at_ns) "
    "SELECT n.i, n.p, 'open', CAST(:now AS BIGINT), CAST(:now AS BIGINT) "
    "FROM unnest(CAST(:case_ids AS text[]), CAST(:case_parties AS text[])) "
    "WITH ORDINALITY AS n(i, p, o) ORDER BY n.o "
    "ON CONFLICT (party_id) WHERE status <> 'closed' "
    "DO UPDATE SET updated_at_ns = excluded.updated_at_ns RETURNING id, party_id), "
    "a AS (INSERT INTO risk_alerts (id, transfer_id, party_id, counterparty, kind, "
    "amount_minor, currency, rule, version, decision, shadow, evidence, explanation, hold_id, "
    "sender_account_id, status, created_at_ns, case_id) "
    "SELECT r.id, :transfer_id, r.party, r.other, :kind, CAST(:amount AS BIGINT), :currency, "
    "r.rule, r.version, r.decision, r.shadow, r.evidence, r.explanation, r.hold, :sender, "
    "r.status, CAST(:now AS BIGINT), c.id "
    "FROM unnest(CAST(:ids AS text[]), CAST(:parties AS text[]), CAST(:others AS text[]), "
    "CAST(:rules AS text[]), CAST(:versions AS int[]), CAST(:decisions AS text[]), "
    "CAST(:shadows AS boolean[]), CAST(:evidence AS text[]), CAST(:explanations AS text[]), "
    "CAST(:holds AS text[]), CAST(:statuses AS text[])) "
    "AS r(id, party, other, rule, version, decision, shadow, evidence, explanation, hold, status) "
    "LEFT JOIN c ON r.status = 'open' AND c.party_id = r.party RETURNING 1) "
    "SELECT count(*) FROM a"
)


def _store_params(rows: Sequence[Mapping[str, Any]]) -> dict[str, object]:
    first = rows[0]  # the movement's columns are the same in every row
    parties = _open_parties(rows)

    def column(name: str) -> list[Any]:
        return [row[name] for row in rows]

    return {
        "case_ids": text_array([new_id("case") for _ in parties]),
        "case_parties": text_array(parties),
        "now": first["created_at_ns"],
        "transfer_id": first["transfer_id"],
        "kind": first["kind"],
        "amount": first["amount_minor"],
        "currency": first["currency"],
        "sender": first["sender_account_id"],
        "ids": text_array(column("id")),
        "parties": text_array(column("party_id")),
        "others": text_array(column("counterparty")),
        "rules": text_array(column("rule")),
        "versions": int_array(column("version")),
        "decisions": text_array(column("decision")),
        "shadows": bool_array(column("shadow")),
        "evidence": text_array(column("evidence")),
        "explanations": text_array(column("explanation")),
        "holds": text_array(column("hold_id")),
        "statuses": text_array(column("status")),
    }
