"""Shipments: what the merchant sent, and the courier's timeline of where it is.

The merchant ships some or all of an order's remaining items with a courier and tracking
number (``ship``: the order becomes ``shipped``). Status events come from the merchant
(``POST /v1/shipments/{id}/events``) or from the courier itself, through a webhook endpoint
signed with the courier's secret (``Tindahan-Signature``, as Tindahan signs its own
webhooks: HMAC-SHA256 over ``"{t}.{body}"``, five minutes' tolerance). When every item is
sent and every shipment delivered, the order becomes ``delivered`` and its auto-release
clock starts (``escrow_auto_release_days``): from delivery, or for an order shipped by a
courier chosen at checkout, from the end of its promised window when it came earlier.

Promised and actual delivery times are kept on each shipment: later delivery-time
estimates are learned from them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update

from tindahan import limits
from tindahan.commerce import catalog as rules
from tindahan.commerce.orders import OPEN, Action, OrderStatus, Role, next_status
from tindahan.commerce.shipments import ShipmentStatus, report
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid, not_found
from tindahan.payments import parties as text_rules
from tindahan.services.commerce import orders
from tindahan.services.commerce.orders import Actor
from tindahan.services.platform.events import emit
from tindahan.services.platform.fees import fee_settings
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import couriers, order_lines, shipment_events, shipments
from tindahan.webhooks.signature import SignatureError, new_secret, verify

DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class LineShip:
    line_no: int
    quantity: int


def _text(value: str, param: str, max_length: int) -> str:
    return text_rules.text(value, param, max_length)


def ship(
    unit: Unit,
    caller: Caller,
    order_id: str,
    courier: str,
    tracking_number: str,
    lines: Sequence[LineShip] = (),
    promised_at_ns: int | None = None,
) -> dict[str, Any]:
    order, actor = orders.acting(unit, caller, order_id)
    next_status(order["status"], Action.SHIP, actor.role)
    courier = _text(courier, "courier", limits.COURIER_NAME_MAX_LENGTH)
    tracking = _text(tracking_number, "tracking_number", limits.TRACKING_NUMBER_MAX_LENGTH)
    taken = unit.conn.execute(
        select(shipments.c.id).where(
            shipments.c.courier == courier, shipments.c.tracking_number == tracking
        )
    ).first()
    if taken:
        raise conflict(
            "tracking_number_taken", "this courier's tracking number is in use", "tracking_number"
        )
    if promised_at_ns is not None and promised_at_ns <= unit.now():
        raise invalid("parameter_invalid", "promised_at must be in the future", "promised_at")
    sent = _take_lines(unit, order_id, lines)
    now = unit.now()
    shipment_id = new_id("shp")
    row = {
        "id": shipment_id,
        "order_id": order_id,
        "courier": courier,
        "tracking_number": tracking,
        "status": ShipmentStatus.LABEL_CREATED.value,
        "lines": json.dumps(sent),
        "promised_at_ns": promised_at_ns,
        "delivered_at_ns": None,
        "created_at_ns": now,
        "updated_at_ns": now,
    }
    unit.conn.execute(insert(shipments), row)
    _add_event(unit, shipment_id, ShipmentStatus.LABEL_CREATED, actor.role.value, now, None, None)
    count = sum(q for _, q in sent)
    status = orders.transition(
        unit, order, Action.SHIP, actor, note=f"{count} item(s) by {courier} {tracking}"
    )
    orders.announce(unit, order_id, status, actor)
    return shipment_view(unit, row)


def _take_lines(unit: Unit, order_id: str, lines: Sequence[LineShip]) -> list[list[int]]:
    """Mark quantities shipped; nothing named means everything not yet shipped."""
    current = {line["line_no"]: line for line in orders.lines_of(unit, order_id)}
    left = {
        no: line["quantity"] - line["shipped_quantity"] - line["cancelled_quantity"]
        for no, line in current.items()
    }
    wanted: dict[int, int] = {}
    if not lines:
        wanted = {no: n for no, n in left.items() if n > 0}
    for i, item in enumerate(lines):
        if item.line_no not in current:
            raise invalid(
                "line_invalid", f"the order has no line {item.line_no}", f"lines.{i}.line_no"
            )
        quantity = rules.quantity(item.quantity, f"lines.{i}.quantity")
        wanted[item.line_no] = wanted.get(item.line_no, 0) + quantity
        if wanted[item.line_no] > left[item.line_no]:
            message = f"line {item.line_no} has {left[item.line_no]} left to ship"
            raise invalid("quantity_invalid", message, f"lines.{i}.quantity")
    if not wanted:
        raise conflict("nothing_to_ship", "every item is shipped or cancelled", "lines")
    for no, quantity in sorted(wanted.items()):
        unit.conn.execute(
            update(order_lines)
            .where(order_lines.c.order_id == order_id, order_lines.c.line_no == no)
            .values(shipped_quantity=current[no]["shipped_quantity"] + quantity)
        )
    return [[no, quantity] for no, quantity in sorted(wanted.items())]


def _add_event(
    unit: Unit,
    shipment_id: str,
    status: ShipmentStatus,
    source: str,
    occurred_at_ns: int,
    location: str | None,
    note: str | None,
) -> None:
    seq = unit.conn.execute(
        select(func.coalesce(func.max(shipment_events.c.seq), 0)).where(
            shipment_events.c.shipment_id == shipment_id
        )
    ).scalar_one()
    if seq >= limits.MAX_SHIPMENT_EVENTS:
        raise conflict("too_many_events", "this shipment has all the events it may hold", "status")
    unit.conn.execute(
        insert(shipment_events),
        {
            "shipment_id": shipment_id,
            "seq": seq + 1,
            "status": status.value,
            "location": location,
            "note": note,
            "source": source,
            "occurred_at_ns": occurred_at_ns,
            "recorded_at_ns": unit.now(),
        },
    )


def _shipment_row(unit: Unit, shipment_id: str, *, lock: bool = False) -> dict[str, Any]:
    query = select(shipments).where(shipments.c.id == shipment_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        raise not_found("shipment", "id")
    return dict(row)


def post_event(
    unit: Unit,
    caller: Caller,
    shipment_id: str,
    status: str,
    occurred_at_ns: int | None = None,
    location: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """The merchant (or operator) reports where a parcel is."""
    caller.require("orders:write")
    shipment = _shipment_row(unit, shipment_id, lock=True)
    order = orders.order_row(unit, shipment["order_id"], lock=True)
    actor = orders.actor_of(caller, order)
    if actor.role is Role.BUYER:
        message = "only the merchant or the courier reports a shipment's progress"
        raise RefusalError(Category.PERMISSION, "order_action_forbidden", message)
    return _report(unit, shipment, order, actor, status, occurred_at_ns, location, note)


def _report(
    unit: Unit,
    shipment: dict[str, Any],
    order: dict[str, Any],
    actor: Actor,
    status: str,
    occurred_at_ns: int | None,
    location: str | None,
    note: str | None,
) -> dict[str, Any]:
    new = report(shipment["status"], status)
    now = unit.now()
    at = now if occurred_at_ns is None else occurred_at_ns
    if at > now + limits.WEBHOOK_TOLERANCE_SECONDS * 10**9:
        raise invalid("parameter_invalid", "occurred_at is in the future", "occurred_at")
    location = None if location is None else _text(location, "location", limits.CITY_MAX_LENGTH)
    note = orders.note_text(note)
    _add_event(unit, shipment["id"], new, actor.role.value, at, location, note)
    values: dict[str, Any] = {"status": new.value, "updated_at_ns": now}
    if new is ShipmentStatus.DELIVERED:
        values["delivered_at_ns"] = at
    if new is ShipmentStatus.RETURNED and order["status"] in OPEN:
        _unship(unit, shipment)
    unit.conn.execute(update(shipments).where(shipments.c.id == shipment["id"]).values(**values))
    shipment.update(values)
    view = shipment_view(unit, shipment)
    emit(unit, "shipment.updated", view, (order["buyer_id"], order["merchant_id"]))
    if new is ShipmentStatus.DELIVERED:
        maybe_delivered(unit, order, actor)
    return view


def _unship(unit: Unit, shipment: dict[str, Any]) -> None:
    """A returned parcel's items are the merchant's to send again (or refund), while the
    order is open. Once it ended (refunded, completed) the return is recorded on the
    timeline only: the lines are settled, and the merchant restocks by hand what is fit
    to sell (``stock_change``)."""
    for no, quantity in json.loads(shipment["lines"]):
        unit.conn.execute(
            update(order_lines)
            .where(order_lines.c.order_id == shipment["order_id"], order_lines.c.line_no == no)
            .values(shipped_quantity=order_lines.c.shipped_quantity - quantity)
        )


def maybe_delivered(unit: Unit, order: dict[str, Any], actor: Actor) -> bool:
    """Move a shipped order to ``delivered`` once every item is sent and every parcel
    arrived; start its auto-release clock. Anything else (a dispute open): leave it."""
    if order["status"] != OrderStatus.SHIPPED:
        return False
    lines = orders.lines_of(unit, order["id"])
    if any(
        line["shipped_quantity"] + line["cancelled_quantity"] < line["quantity"] for line in lines
    ):
        return False
    found = list(  # returned parcels were taken off the order's shipped counts
        unit.conn.execute(
            select(shipments.c.status, shipments.c.delivered_at_ns).where(
                shipments.c.order_id == order["id"],
                shipments.c.status != ShipmentStatus.RETURNED.value,
            )
        )
    )
    if not found or any(s != ShipmentStatus.DELIVERED for s, _ in found):
        return False
    delivered = max(at for _, at in found)
    days = fee_settings(unit)["escrow_auto_release_days"]
    # a courier's order: the buyer's days to complain count from the promised date when the
    # parcel came before it (issue 25: escrow follows the window), else from delivery
    start = max(unit.now(), orders.promised_at_ns(order) or 0)
    role = (
        actor.role if actor.role in (Role.MERCHANT, Role.COURIER, Role.OPERATOR) else Role.OPERATOR
    )
    status = orders.transition(
        unit,
        order,
        Action.DELIVER,
        Actor(role, actor.actor_id),
        delivered_at_ns=delivered,
        release_at_ns=start + days * DAY_NS,
    )
    orders.announce(unit, order["id"], status, actor)
    return True


# --- couriers --------------------------------------------------------------------------------
def register_courier(unit: Unit, caller: Caller, name: str) -> dict[str, Any]:
    """Operator: a courier that will post signed events; its secret is shown once."""
    caller.require_operator()
    name = _text(name, "name", limits.COURIER_NAME_MAX_LENGTH)
    if unit.conn.execute(select(couriers.c.id).where(couriers.c.name == name)).first():
        raise conflict("courier_exists", "a courier has this name", "name")
    courier_id, secret, now = new_id("cou"), new_secret(), unit.now()
    unit.conn.execute(
        insert(couriers),
        {
            "id": courier_id,
            "name": name,
            "secret_cipher": unit.vault.seal(secret, f"courier:{courier_id}"),
            "created_at_ns": now,
        },
    )
    return {
        "id": courier_id,
        "object": "courier",
        "name": name,
        "secret": secret,
        "created": iso(now),
    }


def courier_event(
    unit: Unit, courier_id: str, signature: str | None, body: bytes, parse: Any
) -> dict[str, Any]:
    """A courier's signed status report. ``parse`` turns the verified body into its fields
    (the API's schema): nothing is read from a body before its signature checks out."""
    row = unit.conn.execute(select(couriers).where(couriers.c.id == courier_id)).mappings().first()
    if row is None:
        raise not_found("courier", "courier_id")
    secret = unit.vault.open(row["secret_cipher"], f"courier:{courier_id}")
    try:
        verify(secret, signature or "", body, unit.now() // 10**9)
    except SignatureError as exc:
        raise RefusalError(Category.AUTHENTICATION, "signature_invalid", str(exc)) from None
    fields = parse(body)
    found = unit.conn.execute(
        select(shipments.c.id).where(
            shipments.c.courier == row["name"],
            shipments.c.tracking_number == fields["tracking_number"],
        )
    ).scalar_one_or_none()
    if found is None:
        raise not_found("shipment", "tracking_number")
    shipment = _shipment_row(unit, found, lock=True)
    if _already_reported(unit, found, fields["status"], fields.get("occurred_at_ns")):
        return shipment_view(unit, shipment)  # a courier's retry: answered, not added again
    order = orders.order_row(unit, shipment["order_id"], lock=True)
    actor = Actor(Role.COURIER, courier_id)
    return _report(
        unit,
        shipment,
        order,
        actor,
        fields["status"],
        fields.get("occurred_at_ns"),
        fields.get("location"),
        fields.get("note"),
    )


def _already_reported(unit: Unit, shipment_id: str, status: str, at: int | None) -> bool:
    if at is None:
        return False
    found = unit.conn.execute(
        select(shipment_events.c.seq).where(
            shipment_events.c.shipment_id == shipment_id,
            shipment_events.c.status == status,
            shipment_events.c.occurred_at_ns == at,
            shipment_events.c.source == Role.COURIER.value,
        )
    ).first()
    return found is not None


# --- reading ---------------------------------------------------------------------------------
def get(unit: Unit, caller: Caller, shipment_id: str) -> dict[str, Any]:
    caller.require("orders:read")
    shipment = _shipment_row(unit, shipment_id)
    orders.require_reach(unit, caller, shipment["order_id"], "shipment")
    return shipment_view(unit, shipment)


def list_for_order(unit: Unit, caller: Caller, order_id: str) -> dict[str, Any]:
    caller.require("orders:read")
    orders.actor_of(caller, orders.order_row(unit, order_id))
    found = unit.conn.execute(
        select(shipments)
        .where(shipments.c.order_id == order_id)
        .order_by(shipments.c.created_at_ns)
    ).mappings()
    return page([shipment_view(unit, r) for r in found], False)


def shipment_view(unit: Unit, row: Any) -> dict[str, Any]:
    timeline = unit.conn.execute(
        select(shipment_events)
        .where(shipment_events.c.shipment_id == row["id"])
        .order_by(shipment_events.c.seq)
    ).mappings()
    return {
        "id": row["id"],
        "object": "shipment",
        "order_id": row["order_id"],
        "courier": row["courier"],
        "tracking_number": row["tracking_number"],
        "status": row["status"],
        "lines": [{"line_no": no, "quantity": q} for no, q in json.loads(row["lines"])],
        "promised_at": iso(row["promised_at_ns"]),
        "delivered_at": iso(row["delivered_at_ns"]),
        "timeline": [
            {
                "status": e["status"],
                "location": e["location"],
                "note": e["note"],
                "source": e["source"],
                "occurred_at": iso(e["occurred_at_ns"]),
                "recorded_at": iso(e["recorded_at_ns"]),
            }
            for e in timeline
        ],
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }
