"""The order state machine: which action may move an order from which state, and who may act.

An order is ``pending_payment`` (stock reserved) until paid; ``paid`` means the buyer's money
is in the order's escrow account; ``shipped`` once the merchant has sent at least part of
it; ``delivered`` once every item is sent and every shipment arrived; ``completed`` when
escrow is released to the merchant (the buyer confirmed, the operator settled a dispute in
the merchant's favour, or the auto-release period passed with no dispute). ``cancelled``
and ``refunded`` end an order with the money back with the buyer (``cancelled`` before
anything shipped, ``refunded`` after). ``disputed`` freezes escrow until the operator
resolves it.

Every legal move is one row of ``TRANSITIONS``; anything else is refused with
``order_transition_invalid`` naming the state and the action. Partial moves (a second
shipment, a partial refund) are actions that keep the state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from tindahan.kernel.refusals import Category, RefusalError, conflict


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    DISPUTED = "disputed"


class Action(enum.StrEnum):
    PAY = "pay"
    CANCEL = "cancel"
    EXPIRE = "expire"  # the worker: unpaid past the payment window
    SHIP = "ship"  # first or further shipment
    DELIVER = "deliver"  # the last outstanding shipment arrived
    CONFIRM = "confirm"  # the buyer confirms receipt: escrow released now
    AUTO_RELEASE = "auto_release"  # the worker: delivered, no dispute, period over
    REFUND_PARTIAL = "refund_partial"
    REFUND_FULL = "refund_full"  # what is left in escrow goes back
    DISPUTE = "dispute"
    RESOLVE_RELEASE = "resolve_release"
    RESOLVE_REFUND = "resolve_refund"
    RESOLVE_SPLIT = "resolve_split"


class Role(enum.StrEnum):
    BUYER = "buyer"
    MERCHANT = "merchant"
    OPERATOR = "operator"
    COURIER = "courier"
    WORKER = "worker"  # the platform itself, on a clock


S, A, R = OrderStatus, Action, Role
OPEN = frozenset({S.PAID, S.SHIPPED, S.DELIVERED, S.DISPUTED})
"""States with money in escrow."""
TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.REFUNDED})


@dataclass(frozen=True, slots=True)
class Rule:
    to: OrderStatus
    roles: frozenset[Role]


def _rule(to: OrderStatus, *roles: Role) -> Rule:
    return Rule(to, frozenset(roles) | {R.OPERATOR})


_SELLER = (R.MERCHANT,)
TRANSITIONS: dict[tuple[OrderStatus, Action], Rule] = {
    (S.PENDING_PAYMENT, A.PAY): _rule(S.PAID, R.BUYER),
    (S.PENDING_PAYMENT, A.CANCEL): _rule(S.CANCELLED, R.BUYER, R.MERCHANT),
    (S.PENDING_PAYMENT, A.EXPIRE): _rule(S.CANCELLED, R.WORKER),
    (S.PAID, A.CANCEL): _rule(S.CANCELLED, R.BUYER, R.MERCHANT),
    (S.PAID, A.SHIP): _rule(S.SHIPPED, *_SELLER),
    (S.PAID, A.REFUND_PARTIAL): _rule(S.PAID, *_SELLER),
    (S.PAID, A.REFUND_FULL): _rule(S.REFUNDED, *_SELLER),
    (S.PAID, A.DISPUTE): _rule(S.DISPUTED, R.BUYER),
    (S.SHIPPED, A.SHIP): _rule(S.SHIPPED, *_SELLER),
    (S.SHIPPED, A.DELIVER): _rule(S.DELIVERED, R.MERCHANT, R.COURIER),
    (S.SHIPPED, A.CONFIRM): _rule(S.COMPLETED, R.BUYER),
    (S.SHIPPED, A.REFUND_PARTIAL): _rule(S.SHIPPED, *_SELLER),
    (S.SHIPPED, A.REFUND_FULL): _rule(S.REFUNDED, *_SELLER),
    (S.SHIPPED, A.DISPUTE): _rule(S.DISPUTED, R.BUYER),
    (S.DELIVERED, A.CONFIRM): _rule(S.COMPLETED, R.BUYER),
    (S.DELIVERED, A.AUTO_RELEASE): _rule(S.COMPLETED, R.WORKER),
    (S.DELIVERED, A.REFUND_PARTIAL): _rule(S.DELIVERED, *_SELLER),
    (S.DELIVERED, A.REFUND_FULL): _rule(S.REFUNDED, *_SELLER),
    (S.DELIVERED, A.DISPUTE): _rule(S.DISPUTED, R.BUYER),
    (S.DISPUTED, A.RESOLVE_RELEASE): Rule(S.COMPLETED, frozenset({R.OPERATOR})),
    (S.DISPUTED, A.RESOLVE_REFUND): Rule(S.REFUNDED, frozenset({R.OPERATOR})),
    (S.DISPUTED, A.RESOLVE_SPLIT): Rule(S.COMPLETED, frozenset({R.OPERATOR})),
}


def next_status(status: OrderStatus | str, action: Action, role: Role) -> OrderStatus:
    """The state ``action`` leads to from ``status``; refused if illegal or not ``role``'s."""
    current = OrderStatus(status)
    rule = TRANSITIONS.get((current, action))
    if rule is None:
        message = f"an order that is {current.value} cannot {_verb(action)}"
        raise conflict("order_transition_invalid", message, "status")
    if role not in rule.roles:
        who = " or ".join(sorted(r.value for r in rule.roles if r is not R.OPERATOR))
        message = f"only the {who or 'operator'} may {_verb(action)} this order"
        raise RefusalError(Category.PERMISSION, "order_action_forbidden", message)
    return rule.to


def allowed_actions(status: OrderStatus | str, role: Role) -> list[Action]:
    """What ``role`` may do next (the API shows it, an app greys out the rest)."""
    current = OrderStatus(status)
    return [a for (s, a), rule in TRANSITIONS.items() if s == current and role in rule.roles]


def _verb(action: Action) -> str:
    return {
        A.PAY: "be paid",
        A.CANCEL: "be cancelled",
        A.EXPIRE: "expire",
        A.SHIP: "be shipped",
        A.DELIVER: "be delivered",
        A.CONFIRM: "be confirmed as received",
        A.AUTO_RELEASE: "be released automatically",
        A.REFUND_PARTIAL: "be refunded",
        A.REFUND_FULL: "be refunded",
        A.DISPUTE: "be disputed",
        A.RESOLVE_RELEASE: "have a dispute resolved",
        A.RESOLVE_REFUND: "have a dispute resolved",
        A.RESOLVE_SPLIT: "have a dispute resolved",
    }[action]
