"""Reconciling a day: our clearing accounts' movements against the switch's camt.053.

``run`` reads the statement (hardened, schema-checked: ``rails.xml``), refuses one that is
not a camt.053 of Tindahan's settlement account for that day, loads our side from the
ledger, matches (``rails.reconciliation``: the key, the day's cut, the kinds of break) and
stores the result in the same transaction: the day's row in ``reconciliations`` and its
breaks, replacing what an earlier run of the same day stored, so re-running is idempotent.

Our side is every posted ledger transfer into or out of a clearing account
(``op.rail.instapay``, ``op.rail.pesonet``) — single-phase transfers and posts of pending
ones; a pending hold or a void moves nothing at the switch. Each is named by its payment's
UETR and EndToEndId: from the metadata ``uetr``/``end_to_end_id`` when the transfer carries
them, else from the bank transfer it belongs to (metadata ``bank_transfer``, or the hold a
post settles). A movement with neither is still ours and still must be on the statement.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, or_, select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import invalid
from tindahan.ledger.model import TransferFlags
from tindahan.money import from_minor
from tindahan.rails import Message, MessageError, MessageType
from tindahan.rails import xml as rails_xml
from tindahan.rails.reconciliation import (
    Break,
    Movement,
    Result,
    day_bounds,
    manila_day,
    reconcile,
)
from tindahan.services.platform.chart import RAILS, rail_account
from tindahan.services.rails.transfers import our_bic
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.rails_tables import bank_transfers, reconciliation_breaks, reconciliations
from tindahan.store.tables import transfers as ledger_transfers

#: Posted movements only: a pending hold reserves, a void releases; neither moves money.
_NOT_MOVED = int(TransferFlags.PENDING | TransferFlags.VOID_PENDING)


def read_statement(data: bytes, day: date) -> Message:
    """The statement in ``data``, or ``invalid`` naming what is wrong with it."""
    try:
        message = rails_xml.read(data)
    except MessageError as exc:
        raise invalid("statement_invalid", f"the statement: {exc}", "statement") from None
    if message.message_type is not MessageType.CAMT_053:
        raise invalid(
            "statement_invalid",
            f"the statement must be a camt.053, not {message.message_type.value}",
            "statement",
        )
    if message.account != our_bic():
        raise invalid(
            "statement_invalid",
            f"the statement is of account {message.account}, not ours ({our_bic()})",
            "statement",
        )
    if message.statement_date != day:
        said = message.statement_date.isoformat() if message.statement_date else "no date"
        raise invalid(
            "statement_invalid",
            f"the statement is of {said}, not {day.isoformat()}",
            "statement",
        )
    return message


def run(unit: Unit, caller: Caller, day: date, statement: Message) -> dict[str, Any]:
    """Reconcile ``day`` against a statement read by ``read_statement``; store and return it."""
    caller.require_operator()
    theirs = [_entry(index, item) for index, item in enumerate(statement.transactions)]
    start, end = day_bounds(day)
    reach = limits.RECONCILE_NEARBY_DAYS * 86_400 * 10**9
    window = our_movements(unit, start - reach, end + reach)
    ours = [m for m in window if m.booking_date == day]
    result = reconcile(day, ours, theirs, window)
    _store(unit, result, statement.report_id or statement.message_id)
    return view(result, statement.report_id or statement.message_id, unit.now())


def _entry(index: int, item: Any) -> Movement:
    if item.amount_minor is None or item.currency is None or item.booking_date is None:
        raise invalid(
            "statement_invalid",
            f"the statement's entry {index + 1} has no amount or booking date",
            "statement",
        )
    return Movement(
        item.uetr,
        None if item.end_to_end_id == "NOTPROVIDED" else item.end_to_end_id,
        item.amount_minor,
        item.currency,
        item.credit_debit == "CRDT",
        item.booking_date,
        item.reference,
    )


def our_movements(unit: Unit, start_ns: int, end_ns: int) -> list[Movement]:
    """Every posted movement on a clearing account in [start, end), named by its payment."""
    clearing = [rail_account(rail) for rail in RAILS]
    t = ledger_transfers
    rows = unit.conn.execute(
        select(
            t.c.id,
            t.c.debit_account_id,
            t.c.amount,
            t.c.ledger,
            t.c.pending_id,
            t.c.metadata,
            t.c.created_at_ns,
        )
        .where(or_(t.c.debit_account_id.in_(clearing), t.c.credit_account_id.in_(clearing)))
        .where(t.c.created_at_ns >= start_ns, t.c.created_at_ns < end_ns)
        .where(t.c.flags.op("&")(_NOT_MOVED) == 0)
        .order_by(t.c.timestamp)
    ).all()
    metadata = {row.id: json.loads(row.metadata) for row in rows}
    names = _payments(unit, rows, metadata)
    movements = []
    for row in rows:
        said = metadata[row.id]
        uetr, e2e = (
            (said["uetr"], said.get("end_to_end_id"))
            if "uetr" in said
            else names.get(said.get("bank_transfer") or row.pending_id, (None, None))
        )
        movements.append(
            Movement(
                uetr,
                e2e,
                int(row.amount),
                row.ledger,
                row.debit_account_id in clearing,  # out of clearing: money came in
                manila_day(int(row.created_at_ns)),
                row.id,
            )
        )
    return movements


def _payments(
    unit: Unit, rows: Sequence[Any], metadata: dict[str, dict[str, str]]
) -> dict[str, tuple[str | None, str | None]]:
    """(UETR, EndToEndId) by bank transfer id and by its hold's ledger id."""
    ids = {said["bank_transfer"] for said in metadata.values() if "bank_transfer" in said}
    holds = {row.pending_id for row in rows if row.pending_id is not None}
    if not ids and not holds:
        return {}
    b = bank_transfers
    found = unit.conn.execute(
        select(b.c.id, b.c.hold_id, b.c.uetr, b.c.end_to_end_id).where(
            or_(b.c.id.in_(ids), b.c.hold_id.in_(holds))
        )
    ).all()
    names: dict[str, tuple[str | None, str | None]] = {}
    for row in found:
        names[row.id] = names[row.hold_id] = (row.uetr, row.end_to_end_id)
    return names


def _store(unit: Unit, result: Result, statement_id: str) -> None:
    day = result.day.isoformat()
    unit.conn.execute(delete(reconciliation_breaks).where(reconciliation_breaks.c.day == day))
    unit.conn.execute(delete(reconciliations).where(reconciliations.c.day == day))
    unit.conn.execute(
        insert(reconciliations).values(
            day=day,
            statement_id=statement_id[:35],
            matched=result.matched,
            break_count=len(result.breaks),
            ran_at_ns=unit.now(),
        )
    )
    if result.breaks:
        unit.conn.execute(insert(reconciliation_breaks), [_row(day, b) for b in result.breaks])


def _row(day: str, found: Break) -> dict[str, Any]:
    ours, theirs, either = found.ours, found.theirs, found.either
    return {
        "id": new_id("brk"),
        "day": day,
        "kind": found.kind.value,
        "uetr": either.uetr,
        "end_to_end_id": either.end_to_end_id,
        "credit": either.credit,
        "currency": either.currency,
        "ours_amount_minor": ours.amount_minor if ours else None,
        "theirs_amount_minor": theirs.amount_minor if theirs else None,
        "ours_date": ours.booking_date.isoformat() if ours else None,
        "theirs_date": theirs.booking_date.isoformat() if theirs else None,
        "ledger_transfer_id": ours.reference if ours else None,
        "entry_reference": theirs.reference if theirs else None,
    }


def view(result: Result, statement_id: str, ran_at_ns: int) -> dict[str, Any]:
    """The result as the CLI's ``--json`` prints it and the console shows it."""
    day = result.day.isoformat()
    return {
        "date": day,
        "statement_id": statement_id,
        "matched": result.matched,
        "breaks": [_break_view(_row(day, found)) for found in result.breaks],
        "ran": iso(ran_at_ns),
    }


def _break_view(row: Any) -> dict[str, Any]:
    def amount(minor: int | None) -> str | None:
        return None if minor is None else str(from_minor(minor, row["currency"]))

    return {
        "kind": row["kind"],
        "uetr": row["uetr"],
        "end_to_end_id": row["end_to_end_id"],
        "direction": "credit" if row["credit"] else "debit",
        "currency": row["currency"],
        "ours_amount": amount(row["ours_amount_minor"]),
        "theirs_amount": amount(row["theirs_amount_minor"]),
        "ours_amount_minor": row["ours_amount_minor"],
        "theirs_amount_minor": row["theirs_amount_minor"],
        "ours_date": row["ours_date"],
        "theirs_date": row["theirs_date"],
        "ledger_transfer_id": row["ledger_transfer_id"],
        "entry_reference": row["entry_reference"],
    }


def recent(unit: Unit, caller: Caller, limit: int) -> dict[str, Any]:
    """The last reconciled days, newest first, and the breaks of those days (the console)."""
    caller.require_operator()
    days = (
        unit.conn.execute(select(reconciliations).order_by(reconciliations.c.day.desc()).limit(7))
        .mappings()
        .all()
    )
    rows = (
        unit.conn.execute(
            select(reconciliation_breaks)
            .order_by(reconciliation_breaks.c.day.desc(), reconciliation_breaks.c.id)
            .limit(limit)
        )
        .mappings()
        .all()
    )
    return {
        "days": [
            {
                "date": row["day"],
                "statement_id": row["statement_id"],
                "matched": row["matched"],
                "breaks": row["break_count"],
                "ran": iso(row["ran_at_ns"]),
            }
            for row in days
        ],
        "breaks": [{"date": row["day"], **_break_view(row)} for row in rows],
    }
