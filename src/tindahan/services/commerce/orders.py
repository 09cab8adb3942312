"""Orders: checkout with stock reserved, the recorded state machine, and reading orders back.

Checkout turns a cart into an order in ``pending_payment``: each line's variant must be on
sale in that storefront, and its stock is taken at once with a conditional decrement
(``catalog.take_stock``), in variant-id order so two carts never deadlock. An order not paid
within ``limits.ORDER_PAYMENT_SECONDS`` is cancelled by the worker and its stock returned.

Every change of state goes through ``transition``: it asks ``commerce.orders`` whether the
caller's role may take that action from the current state, writes the new state and an
``order_events`` row (action, from, to, who, when, amount, note), and announces it as a
webhook event, all in the caller's transaction. The order row is locked first (``FOR
UPDATE`` on PostgreSQL; SQLite serializes writers), so two actions on one order take turns.

Tenancy: the buyer and the merchant of an order see it; anyone else gets 404.

On a TigerBeetle ledger an order's escrow movement (its payment, its release, a refund, a
dispute's decision) goes through the two-store order (``services.commerce.escrow_cluster``)
and the order's step is made only at its C; until then every other action on the order is
refused ``409 order_movement_pending`` (``acting``, ``require_still``), and the worker
leaves it alone (``expire``), so the order C finds is the order A checked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, cast, func, insert, literal, or_, select, update

from tindahan import limits
from tindahan.commerce import catalog as rules
from tindahan.commerce.orders import OPEN, Action, OrderStatus, Role, allowed_actions, next_status
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, conflict, invalid, not_found
from tindahan.payments import parties as text_rules
from tindahan.payments.model import WalletKind
from tindahan.services.commerce import addresses, catalog
from tindahan.services.commerce.views import OrderEventView, OrderView
from tindahan.services.delivery import couriers
from tindahan.services.ledger import movement
from tindahan.services.payments.payments import payer_of
from tindahan.services.payments.two_store import UNFINISHED
from tindahan.services.platform import shortrefs
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.risk import holds
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import (
    disputes,
    order_events,
    order_lines,
    order_places,
    orders,
    products,
    shipments,
    variants,
)
from tindahan.store.payment_tables import notifications, two_store_payments

EVENT_OF = {
    OrderStatus.PENDING_PAYMENT: "order.created",
    OrderStatus.PAID: "order.paid",
    OrderStatus.SHIPPED: "order.shipped",
    OrderStatus.DELIVERED: "order.delivered",
    OrderStatus.COMPLETED: "order.completed",
    OrderStatus.CANCELLED: "order.cancelled",
    OrderStatus.REFUNDED: "order.refunded",
    OrderStatus.DISPUTED: "order.disputed",
}


@dataclass(frozen=True)
class CartLine:
    product_id: str
    quantity: int
    variant_id: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who acts on an order: a role, and the party or key behind it (None: the worker)."""

    role: Role
    actor_id: str | None


WORKER = Actor(Role.WORKER, None)


def actor_of(caller: Caller, order: dict[str, Any]) -> Actor:
    """The caller's role on this order; a stranger gets "no such order"."""
    if caller.operator:
        return Actor(Role.OPERATOR, caller.key_id)
    if caller.party_id == order["buyer_id"]:
        return Actor(Role.BUYER, caller.party_id)
    if caller.party_id == order["merchant_id"]:
        return Actor(Role.MERCHANT, caller.party_id)
    raise not_found("order", "id")


# --- checkout ------------------------------------------------------------------------------
def checkout(
    unit: Unit,
    caller: Caller,
    storefront_id: str,
    lines: Sequence[CartLine],
    buyer_id: str | None = None,
    delivery: addresses.Delivery | None = None,
    courier: str | None = None,
) -> OrderView:
    """``delivery`` None: an order with no address (a pickup, or an integration that ships
    on its own); the web's checkout always asks for one. ``courier``: the buyer's choice
    among the couriers the storefront ships with (``services.delivery.couriers``), required
    when it lists any and the order has an address."""
    caller.require("orders:write")
    buyer = _buyer(unit, caller, buyer_id)
    address = (
        None if delivery is None else addresses.chosen(unit, caller, buyer["party_id"], delivery)
    )
    store = catalog.storefront_row(unit, storefront_id)
    if store["merchant_id"] == buyer["party_id"]:
        raise invalid("buyer_is_merchant", "a merchant cannot buy from itself", "storefront_id")
    require_open_shop(unit, store["merchant_id"])
    rules.line_count(len(lines))
    priced = _price_lines(unit, store["id"], lines)
    _reserve(unit, priced)
    items = sum(p["unit_price_minor"] * p["quantity"] for p in priced)
    shipping = _shipping(unit, store, address, priced, items, courier)
    total = items + shipping["shipping_minor"]
    if total > limits.MAX_AMOUNT_MINOR:
        raise invalid("amount_invalid", "the order total is too large", "lines")
    now = unit.now()
    order = {
        "id": new_id("ord"),
        "storefront_id": store["id"],
        "merchant_id": store["merchant_id"],
        "buyer_id": buyer["party_id"],
        "status": OrderStatus.PENDING_PAYMENT.value,
        "currency": catalog.CURRENCY,
        "items_minor": items,
        **shipping,
        "total_minor": total,
        "escrow_account_id": None,
        "paid_in_minor": 0,
        "held_minor": 0,
        "released_minor": 0,
        "fee_minor": 0,
        "refunded_minor": 0,
        "buyer_currency": buyer["currency"],
        "buyer_paid_minor": 0,
        "buyer_refunded_minor": 0,
        "quote_id": None,
        "transfer_ids": "[]",
        "expires_at_ns": now + limits.ORDER_PAYMENT_SECONDS * 10**9,
        "created_at_ns": now,
        "updated_at_ns": now,
    }
    order["short_ref"] = shortrefs.insert(unit, orders, order)
    unit.conn.execute(
        insert(order_lines),
        [
            {
                **p,
                "order_id": order["id"],
                "line_no": i + 1,
                "shipped_quantity": 0,
                "cancelled_quantity": 0,
            }
            for i, p in enumerate(priced)
        ],
    )
    if delivery is not None and address is not None:
        addresses.attach(unit, order["id"], buyer["party_id"], delivery, address)
    actor = Actor(
        Role.OPERATOR if caller.operator else Role.BUYER, caller.party_id or caller.key_id
    )
    record(unit, order["id"], "checkout", None, OrderStatus.PENDING_PAYMENT, actor)
    return announce(unit, order["id"], OrderStatus.PENDING_PAYMENT, actor)


def shipping_offers(
    unit: Unit,
    caller: Caller,
    storefront_id: str,
    lines: Sequence[CartLine],
    delivery: addresses.Delivery,
    buyer_id: str | None = None,
) -> dict[str, Any]:
    """What each of the storefront's couriers would charge for this cart to this address,
    and when it would arrive (writes nothing: the page and the API show it before checkout).
    A storefront without couriers answers its flat fee as the one offer-less option."""
    caller.require("orders:read")
    buyer = _buyer(unit, caller, buyer_id)
    address = addresses.chosen(unit, caller, buyer["party_id"], delivery)
    store = catalog.storefront_row(unit, storefront_id)
    rules.line_count(len(lines))
    priced = _price_lines(unit, store["id"], lines)
    items = sum(p["unit_price_minor"] * p["quantity"] for p in priced)
    free_over = store["free_shipping_over_minor"]
    flat = 0 if free_over is not None and items >= free_over else store["shipping_fee_minor"]
    if not couriers.ships_by_courier(unit, store["id"]):
        return {
            "object": "shipping_offers",
            "storefront_id": store["id"],
            "items_minor": items,
            "flat_fee_minor": flat,
            "zone": None,
            "offers": [],
            "unavailable": {},
            "problem": None,
        }
    found = couriers.offers(unit, store, address.codes, _weight(unit, priced), items)
    return {
        **found.as_dict(),
        "storefront_id": store["id"],
        "items_minor": items,
        "flat_fee_minor": None,
    }


def _shipping(
    unit: Unit,
    store: Any,
    address: Any,
    priced: list[dict[str, Any]],
    items_minor: int,
    courier: str | None,
) -> dict[str, Any]:
    """The order's shipping: by the chosen courier's offer where the storefront lists
    couriers and the order has an address, else the storefront's flat fee (free over its
    amount, if it set one). A checkout that cannot be priced is refused with the reason."""
    free_over = store["free_shipping_over_minor"]
    flat = {
        "shipping_minor": 0
        if free_over is not None and items_minor >= free_over
        else store["shipping_fee_minor"],
        "courier_code": None,
        "delivery_zone": None,
        "window_min_days": None,
        "window_max_days": None,
        "window_estimate": None,
    }
    if not couriers.ships_by_courier(unit, store["id"]) or address is None:
        if courier is not None:
            message = (
                "this shop ships at its own flat fee"
                if address is not None
                else "a courier needs a delivery address"
            )
            raise invalid("courier_unavailable", message, "courier")
        return flat
    weight = _weight(unit, priced)
    found = couriers.offers(unit, store, address.codes, weight, items_minor)
    offer = couriers.chosen_offer(found, courier)
    return {
        "shipping_minor": offer.fee_minor,
        "courier_code": offer.courier,
        "delivery_zone": offer.zone.value,
        "window_min_days": offer.min_days,
        "window_max_days": offer.max_days,
        "window_estimate": int(offer.estimate),
    }


def _weight(unit: Unit, priced: list[dict[str, Any]]) -> int | None:
    """The cart's weight in grams (None: a product without a weight)."""
    wanted = sorted({p["product_id"] for p in priced})
    query = select(products.c.id, products.c.weight_g).where(products.c.id.in_(wanted))
    weights: dict[str, int | None] = {r.id: r.weight_g for r in unit.conn.execute(query)}
    total = 0
    for p in priced:
        grams = weights.get(p["product_id"])
        if grams is None:
            return None
        total += grams * int(p["quantity"])
    return total


def require_open_shop(unit: Unit, merchant_id: str) -> None:
    """A frozen or closed merchant takes no orders and no payments into escrow (the money
    could not be released to it)."""
    found = movement.holders(unit, (merchant_id,))[(merchant_id, WalletKind.SETTLEMENT)]
    movement.require_active(found, "merchant")


def _buyer(unit: Unit, caller: Caller, buyer_id: str | None) -> dict[str, Any]:
    wanted = payer_of(caller, buyer_id, "buyer_id")
    found = movement.holders(unit, (wanted,)).get((wanted, WalletKind.MAIN))
    if found is None:
        raise not_found("party", "buyer_id")
    movement.require_active(found, "buyer")
    return {"party_id": found.party_id, "currency": found.currency}


def _price_lines(unit: Unit, storefront_id: str, lines: Sequence[CartLine]) -> list[dict[str, Any]]:
    wanted = sorted({line.product_id for line in lines})
    found = {
        r["id"]: r
        for r in unit.conn.execute(select(products).where(products.c.id.in_(wanted))).mappings()
    }
    options: dict[str, list[Any]] = defaultdict(list)
    query = select(variants).where(variants.c.product_id.in_(wanted)).order_by(variants.c.position)
    for v in unit.conn.execute(query).mappings():
        options[v["product_id"]].append(v)
    priced = []
    for i, line in enumerate(lines):
        param = f"lines.{i}"
        product = found.get(line.product_id)
        if product is None or product["storefront_id"] != storefront_id:
            raise not_found("product", f"{param}.product_id")
        if not product["active"]:
            message = f"{product['title']!r} is not on sale"
            raise conflict("product_inactive", message, f"{param}.product_id")
        variant = _variant(options[product["id"]], line.variant_id, param)
        title = product["title"] + (f" ({variant['name']})" if variant["name"] else "")
        priced.append(
            {
                "product_id": product["id"],
                "variant_id": variant["id"],
                "title": title,
                "unit_price_minor": variant["price_minor"] or product["price_minor"],
                "quantity": rules.quantity(line.quantity, f"{param}.quantity"),
            }
        )
    return priced


def _variant(options: list[Any], variant_id: str | None, param: str) -> Any:
    if variant_id is None:
        if len(options) != 1:
            names = ", ".join(str(v["name"]) for v in options)
            raise invalid("variant_required", f"choose one of: {names}", f"{param}.variant_id")
        return options[0]
    for v in options:
        if v["id"] == variant_id:
            return v
    raise not_found("variant", f"{param}.variant_id")


def _reserve(unit: Unit, priced: list[dict[str, Any]]) -> None:
    """Take every line's stock or none (the transaction rolls back on a refusal)."""
    need: dict[str, int] = defaultdict(int)
    for p in priced:
        need[p["variant_id"]] += p["quantity"]
    for variant_id in sorted(need):  # one order of row locks for every checkout
        if not catalog.take_stock(unit, variant_id, need[variant_id]):
            line = next(i for i, p in enumerate(priced) if p["variant_id"] == variant_id)
            left = unit.conn.execute(
                select(variants.c.stock).where(variants.c.id == variant_id)
            ).scalar_one()
            title = priced[line]["title"]
            message = f"only {left} of {title!r} left" if left else f"{title!r} is sold out"
            raise conflict("out_of_stock", message, f"lines.{line}.quantity")


# --- the state machine, recorded -------------------------------------------------------------
def order_row(unit: Unit, order_id: str, *, lock: bool = False) -> dict[str, Any]:
    query = select(orders).where(orders.c.id == order_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        raise not_found("order", "id")
    return dict(row)


def require_reach(unit: Unit, caller: Caller, order_id: str, what: str) -> None:
    """A shipment's or dispute's reader must reach its order; else "no such {what}"."""
    try:
        actor_of(caller, order_row(unit, order_id))
    except RefusalError:
        raise not_found(what, "id") from None


def acting(
    unit: Unit, caller: Caller, order_id: str, scope: str = "orders:write"
) -> tuple[dict[str, Any], Actor]:
    """The order, locked, and the caller's role on it (404 for strangers)."""
    caller.require(scope)
    order = order_row(unit, order_id, lock=True)
    actor = actor_of(caller, order)
    require_still(unit, order_id)
    return order, actor


def require_still(unit: Unit, order_id: str) -> None:
    """No escrow movement of the order under way (``moving``), else ``409
    order_movement_pending``: the order waits for its C."""
    if moving(unit, order_id):
        message = "the order's money is still moving in the ledger; try again in a moment"
        raise conflict("order_movement_pending", message, "id")


def moving(unit: Unit, order_id: str) -> bool:
    """On a TigerBeetle ledger: is one of the order's escrow movements still in the two-store
    order (its place unfinished)? Always False on the SQL ledger (no places)."""
    if unit.platform.ledger is None:
        return False
    query = (
        select(order_places.c.id)
        .join(two_store_payments, two_store_payments.c.payment_id == order_places.c.id)
        .where(order_places.c.order_id == order_id, two_store_payments.c.state.in_(UNFINISHED))
    )
    return unit.conn.execute(query.limit(1)).first() is not None


def transition(
    unit: Unit,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    *,
    amount_minor: int | None = None,
    note: str | None = None,
    **values: Any,
) -> OrderStatus:
    """Check and record one step; ``values`` are the order's other columns that change."""
    to = next_status(order["status"], action, actor.role)
    values.update(status=to.value, updated_at_ns=unit.now())
    unit.conn.execute(update(orders).where(orders.c.id == order["id"]).values(**values))
    record(unit, order["id"], action.value, order["status"], to, actor, amount_minor, note)
    order.update(values)
    return to


def record(
    unit: Unit,
    order_id: str,
    action: str,
    from_status: str | None,
    to: OrderStatus,
    actor: Actor,
    amount_minor: int | None = None,
    note: str | None = None,
) -> None:
    seq = unit.conn.execute(
        select(func.coalesce(func.max(order_events.c.seq), 0)).where(
            order_events.c.order_id == order_id
        )
    ).scalar_one()
    unit.conn.execute(
        insert(order_events),
        {
            "order_id": order_id,
            "seq": seq + 1,
            "action": action,
            "from_status": from_status,
            "to_status": to.value,
            "actor_role": actor.role.value,
            "actor_id": actor.actor_id,
            "amount_minor": amount_minor,
            "note": note,
            "at_ns": unit.now(),
        },
    )


def announce(unit: Unit, order_id: str, status: OrderStatus, actor: Actor) -> OrderView:
    """The order's view (for the caller's role) after a change, and its webhook event: named
    by the state reached, or ``order.partially_refunded`` for a refund that kept the state."""
    row = order_row(unit, order_id)
    view = order_view(unit, row, actor.role)
    event = order_view(unit, row, None)
    last = event["history"][-1]["action"] if event["history"] else None
    kind = "order.partially_refunded" if last == Action.REFUND_PARTIAL else EVENT_OF[status]
    emit(unit, kind, event, (row["buyer_id"], row["merchant_id"]))
    return view


def note_text(note: str | None, param: str = "note") -> str | None:
    if note is None:
        return None
    return text_rules.text(note, param, limits.DESCRIPTION_MAX_LENGTH, required=False) or None


# --- cancelling and expiring -----------------------------------------------------------------
def restock_unshipped(unit: Unit, order_id: str) -> None:
    """Put back what was reserved and neither shipped nor cancelled before."""
    lines = unit.conn.execute(select(order_lines).where(order_lines.c.order_id == order_id))
    for line in sorted(lines.mappings(), key=lambda r: r["variant_id"]):
        left = line["quantity"] - line["shipped_quantity"] - line["cancelled_quantity"]
        if left > 0:
            catalog.return_stock(unit, line["variant_id"], left)
            unit.conn.execute(
                update(order_lines)
                .where(order_lines.c.order_id == order_id)
                .where(order_lines.c.line_no == line["line_no"])
                .values(cancelled_quantity=line["cancelled_quantity"] + left)
            )


def expire(unit: Unit, *, order_id: str) -> bool:
    """Worker: cancel an unpaid order past its payment window, returning its stock."""
    order = order_row(unit, order_id, lock=True)
    if order["status"] != OrderStatus.PENDING_PAYMENT or order["expires_at_ns"] > unit.now():
        return False
    if moving(unit, order_id):  # its payment is under way: C (or recovery) decides
        return False
    restock_unshipped(unit, order_id)
    transition(unit, order, Action.EXPIRE, WORKER, expires_at_ns=None)
    announce(unit, order_id, OrderStatus.CANCELLED, WORKER)
    return True


def due(unit: Unit, status: OrderStatus, column: str, now: int, batch: int) -> list[str]:
    """Orders in ``status`` whose ``column`` time has come (the worker's queue)."""
    at = orders.c[column]
    query = select(orders.c.id).where(orders.c.status == status.value, at <= now)
    return list(unit.conn.execute(query.order_by(at).limit(batch)).scalars())


# --- reading ---------------------------------------------------------------------------------
def get(unit: Unit, caller: Caller, order_id: str) -> OrderView:
    caller.require("orders:read")
    order = order_row(unit, order_id)
    return order_view(unit, order, actor_of(caller, order).role)


def list_orders(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None,
    status: str | None = None,
    party_id: str | None = None,
) -> dict[str, Any]:
    """Newest first: a buyer's purchases and a merchant's sales (the operator: anyone's)."""
    caller.require("orders:read")
    if party_id is not None and not caller.reaches(party_id):
        raise not_found("party", "party_id")
    query = select(orders).order_by(orders.c.created_at_ns.desc(), orders.c.id.desc())
    who = caller.party_id or party_id
    if who:
        query = query.where(or_(orders.c.buyer_id == who, orders.c.merchant_id == who))
    if status:
        query = query.where(orders.c.status == status)
    if starting_after:
        cursor = order_row(unit, starting_after)
        actor_of(caller, cursor)
        query = query.where(
            or_(
                orders.c.created_at_ns < cursor["created_at_ns"],
                (orders.c.created_at_ns == cursor["created_at_ns"]) & (orders.c.id < cursor["id"]),
            )
        )
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    views = [order_view(unit, r, _role(caller, r)) for r in found[:limit]]
    return page(views, len(found) > limit)


def _role(caller: Caller, row: Any) -> Role:
    if caller.operator:
        return Role.OPERATOR
    return Role.BUYER if caller.party_id == row["buyer_id"] else Role.MERCHANT


def history(unit: Unit, order_id: str) -> list[OrderEventView]:
    found = unit.conn.execute(
        select(order_events).where(order_events.c.order_id == order_id).order_by(order_events.c.seq)
    ).mappings()
    return [
        {
            "action": e["action"],
            "from_status": e["from_status"],
            "to_status": e["to_status"],
            "actor_role": e["actor_role"],
            "actor_id": e["actor_id"],
            "amount_minor": e["amount_minor"],
            "note": e["note"],
            "at": iso(e["at_ns"]),
        }
        for e in found
    ]


def lines_of(unit: Unit, order_id: str) -> list[dict[str, Any]]:
    found = unit.conn.execute(
        select(order_lines)
        .where(order_lines.c.order_id == order_id)
        .order_by(order_lines.c.line_no)
    ).mappings()
    return [dict(r) for r in found]


DAY_NS = 86_400 * 10**9


def promised_at_ns(order: Any) -> int | None:
    """The end of a courier order's delivery window: paid plus the window's last day (None:
    a flat-fee order, or not paid)."""
    if order["window_max_days"] is None or order["paid_at_ns"] is None:
        return None
    return int(order["paid_at_ns"]) + int(order["window_max_days"]) * DAY_NS


def late_due(unit: Unit, now: int, batch: int) -> list[str]:
    """Paid or shipped courier orders past their promised date that nobody was told of yet
    (no ``order.late`` notice: it is written with the event, so it marks the order told)."""
    days = cast(orders.c.window_max_days, BigInteger)
    promised = orders.c.paid_at_ns + days * literal(DAY_NS, BigInteger)
    told = (
        select(notifications.c.id)
        .where(notifications.c.kind == "order.late", notifications.c.subject_id == orders.c.id)
        .exists()
    )
    query = select(orders.c.id).where(
        orders.c.status.in_((OrderStatus.PAID.value, OrderStatus.SHIPPED.value)),
        orders.c.window_max_days.is_not(None),
        orders.c.paid_at_ns.is_not(None),
        promised < now,
        ~told,
    )
    return list(unit.conn.execute(query.order_by(promised).limit(batch)).scalars())


def flag_late(unit: Unit, order_id: str) -> bool:
    """Tell the merchant and the buyer that an order is past its delivery window (the
    ``order.late`` event, its webhooks and notices): once, re-checked under the order's lock.
    """
    row = order_row(unit, order_id, lock=True)
    told = unit.conn.execute(
        select(notifications.c.id).where(
            notifications.c.kind == "order.late", notifications.c.subject_id == order_id
        )
    ).first()
    if told is not None or not is_late(unit, row):
        return False
    emit(unit, "order.late", order_view(unit, row, None), (row["buyer_id"], row["merchant_id"]))
    return True


def is_late(unit: Unit, order: Any) -> bool:
    """A paid or shipped courier order past its promised date (not yet delivered)."""
    promised = promised_at_ns(order)
    waiting = order["status"] in (OrderStatus.PAID, OrderStatus.SHIPPED)
    return promised is not None and waiting and unit.now() > promised


def order_view(unit: Unit, row: Any, role: Role | None) -> OrderView:
    """The order as its buyer, merchant or the operator sees it (``role`` None: an event)."""
    transfer_ids = movement.decode_ids(row["transfer_ids"])
    shipment_ids = unit.conn.execute(
        select(shipments.c.id)
        .where(shipments.c.order_id == row["id"])
        .order_by(shipments.c.created_at_ns)
    ).scalars()
    dispute_id = (
        unit.conn.execute(
            select(disputes.c.id)
            .where(disputes.c.order_id == row["id"])
            .order_by(disputes.c.opened_at_ns.desc())
        )
        .scalars()
        .first()
    )
    return {
        "id": row["id"],
        "short_ref": row["short_ref"],
        "object": "order",
        "status": row["status"],
        "storefront_id": row["storefront_id"],
        "merchant_id": row["merchant_id"],
        "buyer_id": row["buyer_id"],
        "currency": row["currency"],
        "lines": [
            {
                "line_no": line["line_no"],
                "product_id": line["product_id"],
                "variant_id": line["variant_id"],
                "title": line["title"],
                "unit_price_minor": line["unit_price_minor"],
                "quantity": line["quantity"],
                "shipped_quantity": line["shipped_quantity"],
                "cancelled_quantity": line["cancelled_quantity"],
                "amount_minor": line["unit_price_minor"] * line["quantity"],
            }
            for line in lines_of(unit, row["id"])
        ],
        "items_minor": row["items_minor"],
        "shipping_minor": row["shipping_minor"],
        "delivery": None
        if row["courier_code"] is None
        else {
            "courier": row["courier_code"],
            "name": couriers.name_of(unit, row["courier_code"]),
            "zone": row["delivery_zone"],
            "min_days": row["window_min_days"],
            "max_days": row["window_max_days"],
            "estimate": row["window_estimate"] != 0,
            "promised_at": iso(promised_at_ns(row)),
            "late": is_late(unit, row),
        },
        "total_minor": row["total_minor"],
        "escrow": {
            "account_id": row["escrow_account_id"],
            "paid_in_minor": row["paid_in_minor"],
            "held_minor": row["held_minor"],
            "released_minor": row["released_minor"],
            "fee_minor": row["fee_minor"],
            "refunded_minor": row["refunded_minor"],
        },
        "buyer_currency": row["buyer_currency"],
        "buyer_paid_minor": row["buyer_paid_minor"],
        "buyer_refunded_minor": row["buyer_refunded_minor"],
        "quote_id": row["quote_id"],
        # The buyer, the merchant and the operator see where it goes; events carry no
        # personal data (``services.commerce.addresses``).
        "shipping_address": addresses.of_order(unit, row["id"]) if role is not None else None,
        "transfer_ids": transfer_ids,
        # held for a risk review now (its payment into escrow, or a refund out of it): said
        # in words to the buyer and the merchant, never the rule (``services.risk.holds``)
        "under_review": bool(holds.under_review(unit, transfer_ids)),
        "shipment_ids": list(shipment_ids),
        "dispute_id": dispute_id,
        "allowed_actions": [a.value for a in allowed_actions(row["status"], role)]
        if role is not None
        else [],
        "history": history(unit, row["id"]),
        "expires_at": iso(row["expires_at_ns"]),
        "paid_at": iso(row["paid_at_ns"]),
        "delivered_at": iso(row["delivered_at_ns"]),
        "release_at": iso(row["release_at_ns"]),
        "completed_at": iso(row["completed_at_ns"]),
        "created": iso(row["created_at_ns"]),
        "updated": iso(row["updated_at_ns"]),
    }


def open_orders_held(unit: Unit) -> int:
    """The sum the orders say escrow holds (``verify`` compares it with the ledger)."""
    total = unit.conn.execute(
        select(func.coalesce(func.sum(orders.c.held_minor), 0)).where(
            orders.c.status.in_([s.value for s in OPEN])
        )
    ).scalar_one()
    return int(total)
