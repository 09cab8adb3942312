"""What the operator's rails monitor shows: the bank transfers by state, the PESONet batches,
the inbound transfers and their recalls, and the last reconciliations with their breaks
(issue 19, item 8).

One read, for the console's ``/op/rails``: outbound transfers still in flight (held, sent or
waiting for their batch), the newest rejected and returned ones with their reasons, the
PESONet batches (the transfers that left together as one pacs.008, by its message id, and
those waiting for the next cut-off), the newest inbound transfers (credited, rejected,
returned), the recalls (camt.056) of inbound ones with their decision, and
``reconciliation.recent``. Each list is cut at ``limits.RAILS_MONITOR_ROWS``, newest first;
the outbound counts by state are whole.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.rails.batches import cutoff_after
from tindahan.rails.transfers import TransferStatus
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.rails import inbound, reconciliation
from tindahan.services.rails.transfers import view
from tindahan.services.unit import Unit, iso
from tindahan.store.rails_tables import bank_transfers, inbound_recalls, inbound_transfers


def overview(unit: Unit, caller: Caller) -> dict[str, Any]:
    caller.require_operator()
    return {
        "counts": _counts(unit),
        "in_flight": _transfers(unit, TransferStatus.PENDING, bank_transfers.c.created_at_ns),
        "rejected": _transfers(unit, TransferStatus.REJECTED, bank_transfers.c.finished_at_ns),
        "returned": _transfers(unit, TransferStatus.RETURNED, bank_transfers.c.finished_at_ns),
        "batches": _batches(unit),
        "waiting": _waiting(unit),
        "inbound": _inbound(unit),
        "recalls": _recalls(unit),
        "reconciliation": reconciliation.recent(unit, caller, limits.RECONCILE_BREAKS_SHOWN),
    }


def _counts(unit: Unit) -> dict[str, int]:
    rows = unit.conn.execute(
        select(bank_transfers.c.status, func.count()).group_by(bank_transfers.c.status)
    ).all()
    found = {status: 0 for status in TransferStatus}
    found.update({TransferStatus(status): int(count) for status, count in rows})
    return {status.value: count for status, count in found.items()}


def _transfers(unit: Unit, status: TransferStatus, newest: Any) -> list[dict[str, Any]]:
    rows = (
        unit.conn.execute(
            select(bank_transfers)
            .where(bank_transfers.c.status == status.value)
            .order_by(newest.desc(), bank_transfers.c.id)
            .limit(limits.RAILS_MONITOR_ROWS)
        )
        .mappings()
        .all()
    )
    return [view(row) for row in rows]


def _batches(unit: Unit) -> list[dict[str, Any]]:
    """Sent PESONet batches: one pacs.008 each, with its transfers' totals and states."""
    b = bank_transfers
    sent = func.min(b.c.sent_at_ns)
    rows = unit.conn.execute(
        select(
            b.c.message_id,
            func.count(),
            func.sum(b.c.amount_minor),
            sent,
            func.sum(case((b.c.status == "pending", 1), else_=0)),
            func.sum(case((b.c.status == "settled", 1), else_=0)),
            func.sum(case((b.c.status.in_(("rejected", "returned")), 1), else_=0)),
        )
        .where(b.c.rail == "pesonet", b.c.sent_at_ns.is_not(None))
        .group_by(b.c.message_id)
        .order_by(sent.desc())
        .limit(limits.RAILS_MONITOR_ROWS)
    ).all()
    return [
        {
            "message_id": row[0],
            "transfers": int(row[1]),
            "amount_minor": int(row[2]),
            "currency": "PHP",
            "sent": iso(int(row[3])),
            "pending": int(row[4] or 0),
            "settled": int(row[5] or 0),
            "failed": int(row[6] or 0),
        }
        for row in rows
    ]


def _waiting(unit: Unit) -> dict[str, Any]:
    """PESONet transfers not yet sent, and the cut-off the first of them waits for."""
    b = bank_transfers
    count, total, first = unit.conn.execute(
        select(func.count(), func.sum(b.c.amount_minor), func.min(b.c.created_at_ns)).where(
            b.c.rail == "pesonet",
            b.c.sent_at_ns.is_(None),
            b.c.status == TransferStatus.PENDING.value,
        )
    ).one()
    leaves = None if first is None else iso(cutoff_after(int(first), holiday_set(unit)))
    return {"transfers": int(count), "amount_minor": int(total or 0), "leaves": leaves}


def _inbound(unit: Unit) -> list[dict[str, Any]]:
    rows = (
        unit.conn.execute(
            select(inbound_transfers)
            .order_by(inbound_transfers.c.received_at_ns.desc(), inbound_transfers.c.id)
            .limit(limits.RAILS_MONITOR_ROWS)
        )
        .mappings()
        .all()
    )
    return [inbound.view(row) for row in rows]


def _recalls(unit: Unit) -> list[dict[str, Any]]:
    """Recalls of inbound transfers, the undecided first, with what they would take back."""
    r, t = inbound_recalls, inbound_transfers
    rows = (
        unit.conn.execute(
            select(
                r.c.id,
                r.c.case_id,
                r.c.reason_code,
                r.c.status,
                r.c.rejection_code,
                r.c.received_at_ns,
                r.c.decided_at_ns,
                t.c.uetr,
                t.c.amount_minor,
                t.c.currency,
                t.c.party_id,
            )
            .join(t, t.c.id == r.c.inbound_transfer_id)
            .order_by((r.c.status == "pending").desc(), r.c.received_at_ns.desc(), r.c.id)
            .limit(limits.RAILS_MONITOR_ROWS)
        )
        .mappings()
        .all()
    )
    return [
        {
            "id": row["id"],
            "case_id": row["case_id"],
            "reason_code": row["reason_code"],
            "status": row["status"],
            "rejection_code": row["rejection_code"],
            "received": iso(row["received_at_ns"]),
            "decided": iso(row["decided_at_ns"]),
            "uetr": row["uetr"],
            "amount_minor": row["amount_minor"],
            "currency": row["currency"],
            "party_id": row["party_id"],
        }
        for row in rows
    ]
