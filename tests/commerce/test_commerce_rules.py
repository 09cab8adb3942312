"""Unit tests of the commerce domain rules: orders, FX, escrow, catalog and shipments.

Plain Python, no database. These rules decide who may move an order and how much money
changes hands, so each one is checked against an expectation written out here, not read
back from the module under test:

* the order state machine against a specification table that follows the module docstring,
  for every (status, action, role) combination, plus a Hypothesis state machine that walks
  random action sequences from ``pending_payment``;
* FX quotes and refunds against exact ``Fraction`` arithmetic: the buyer pays the least amount
  that covers the PHP total, and partial refunds give back exactly what was paid, never more;
* the escrow fee (``HALF_UP``) and dispute splits, with conservation checked by Hypothesis;
* catalog and shipment validation at their edges, with the exact refusal codes.
"""

from __future__ import annotations

import itertools
import string
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings, stateful
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition

from tests.profiles import examples
from tindahan import limits
from tindahan.commerce import catalog, escrow, fx, shipments
from tindahan.commerce.orders import (
    OPEN,
    TERMINAL,
    TRANSITIONS,
    Action,
    OrderStatus,
    Role,
    allowed_actions,
    next_status,
)
from tindahan.commerce.shipments import ShipmentStatus
from tindahan.kernel.refusals import Category, RefusalError


def assert_refused(
    exc: pytest.ExceptionInfo[RefusalError],
    code: str,
    category: Category = Category.INVALID,
    param: str | None = None,
) -> None:
    assert exc.value.code == code
    assert exc.value.category == category
    if param is not None:
        assert exc.value.param == param
    assert exc.value.message  # every refusal says why in a sentence


# =============================================================================================
# 1. The order state machine
# =============================================================================================

S = OrderStatus
A = Action
R = Role

#: The specification, written from the module docstring and the business rules: for each legal
#: (status, action), the status it leads to and who besides the operator may do it.
SPEC: dict[tuple[str, str], tuple[str, frozenset[str]]] = {
    ("pending_payment", "pay"): ("paid", frozenset({"buyer"})),
    ("pending_payment", "cancel"): ("cancelled", frozenset({"buyer", "merchant"})),
    ("pending_payment", "expire"): ("cancelled", frozenset({"worker"})),
    ("paid", "cancel"): ("cancelled", frozenset({"buyer", "merchant"})),
    ("paid", "ship"): ("shipped", frozenset({"merchant"})),
    ("paid", "refund_partial"): ("paid", frozenset({"merchant"})),
    ("paid", "refund_full"): ("refunded", frozenset({"merchant"})),
    ("paid", "dispute"): ("disputed", frozenset({"buyer"})),
    ("shipped", "ship"): ("shipped", frozenset({"merchant"})),
    ("shipped", "deliver"): ("delivered", frozenset({"merchant", "courier"})),
    ("shipped", "confirm"): ("completed", frozenset({"buyer"})),
    ("shipped", "refund_partial"): ("shipped", frozenset({"merchant"})),
    ("shipped", "refund_full"): ("refunded", frozenset({"merchant"})),
    ("shipped", "dispute"): ("disputed", frozenset({"buyer"})),
    ("delivered", "confirm"): ("completed", frozenset({"buyer"})),
    ("delivered", "auto_release"): ("completed", frozenset({"worker"})),
    ("delivered", "refund_partial"): ("delivered", frozenset({"merchant"})),
    ("delivered", "refund_full"): ("refunded", frozenset({"merchant"})),
    ("delivered", "dispute"): ("disputed", frozenset({"buyer"})),
    ("disputed", "resolve_release"): ("completed", frozenset()),
    ("disputed", "resolve_refund"): ("refunded", frozenset()),
    ("disputed", "resolve_split"): ("completed", frozenset()),
}
TERMINAL_NAMES = frozenset({"completed", "cancelled", "refunded"})


def expected_outcome(status: str, action: str, role: str) -> str:
    """The target status, or the refusal code, that the specification gives."""
    found = SPEC.get((status, action))
    if found is None:
        return "order_transition_invalid"
    to, roles = found
    if role != "operator" and role not in roles:
        return "order_action_forbidden"
    return to


def test_the_table_is_the_specification() -> None:
    """Same legal pairs, same targets, same roles (the operator is in every rule)."""
    actual = {
        (s.value, a.value): (rule.to.value, frozenset(r.value for r in rule.roles))
        for (s, a), rule in TRANSITIONS.items()
    }
    expected = {key: (to, roles | {"operator"}) for key, (to, roles) in SPEC.items()}
    assert actual == expected


@pytest.mark.parametrize(
    ("status", "action", "role"),
    list(itertools.product(OrderStatus, Action, Role)),
    ids=lambda v: v.value,
)
def test_every_status_action_role(status: OrderStatus, action: Action, role: Role) -> None:
    outcome = expected_outcome(status.value, action.value, role.value)
    if outcome == "order_transition_invalid":
        with pytest.raises(RefusalError) as exc:
            next_status(status, action, role)
        assert_refused(exc, "order_transition_invalid", Category.CONFLICT, "status")
        assert status.value in exc.value.message
    elif outcome == "order_action_forbidden":
        with pytest.raises(RefusalError) as exc:
            next_status(status, action, role)
        assert_refused(exc, "order_action_forbidden", Category.PERMISSION)
        assert exc.value.message.startswith("only the ")
    else:
        got = next_status(status, action, role)
        assert isinstance(got, OrderStatus)
        assert got == OrderStatus(outcome)
        assert got is TRANSITIONS[(status, action)].to


def test_next_status_accepts_the_stored_text_of_a_status() -> None:
    """Services pass the status column's text, not the enum member."""
    assert next_status("pending_payment", A.PAY, R.BUYER) is S.PAID
    with pytest.raises(RefusalError) as exc:
        next_status("completed", A.REFUND_FULL, R.OPERATOR)
    assert_refused(exc, "order_transition_invalid", Category.CONFLICT)


@pytest.mark.parametrize(("status", "action"), list(TRANSITIONS), ids=lambda v: v.value)
def test_the_operator_may_do_everything_that_is_legal(status: S, action: A) -> None:
    assert next_status(status, action, R.OPERATOR) is TRANSITIONS[(status, action)].to


@pytest.mark.parametrize("status", sorted(TERMINAL), ids=lambda v: v.value)
def test_terminal_states_allow_nothing(status: S) -> None:
    for action, role in itertools.product(Action, Role):
        with pytest.raises(RefusalError) as exc:
            next_status(status, action, role)
        assert_refused(exc, "order_transition_invalid", Category.CONFLICT)
        assert allowed_actions(status, role) == []


def test_terminal_and_open_sets() -> None:
    assert {s.value for s in TERMINAL} == TERMINAL_NAMES
    assert {s.value for s in OPEN} == {"paid", "shipped", "delivered", "disputed"}
    # every state is unpaid, open (money in escrow) or ended: exactly one of them
    assert set(OrderStatus) == {S.PENDING_PAYMENT} | OPEN | TERMINAL
    assert not OPEN & TERMINAL


@pytest.mark.parametrize(
    ("status", "role"), list(itertools.product(OrderStatus, Role)), ids=lambda v: v.value
)
def test_allowed_actions_agree_with_next_status(status: S, role: R) -> None:
    accepted = []
    for action in Action:
        try:
            next_status(status, action, role)
        except RefusalError:
            continue
        accepted.append(action)
    listed = allowed_actions(status, role)
    assert len(listed) == len(set(listed))
    assert set(listed) == set(accepted)
    assert set(listed) == {
        Action(a)
        for (s, a), (to, _) in SPEC.items()
        if s == status.value and expected_outcome(s, a, role.value) == to
    }
    assert allowed_actions(status.value, role) == listed  # the stored text works too


def reachable_from(start: S) -> set[S]:
    seen, frontier = {start}, [start]
    while frontier:
        here = frontier.pop()
        for (status, _), found in TRANSITIONS.items():
            if status is here and found.to not in seen:
                seen.add(found.to)
                frontier.append(found.to)
    return seen


def test_every_state_is_reachable_and_no_open_order_is_stuck() -> None:
    """From pending_payment every state can be reached; from every state an end can be."""
    assert reachable_from(S.PENDING_PAYMENT) == set(OrderStatus)
    for start in set(OrderStatus) - TERMINAL:
        assert reachable_from(start) & TERMINAL, f"{start} can never end"


def test_money_rules_of_the_ends() -> None:
    """Cancelled only before shipping, refunded only with money in escrow, completed only
    after shipping or a dispute: no order completes or is refunded before it is paid."""
    for (status, _), found in TRANSITIONS.items():
        if found.to is S.CANCELLED:
            assert status in {S.PENDING_PAYMENT, S.PAID}
        if found.to is S.REFUNDED:
            assert status in OPEN
        if found.to is S.COMPLETED:
            assert status in {S.SHIPPED, S.DELIVERED, S.DISPUTED}
        if status is S.PENDING_PAYMENT:
            assert found.to in {S.PAID, S.CANCELLED}


# --- the business rules, spelled out ---------------------------------------------------------


def forbidden(status: S, action: A, role: R) -> None:
    with pytest.raises(RefusalError) as exc:
        next_status(status, action, role)
    assert_refused(exc, "order_action_forbidden", Category.PERMISSION)


def illegal(status: S, action: A, role: R) -> None:
    with pytest.raises(RefusalError) as exc:
        next_status(status, action, role)
    assert_refused(exc, "order_transition_invalid", Category.CONFLICT)


def test_the_buyer_pays_and_no_one_else_but_the_operator() -> None:
    assert next_status(S.PENDING_PAYMENT, A.PAY, R.BUYER) is S.PAID
    for role in (R.MERCHANT, R.COURIER, R.WORKER):
        forbidden(S.PENDING_PAYMENT, A.PAY, role)
    illegal(S.PAID, A.PAY, R.BUYER)  # no paying twice


def test_the_merchant_ships() -> None:
    assert next_status(S.PAID, A.SHIP, R.MERCHANT) is S.SHIPPED
    assert next_status(S.SHIPPED, A.SHIP, R.MERCHANT) is S.SHIPPED  # a further parcel
    for role in (R.BUYER, R.COURIER, R.WORKER):
        forbidden(S.PAID, A.SHIP, role)
        forbidden(S.SHIPPED, A.SHIP, role)
    illegal(S.PENDING_PAYMENT, A.SHIP, R.MERCHANT)  # not before payment
    illegal(S.DELIVERED, A.SHIP, R.MERCHANT)
    illegal(S.DISPUTED, A.SHIP, R.MERCHANT)


def test_a_buyer_cannot_ship_and_a_merchant_cannot_dispute() -> None:
    forbidden(S.PAID, A.SHIP, R.BUYER)
    for status in (S.PAID, S.SHIPPED, S.DELIVERED):
        forbidden(status, A.DISPUTE, R.MERCHANT)
        assert next_status(status, A.DISPUTE, R.BUYER) is S.DISPUTED
    illegal(S.PENDING_PAYMENT, A.DISPUTE, R.BUYER)  # nothing in escrow to freeze


def test_only_the_operator_resolves_disputes() -> None:
    resolutions = {
        A.RESOLVE_RELEASE: S.COMPLETED,
        A.RESOLVE_REFUND: S.REFUNDED,
        A.RESOLVE_SPLIT: S.COMPLETED,
    }
    for action, to in resolutions.items():
        assert next_status(S.DISPUTED, action, R.OPERATOR) is to
        for role in (R.BUYER, R.MERCHANT, R.COURIER, R.WORKER):
            forbidden(S.DISPUTED, action, role)
        for status in set(OrderStatus) - {S.DISPUTED}:
            illegal(status, action, R.OPERATOR)


def test_disputed_allows_only_the_resolutions() -> None:
    assert set(allowed_actions(S.DISPUTED, R.OPERATOR)) == {
        A.RESOLVE_RELEASE,
        A.RESOLVE_REFUND,
        A.RESOLVE_SPLIT,
    }
    for role in (R.BUYER, R.MERCHANT, R.COURIER, R.WORKER):
        assert allowed_actions(S.DISPUTED, role) == []
    for action in set(Action) - {A.RESOLVE_RELEASE, A.RESOLVE_REFUND, A.RESOLVE_SPLIT}:
        illegal(S.DISPUTED, action, R.OPERATOR)  # escrow is frozen: no refunds, no release


def test_the_worker_expires_only_unpaid_orders_and_auto_releases_only_delivered_ones() -> None:
    assert next_status(S.PENDING_PAYMENT, A.EXPIRE, R.WORKER) is S.CANCELLED
    assert next_status(S.DELIVERED, A.AUTO_RELEASE, R.WORKER) is S.COMPLETED
    assert set(allowed_actions(S.PENDING_PAYMENT, R.WORKER)) == {A.EXPIRE}
    assert set(allowed_actions(S.DELIVERED, R.WORKER)) == {A.AUTO_RELEASE}
    for status in set(OrderStatus) - {S.PENDING_PAYMENT, S.DELIVERED}:
        assert allowed_actions(status, R.WORKER) == []
    for status in set(OrderStatus) - {S.PENDING_PAYMENT}:
        illegal(status, A.EXPIRE, R.WORKER)
    for status in set(OrderStatus) - {S.DELIVERED}:
        illegal(status, A.AUTO_RELEASE, R.WORKER)
    for role in (R.BUYER, R.MERCHANT, R.COURIER):
        forbidden(S.PENDING_PAYMENT, A.EXPIRE, role)
        forbidden(S.DELIVERED, A.AUTO_RELEASE, role)


def test_the_courier_only_delivers() -> None:
    assert next_status(S.SHIPPED, A.DELIVER, R.COURIER) is S.DELIVERED
    assert next_status(S.SHIPPED, A.DELIVER, R.MERCHANT) is S.DELIVERED
    forbidden(S.SHIPPED, A.DELIVER, R.BUYER)
    for status in OrderStatus:
        expected = [A.DELIVER] if status is S.SHIPPED else []
        assert allowed_actions(status, R.COURIER) == expected


def test_refunds_are_the_merchants_and_keep_or_end_the_order() -> None:
    for status in (S.PAID, S.SHIPPED, S.DELIVERED):
        assert next_status(status, A.REFUND_PARTIAL, R.MERCHANT) is status
        assert next_status(status, A.REFUND_FULL, R.MERCHANT) is S.REFUNDED
        forbidden(status, A.REFUND_PARTIAL, R.BUYER)
        forbidden(status, A.REFUND_FULL, R.BUYER)
    illegal(S.PENDING_PAYMENT, A.REFUND_FULL, R.MERCHANT)


def test_cancel_only_before_shipping() -> None:
    for status in (S.PENDING_PAYMENT, S.PAID):
        for role in (R.BUYER, R.MERCHANT):
            assert next_status(status, A.CANCEL, role) is S.CANCELLED
        forbidden(status, A.CANCEL, R.COURIER)
    for status in (S.SHIPPED, S.DELIVERED, S.DISPUTED):
        illegal(status, A.CANCEL, R.BUYER)


class OrderWalk(RuleBasedStateMachine):
    """Random (action, role) steps from pending_payment, checked against SPEC."""

    def __init__(self) -> None:
        super().__init__()
        self.status = S.PENDING_PAYMENT
        self.ended_at: S | None = None

    def _step(self, action: A, role: R) -> None:
        before = self.status
        expected = expected_outcome(before.value, action.value, role.value)
        try:
            after = next_status(before, action, role)
        except RefusalError as exc:
            # refused: the order stays where it was, for the reason the specification gives
            assert exc.code == expected
            assert action not in allowed_actions(before, role)
            assert self.status is before
            return
        assert before not in TERMINAL, f"{before} accepted {action} from {role}"
        rule_ = TRANSITIONS[(before, action)]
        assert role in rule_.roles
        assert after is rule_.to
        assert after.value == expected
        assert action in allowed_actions(before, role)
        self.status = after
        if after in TERMINAL:
            self.ended_at = after

    @stateful.rule(action=st.sampled_from(Action), role=st.sampled_from(Role))
    def anything(self, action: A, role: R) -> None:
        self._step(action, role)

    @precondition(lambda self: self.status not in TERMINAL)
    @stateful.rule(data=st.data())
    def something_legal(self, data: st.DataObject) -> None:
        """Drive the walk forward so it reaches the deep states and the ends."""
        moves = [(a, r) for r in Role for a in allowed_actions(self.status, r)]
        action, role = data.draw(st.sampled_from(moves))
        self._step(action, role)

    @invariant()
    def terminal_stays_terminal(self) -> None:
        if self.ended_at is not None:
            assert self.status is self.ended_at
        assert isinstance(self.status, OrderStatus)


TestOrderWalk = OrderWalk.TestCase
TestOrderWalk.settings = settings(max_examples=examples(150), stateful_step_count=25, deadline=None)


# =============================================================================================
# 2. FX: rates, spreads, quotes and refunds for buyers abroad
# =============================================================================================


def test_worked_example() -> None:
    """USD/PHP 58.25 with a 150 bps spread; ₱590.00 costs $10.29."""
    assert fx.customer_rate(Decimal("58.25"), 150) == Decimal("57.37625")
    q = fx.quote(59_000, "USD", Decimal("58.25"), 150)
    assert q == fx.Quote("USD", Decimal("58.25"), 150, Decimal("57.37625"), 59_000, 1029)
    assert fx.php_value(1029, "USD", q.customer_rate) == 59_040  # 590.40: covers 590.00
    assert fx.php_value(1028, "USD", q.customer_rate) == 58_982  # 589.82: one cent short


@pytest.mark.parametrize(
    ("mid", "bps", "expected"),
    [
        ("58.25", 0, "58.25"),
        ("58.25", 150, "57.37625"),
        ("58.25", 1000, "52.425"),
        ("10000", 1000, "9000"),
        ("0.0001", 1000, "0.00009"),
        ("8.123456789012", 1, "8.1226444433330988"),  # 12 digits of mid, 17 of result: exact
    ],
)
def test_customer_rate_is_exact(mid: str, bps: int, expected: str) -> None:
    assert fx.customer_rate(Decimal(mid), bps) == Decimal(expected)


@pytest.mark.parametrize(
    ("buyer_minor", "rate", "expected"),
    [
        (1029, "57.37625", 59_040),  # 59,040.16... centavos -> 59,040
        (1, "57.37625", 57),  # 57.37625 -> 57 (HALF_UP would agree; the next ones do not)
        (1, "0.99", 0),  # 0.99 -> 0
        (100, "1.999", 199),  # 199.9 -> 199
        (3, "33.335", 100),  # 100.005 -> 100
        (7, "10.5", 73),  # 73.5 -> 73
    ],
)
def test_php_value_rounds_down(buyer_minor: int, rate: str, expected: int) -> None:
    exact = Fraction(buyer_minor) * Fraction(Decimal(rate))
    assert expected == int(exact)  # the cases are what rounding DOWN gives
    assert fx.php_value(buyer_minor, "USD", Decimal(rate)) == expected


@pytest.mark.parametrize(
    "text",
    ["0.0001", "10000", "58.25", "1", "9999.99999999", "0.000123456789", "58.250000000000000"],
)
def test_rate_accepts_rates_within_the_bounds(text: str) -> None:
    got = fx.rate(text)
    assert got == Decimal(text)
    assert Decimal(limits.FX_RATE_MIN) <= got <= Decimal(limits.FX_RATE_MAX)


@pytest.mark.parametrize(
    "text",
    [
        "0.00009999",  # below the minimum
        "0",
        "-58.25",
        "10000.0001",  # above the maximum
        "58250",  # the 1000x typo the bounds are for
        "1234.567890123",  # 13 significant digits
        "",
        "abc",
        "58,25",
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        None,
    ],
)
def test_rate_refuses(text: Any) -> None:
    with pytest.raises(RefusalError) as exc:
        fx.rate(text, "mid_rate")
    assert_refused(exc, "rate_invalid", Category.INVALID, "mid_rate")


def test_rate_digit_limit_is_on_significant_digits() -> None:
    assert len(fx.rate("1234.56789012").as_tuple().digits) == limits.FX_RATE_MAX_DIGITS
    with pytest.raises(RefusalError) as exc:
        fx.rate("1234.567890121")
    assert_refused(exc, "rate_invalid", Category.INVALID, "rate")


@pytest.mark.parametrize("value", [0, 1, 150, limits.MAX_FX_SPREAD_BPS])
def test_spread_accepts(value: int) -> None:
    assert fx.spread(value) == value


@pytest.mark.parametrize(
    "value", [-1, limits.MAX_FX_SPREAD_BPS + 1, 10_000, True, False, 1.5, 150.0, "150", None]
)
def test_spread_refuses(value: object) -> None:
    with pytest.raises(RefusalError) as exc:
        fx.spread(value)
    assert_refused(exc, "spread_invalid", Category.INVALID, "spread_bps")


def test_supported_currencies() -> None:
    assert limits.FX_CURRENCIES == ("CNY", "EUR", "USD")
    for code in limits.FX_CURRENCIES:
        assert fx.supported(code) == code


@pytest.mark.parametrize("code", ["PHP", "usd", "JPY", "GBP", "", "US D"])
def test_unsupported_currencies(code: str) -> None:
    with pytest.raises(RefusalError) as exc:
        fx.supported(code)
    assert_refused(exc, "fx_pair_unsupported", Category.INVALID, "currency")
    with pytest.raises(RefusalError) as exc:
        fx.quote(59_000, code, Decimal("58.25"), 150)
    assert_refused(exc, "fx_pair_unsupported", Category.INVALID, "currency")


@st.composite
def mid_rates(draw: st.DrawFn) -> Decimal:
    """Rates an operator may enter: up to 12 significant digits, from 0.0001 to 10000."""
    edge = draw(st.sampled_from([None, None, None, "0.0001", "10000", "58.25", "0.0002"]))
    if edge is not None:
        return Decimal(edge)
    mantissa = draw(st.integers(1, 10**limits.FX_RATE_MAX_DIGITS - 1))
    leading = draw(st.integers(-4, 3))  # the power of ten of the first digit
    value = Decimal(mantissa).scaleb(leading - (len(str(mantissa)) - 1))
    return fx.rate(format(value, "f"))  # what the operator's text becomes


currencies = st.sampled_from(limits.FX_CURRENCIES)
spreads = st.integers(0, limits.MAX_FX_SPREAD_BPS)
php_totals = st.integers(1, 10**12)


@settings(max_examples=examples(400), deadline=None)
@given(php_minor=php_totals, currency=currencies, mid=mid_rates(), spread_bps=spreads)
def test_quote_is_the_least_amount_that_covers_the_total(
    php_minor: int, currency: str, mid: Decimal, spread_bps: int
) -> None:
    q = fx.quote(php_minor, currency, mid, spread_bps)
    rate_ = Fraction(mid) * (10_000 - spread_bps) / 10_000
    assert Fraction(q.customer_rate) == rate_
    assert (q.currency, q.mid_rate, q.spread_bps, q.php_minor) == (
        currency,
        mid,
        spread_bps,
        php_minor,
    )
    # no centavo lost or created: what the buyer pays is worth the total, rounded DOWN ...
    assert fx.php_value(q.buyer_minor, currency, q.customer_rate) >= php_minor
    assert int(q.buyer_minor * rate_) >= php_minor
    # ... and one minor unit less would not be
    assert q.buyer_minor == 1 or fx.php_value(q.buyer_minor - 1, currency, q.customer_rate) < (
        php_minor
    )
    # so the buyer pays the exact quotient rounded UP: never less, under one unit more
    exact = Fraction(php_minor) / rate_
    assert exact <= q.buyer_minor < exact + 1


@settings(max_examples=examples(300), deadline=None)
@given(buyer_minor=st.integers(0, 10**14), currency=currencies, mid=mid_rates(), bps=spreads)
def test_php_value_is_the_floor_of_the_exact_product(
    buyer_minor: int, currency: str, mid: Decimal, bps: int
) -> None:
    rate_ = fx.customer_rate(mid, bps)
    exact = Fraction(buyer_minor) * Fraction(rate_)
    assert fx.php_value(buyer_minor, currency, rate_) == exact.numerator // exact.denominator


@st.composite
def refund_plans(draw: st.DrawFn) -> tuple[int, int, list[int]]:
    """(buyer_minor, php_minor, partial refunds in centavos adding up to php_minor)."""
    php_minor = draw(php_totals)
    if draw(st.booleans()):
        q = fx.quote(php_minor, draw(currencies), draw(mid_rates()), draw(spreads))
        buyer_minor = q.buyer_minor
    else:
        buyer_minor = draw(st.integers(1, 10**16))
    if php_minor == 1:
        return buyer_minor, php_minor, [1]
    small = st.integers(1, min(php_minor - 1, 5))  # cuts near the start: tiny refunds
    cuts = draw(st.lists(st.one_of(st.integers(1, php_minor - 1), small), max_size=12, unique=True))
    points = [0, *sorted(cuts), php_minor]
    return buyer_minor, php_minor, [b - a for a, b in itertools.pairwise(points)]


@settings(max_examples=examples(400), deadline=None)
@given(plan=refund_plans())
def test_partial_refunds_give_back_exactly_what_was_paid(plan: tuple[int, int, list[int]]) -> None:
    buyer_minor, php_minor, parts = plan
    refunded, returned = 0, 0
    for part in parts:
        share = fx.refund_share(buyer_minor, php_minor, refunded, part)
        assert share >= 0
        refunded += part
        returned += share
        # never more than paid, and never more than the proportional share so far
        assert returned <= buyer_minor
        assert Fraction(returned) <= Fraction(buyer_minor * refunded, php_minor)
        assert Fraction(returned) > Fraction(buyer_minor * refunded, php_minor) - 1
    assert refunded == php_minor
    assert returned == buyer_minor


def test_refund_share_examples() -> None:
    # $10.29 paid for ₱590.00: a third, then a third, then the rest
    assert fx.refund_share(1029, 59_000, 0, 19_666) == 342  # 342.99 -> 342
    assert fx.refund_share(1029, 59_000, 19_666, 19_667) == 343  # cumulative 685.99 -> 685
    assert fx.refund_share(1029, 59_000, 39_333, 19_667) == 344  # the rest: 1029 in all
    assert fx.refund_share(1029, 59_000, 0, 59_000) == 1029
    assert fx.refund_share(1, 59_000, 0, 58_999) == 0  # the single cent goes back last
    assert fx.refund_share(1, 59_000, 58_999, 1) == 1


def test_quote_too_large_is_refused() -> None:
    """A total worth more than 2**63-1 minor units of the buyer's currency is a refusal
    (it used to escape as the money package's AmountOutOfRangeError)."""
    with pytest.raises(RefusalError) as exc:
        fx.quote(10**17, "USD", Decimal(limits.FX_RATE_MIN), 0)  # $10**21 cents
    assert_refused(exc, "amount_invalid", Category.INVALID, "currency")


@pytest.mark.parametrize(
    "text", ["5_8.25", " 58.25 ", "5.825E1", "\u0665\u0668.\u0662\u0665", "+58.25", "58.", ".5"]
)
def test_rates_are_plain_ascii_decimals(text: str) -> None:
    with pytest.raises(RefusalError) as exc:
        fx.rate(text)
    assert exc.value.code == "rate_invalid"


# =============================================================================================
# 3. Escrow: the marketplace fee and dispute splits
# =============================================================================================


@pytest.mark.parametrize(
    ("amount", "bps", "merchant", "fee"),
    [
        (59_000, 200, 57_820, 1_180),  # exact
        (25, 200, 24, 1),  # 0.5 centavo: HALF_UP gives 1 (HALF_EVEN and DOWN give 0)
        (125, 200, 122, 3),  # 2.5: HALF_UP gives 3 (HALF_EVEN gives 2)
        (24, 200, 24, 0),  # 0.48: down
        (74, 200, 73, 1),  # 1.48: down
        (76, 200, 74, 2),  # 1.52: up
        (1, 5_000, 0, 1),  # 0.5: up, the merchant gets nothing
        (0, 200, 0, 0),
        (59_000, 0, 59_000, 0),
        (10_000, limits.MAX_FEE_BPS, 9_000, 1_000),
    ],
)
def test_release_fee_is_half_up(amount: int, bps: int, merchant: int, fee: int) -> None:
    got = escrow.release(amount, "PHP", bps)
    assert (got.merchant_minor, got.fee_minor) == (merchant, fee)
    assert got.total_minor == amount


@settings(max_examples=examples(300), deadline=None)
@given(amount=st.integers(0, 10**15), bps=st.integers(0, 10_000))
def test_release_conserves_the_amount(amount: int, bps: int) -> None:
    got = escrow.release(amount, "PHP", bps)
    exact = Fraction(amount * bps, 10_000)
    assert got.fee_minor == int(exact + Fraction(1, 2))  # HALF_UP for a non-negative amount
    assert got.merchant_minor + got.fee_minor == amount == got.total_minor
    assert 0 <= got.fee_minor <= amount


@pytest.mark.parametrize(("held", "refund"), [(100, 1), (100, 50), (100, 99), (2, 1)])
def test_split_accepts_a_part(held: int, refund: int) -> None:
    assert escrow.split(held, refund) == (refund, held - refund)


@pytest.mark.parametrize(
    ("held", "refund"),
    [
        (100, 0),  # nothing back: that is resolve_release
        (100, 100),  # everything back: that is resolve_refund
        (100, 101),
        (100, -1),
        (1, 1),
        (100, True),
        (100, 50.0),
        (100, "50"),
        (100, None),
    ],
)
def test_split_refuses(held: int, refund: object) -> None:
    with pytest.raises(RefusalError) as exc:
        escrow.split(held, refund)
    assert_refused(exc, "split_invalid", Category.INVALID, "refund_minor")


@given(data=st.data(), held=st.integers(2, 10**15))
def test_split_conserves_the_escrow(data: st.DataObject, held: int) -> None:
    refund = data.draw(st.integers(1, held - 1))
    to_buyer, to_merchant = escrow.split(held, refund)
    assert to_buyer == refund
    assert to_merchant > 0
    assert to_buyer + to_merchant == held


# =============================================================================================
# 4. Catalog validation
# =============================================================================================


@pytest.mark.parametrize(
    "value",
    ["aling-nena", "abc", "a-b", "123", "a1b2", "aling-nenas-store-2", "a" * 48, "ab-" + "c" * 45],
)
def test_slug_accepts(value: str) -> None:
    assert catalog.slug(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "Aling",
        "aling-Nena",
        "a--b",
        "-ab",
        "ab-",
        "ab",
        "á-b",
        "a" * 49,
        "",
        "a b",
        "a_b",
        "aling.nena",
        "abc\n",
        "abc/",
        "１２３",  # fullwidth digits
        None,
        123,
        b"abc",
    ],
)
def test_slug_refuses(value: object) -> None:
    with pytest.raises(RefusalError) as exc:
        catalog.slug(value)
    assert_refused(exc, "slug_invalid", Category.INVALID, "slug")


def is_slug(value: str) -> bool:
    """The slug rule, written without a regular expression."""
    allowed = set(string.ascii_lowercase + string.digits + "-")
    return (
        limits.SLUG_MIN_LENGTH <= len(value) <= limits.SLUG_MAX_LENGTH
        and set(value) <= allowed
        and not value.startswith("-")
        and not value.endswith("-")
        and "--" not in value
    )


slug_like = st.text(
    alphabet=st.sampled_from([*"abz09-", "A", "á", " ", "_", "\n"]), min_size=0, max_size=52
)


@settings(max_examples=examples(400))
@given(value=st.one_of(slug_like, st.text(max_size=10)))
def test_slug_rule_matches_the_specification(value: str) -> None:
    if is_slug(value):
        assert catalog.slug(value) == value
    else:
        with pytest.raises(RefusalError) as exc:
            catalog.slug(value)
        assert exc.value.code == "slug_invalid"


@pytest.mark.parametrize("value", [1, 59_000, limits.MAX_AMOUNT_MINOR])
def test_price_accepts(value: int) -> None:
    assert catalog.price(value) == value


@pytest.mark.parametrize(
    "value", [0, -1, limits.MAX_AMOUNT_MINOR + 1, True, False, 1.0, "100", None, Decimal(100)]
)
def test_price_refuses(value: object) -> None:
    with pytest.raises(RefusalError) as exc:
        catalog.price(value)
    assert_refused(exc, "price_invalid", Category.INVALID, "price_minor")
    with pytest.raises(RefusalError) as exc:
        catalog.price(value, "variants.price_minor")
    assert_refused(exc, "price_invalid", Category.INVALID, "variants.price_minor")


@pytest.mark.parametrize("value", [0, 1, limits.MAX_STOCK])
def test_stock_accepts(value: int) -> None:
    assert catalog.stock(value) == value


@pytest.mark.parametrize("value", [-1, limits.MAX_STOCK + 1, True, False, 1.0, "1", None])
def test_stock_refuses(value: object) -> None:
    with pytest.raises(RefusalError) as exc:
        catalog.stock(value)
    assert_refused(exc, "stock_invalid", Category.INVALID, "stock")


@pytest.mark.parametrize("value", [0, 1, 15_000, limits.MAX_AMOUNT_MINOR])
def test_shipping_fee_accepts(value: int) -> None:
    assert catalog.shipping_fee(value) == value


@pytest.mark.parametrize("value", [-1, limits.MAX_AMOUNT_MINOR + 1, True, False, 0.0, "0", None])
def test_shipping_fee_refuses(value: object) -> None:
    with pytest.raises(RefusalError) as exc:
        catalog.shipping_fee(value)
    assert_refused(exc, "shipping_fee_invalid", Category.INVALID, "shipping_fee_minor")


@pytest.mark.parametrize("value", [1, 2, limits.MAX_LINE_QUANTITY])
def test_quantity_accepts(value: int) -> None:
    assert catalog.quantity(value) == value


@pytest.mark.parametrize(
    "value", [0, -1, limits.MAX_LINE_QUANTITY + 1, True, False, 1.0, "1", None]
)
def test_quantity_refuses(value: object) -> None:
    with pytest.raises(RefusalError) as exc:
        catalog.quantity(value)
    assert_refused(exc, "quantity_invalid", Category.INVALID, "quantity")
    with pytest.raises(RefusalError) as exc:
        catalog.quantity(value, "lines.quantity")
    assert exc.value.param == "lines.quantity"


def test_line_count() -> None:
    catalog.line_count(1)
    catalog.line_count(limits.MAX_ORDER_LINES)
    with pytest.raises(RefusalError) as exc:
        catalog.line_count(0)
    assert_refused(exc, "cart_empty", Category.INVALID, "lines")
    with pytest.raises(RefusalError) as exc:
        catalog.line_count(limits.MAX_ORDER_LINES + 1)
    assert_refused(exc, "lines_invalid", Category.INVALID, "lines")


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ([None], [None]),  # one plain variant
        (["M", "L"], ["M", "L"]),
        (["  Size   M "], ["Size M"]),  # spaces collapse
        (["x" * limits.VARIANT_NAME_MAX_LENGTH], ["x" * limits.VARIANT_NAME_MAX_LENGTH]),
        ([f"v{i}" for i in range(limits.MAX_VARIANTS)], [f"v{i}" for i in range(50)]),
    ],
)
def test_variant_names_accepts(names: list[str | None], expected: list[str | None]) -> None:
    assert catalog.variant_names(names) == expected


@pytest.mark.parametrize(
    ("names", "code"),
    [
        ([], "variants_invalid"),
        ([f"v{i}" for i in range(limits.MAX_VARIANTS + 1)], "variants_invalid"),
        ([None, "M"], "variants_invalid"),  # options are all named or there is one plain one
        (["M", None], "variants_invalid"),
        ([None, None], "variants_invalid"),
        (["M", "m"], "variants_invalid"),  # unique ignoring case
        (["Size M", "size  m"], "variants_invalid"),  # ... and spacing
        (["Straße", "STRASSE"], "variants_invalid"),  # ... by casefold, not lower
        ([""], "parameter_missing"),
        (["M", "   "], "parameter_missing"),
        (["x" * (limits.VARIANT_NAME_MAX_LENGTH + 1)], "parameter_invalid"),
        (["a\x00b"], "parameter_invalid"),
    ],
)
def test_variant_names_refuses(names: list[str | None], code: str) -> None:
    with pytest.raises(RefusalError) as exc:
        catalog.variant_names(names)
    assert_refused(exc, code, Category.INVALID)


def test_title_and_description() -> None:
    assert catalog.title("  Banig   mat ") == "Banig mat"
    assert catalog.title("x" * limits.TITLE_MAX_LENGTH) == "x" * limits.TITLE_MAX_LENGTH
    with pytest.raises(RefusalError) as exc:
        catalog.title("   ")
    assert_refused(exc, "parameter_missing", Category.INVALID, "title")
    with pytest.raises(RefusalError) as exc:
        catalog.title("x" * (limits.TITLE_MAX_LENGTH + 1))
    assert_refused(exc, "parameter_invalid", Category.INVALID, "title")
    assert catalog.description(None) is None
    assert catalog.description("   ") is None
    assert catalog.description(" woven  pandan ") == "woven pandan"
    with pytest.raises(RefusalError) as exc:
        catalog.description("x" * (limits.PRODUCT_DESCRIPTION_MAX_LENGTH + 1))
    assert_refused(exc, "parameter_invalid", Category.INVALID, "description")


# =============================================================================================
# 5. Shipments
# =============================================================================================

CLOSED = {ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED}


@pytest.mark.parametrize(
    ("current", "reported"),
    list(itertools.product(ShipmentStatus, ShipmentStatus)),
    ids=lambda v: v.value,
)
def test_report_every_pair(current: ShipmentStatus, reported: ShipmentStatus) -> None:
    if reported is ShipmentStatus.LABEL_CREATED:
        with pytest.raises(RefusalError) as exc:
            shipments.report(current.value, reported.value)
        assert_refused(exc, "shipment_status_invalid", Category.INVALID, "status")
    elif current in CLOSED:
        with pytest.raises(RefusalError) as exc:
            shipments.report(current.value, reported.value)
        assert_refused(exc, "shipment_closed", Category.CONFLICT, "status")
    else:
        assert shipments.report(current.value, reported.value) is reported


@pytest.mark.parametrize("current", list(ShipmentStatus), ids=lambda v: v.value)
@pytest.mark.parametrize("reported", ["lost", "", "DELIVERED", "delivered ", "label created"])
def test_report_unknown_status(current: ShipmentStatus, reported: str) -> None:
    with pytest.raises(RefusalError) as exc:
        shipments.report(current.value, reported)
    assert_refused(exc, "shipment_status_invalid", Category.INVALID, "status")


def test_reportable_statuses() -> None:
    assert set(shipments.REPORTABLE) == set(ShipmentStatus) - {ShipmentStatus.LABEL_CREATED}
    assert shipments.FINAL == CLOSED
    # a failed attempt is not the end: the courier tries again, or returns the parcel
    after = shipments.report("failed_attempt", "out_for_delivery")
    assert after is ShipmentStatus.OUT_FOR_DELIVERY
    assert shipments.report("failed_attempt", "returned") is ShipmentStatus.RETURNED
