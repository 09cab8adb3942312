"""Random order life cycles through the real services, with escrow invariants after every step.

A Hypothesis ``RuleBasedStateMachine`` runs checkout, payment, cancellation, shipping (all
that is left, or part of a line), shipment events (the merchant's, or a courier's signed
reports and their resends), refunds (by amount, by lines, in full), confirmation, disputes
and their resolution (release, refund, split), merchant stock adjustments, time passing
(minutes to days, or to a payment or release deadline to the second) and the worker's expiry
and auto-release jobs. It calls ``tindahan.services`` directly (no HTTP) on a fresh copy of
the migrated SQLite database per run, with a settable clock: two merchants, three buyers, at
most six orders in play.

Before each action the machine predicts from the state whether it must succeed or be refused
(the transition table, the role, stock, balances, escrow, the payment and dispute windows);
a refusal must raise ``RefusalError`` and change no row of any table an action writes, and a
success must move exactly what it should (balances, stock, lines, state). After every step:

* ``verify``: each currency's ledger sums to zero; each order's escrow account holds its
  ``held_minor``, and escrow in all holds what the open orders hold;
* per order: ``paid_in = held + released + refunded``, and paid in is the total once paid,
  else 0; money is held exactly in the open states; the fee is the marketplace rate
  (``HALF_UP``) on what was released; the history is a chain of legal moves ending in the
  order's state; the shipped counts are what the parcels not returned carry; ``delivered``
  and ``shipped`` agree with the lines and parcels; a cancelled or refunded order reserves
  nothing; an order that ended never changes its lines again; a dispute is open exactly
  while the order is ``disputed``;
* PHP is conserved: wallets + escrow + fee accounts = what ``op.bank`` funded; each buyer's
  wallet is its funding less what it paid net of refunds; each merchant's settlement wallet
  is the sum of ``released - fee`` over its orders;
* stock per variant: initial + adjustments = on the shelf + reserved or sent.

Swarm testing switches random rules off for a whole run, so every run opens with a few
orders, and a checkout may carry its order on (paid, shipped, delivered, disputed and
resolved); the rules pick mostly orders, parcels and disputes the action may apply to.

Plain tests pin the tricky paths exactly, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import json
import logging
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from tests.conftest import Clock
from tests.profiles import examples
from tindahan.commerce.orders import OPEN, TERMINAL, TRANSITIONS, Action, OrderStatus, Role
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import AccountCode
from tindahan.services.commerce import catalog, disputes, escrow, orders
from tindahan.services.commerce import jobs as order_jobs
from tindahan.services.commerce import shipments as shipping
from tindahan.services.commerce.catalog import NewProduct, NewVariant
from tindahan.services.commerce.escrow import LineCancel
from tindahan.services.commerce.orders import CartLine
from tindahan.services.commerce.shipments import LineShip
from tindahan.services.commerce.views import OrderView
from tindahan.services.ledger.verify import verify
from tindahan.services.payments import cash
from tindahan.services.platform import chart, fees, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import disputes as disputes_table
from tindahan.store.commerce_tables import (
    order_events,
    order_lines,
    shipment_events,
    variants,
)
from tindahan.store.commerce_tables import orders as orders_table
from tindahan.store.commerce_tables import shipments as shipments_table
from tindahan.store.database import Database, connect
from tindahan.store.payment_tables import events, wallet_usage, wallets
from tindahan.store.tables import accounts, transfers
from tindahan.store.vault import Vault
from tindahan.webhooks.signature import sign

T = TypeVar("T")
MINUTE, DAY = 60, 86_400
ALL_SCOPES = frozenset(SCOPES)
OPERATOR = Caller("key_operator", None, ALL_SCOPES)
VAULT = Vault(b"k" * 32)
BUYER_FUNDS = (800_000, 300_000, 40_000)  # ₱8,000, ₱3,000, ₱400: the last one runs short
MAX_ORDERS = 12  # per run, and at most
IN_PLAY = 6  # not ended at once
MAX_LINES = 3  # per cart
COURIERS = ("LBC", "J&T Express")
FINAL = ("delivered", "returned")  # a parcel's last status
S = OrderStatus


# --- the shop every run starts from ----------------------------------------------------------
@dataclass(frozen=True)
class Item:
    """One thing a cart line can name; ``takes`` is the variant whose stock it reserves
    (None: the line is refused, a product with options named without one)."""

    store: int
    product_id: str
    variant_id: str | None
    takes: str | None
    price: int


@dataclass
class Shop:
    platform: Platform
    clock: Clock
    merchants: list[str]
    buyers: list[str]
    stores: list[str]
    items: list[list[Item]]
    account: dict[tuple[str, str], str]  # (party id, wallet kind) -> ledger account id
    funded: dict[str, int]  # party id -> PHP funded from op.bank
    initial_stock: dict[str, int]
    product_of: dict[str, str]  # variant id -> product id
    merchant_of_store: dict[int, str]
    fee_bps: int
    release_days: int
    couriers: dict[str, tuple[str, str]]  # name -> (courier id, signing secret)

    def run(self, work: Callable[[Unit], T]) -> T:
        return self.platform.run(work)

    def balance(self, party_id: str, kind: str = "main") -> int:
        account_id = self.account[(party_id, kind)]
        row = self.run(
            lambda u: u.conn.execute(
                select(accounts.c.credits_posted, accounts.c.debits_posted).where(
                    accounts.c.id == account_id
                )
            ).one()
        )
        return int(row[0] - row[1])

    def stock(self, variant_id: str) -> int:
        return int(
            self.run(
                lambda u: u.conn.execute(
                    select(variants.c.stock).where(variants.c.id == variant_id)
                ).scalar_one()
            )
        )

    def caller(self, party_id: str) -> Caller:
        return Caller(f"key_{party_id}", party_id, ALL_SCOPES)


def fee_of(amount_minor: int, bps: int) -> int:
    """The marketplace fee, HALF_UP to the centavo (an independent oracle)."""
    return (amount_minor * bps + 5_000) // 10_000


def open_shop(platform: Platform, clock: Clock) -> Shop:
    """Two merchants (one sells coffee and a shirt in M and L, one sells jam at an odd
    price, no shipping fee), three buyers funded ₱3,000 / ₱1,200 / ₱400."""
    chart.ensure_operator_accounts(platform)

    def party(new: NewParty) -> str:
        return str(platform.run(lambda u: parties.create(u, OPERATOR, new))["id"])

    merchants = [
        party(
            NewParty(
                kind="merchant",
                name=name,
                mcc="5411",
                city="Marikina",
                province="Metro Manila",
            )
        )
        for name in ("Aling Nena's Store", "Ube ni Lola")
    ]
    buyers = [
        party(NewParty(kind="customer", name=name, tier="full"))
        for name in ("Juan", "Maria", "Pedro")
    ]
    found = platform.run(
        lambda u: list(u.conn.execute(select(wallets.c.party_id, wallets.c.kind, wallets.c.id)))
    )
    wallet_of = {(p, k): w for p, k, w in found}
    account = {(p, k): w.replace("_", ".") for p, k, w in found}
    funded: dict[str, int] = {}
    for buyer, amount in zip(buyers, BUYER_FUNDS, strict=True):
        wallet = wallet_of[(buyer, "main")]
        platform.run(lambda u, w=wallet, a=amount: cash.fund(u, OPERATOR, w, a, "PHP", None))
        funded[buyer] = amount

    def store(merchant: str, slug: str, fee: int) -> str:
        made = platform.run(
            lambda u: catalog.create_storefront(
                u,
                OPERATOR,
                slug=slug,
                name=slug.replace("-", " ").title(),
                shipping_fee_minor=fee,
                merchant_id=merchant,
            )
        )
        return str(made["id"])

    def product(store_id: str, new: NewProduct) -> dict[str, Any]:
        return platform.run(lambda u: catalog.create_product(u, OPERATOR, store_id, new))

    stores = [store(merchants[0], "aling-nena", 5_000), store(merchants[1], "ube-ni-lola", 0)]
    coffee = product(stores[0], NewProduct("Barako coffee 250 g", 18_000, stock=20))
    shirt = product(
        stores[0],
        NewProduct(
            "Marikina shirt",
            35_000,
            variants=[NewVariant("M", stock=2), NewVariant("L", stock=8, price_minor=37_000)],
        ),
    )
    jam = product(stores[1], NewProduct("Ube jam", 12_345, stock=15))
    (c,), (m, big), (j,) = coffee["variants"], shirt["variants"], jam["variants"]
    items = [
        [
            Item(0, coffee["id"], None, c["id"], c["price_minor"]),
            Item(0, shirt["id"], m["id"], m["id"], m["price_minor"]),
            Item(0, shirt["id"], big["id"], big["id"], big["price_minor"]),
            Item(0, shirt["id"], None, None, 0),  # refused: which size?
        ],
        [
            Item(1, jam["id"], None, j["id"], j["price_minor"]),
            Item(1, jam["id"], j["id"], j["id"], j["price_minor"]),
        ],
    ]
    initial = {v["id"]: v["stock"] for p in (coffee, shirt, jam) for v in p["variants"]}
    product_of = {v["id"]: p["id"] for p in (coffee, shirt, jam) for v in p["variants"]}
    settings = platform.run(lambda u: fees.fee_settings(u))
    couriers = {}
    for name in COURIERS:
        made = platform.run(lambda u, n=name: shipping.register_courier(u, OPERATOR, n))
        couriers[name] = (made["id"], made["secret"])
    return Shop(
        platform,
        clock,
        merchants,
        buyers,
        stores,
        items,
        account,
        funded,
        initial,
        product_of,
        {0: merchants[0], 1: merchants[1]},
        settings["marketplace_fee_bps"],
        settings["escrow_auto_release_days"],
        couriers,
    )


# --- reading the whole state back -------------------------------------------------------------
@dataclass
class State:
    now: int
    orders: dict[str, dict[str, Any]]
    lines: dict[str, list[dict[str, Any]]]
    shipments: dict[str, dict[str, Any]]
    disputes: dict[str, dict[str, Any]]
    stock: dict[str, int]
    balances: dict[str, int]  # ledger account id -> credits - debits (posted)
    codes: dict[str, int]  # ledger account id -> account code
    timeline: dict[str, list[dict[str, Any]]]  # shipment id -> its events, in order
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def left(self, line: dict[str, Any]) -> int:
        return int(line["quantity"] - line["shipped_quantity"] - line["cancelled_quantity"])

    def shipments_of(self, order_id: str) -> list[dict[str, Any]]:
        return [s for s in self.shipments.values() if s["order_id"] == order_id]

    def all_accounted(self, order_id: str) -> bool:
        return all(self.left(line) == 0 for line in self.lines[order_id])

    def on_the_way(self, order_id: str) -> list[dict[str, Any]]:
        """The order's parcels that were not returned (a returned parcel's items are back
        with the merchant, to be shipped again or refunded)."""
        return [p for p in self.shipments_of(order_id) if p["status"] != "returned"]

    def all_delivered(self, order_id: str) -> bool:
        found = self.on_the_way(order_id)
        return bool(found) and all(p["status"] == "delivered" for p in found)

    def open_disputes(self, order_id: str) -> list[dict[str, Any]]:
        return [
            d for d in self.disputes.values() if d["order_id"] == order_id and d["status"] == "open"
        ]


def read_state(unit: Unit) -> State:
    conn = unit.conn
    found_lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(select(order_lines).order_by(order_lines.c.line_no)).mappings():
        found_lines[row["order_id"]].append(dict(row))
    timeline: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in conn.execute(select(shipment_events).order_by(shipment_events.c.seq)).mappings():
        timeline[row["shipment_id"]].append(dict(row))
    state = State(
        now=unit.now(),
        orders={r["id"]: dict(r) for r in conn.execute(select(orders_table)).mappings()},
        lines=found_lines,
        shipments={r["id"]: dict(r) for r in conn.execute(select(shipments_table)).mappings()},
        disputes={r["id"]: dict(r) for r in conn.execute(select(disputes_table)).mappings()},
        stock={r.id: int(r.stock) for r in conn.execute(select(variants.c.id, variants.c.stock))},
        balances={
            r.id: int(r.credits_posted - r.debits_posted)
            for r in conn.execute(
                select(accounts.c.id, accounts.c.credits_posted, accounts.c.debits_posted)
            )
        },
        codes={r.id: int(r.code) for r in conn.execute(select(accounts.c.id, accounts.c.code))},
        timeline=timeline,
    )
    state.history = {oid: orders.history(unit, oid) for oid in state.orders}
    return state


#: Tables an order action may change a row of (compared row by row), and tables it only
#: appends to (compared by count). No balance changes without a transfer: ``verify``
#: recomputes every balance from the transfers.
CHANGED_TABLES = (
    variants,
    orders_table,
    order_lines,
    shipments_table,
    disputes_table,
    wallet_usage,
)
APPENDED_TABLES = (accounts, transfers, order_events, shipment_events, events)


def snapshot(unit: Unit) -> dict[str, Any]:
    """What an action may write, to show that a refused one wrote nothing."""
    found: dict[str, Any] = {
        t.name: sorted((tuple(r) for r in unit.conn.execute(select(t))), key=repr)
        for t in CHANGED_TABLES
    }
    counts = [select(func.count()).select_from(t).scalar_subquery() for t in APPENDED_TABLES]
    found["appended"] = tuple(unit.conn.execute(select(*counts)).one())
    return found


class Refused(Exception):
    """An action predicted to succeed was refused."""


def attempt(shop: Shop, what: str, work: Callable[[Unit], T], expect_ok: bool) -> T | None:
    """Run ``work``; a refusal must have been predicted and must change nothing."""
    before = None if expect_ok else shop.run(snapshot)  # an unexpected refusal fails anyway
    try:
        result = shop.run(work)
    except RefusalError as refusal:
        if expect_ok:
            message = f"{what}: expected success, refused {refusal.code}: {refusal.message}"
            raise Refused(message) from refusal
        after = shop.run(snapshot)
        assert before is not None
        changed = [name for name in before if before[name] != after[name]]
        assert not changed, f"{what} was refused ({refusal.code}) but changed {changed}"
        return None
    assert expect_ok, f"{what}: expected a refusal, but it succeeded"
    return result


def legal(status: str, action: Action, role: str) -> bool:
    """What the transition table allows ``role`` (``stranger``: nobody's order) to do."""
    if role == "stranger":
        return False
    found = TRANSITIONS.get((OrderStatus(status), action))
    return found is not None and Role(role) in found.roles


def courier_fields(body: bytes) -> dict[str, Any]:
    """The courier endpoint's parser, minus the API's schema: the body is the fields."""
    return dict(json.loads(body))


def courier_report(
    shop: Shop, courier: str, tracking: str, status: str, at: int
) -> Callable[[Unit], dict[str, Any]]:
    """A courier's signed status report for one parcel, as its webhook would send it."""
    courier_id, secret = shop.couriers[courier]
    body = json.dumps({"tracking_number": tracking, "status": status, "occurred_at_ns": at})
    signature = sign(secret, shop.clock.now // 10**9, body.encode())
    return lambda u: shipping.courier_event(u, courier_id, signature, body.encode(), courier_fields)


# --- the invariants ---------------------------------------------------------------------------
def check_invariants(shop: Shop, adjusted: dict[str, int], s: State | None = None) -> None:
    """Everything in the module docstring, on ``s`` (read now when not given)."""
    report = verify(shop.platform.db)
    assert report.ok, report.violations
    s = s or shop.run(read_state)
    bps = shop.fee_bps
    for oid, o in s.orders.items():
        status, lines, history = o["status"], s.lines[oid], s.history[oid]
        where = f"order {oid} ({status})"
        held, paid_in = o["held_minor"], o["paid_in_minor"]
        assert paid_in == held + o["released_minor"] + o["refunded_minor"], where
        assert min(held, o["released_minor"], o["refunded_minor"], o["fee_minor"]) >= 0, where
        assert (held > 0) == (status in OPEN), f"{where} holds {held}"
        assert o["fee_minor"] == fee_of(o["released_minor"], bps), where
        assert o["items_minor"] == sum(x["unit_price_minor"] * x["quantity"] for x in lines)
        assert o["total_minor"] == o["items_minor"] + o["shipping_minor"], where
        paid = any(e["action"] == "pay" for e in history)
        assert paid_in == (o["total_minor"] if paid else 0), where
        assert (o["escrow_account_id"] is not None) == paid, where
        if status in (S.CANCELLED, S.REFUNDED):
            assert o["released_minor"] == 0 and o["refunded_minor"] == paid_in, where
        if status == S.COMPLETED:
            assert o["released_minor"] > 0, where
        # the history is a chain of legal moves ending where the order is
        first = history[0]
        assert (first["action"], first["from_status"], first["to_status"]) == (
            "checkout",
            None,
            S.PENDING_PAYMENT,
        ), where
        for prev, event in itertools.pairwise(history):
            assert event["from_status"] == prev["to_status"], (where, history)
            move = TRANSITIONS.get((OrderStatus(event["from_status"]), Action(event["action"])))
            assert move is not None, (where, event)
            assert move.to == event["to_status"], (where, event)
            assert Role(event["actor_role"]) in move.roles, (where, event)
        assert history[-1]["to_status"] == status, (where, history)
        # shipping agrees with the state
        sent = s.shipments_of(oid)
        if status in (S.PENDING_PAYMENT, S.PAID, S.CANCELLED):  # cancelled before shipping
            assert not sent and all(x["shipped_quantity"] == 0 for x in lines), where
        if status == S.SHIPPED:
            assert sent, where
            assert not (s.all_accounted(oid) and s.all_delivered(oid)), f"{where}: not delivered"
        if status == S.DELIVERED:
            assert s.all_accounted(oid) and s.all_delivered(oid), where
            assert o["release_at_ns"] is not None, where
            arrived = max(p["delivered_at_ns"] for p in s.on_the_way(oid))
            assert o["delivered_at_ns"] == arrived, where
        in_parcels: dict[int, int] = defaultdict(int)
        for parcel in s.on_the_way(oid):
            for no, quantity in json.loads(parcel["lines"]):
                in_parcels[no] += quantity
        if status not in TERMINAL:  # (a parcel returned after the end changes no line)
            assert {x["line_no"]: x["shipped_quantity"] for x in lines} == {
                x["line_no"]: in_parcels[x["line_no"]] for x in lines
            }, where
        if status in (S.CANCELLED, S.REFUNDED):  # nothing stays reserved
            assert s.all_accounted(oid), f"{where} still reserves stock: {lines}"
        assert len(s.open_disputes(oid)) == (1 if status == S.DISPUTED else 0), where
    # money: PHP is conserved, and each wallet says what the orders say
    wallet_accounts = set(shop.account.values())
    escrow_total = sum(b for a, b in s.balances.items() if s.codes[a] == AccountCode.ESCROW)
    fees_total = sum(b for a, b in s.balances.items() if s.codes[a] == AccountCode.FEES_REVENUE)
    wallets_total = sum(s.balances[a] for a in wallet_accounts)
    assert escrow_total == sum(o["held_minor"] for o in s.orders.values() if o["status"] in OPEN)
    assert wallets_total + escrow_total + fees_total == sum(shop.funded.values())
    assert -s.balances["op.bank"] == sum(shop.funded.values())
    assert fees_total == sum(o["fee_minor"] for o in s.orders.values())
    for buyer in shop.buyers:
        net = sum(
            o["paid_in_minor"] - o["refunded_minor"]
            for o in s.orders.values()
            if o["buyer_id"] == buyer
        )
        assert s.balances[shop.account[(buyer, "main")]] == shop.funded[buyer] - net
    for merchant in shop.merchants:
        mine = [o for o in s.orders.values() if o["merchant_id"] == merchant]
        settled = sum(o["released_minor"] - o["fee_minor"] for o in mine)
        assert s.balances[shop.account[(merchant, "settlement")]] == settled, merchant
        assert s.balances[shop.account[(merchant, "main")]] == 0, merchant
    # stock: what left the shelf is reserved or sent
    for variant_id, initial in shop.initial_stock.items():
        out = sum(
            x["quantity"] - x["cancelled_quantity"]
            for found in s.lines.values()
            for x in found
            if x["variant_id"] == variant_id
        )
        assert initial + adjusted[variant_id] == s.stock[variant_id] + out, variant_id


def line_pick(s: State, order: str, index: int, quantity: str) -> tuple[int, int, bool]:
    """A line of the order and a quantity of it: (line number, quantity, whether that much
    is left unshipped and uncancelled). Index 7 names a line no order has; the quantity is
    one, all that is left, or one more than that."""
    lines = s.lines[order]
    if index == 7:
        return MAX_LINES + 1, 1, False
    line = lines[index % len(lines)]
    left = s.left(line)
    count = {"one": 1, "left": left, "over": left + 1}[quantity]
    return line["line_no"], count, 0 < count <= left


def pick(store: int, choice: int) -> int:
    """The cart line's item: mostly one on sale, one time in ten a shirt with no size."""
    if store == 0:
        return 3 if choice == 9 else choice % 3
    return choice % 2


# --- the state machine ------------------------------------------------------------------------
QUANTITIES = st.sampled_from([1, 1, 1, 2, 2, 3, 5])
SOME = st.sampled_from(["one", "one", "left", "left", "over"])  # of what is left of a line
ROLES = st.sampled_from(["buyer", "merchant", "operator", "stranger"])
SELLER_ROLES = st.sampled_from(["merchant", "merchant", "operator", "buyer", "stranger"])
BUYER_ROLES = st.sampled_from(["buyer", "buyer", "operator", "merchant", "stranger"])
THEN = ("nothing", "pay", "ship", "some", "deliver", "dispute", "release", "refund", "split")
CHECKOUT = (  # buyer, store, cart lines (item choice, quantity), then
    st.integers(0, len(BUYER_FUNDS) - 1),
    st.integers(0, 1),
    st.lists(st.tuples(st.integers(0, 9), QUANTITIES), min_size=1, max_size=MAX_LINES),
    st.sampled_from(THEN),
)
PICK = st.integers(0, 7)  # which order (or parcel, or dispute): see ``choose``
_RUNS = itertools.count()


class _Warnings(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class EscrowLifecycles(RuleBasedStateMachine):
    def __init__(self, template: Path, workdir: Path) -> None:
        super().__init__()
        self.path = workdir / f"run-{next(_RUNS)}.db"
        shutil.copyfile(template, self.path)
        self.clock = Clock()
        self.db: Database = connect(f"sqlite:///{self.path}", clock=self.clock)
        self.shop = open_shop(Platform(self.db, VAULT), self.clock)
        self.adjusted: dict[str, int] = defaultdict(int)
        self.placed = 0
        self.tracking = itertools.count(1)
        self.known: State | None = None  # the state as last read, until something changes
        self.changed = True  # since the invariants were last checked
        self.order_ids: list[str] = []  # in the order they were placed
        self.ended: dict[str, list[dict[str, Any]]] = {}  # lines of orders that ended
        self.parcels: list[str] = []  # shipment ids, in the order they were made
        self.opened: list[str] = []  # dispute ids, in the order they were opened
        self.warnings = _Warnings()
        logging.getLogger("tindahan.worker").addHandler(self.warnings)

    def teardown(self) -> None:
        logging.getLogger("tindahan.worker").removeHandler(self.warnings)
        self.db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    # helpers
    def state(self) -> State:
        if self.known is None:
            self.known = self.shop.run(read_state)
        return self.known

    def act(self, what: str, work: Callable[[Unit], T], expect_ok: bool) -> T | None:
        """``attempt``, forgetting the state read before when the action went through."""
        done = attempt(self.shop, what, work, expect_ok)
        if done is not None:
            self.known, self.changed = None, True
        return done

    def in_play(self) -> int:
        s = self.state()
        return sum(s.orders[o]["status"] not in TERMINAL for o in self.order_ids)

    def choose(self, which: int, action: Action) -> str:
        """An order to act on: mostly one in a state the action may leave, sometimes any
        (the action must then be refused and change nothing)."""
        s = self.state()
        states = {state for state, act in TRANSITIONS if act is action}
        fit = [o for o in self.order_ids if s.orders[o]["status"] in states]
        pool = fit if fit and which % 4 else self.order_ids
        return pool[which % len(pool)]

    def who(self, role: str, order: dict[str, Any]) -> Caller:
        if role == "buyer":
            return self.shop.caller(order["buyer_id"])
        if role == "merchant":
            return self.shop.caller(order["merchant_id"])
        if role == "operator":
            return OPERATOR
        other = next(m for m in self.shop.merchants if m != order["merchant_id"])
        return self.shop.caller(other)  # a stranger to this order

    def main(self, s: State, party_id: str) -> int:
        return s.balances[self.shop.account[(party_id, "main")]]

    def settlement(self, s: State, party_id: str) -> int:
        return s.balances[self.shop.account[(party_id, "settlement")]]

    def restocked(self, before: State, after: State, *order_ids: str) -> None:
        """Every line is accounted for, and what was not sent is back on the shelf."""
        back: dict[str, int] = defaultdict(int)
        for order_id in order_ids:
            for line in before.lines[order_id]:
                back[line["variant_id"]] += before.left(line)
            assert after.all_accounted(order_id)
        for variant_id, count in back.items():
            assert after.stock[variant_id] == before.stock[variant_id] + count

    def settled(self, before: State, after: State, order_id: str, to_buyer: int) -> None:
        """The order completed: ``to_buyer`` went back, the rest to the merchant less fee."""
        o, done = before.orders[order_id], after.orders[order_id]
        released = o["held_minor"] - to_buyer
        fee = fee_of(released, self.shop.fee_bps)
        assert done["status"] == S.COMPLETED
        assert done["released_minor"] == o["released_minor"] + released
        assert done["fee_minor"] == o["fee_minor"] + fee
        m, b = o["merchant_id"], o["buyer_id"]
        assert self.settlement(after, m) == self.settlement(before, m) + released - fee
        assert self.main(after, b) == self.main(before, b) + to_buyer

    def moved_on(self, before: State, after: State, order_id: str) -> None:
        """After a shipment event or a partial refund, a shipped order with every item sent
        or cancelled and every parcel delivered is delivered, its release clock started;
        any other order keeps its state."""
        status = before.orders[order_id]["status"]
        done = after.orders[order_id]
        if status == S.SHIPPED and after.all_accounted(order_id) and after.all_delivered(order_id):
            assert done["status"] == S.DELIVERED
            assert done["release_at_ns"] == after.now + self.shop.release_days * DAY * 10**9
        else:
            assert done["status"] == status

    # rules
    @initialize(first=st.lists(st.tuples(*CHECKOUT), min_size=3, max_size=IN_PLAY))
    def open_for_business(self, first: list[tuple[int, int, list[tuple[int, int]], str]]) -> None:
        """Every run starts with a few orders (swarm testing may switch ``checkout`` off)."""
        for args in first:
            self.checkout(*args)

    @precondition(lambda self: self.placed < MAX_ORDERS and self.in_play() < IN_PLAY)
    @rule(buyer=CHECKOUT[0], store=CHECKOUT[1], cart=CHECKOUT[2], then=CHECKOUT[3])
    def checkout(self, buyer: int, store: int, cart: list[tuple[int, int]], then: str) -> None:
        """A new order; ``then`` carries it on: paid, shipped, one item shipped and delivered,
        delivered, or disputed and the dispute resolved (so that those states turn up even
        when swarm testing switched the rules that lead there off)."""
        shop, s = self.shop, self.state()
        chosen = [(shop.items[store][pick(store, i)], q) for i, q in cart]
        need: dict[str, int] = defaultdict(int)
        for item, quantity in chosen:
            need[str(item.takes)] += quantity
        ok = all(item.takes for item, _ in chosen) and all(n <= s.stock[v] for v, n in need.items())
        lines = [CartLine(item.product_id, q, item.variant_id) for item, q in chosen]
        caller, store_id = shop.caller(shop.buyers[buyer]), shop.stores[store]
        view = self.act("checkout", lambda u: orders.checkout(u, caller, store_id, lines), ok)
        if view is None:
            return
        self.placed += 1
        after = self.state()
        assert view["status"] == S.PENDING_PAYMENT
        items = sum(item.price * q for item, q in chosen)
        assert view["items_minor"] == items
        for variant_id, n in need.items():
            assert after.stock[variant_id] == s.stock[variant_id] - n
        order = view["id"]
        self.order_ids.append(order)
        if then != "nothing":
            self.paying(order, "buyer")
        if then in ("ship", "some", "deliver") and self.state().orders[order]["status"] == S.PAID:
            self.shipping(order, "merchant", (0, "one") if then == "some" else None, "LBC")
            if then in ("some", "deliver"):
                self.report(self.parcels[-1], "delivered", "merchant", "courier", 0)
        if then in ("dispute", "release", "refund", "split"):
            self.disputing(order, "buyer")
        if then in ("release", "refund", "split") and self.state().orders[order]["status"] == (
            S.DISPUTED
        ):
            self.settle(self.opened[-1], then, "half", operator=True)

    @precondition(lambda self: self.order_ids)
    @rule(which=PICK, role=BUYER_ROLES)
    def pay(self, which: int, role: str) -> None:
        self.paying(self.choose(which, Action.PAY), role)

    def paying(self, order: str, role: str) -> None:
        s = self.state()
        o = s.orders[order]
        expires = o["expires_at_ns"]
        ok = (
            legal(o["status"], Action.PAY, role)
            and expires is not None
            and s.now < expires
            and self.main(s, o["buyer_id"]) >= o["total_minor"]
        )
        caller = self.who(role, o)
        if self.act("pay", lambda u: escrow.pay(u, caller, order, None), ok) is None:
            return
        after = self.state()
        done = after.orders[order]
        assert done["status"] == S.PAID and done["held_minor"] == o["total_minor"]
        assert self.main(after, o["buyer_id"]) == self.main(s, o["buyer_id"]) - o["total_minor"]

    @precondition(lambda self: self.order_ids)
    @rule(which=PICK, role=ROLES)
    def cancel(self, which: int, role: str) -> None:
        order = self.choose(which, Action.CANCEL)
        s = self.state()
        o = s.orders[order]
        ok = legal(o["status"], Action.CANCEL, role)
        caller = self.who(role, o)

        def work(u: Unit) -> OrderView:
            return escrow.cancel(u, caller, order, "changed my mind")

        if self.act("cancel", work, ok) is None:
            return
        after = self.state()
        done = after.orders[order]
        assert done["status"] == S.CANCELLED and done["held_minor"] == 0
        buyer = o["buyer_id"]
        assert self.main(after, buyer) == self.main(s, buyer) + o["held_minor"]
        self.restocked(s, after, order)

    @precondition(lambda self: self.order_ids)
    @rule(
        which=PICK,
        role=SELLER_ROLES,
        part=st.none() | st.tuples(st.integers(0, 7), SOME),
        courier=st.sampled_from(COURIERS),
    )
    def ship(self, which: int, role: str, part: tuple[int, str] | None, courier: str) -> None:
        self.shipping(self.choose(which, Action.SHIP), role, part, courier)

    def shipping(self, order: str, role: str, part: tuple[int, str] | None, courier: str) -> None:
        """Everything left, or some of one line."""
        s = self.state()
        o, lines = s.orders[order], s.lines[order]
        if part is None:
            wanted: list[LineShip] = []
            fits = any(s.left(line) > 0 for line in lines)
        else:
            line_no, quantity, fits = line_pick(s, order, *part)
            wanted = [LineShip(line_no, quantity)]
        ok = legal(o["status"], Action.SHIP, role) and fits
        caller, tracking = self.who(role, o), f"TRK{next(self.tracking):06d}"

        def work(u: Unit) -> dict[str, Any]:
            return shipping.ship(u, caller, order, courier, tracking, wanted)

        view = self.act("ship", work, ok)
        if view is None:
            return
        self.parcels.append(view["id"])
        after = self.state()
        assert after.orders[order]["status"] == S.SHIPPED
        sent = {x["line_no"]: x["quantity"] for x in view["lines"]}
        if part is None:
            assert sent == {x["line_no"]: s.left(x) for x in lines if s.left(x)}
        else:
            assert sent == {wanted[0].line_no: wanted[0].quantity}
        for line, now in zip(lines, after.lines[order], strict=True):
            assert now["shipped_quantity"] == line["shipped_quantity"] + sent.get(
                line["line_no"], 0
            )

    @precondition(lambda self: self.parcels)
    @rule(
        which=st.integers(0, 7),
        status=st.sampled_from(
            ["picked_up", "in_transit", "failed_attempt", "delivered", "delivered", "returned"]
        ),
        role=SELLER_ROLES,
        via=st.sampled_from(["api", "api", "courier", "resend"]),
        minutes_ago=st.sampled_from([0, 0, 5, 90]),
    )
    def shipment_event(
        self, which: int, status: str, role: str, via: str, minutes_ago: int
    ) -> None:
        """An event for a parcel: mostly one still on its way, sometimes any (a delivered or
        returned parcel takes no more events, but a courier's resend is still answered)."""
        s = self.state()
        moving = [p for p in self.parcels if s.shipments[p]["status"] not in FINAL]
        pool = moving if moving and which % 4 else self.parcels
        self.report(pool[which % len(pool)], status, role, via, minutes_ago)

    def report(self, shipment: str, status: str, role: str, via: str, minutes_ago: int) -> None:
        """A status for the parcel from the merchant or operator through the API, or from
        the courier, signed; ``resend`` repeats the courier's last event for the parcel,
        which must be answered and change nothing."""
        s = self.state()
        parcel = s.shipments[shipment]
        order = parcel["order_id"]
        o = s.orders[order]
        closed = parcel["status"] in FINAL
        if via == "api":
            caller = self.who(role, o)
            ok = role in ("merchant", "operator") and not closed

            def work(u: Unit) -> dict[str, Any]:
                return shipping.post_event(u, caller, shipment, status)

        else:
            sent = {
                (e["status"], e["occurred_at_ns"])
                for e in s.timeline[shipment]
                if e["source"] == "courier"
            }
            at = s.now - minutes_ago * MINUTE * 10**9
            if via == "resend" and sent:
                status, at = max(sent, key=lambda e: (e[1], e[0]))
            via = "resend" if (status, at) in sent else "courier"
            ok = via == "resend" or not closed
            work = courier_report(
                self.shop, parcel["courier"], parcel["tracking_number"], status, at
            )
        before = self.shop.run(snapshot)
        if self.act(f"shipment {status} by {via}", work, ok) is None:
            return
        if via == "resend":
            assert self.shop.run(snapshot) == before, "a courier's resent event changed state"
            return
        after = self.state()
        assert after.shipments[shipment]["status"] == status
        if status == "returned" and o["status"] in OPEN:  # its items are to ship again
            back = dict(json.loads(parcel["lines"]))
            for line, now in zip(s.lines[order], after.lines[order], strict=True):
                sent = line["shipped_quantity"] - back.get(line["line_no"], 0)
                assert now["shipped_quantity"] == sent
        last = after.timeline[shipment][-1]
        assert last["status"] == status
        assert last["source"] == ("courier" if via == "courier" else role)
        if via == "courier":
            assert last["occurred_at_ns"] == at
        self.moved_on(s, after, order)

    @precondition(lambda self: self.order_ids)
    @rule(
        which=PICK,
        role=SELLER_ROLES,
        amount=st.sampled_from(["held", "held", "over"]) | st.integers(1, 40_000),
    )
    def refund_amount(self, which: int, role: str, amount: str | int) -> None:
        order = self.choose(which, Action.REFUND_PARTIAL)
        s = self.state()
        o = s.orders[order]
        held = o["held_minor"]
        value = held if amount == "held" else held + 1 if amount == "over" else int(amount)
        action = Action.REFUND_FULL if value == held else Action.REFUND_PARTIAL
        ok = 0 < value <= held and legal(o["status"], action, role)
        caller = self.who(role, o)

        def work(u: Unit) -> OrderView:
            return escrow.refund(u, caller, order, value, [], "refund")

        if self.act(f"refund {value} of {held}", work, ok) is None:
            return
        self.refunded(s, order, value, action)

    @precondition(lambda self: self.order_ids)
    @rule(
        which=PICK,
        role=SELLER_ROLES,
        index=st.integers(0, 7),
        quantity=SOME,
    )
    def refund_lines(self, which: int, role: str, index: int, quantity: str) -> None:
        """The merchant will not ship some of a line: its price back, its stock restored."""
        order = self.choose(which, Action.REFUND_PARTIAL)
        s = self.state()
        o, lines = s.orders[order], s.lines[order]
        held = o["held_minor"]
        line_no, count, fits = line_pick(s, order, index, quantity)
        value = lines[line_no - 1]["unit_price_minor"] * count if fits else 0
        action = Action.REFUND_FULL if value == held else Action.REFUND_PARTIAL
        ok = fits and value <= held and legal(o["status"], action, role)
        caller, wanted = self.who(role, o), [LineCancel(line_no, count)]

        def work(u: Unit) -> OrderView:
            return escrow.refund(u, caller, order, None, wanted, "out of stock")

        if self.act(f"refund line {line_no} x{count}", work, ok) is None:
            return
        after = self.refunded(s, order, value, action)
        if action is Action.REFUND_PARTIAL:
            line = lines[line_no - 1]
            now = after.lines[order][line_no - 1]
            assert now["cancelled_quantity"] == line["cancelled_quantity"] + count
            variant_id = line["variant_id"]
            assert after.stock[variant_id] == s.stock[variant_id] + count

    def refunded(self, s: State, order: str, value: int, action: Action) -> State:
        after = self.state()
        o, done = s.orders[order], after.orders[order]
        assert done["held_minor"] == o["held_minor"] - value
        assert done["refunded_minor"] == o["refunded_minor"] + value
        buyer = o["buyer_id"]
        assert self.main(after, buyer) == self.main(s, buyer) + value
        if action is Action.REFUND_FULL:
            assert done["status"] == S.REFUNDED
            assert after.all_accounted(order)
        else:
            self.moved_on(s, after, order)
        return after

    @precondition(lambda self: self.order_ids)
    @rule(which=PICK, role=BUYER_ROLES)
    def confirm(self, which: int, role: str) -> None:
        order = self.choose(which, Action.CONFIRM)
        s = self.state()
        o = s.orders[order]
        ok = legal(o["status"], Action.CONFIRM, role)
        caller = self.who(role, o)
        if self.act("confirm", lambda u: escrow.confirm(u, caller, order), ok) is None:
            return
        self.settled(s, self.state(), order, 0)

    @precondition(lambda self: self.order_ids)
    @rule(which=PICK, role=BUYER_ROLES)
    def dispute(self, which: int, role: str) -> None:
        self.disputing(self.choose(which, Action.DISPUTE), role)

    def disputing(self, order: str, role: str) -> None:
        s = self.state()
        o = s.orders[order]
        window_open = o["status"] != S.DELIVERED or s.now < o["release_at_ns"]
        ok = legal(o["status"], Action.DISPUTE, role) and window_open
        caller = self.who(role, o)

        def work(u: Unit) -> dict[str, Any]:
            return disputes.open_dispute(u, caller, order, "the parcel never came")

        view = self.act("dispute", work, ok)
        if view is None:
            return
        self.opened.append(view["id"])
        after = self.state()
        assert after.orders[order]["status"] == S.DISPUTED
        assert view["status_before"] == o["status"]

    @precondition(lambda self: self.opened)
    @rule(
        which=st.integers(0, 7),
        resolution=st.sampled_from(["release", "refund", "split"]),
        share=st.sampled_from(["half", "one", "all-but-one", "none", "all"])
        | st.integers(1, 60_000),
        operator=st.sampled_from([True, True, True, False]),
    )
    def resolve(self, which: int, resolution: str, share: str | int, operator: bool) -> None:
        """Settle a dispute: mostly one still open, sometimes any (resolved: refused)."""
        s = self.state()
        still = [d for d in self.opened if s.disputes[d]["status"] == "open"]
        pool = still if still and which % 4 else self.opened
        self.settle(pool[which % len(pool)], resolution, share, operator=operator)

    def settle(self, dispute: str, resolution: str, share: str | int, *, operator: bool) -> None:
        """The operator (or, refused, the merchant) resolves the dispute; a split's share is
        named (``half``, ``one``, ...) or a number of centavos."""
        s = self.state()
        row = s.disputes[dispute]
        order = row["order_id"]
        o = s.orders[order]
        held = o["held_minor"]
        refund_minor: int | None = None
        if resolution == "split":
            refund_minor = {
                "half": held // 2,
                "one": 1,
                "all-but-one": held - 1,
                "none": 0,
                "all": held,
            }.get(str(share), share if isinstance(share, int) else 0)
        ok = (
            operator
            and row["status"] == "open"
            and o["status"] == S.DISPUTED
            and (refund_minor is None or 0 < refund_minor < held)
        )
        caller = OPERATOR if operator else self.who("merchant", o)

        def work(u: Unit) -> dict[str, Any]:
            return disputes.resolve(u, caller, dispute, resolution, refund_minor, "decided")

        view = self.act(f"resolve {resolution} {refund_minor}", work, ok)
        if view is None:
            return
        after = self.state()
        if resolution == "refund":
            assert after.orders[order]["status"] == S.REFUNDED
            buyer = o["buyer_id"]
            assert self.main(after, buyer) == self.main(s, buyer) + held
        else:
            self.settled(s, after, order, refund_minor or 0)
        assert (view["refund_minor"], view["release_minor"]) == (
            refund_minor if resolution == "split" else held if resolution == "refund" else 0,
            held - (refund_minor or 0) if resolution != "refund" else 0,
        )

    @precondition(lambda self: self.placed > 0)
    @rule(
        variant=st.integers(0, 3),
        change=st.integers(-3, 3).filter(bool),
        role=st.sampled_from(["merchant", "merchant", "stranger"]),
    )
    def adjust_stock(self, variant: int, change: int, role: str) -> None:
        shop, s = self.shop, self.state()
        variant_id = list(shop.initial_stock)[variant]  # in the order they were made
        product_id = shop.product_of[variant_id]
        owner = next(i.store for row in shop.items for i in row if i.takes == variant_id)
        merchant = shop.merchant_of_store[owner]
        if role == "stranger":
            merchant = next(m for m in shop.merchants if m != merchant)
        ok = role == "merchant" and s.stock[variant_id] + change >= 0
        caller = shop.caller(merchant)

        def work(u: Unit) -> dict[str, Any]:
            return catalog.update_variant(u, caller, product_id, variant_id, stock_change=change)

        if self.act(f"stock {change:+d}", work, ok) is not None:
            self.adjusted[variant_id] += change

    @rule(
        seconds=st.sampled_from([MINUTE, 29 * MINUTE, 30 * MINUTE, DAY, 7 * DAY, 8 * DAY])
        | st.integers(MINUTE, 9 * DAY),
        aim=st.sampled_from([None, "expires_at_ns", "release_at_ns"]),
        offset=st.sampled_from([0, -1, 1]),
        jobs=st.booleans(),
    )
    def tick(self, seconds: int, aim: str | None, offset: int, jobs: bool) -> None:
        """Time passes, or runs to the next payment or release deadline (to the second,
        or a second either side); then (usually) the worker runs its expiry and
        auto-release jobs. Without them, an order past its window is still there to be
        paid, disputed, confirmed..."""
        s = self.state()
        due = sorted(o[aim] for o in s.orders.values() if aim and o[aim] and o[aim] > s.now)
        if due and due[0] + offset * 10**9 > s.now:
            self.clock.now = due[0] + offset * 10**9
        else:
            self.clock.advance(seconds)
        self.known = None
        if not jobs:
            return
        s = self.state()
        expiring = [
            oid
            for oid, o in s.orders.items()
            if o["status"] == S.PENDING_PAYMENT and o["expires_at_ns"] <= s.now
        ]
        releasing = [
            oid
            for oid, o in s.orders.items()
            if o["status"] == S.DELIVERED and o["release_at_ns"] <= s.now
        ]
        platform = self.shop.platform
        assert order_jobs.expire_orders(platform) == len(expiring)
        assert order_jobs.release_orders(platform) == len(releasing)
        assert not self.warnings.messages, self.warnings.messages
        self.known, self.changed = None, True
        after = self.state()
        self.restocked(s, after, *expiring)
        for oid in expiring:
            assert after.orders[oid]["status"] == S.CANCELLED
            assert after.history[oid][-1]["action"] == "expire"
        for oid in releasing:
            assert after.orders[oid]["status"] == S.COMPLETED
            assert after.history[oid][-1]["action"] == "auto_release"
        for oid, o in after.orders.items():
            if oid not in expiring and oid not in releasing:
                assert o["status"] == s.orders[oid]["status"], oid

    @invariant()
    def escrow_adds_up(self) -> None:
        """After every step that changed something (a refused action was shown to change
        nothing, and a state that did not change keeps its invariants)."""
        if not self.changed:
            return
        self.changed = False
        s = self.state()
        check_invariants(self.shop, self.adjusted, s)
        for oid in self.order_ids:  # an order that ended keeps its items as they were
            if s.orders[oid]["status"] in TERMINAL:
                lines = self.ended.setdefault(oid, s.lines[oid])
                assert s.lines[oid] == lines, f"order {oid} changed after it ended"


MACHINE_SETTINGS = settings(
    # The suite's longest test (about 55 s at 100 examples on an idle core): 30 fixed
    # examples of 40 steps run every rule many times in make test; make test-deep runs 300.
    max_examples=examples(30),
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.slow
def test_random_order_lifecycles_keep_escrow_invariants(sqlite_template, tmp_path):
    run_state_machine_as_test(
        lambda: EscrowLifecycles(sqlite_template, tmp_path), settings=MACHINE_SETTINGS
    )


# --- plain tests of tricky paths --------------------------------------------------------------
@pytest.fixture
def shop(db, clock) -> Iterator[Shop]:
    yield open_shop(Platform(db, VAULT), clock)


def _checkout(shop: Shop, buyer: int, store: int, *picks: tuple[int, int]) -> str:
    lines = [
        CartLine(shop.items[store][i].product_id, q, shop.items[store][i].variant_id)
        for i, q in picks
    ]
    caller = shop.caller(shop.buyers[buyer])
    return str(shop.run(lambda u: orders.checkout(u, caller, shop.stores[store], lines))["id"])


def _ok(shop: Shop) -> None:
    check_invariants(shop, defaultdict(int))


def _ship(shop: Shop, order_id: str, tracking: str, *lines: tuple[int, int]) -> str:
    merchant = shop.caller(_order(shop, order_id)["merchant_id"])
    wanted = [LineShip(no, q) for no, q in lines]
    made = shop.run(lambda u: shipping.ship(u, merchant, order_id, "LBC", tracking, wanted))
    return str(made["id"])


def _order(shop: Shop, order_id: str) -> OrderView:
    return shop.run(lambda u: orders.get(u, OPERATOR, order_id))


def _moves(view: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(h["action"], h["from_status"], h["to_status"]) for h in view["history"]]


def test_refunding_the_unshipped_lines_of_a_shipped_order_delivers_it(shop, clock):
    """Two coffees sent and delivered, the shirt never sent: refunding the shirt's line
    leaves every item accounted for and every parcel delivered, so the order is delivered
    (auto-release clock started) in the same step; confirming then releases the rest."""
    buyer, merchant = shop.buyers[0], shop.merchants[0]
    order_id = _checkout(shop, 0, 0, (0, 2), (2, 1))  # 2 x 180.00 + L shirt 370.00 + 50.00
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    parcel = _ship(shop, order_id, "LBC-1", (1, 2))
    shop.run(lambda u: shipping.post_event(u, shop.caller(merchant), parcel, "delivered"))
    assert _order(shop, order_id)["status"] == "shipped"  # the shirt is still to come
    shirt_l = shop.items[0][2].takes
    assert shirt_l is not None
    on_shelf = shop.initial_stock[shirt_l]
    assert shop.stock(shirt_l) == on_shelf - 1

    seller = shop.caller(merchant)
    view = shop.run(
        lambda u: escrow.refund(u, seller, order_id, None, [LineCancel(2, 1)], "no L left")
    )
    assert view["status"] == "delivered"
    assert view["escrow"]["held_minor"] == 78_000 - 37_000
    assert view["escrow"]["refunded_minor"] == 37_000
    assert view["lines"][1]["cancelled_quantity"] == 1
    assert shop.stock(shirt_l) == on_shelf
    assert shop.balance(buyer) == BUYER_FUNDS[0] - 78_000 + 37_000
    assert _moves(view)[-2:] == [
        ("refund_partial", "shipped", "shipped"),
        ("deliver", "shipped", "delivered"),
    ]
    days = shop.run(lambda u: fees.fee_settings(u))["escrow_auto_release_days"]
    assert view["release_at"] == _order(shop, order_id)["release_at"]
    row = shop.run(lambda u: orders.order_row(u, order_id))
    assert row["release_at_ns"] == clock.now + days * DAY * 10**9
    _ok(shop)

    done = shop.run(lambda u: escrow.confirm(u, shop.caller(buyer), order_id))
    assert done["status"] == "completed"
    assert done["escrow"]["released_minor"] == 41_000
    assert done["escrow"]["fee_minor"] == 820  # 2% of 410.00
    assert shop.balance(merchant, "settlement") == 41_000 - 820
    _ok(shop)


def test_cancelling_a_paid_order_restocks_and_refunds_everything_left(shop):
    """After a partial refund by lines (coffee not available), the buyer cancels: the rest
    of escrow goes back, the shirts return to the shelf, and the order cannot move again."""
    buyer, other = shop.buyers[1], shop.buyers[0]
    order_id = _checkout(shop, 1, 0, (1, 2), (0, 1))  # 2 x M 350.00 + coffee 180.00 + 50.00
    shirt_m, coffee = shop.items[0][1].takes, shop.items[0][0].takes
    assert shirt_m is not None and coffee is not None
    m_start, coffee_start = shop.initial_stock[shirt_m], shop.initial_stock[coffee]
    assert m_start == 2  # both size-M shirts in this cart
    assert (shop.stock(shirt_m), shop.stock(coffee)) == (0, coffee_start - 1)
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    assert shop.balance(buyer) == BUYER_FUNDS[1] - 93_000
    late = shop.caller(other)
    lines = [CartLine(shop.items[0][1].product_id, 1, shirt_m)]
    sold_out = attempt(
        shop, "checkout", lambda u: orders.checkout(u, late, shop.stores[0], lines), False
    )
    assert sold_out is None
    seller = shop.caller(shop.merchants[0])
    shop.run(lambda u: escrow.refund(u, seller, order_id, None, [LineCancel(2, 1)], None))
    assert shop.stock(coffee) == coffee_start

    view = shop.run(lambda u: escrow.cancel(u, shop.caller(buyer), order_id, "too slow"))
    assert view["status"] == "cancelled"
    assert view["escrow"] | {"account_id": None} == {
        "account_id": None,
        "paid_in_minor": 93_000,
        "held_minor": 0,
        "released_minor": 0,
        "fee_minor": 0,
        "refunded_minor": 93_000,
    }
    assert [(x["shipped_quantity"], x["cancelled_quantity"]) for x in view["lines"]] == [
        (0, 2),
        (0, 1),
    ]
    assert (shop.stock(shirt_m), shop.stock(coffee)) == (m_start, coffee_start)
    assert shop.balance(buyer) == BUYER_FUNDS[1]
    assert [a for a, _, _ in _moves(view)] == ["checkout", "pay", "refund_partial", "cancel"]
    ship = lambda u: shipping.ship(u, seller, order_id, "LBC", "LBC-2")  # noqa: E731
    assert attempt(shop, "ship", ship, False) is None
    _ok(shop)


@pytest.mark.parametrize(
    ("refund", "released", "fee"),
    [
        (1_320, 11_025, 221),  # 220.50 centavos: HALF_UP rounds the half up
        (6_172, 6_173, 123),  # 123.46
        (1, 12_344, 247),  # 246.88
        (12_344, 1, 0),  # 0.02: one centavo released, no fee
    ],
)
def test_a_dispute_split_charges_the_fee_half_up_on_the_merchants_part(shop, refund, released, fee):
    buyer, merchant = shop.buyers[0], shop.merchants[1]
    order_id = _checkout(shop, 0, 1, (0, 1))  # ube jam 123.45, no shipping fee
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    dispute = shop.run(
        lambda u: disputes.open_dispute(u, shop.caller(buyer), order_id, "jar was cracked")
    )
    for outside in (0, 12_345):  # a split gives each side something

        def split(u: Unit, share: int = outside) -> dict[str, Any]:
            return disputes.resolve(u, OPERATOR, dispute["id"], "split", share, None)

        assert attempt(shop, f"split {outside}", split, False) is None

    resolved = shop.run(
        lambda u: disputes.resolve(u, OPERATOR, dispute["id"], "split", refund, "shared")
    )
    assert (resolved["refund_minor"], resolved["release_minor"]) == (refund, released)
    view = _order(shop, order_id)
    assert view["status"] == "completed"
    assert view["escrow"]["refunded_minor"] == refund
    assert view["escrow"]["released_minor"] == released
    assert view["escrow"]["fee_minor"] == fee == fee_of(released, shop.fee_bps)
    assert shop.balance(buyer) == BUYER_FUNDS[0] - 12_345 + refund
    assert shop.balance(merchant, "settlement") == released - fee
    assert _moves(view)[-1] == ("resolve_split", "disputed", "completed")
    _ok(shop)


def test_a_dispute_refunded_in_full_puts_what_never_shipped_back_on_the_shelf(shop):
    """Found by the state machine (checkout, pay, dispute, resolve refund): the order ended
    ``refunded`` with its items reserved for ever. One coffee sent, one not: only the one
    not sent comes back."""
    buyer = shop.buyers[0]
    coffee = shop.items[0][0].takes
    assert coffee is not None
    order_id = _checkout(shop, 0, 0, (0, 2))
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    _ship(shop, order_id, "LBC-3", (1, 1))
    dispute = shop.run(lambda u: disputes.open_dispute(u, shop.caller(buyer), order_id, "late"))
    assert shop.stock(coffee) == shop.initial_stock[coffee] - 2
    shop.run(lambda u: disputes.resolve(u, OPERATOR, dispute["id"], "refund", None, None))
    view = _order(shop, order_id)
    assert view["status"] == "refunded"
    assert (view["lines"][0]["shipped_quantity"], view["lines"][0]["cancelled_quantity"]) == (
        1,
        1,
    )
    assert shop.stock(coffee) == shop.initial_stock[coffee] - 1
    assert shop.balance(buyer) == BUYER_FUNDS[0]
    _ok(shop)


def test_a_returned_parcel_can_be_shipped_again_and_delivered(shop):
    """``commerce.shipments``: a returned parcel's items count as not shipped again, so the
    merchant sends them again, and the order is delivered when the new parcel arrives (the
    returned one does not hold it back)."""
    buyer, merchant = shop.buyers[0], shop.merchants[0]
    order_id = _checkout(shop, 0, 0, (0, 2))
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    parcel = _ship(shop, order_id, "LBC-4")
    shop.run(lambda u: shipping.post_event(u, shop.caller(merchant), parcel, "returned"))
    view = _order(shop, order_id)
    assert view["status"] == "shipped" and view["lines"][0]["shipped_quantity"] == 0
    again = _ship(shop, order_id, "LBC-5", (1, 1))
    shop.run(lambda u: shipping.post_event(u, shop.caller(merchant), again, "delivered"))
    assert _order(shop, order_id)["status"] == "shipped"  # one coffee still to send
    last = _ship(shop, order_id, "LBC-6")
    shop.run(lambda u: shipping.post_event(u, shop.caller(merchant), last, "delivered"))
    view = _order(shop, order_id)
    assert view["status"] == "delivered" and view["lines"][0]["shipped_quantity"] == 2
    _ok(shop)


@pytest.mark.parametrize("end", ["refund", "confirm"])
def test_a_parcel_returned_after_its_order_ended_changes_no_line(shop, end):
    """Found by the state machine (after f74cfac): checkout, pay, ship everything, end the
    order (the merchant refunds it in full, or the buyer confirms), then the parcel is
    reported returned. Its items went back to "not shipped", neither cancelled nor on the
    shelf, and an ended order can no longer ship or refund them: reserved for ever. Now
    the return is only recorded (4f3f697)."""
    buyer, merchant = shop.buyers[0], shop.merchants[0]
    coffee = shop.items[0][0].takes
    assert coffee is not None
    order_id = _checkout(shop, 0, 0, (0, 1))
    shop.run(lambda u: escrow.pay(u, shop.caller(buyer), order_id, None))
    parcel = _ship(shop, order_id, "LBC-7")
    seller = shop.caller(merchant)
    if end == "refund":
        shop.run(lambda u: escrow.refund(u, seller, order_id, 23_000, [], "lost in transit"))
    else:
        shop.run(lambda u: escrow.confirm(u, shop.caller(buyer), order_id))
    ended = _order(shop, order_id)
    assert ended["status"] in ("refunded", "completed")
    shop.run(lambda u: shipping.post_event(u, seller, parcel, "returned"))
    view = _order(shop, order_id)
    assert view["status"] == ended["status"]
    assert view["lines"] == ended["lines"]
    sold = shop.initial_stock[coffee] - 1
    assert shop.stock(coffee) == sold  # the merchant restocks by hand what is fit to sell
    timeline = shop.run(lambda u: shipping.get(u, seller, parcel))["timeline"]
    assert [t["status"] for t in timeline] == ["label_created", "returned"]
    _ok(shop)
