"""Disputes: the buyer says something is wrong; escrow stays frozen until the operator decides.

A buyer opens a dispute on a paid, shipped or delivered order. For a delivered order the
window is the auto-release period: once ``release_at`` has passed, the money is the
merchant's and the dispute is refused (``dispute_window_closed``), even if the worker has
not released it yet. While an order is ``disputed`` nothing moves: no release, no merchant
refund, no auto-release; shipment events are still recorded.

The operator resolves it, with a note that joins the audit trail (``order_events``):
``release`` (all to the merchant, less the marketplace fee), ``refund`` (all back to the
buyer), or ``split`` (``refund_minor`` to the buyer, the rest to the merchant less the fee),
each one linked batch on the ledger.

An open dispute counts against its merchant in the refund-spike rule (``risk_usage``'s
``dispute`` bucket: raised at opening, taken off at resolution before any refund is booked,
so a dispute that ends in a refund is counted once, as the refund).

On a TigerBeetle ledger a decision goes through the two-store order
(``escrow_cluster.reserve_resolve``): ``decide`` is its A's checks, and ``close`` resolves
the dispute at its C, once the money moved; until then the dispute stays open.

The operator's console lists them (``list_disputes``): the open ones first, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, insert, or_, select, update

from tindahan import limits
from tindahan.commerce import escrow as split_rules
from tindahan.commerce.orders import Action, OrderStatus, Role, next_status
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.services.commerce import escrow, orders
from tindahan.services.commerce.orders import Actor
from tindahan.services.ledger import risk_usage
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import disputes

RESOLUTIONS = {
    "release": Action.RESOLVE_RELEASE,
    "refund": Action.RESOLVE_REFUND,
    "split": Action.RESOLVE_SPLIT,
}


def open_dispute(unit: Unit, caller: Caller, order_id: str, reason: str) -> dict[str, Any]:
    order, actor = orders.acting(unit, caller, order_id)
    next_status(order["status"], Action.DISPUTE, actor.role)
    text = orders.note_text(reason, "reason")
    if not text:
        raise invalid("parameter_missing", "say what is wrong in reason", "reason")
    if order["status"] == OrderStatus.DELIVERED and unit.now() >= order["release_at_ns"]:
        message = "the dispute window closed when the order was due for release"
        raise conflict("dispute_window_closed", message, "id")
    now = unit.now()
    row = {
        "id": new_id("dsp"),
        "order_id": order_id,
        "status": "open",
        "reason": text,
        "opened_by": actor.actor_id or "",
        "status_before": order["status"],
        "resolution": None,
        "refund_minor": None,
        "release_minor": None,
        "resolved_by": None,
        "note": None,
        "opened_at_ns": now,
        "resolved_at_ns": None,
    }
    unit.conn.execute(insert(disputes), row)
    risk_usage.dispute_opened(unit, order["merchant_id"], now, order["held_minor"])
    orders.transition(unit, order, Action.DISPUTE, actor, note=text, release_at_ns=None)
    orders.announce(unit, order_id, OrderStatus.DISPUTED, actor)
    view = dispute_view(row)
    emit(unit, "dispute.opened", view, (order["buyer_id"], order["merchant_id"]))
    return view


@dataclass(frozen=True)
class Decision:
    """An operator's decision on an open dispute, checked (``decide``): the dispute's and
    its order's rows (the order locked), the order's step, who decides, the note, and what
    goes back to the buyer (the rest of what escrow holds goes to the merchant)."""

    dispute: dict[str, Any]
    order: dict[str, Any]
    action: Action
    actor: Actor
    note: str | None
    to_buyer: int


def resolve(
    unit: Unit,
    caller: Caller,
    dispute_id: str,
    resolution: str,
    refund_minor: int | None,
    note: str | None,
) -> dict[str, Any]:
    """Operator: settle the dispute on the ledger."""
    d = decide(unit, caller, dispute_id, resolution, refund_minor, note)
    held = d.order["held_minor"]
    if d.action is Action.RESOLVE_REFUND:
        escrow.refund_all(unit, d.order, d.action, d.actor, d.note)
    else:
        legs = escrow.refund_legs(unit, d.order, d.to_buyer) if d.to_buyer else []
        escrow.complete(unit, d.order, d.action, d.actor, d.note, refund=(d.to_buyer, legs))
    return close(unit, d, held - d.to_buyer)


def decide(
    unit: Unit,
    caller: Caller,
    dispute_id: str,
    resolution: str,
    refund_minor: int | None,
    note: str | None,
) -> Decision:
    """The decision's checks, on either ledger; the dispute taken off its merchant's open
    ones (``risk_usage``), before the refund it may end in is judged."""
    caller.require("orders:write")
    caller.require_operator()
    row = _row(unit, dispute_id)
    action = RESOLUTIONS.get(resolution)
    if action is None:
        raise invalid("resolution_invalid", "resolution is release, refund or split", "resolution")
    if row["status"] != "open":
        raise conflict("dispute_resolved", "this dispute is already resolved", "id")
    order = orders.order_row(unit, row["order_id"], lock=True)
    actor = Actor(Role.OPERATOR, caller.key_id)
    next_status(order["status"], action, actor.role)
    text = orders.note_text(note)
    held = order["held_minor"]
    # off the merchant's open disputes before a refund it ends in is judged (counted once)
    risk_usage.dispute_resolved(unit, order["merchant_id"], row["opened_at_ns"], held)
    if action is Action.RESOLVE_SPLIT:
        to_buyer, _ = split_rules.split(held, refund_minor)
    elif refund_minor is not None:
        raise invalid("parameter_invalid", "refund_minor is for a split", "refund_minor")
    else:
        to_buyer = held if action is Action.RESOLVE_REFUND else 0
    return Decision(row, order, action, actor, text, to_buyer)


def close(unit: Unit, decided: Decision, to_merchant: int) -> dict[str, Any]:
    """The dispute resolved as ``decided`` once its money moved (on a TigerBeetle ledger at
    the decision's C), and ``dispute.resolved``; returns its view."""
    d = decided
    values = {
        "status": "resolved",
        "resolution": next(name for name, a in RESOLUTIONS.items() if a is d.action),
        "refund_minor": d.to_buyer,
        "release_minor": to_merchant,
        "resolved_by": d.actor.actor_id,
        "note": d.note,
        "resolved_at_ns": unit.now(),
    }
    where = disputes.c.id == d.dispute["id"]
    unit.conn.execute(update(disputes).where(where).values(**values))
    view = dispute_view({**d.dispute, **values})
    emit(unit, "dispute.resolved", view, (d.order["buyer_id"], d.order["merchant_id"]))
    return view


def of_order(unit: Unit, order_id: str) -> dict[str, Any]:
    """The order's dispute: an order has one at most (``disputed`` is left only for a
    resolution's end state, from which no dispute opens)."""
    found = unit.conn.execute(select(disputes).where(disputes.c.order_id == order_id))
    return dict(found.mappings().one())


def reopened(unit: Unit, order: dict[str, Any]) -> None:
    """A decision whose money the ledger refused (on a TigerBeetle ledger, after its A): the
    dispute stayed open, so it counts against its merchant again, as ``decide`` took off."""
    dispute = of_order(unit, order["id"])
    risk_usage.dispute_opened(
        unit, order["merchant_id"], dispute["opened_at_ns"], order["held_minor"]
    )


def _row(unit: Unit, dispute_id: str) -> dict[str, Any]:
    row = unit.conn.execute(select(disputes).where(disputes.c.id == dispute_id)).mappings().first()
    if row is None:
        raise not_found("dispute", "id")
    return dict(row)


def get(unit: Unit, caller: Caller, dispute_id: str) -> dict[str, Any]:
    caller.require("orders:read")
    row = _row(unit, dispute_id)
    orders.require_reach(unit, caller, row["order_id"], "dispute")
    return dispute_view(row)


STATUSES = ("open", "resolved")


def list_disputes(
    unit: Unit,
    caller: Caller,
    *,
    status: str | None,
    limit: int,
    starting_after: str | None,
) -> dict[str, Any]:
    """Operator only: the disputes, the open ones first (``status`` None: both), each status
    newest first; ``starting_after`` a dispute of this list (else ``cursor_invalid``)."""
    caller.require("orders:read")
    caller.require_operator()
    if status is not None and status not in STATUSES:
        raise invalid("status_invalid", "status is open or resolved", "status")
    if not 1 <= limit <= limits.MAX_PAGE_SIZE:
        raise invalid("limit_invalid", f"limit is 1 to {limits.MAX_PAGE_SIZE}", "limit")
    d = disputes.c
    query = select(disputes).order_by(d.status, d.opened_at_ns.desc(), d.id.desc())
    if status is not None:
        query = query.where(d.status == status)
    if starting_after:
        cursor = (
            unit.conn.execute(select(disputes).where(d.id == starting_after)).mappings().first()
        )
        if cursor is None or (status is not None and cursor["status"] != status):
            message = "starting_after is not a dispute of this list"
            raise invalid("cursor_invalid", message, "starting_after")
        older = or_(
            d.opened_at_ns < cursor["opened_at_ns"],
            and_(d.opened_at_ns == cursor["opened_at_ns"], d.id < cursor["id"]),
        )
        query = query.where(
            or_(d.status > cursor["status"], and_(d.status == cursor["status"], older))
        )
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page([dispute_view(r) for r in found[:limit]], len(found) > limit)


def dispute_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "dispute",
        "order_id": row["order_id"],
        "status": row["status"],
        "reason": row["reason"],
        "opened_by": row["opened_by"],
        "status_before": row["status_before"],
        "resolution": row["resolution"],
        "refund_minor": row["refund_minor"],
        "release_minor": row["release_minor"],
        "note": row["note"],
        "opened": iso(row["opened_at_ns"]),
        "resolved": iso(row["resolved_at_ns"]),
    }
