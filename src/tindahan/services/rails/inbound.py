"""Inbound credit transfers: another bank's pacs.008 credits a Tindahan wallet, once.

``receive(platform, bytes)`` reads the pacs.008 (hardened, schema-validated: a message
that does not read is refused whole, nothing credited) and answers it with a pacs.002,
one status per transaction. Each transaction is its own database transaction:

1. the creditor account is found — a wallet's number (with its party, one round trip) or
   a registered mobile number (``rails.inbound.creditor_kind``) — its owner's state and
   the currency checked (a foreign one is converted at the operator's customer rate,
   ``services.payments.fx``); nothing is written yet;
2. the row is inserted *before* the ledger is booked, ``ON CONFLICT (uetr,
   end_to_end_id) DO NOTHING``: a delivery seen before (or racing the first: it waits on
   the unique index for the first's commit) inserts nothing and is answered with the
   first's row, as it was the first time, moving nothing. A duplicate that step 1 would
   now refuse (the wallet frozen since) reaches the same row through the rejection path,
   which looks for it first. (Measured: a read before the insert was one of eleven round
   trips per credit; see the README's "Speed of inbound transfers".)
3. the KYC tier's incoming limits are checked, as for any money arriving in a wallet;
4. the ledger moves from the rail's clearing account to the wallet through
   ``movement.book`` (the live risk gate judges it as money arriving from a bank). From
   abroad, two linked legs: the foreign amount into the operator's FX liquidity on its own
   ledger, and the pesos from the PHP liquidity to the wallet, whose statement line names
   the foreign amount, both rates and the margin.

The debtor's name (``Dbtr/Nm``) is kept with the row, sealed by the vault like every name
(``debtor_name_cipher``), and screened against the operator's lists
(``services.platform.screening``) before the ledger is booked: a candidate holds the credit
for review — the money lands in the wallet, seen but not spendable, with an alert
(``name_screening``) naming the list's entry and the score, never the sender's name — until
an analyst releases it (``risk_gate.flagged``: held even with the rules off). The bank is
answered ``ACSC``: the money was accepted, and is held on our side.

A refusal anywhere in 1–4 rolls that transaction back; a second one records the rejection
with its ISO reason (``rails.inbound.reason_for``), so a retried delivery of a rejected
transfer is answered ``RJCT`` again.

**On a TigerBeetle ledger** (issue 22) step 4 is the two-store order (record ``inbound``):
the transaction above is its A (the row, the tier's usage, the risk rules, the maximum
balance against the cluster, the place ``reserving``); then the hold (the clearing account
→ the wallet, 60 s), B, the post, and C: ``inbound_transfer.received``. The bank is
answered only once the order has ended: ``ACSC`` when posted, ``RJCT`` when the cluster
refused it or its hold expired first (the row then ``rejected``, ``AM05``… see
``_failed``). A crash before the answer leaves no answer: the clearing house delivers the
message again, and the delivery (or the recovery round, first) finishes the order; a
delivery that finds it still under way by another request (younger than
``two_store.RECOVER_AFTER_S``) is answered ``503`` and sent again later, never told a
status that could still change. A credit from abroad holds both its legs (the pesos to
the wallet first, then the foreign amount into the FX liquidity, ``PENDING``-flagged) and
posts them in one chain. One the sender's name screening (or the rules) would hold for
review is held on the cluster too: its review hold is booked with the post chain, the bank
answered ``ACSC``, and the analyst's release or return books in the cluster
(``services.risk.holds``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import bindparam, select, text, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, invalid, not_found, refused
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.ledger.port import LedgerPort, LedgerUnavailableError
from tindahan.money import from_minor
from tindahan.payments import parties as party_rules
from tindahan.payments.model import TransferCode, WalletKind
from tindahan.rails import Message, MessageType, StatusAnswer, Transaction
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference
from tindahan.rails.inbound import ANSWER, InboundStatus, creditor_kind, reason_for
from tindahan.rails.reasons import reason_words
from tindahan.services.ledger import movement, risk_gate
from tindahan.services.payments import fx, two_store
from tindahan.services.platform.chart import fx_account, rail_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.platform.screening import screen_name
from tindahan.services.unit import Platform, Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.rails_tables import inbound_transfers
from tindahan.store.risk_tables import risk_alerts

RECORD = "inbound"

log = logging.getLogger(__name__)
HOME = "PHP"
#: The alert a screening hit on a sender's name raises (``risk_gate.Flag``).
SCREENING_RULE, SCREENING_VERSION = "name_screening", 1
SCREENING_EXPLAIN = (
    "the sender's name scored {score} against {list} entry {entry_ref} ({matched_name})"
)


def _debtor_context(row_id: str) -> str:
    return f"inbound_debtor_name:{row_id}"


def view(row: Any) -> dict[str, Any]:
    code = row["reason_code"]
    converted = row["mid_rate"] is not None
    return {
        "id": row["id"],
        "object": "inbound_transfer",
        "party_id": row["party_id"],
        "wallet_id": row["wallet_id"],
        "rail": row["rail"],
        "uetr": row["uetr"],
        "end_to_end_id": row["end_to_end_id"],
        "debtor_agent": row["debtor_agent"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "credited_minor": row["credited_minor"],
        "credited_currency": HOME if converted else row["currency"],
        "fx": {
            "mid_rate": row["mid_rate"],
            "customer_rate": row["customer_rate"],
            "spread_bps": row["spread_bps"],
            "margin_minor": row["margin_minor"],
        }
        if converted
        else None,
        "status": row["status"],
        "reason": None
        if code is None
        else {"code": code, "en": reason_words(code), "fil": reason_words(code, "fil")},
        "received": iso(row["received_at_ns"]),
        "returned": iso(row["returned_at_ns"]),
    }


# --- receiving -------------------------------------------------------------------------------
def receive(platform: Platform, data: bytes) -> bytes:
    """Credit each transaction of a pacs.008 (or refuse it) and return the pacs.002 answer;
    ``MessageError`` when the bytes are not a valid message, ``RefusalError`` when they are
    another message than a pacs.008."""
    message = rails_xml.read(data)
    if message.message_type is not MessageType.PACS_008:
        raise invalid(
            "message_unexpected",
            f"another bank sends a credit transfer as a pacs.008, not {message.message_type}",
            "message",
        )
    return answer(platform, message)


def answer(platform: Platform, message: Message) -> bytes:
    """The pacs.002 for a pacs.008 already read: each transaction credited or rejected."""
    rail = (message.clearing_system or "INSTAPAY").lower()
    if rail not in ("instapay", "pesonet"):
        raise invalid("rail_unknown", f"no clearing system {message.clearing_system}", "message")
    answer_id = new_reference("S")
    rows = [_one(platform, message, item, rail, answer_id) for item in message.transactions]
    if len(rows) == 1:  # a duplicate of a one-transfer message gets the very same answer
        answer_id, answered_ns = rows[0]["answer_id"], rows[0]["received_at_ns"]
    else:
        answered_ns = platform.now()
    answers = [
        StatusAnswer(
            message.message_id,
            row["uetr"],
            row["end_to_end_id"],
            ANSWER[
                InboundStatus.REJECTED
                if row["status"] == InboundStatus.REJECTED
                else InboundStatus.CREDITED
            ],
            row["reason_code"],
        )
        for row in rows
    ]
    return rails_xml.pacs002(
        message_id=answer_id,
        created_at=datetime.fromtimestamp(answered_ns / 10**9, UTC),
        answers=answers,
    )


def _one(platform: Platform, message: Message, item: Transaction, rail: str, answer_id: str) -> Any:
    """The transaction's row: found, credited, or rejected (each in its own transaction)."""
    try:
        row = platform.run(
            partial(_credit, message=message, item=item, rail=rail, answer=answer_id)
        )
        return row if platform.ledger is None else _booked(platform, row, answer_id)
    except RefusalError as exc:
        reason = reason_for(exc)
        log.info("inbound transfer %s rejected %s: %s", item.uetr, reason, exc.message)
        return platform.run(
            partial(_reject, message=message, item=item, rail=rail, answer=answer_id, reason=reason)
        )


def _booked(platform: Platform, row: Any, answer_id: str) -> Any:
    """On a TigerBeetle ledger: the rest of the two-store order, then the row as it ended.
    A duplicate delivery that finds it under way by another request (younger than
    ``two_store.RECOVER_AFTER_S``): ``LedgerUnavailableError``, the door's 503 (sent again
    later), so the bank is never told a status that could still change."""
    mine = row["answer_id"] == answer_id  # this delivery wrote it: its A just committed
    if mine:
        two_store.step("A")
    place = platform.run(lambda unit: two_store.place_of(unit, row["id"]), write=False)
    if place is not None and place["state"] in two_store.UNFINISHED:
        age = platform.now() - place["created_at_ns"]
        if not mine and age < two_store.RECOVER_AFTER_S * 10**9:
            raise LedgerUnavailableError("this credit is being booked: send it again")
        two_store.advance(platform, row["id"])
        if two_store.state_of_place(platform, row["id"]) in two_store.UNFINISHED:
            raise LedgerUnavailableError("this credit is being booked: send it again")
    return platform.run(lambda unit: _by_id(unit, row["id"]), write=False)


def _by_id(unit: Unit, row_id: str) -> Any:
    query = select(inbound_transfers).where(inbound_transfers.c.id == row_id)
    return unit.conn.execute(query).mappings().one()


def _seen(unit: Unit, item: Transaction) -> Any:
    query = select(inbound_transfers).where(
        inbound_transfers.c.uetr == item.uetr,
        inbound_transfers.c.end_to_end_id == item.end_to_end_id,
    )
    return unit.conn.execute(query).mappings().first()


def _base(
    unit: Unit, message: Message, item: Transaction, rail: str, answer: str
) -> dict[str, Any]:
    row_id = new_id("ibt")
    name = item.debtor.name if item.debtor else None
    return {
        "id": row_id,
        "uetr": item.uetr,
        "end_to_end_id": item.end_to_end_id,
        "message_id": message.message_id,
        "rail": rail,
        "debtor_agent": item.debtor_agent,
        "creditor_account_kind": creditor_kind(item.creditor.account if item.creditor else None),
        "party_id": None,
        "wallet_id": None,
        "amount_minor": item.amount_minor,
        "currency": item.currency,
        "credited_minor": None,
        "mid_rate": None,
        "customer_rate": None,
        "spread_bps": None,
        "margin_minor": None,
        "transfer_id": None,
        "status": InboundStatus.CREDITED.value,
        "reason_code": None,
        "answer_id": answer,
        "received_at_ns": unit.now(),
        "returned_at_ns": None,
        "debtor_name_cipher": unit.vault.seal(name, _debtor_context(row_id)) if name else None,
    }


def debtor_name(unit: Unit, row: Any) -> str | None:
    """The sender's name as the pacs.008 gave it (None when it gave none)."""
    cipher = row["debtor_name_cipher"]
    return None if cipher is None else unit.vault.open(cipher, _debtor_context(row["id"]))


def _screened(item: Transaction, party_id: str, row_id: str) -> risk_gate.Flag | None:
    """The alert for the sender's name when screening finds a candidate (the best)."""
    name = item.debtor.name if item.debtor else None
    found = screen_name(name) if name else []
    if not found:
        return None
    best = found[0]
    values: dict[str, int | str] = {
        "party": party_id,
        "list": best.entry.source[:64],
        "entry_ref": best.entry.ref[:64],
        "matched_name": best.name[:200],
        "score": best.score,
        "candidates": len(found),
        "inbound_transfer": row_id,
    }
    return risk_gate.Flag(SCREENING_RULE, SCREENING_VERSION, values, SCREENING_EXPLAIN)


def _credit(unit: Unit, message: Message, item: Transaction, rail: str, answer: str) -> Any:
    row = _base(unit, message, item, rail, answer)
    holder = creditor(unit, item.creditor.account if item.creditor else None)
    row["party_id"], row["wallet_id"] = holder.party_id, holder.wallet_id
    amount, currency = item.amount_minor or 0, item.currency or ""
    # the UETR and EndToEndId name the movement in ``services.rails.reconciliation``
    names = {"uetr": row["uetr"], "end_to_end_id": row["end_to_end_id"]}
    metadata = {"inbound_transfer": row["id"], "rail": rail, **names}
    legs: list[NewTransfer] = []
    if currency == holder.currency:
        credited = amount
    elif holder.currency == HOME:
        made = fx.conversion(unit, amount, currency)
        credited = made.php_minor
        row.update(
            mid_rate=made.mid_rate,
            customer_rate=made.customer_rate,
            spread_bps=made.spread_bps,
            margin_minor=made.margin_minor,
        )
        metadata.update(
            fx_amount=f"{from_minor(amount, currency)} {currency}",
            fx_customer_rate=made.customer_rate,
            fx_mid_rate=made.mid_rate,
            fx_margin_minor=str(made.margin_minor),
        )
        legs.append(
            NewTransfer(
                ledger_id(row["id"], "fx"),
                rail_account(rail, currency),
                fx_account(currency),
                amount,
                currency,
                TransferCode.FX_IN,
                TransferFlags.LINKED,
                metadata={"inbound_transfer": row["id"], **names},
            )
        )
    else:
        message_ = f"this wallet holds {holder.currency}, not {currency}"
        raise invalid("currency_mismatch", message_, "currency")
    source = fx_account(HOME) if legs else rail_account(rail, currency)
    principal = NewTransfer(
        ledger_id(row["id"]),
        source,
        holder.account_id,
        credited,
        holder.currency,
        TransferCode.INBOUND_TRANSFER,
        metadata=metadata,
    )
    legs.append(principal)
    row["credited_minor"], row["transfer_id"] = credited, principal.id

    def to_php(value: int) -> int:
        return fx.php_equivalent(unit, value, holder.currency)

    # the exactly-once (see the docstring), with the tier's usage counted in the same
    # statement on PostgreSQL: a duplicate inserts nothing and counts nothing
    if not movement.limit_incoming_claimed(unit, holder, to_php(credited), HOME, _CLAIM, row):
        return _seen(unit, item)
    flag = _screened(item, holder.party_id, row["id"])
    if unit.platform.ledger is not None:
        return _begin_on_cluster(unit, unit.platform.ledger, row, holder, legs, flag)
    if flag is None:
        applied = movement.book(unit, legs)
    else:
        log.info("inbound transfer %s held: the sender's name is on a list", item.uetr)
        with risk_gate.flagged(flag):
            applied = movement.book(unit, legs)
    movement.check_balance(holder, applied, holder.currency, to_php)
    emit(unit, "inbound_transfer.received", view(row), (holder.party_id,))
    return row


def _begin_on_cluster(
    unit: Unit,
    ledger: LedgerPort,
    row: dict[str, Any],
    holder: movement.Holder,
    legs: list[NewTransfer],
    flag: risk_gate.Flag | None,
) -> dict[str, Any]:
    """Step 4 on a TigerBeetle ledger: the rest of the two-store order's A (its event waits
    for C). A credit from abroad (``legs``: the foreign amount into the FX liquidity, then
    the pesos to the wallet) is held whole: the pesos' leg first (the order's hold, as for a
    credit in pesos) and the foreign leg flagged ``PENDING`` (held with it, linked), so both
    are posted, or voided, together.

    The risk gate judges it here, as ``movement.book`` does on SQL, with the screening's
    ``flag`` if any: a review (the sender's name on a list, or the rules) adds its hold leg
    (the wallet → ``op.risk.holds``, pending, no timeout) and stores the alert naming it, in
    this A; the order books that leg in its post chain, after the credit's post
    (``two_store.REVIEW_HOLD``), so the credit is answered ``ACSC`` and held, as on SQL."""
    if len(legs) > 1:
        *foreign, principal = two_store.unlinked(legs)
        legs = [principal, *(replace(t, flags=TransferFlags.PENDING) for t in foreign)]
    if flag is None:
        judged = risk_gate.judge(unit, legs)
    else:
        log.info("inbound transfer %s held: the sender's name is on a list", row["uetr"])
        with risk_gate.flagged(flag):
            judged = risk_gate.judge(unit, legs)
    legs = two_store.unlinked(judged)
    two_store.check_balance(ledger, holder, row["credited_minor"], holder.currency)
    two_store.begin(unit, row["id"], legs, None, None, RECORD)
    return row


def _view_of(unit: Unit, row_id: str) -> dict[str, Any]:
    return view(_by_id(unit, row_id))


def _settled(unit: Unit, row_id: str, ids: list[str]) -> None:
    """C: the credit is in the wallet; announced to its owner."""
    row = _by_id(unit, row_id)
    emit(unit, "inbound_transfer.received", view(row), (row["party_id"],))


def _failed(
    unit: Unit, row_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """The cluster refused the credit, or its hold expired before the post: ``rejected``
    (the bank is answered so), the month's incoming total given back."""
    row = _by_id(unit, row_id)
    holder = movement.holder_of(unit, row["wallet_id"])
    if holder is not None:
        movement.release_incoming(unit, holder, row["credited_minor"], row["received_at_ns"])
    unit.conn.execute(
        inbound_transfers.update()
        .where(inbound_transfers.c.id == row_id)
        .values(status=InboundStatus.REJECTED.value, reason_code=reason_for(refusal))
    )
    # a review's alert stored in A holds nothing now: the credit never reached the wallet
    unit.conn.execute(
        update(risk_alerts)
        .where(risk_alerts.c.transfer_id == row["transfer_id"], risk_alerts.c.status == "open")
        .values(status="closed", hold_id=None, decided_at_ns=unit.now())
    )


two_store.RECORDS[RECORD] = two_store.Record(_view_of, _settled, _failed)


#: The row's insert unless its ``(uetr, end_to_end_id)`` is there, returning its id when it
#: was inserted (the same text on SQLite and PostgreSQL). A delivery racing another waits on
#: the unique index until the first commits, then inserts nothing (and reads the first's
#: row, committed by then). Nothing was written before it, so a duplicate returns having
#: changed nothing; and a fresh transfer needs no read first (one round trip fewer on every
#: credit). A constant: SQLAlchemy builds and keys no statement per credit.
_COLUMNS = [column.name for column in inbound_transfers.c]
_CLAIM = text(
    f"INSERT INTO inbound_transfers ({', '.join(_COLUMNS)}) "  # noqa: S608 (the table's own columns)
    f"VALUES ({', '.join(f':{name}' for name in _COLUMNS)}) "
    "ON CONFLICT (uetr, end_to_end_id) DO NOTHING RETURNING id"
).bindparams(*(bindparam(column.name, type_=column.type) for column in inbound_transfers.c))


def _reject(
    unit: Unit, message: Message, item: Transaction, rail: str, answer: str, reason: str
) -> Any:
    seen = _seen(unit, item)
    if seen is not None:
        return seen
    row = _base(unit, message, item, rail, answer)
    row.update(status=InboundStatus.REJECTED.value, reason_code=reason)
    try:  # name the wallet when there is one (its owner sees what was refused)
        holder = creditor(unit, item.creditor.account if item.creditor else None)
        row["party_id"], row["wallet_id"] = holder.party_id, holder.wallet_id
    except RefusalError:
        pass
    unit.conn.execute(inbound_transfers.insert(), row)
    return row


def creditor(unit: Unit, account: str | None) -> movement.Holder:
    """The wallet a creditor account names, active and a main wallet; refused otherwise."""
    kind = creditor_kind(account)
    if kind is None or account is None:
        raise not_found("wallet", "creditor_account")
    if kind == "wallet":  # one round trip: the wallet with its party (the common case)
        by_id = movement.holder_of(unit, account)
        if by_id is None:
            raise not_found("wallet", "creditor_account")
        holder = by_id
    else:
        index = unit.vault.index(party_rules.phone_number(account))
        query = select(parties.c.id).where(parties.c.phone_index == index)
        party_id = unit.conn.execute(query).scalar_one_or_none()
        if party_id is None:
            raise not_found("wallet", "creditor_account")
        holder = movement.holders(unit, (party_id,))[(party_id, WalletKind.MAIN)]
    movement.require_active(holder, "creditor")
    if holder.kind != WalletKind.MAIN:
        message = f"a {holder.kind} wallet takes no transfers from other banks"
        raise refused("wallet_kind", message, "creditor_account")
    return holder


# --- reading ---------------------------------------------------------------------------------
def get(unit: Unit, caller: Caller, transfer_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = (
        unit.conn.execute(select(inbound_transfers).where(inbound_transfers.c.id == transfer_id))
        .mappings()
        .first()
    )
    if row is None or not (caller.operator or caller.party_id == row["party_id"]):
        raise not_found("inbound_transfer", "id")
    return view(row)


def list_transfers(
    unit: Unit, caller: Caller, limit: int, starting_after: str | None = None
) -> dict[str, Any]:
    """A party's own inbound transfers (credited, refused, returned); all for the operator."""
    caller.require("payments:read")
    query = select(inbound_transfers).order_by(inbound_transfers.c.id).limit(limit + 1)
    if not caller.operator:
        query = query.where(inbound_transfers.c.party_id == caller.party_id)
    if starting_after:
        query = query.where(inbound_transfers.c.id > starting_after)
    rows = unit.conn.execute(query).mappings().all()
    return page([view(row) for row in rows[:limit]], len(rows) > limit)
