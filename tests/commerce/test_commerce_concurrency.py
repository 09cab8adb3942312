"""Selling online with many clients at once, on real PostgreSQL: buyers racing for the last
items, an order paid twice at once, a buyer confirming while the worker auto-releases, cancels
racing checkouts for one variant, and many escrows released into one merchant at once.

Every race runs the use cases on real threads (one ``Platform.run`` transaction each),
released together by a barrier. A refusal is an outcome the test checks; anything else raised
in a thread fails the test. Afterwards the stock, the orders and the books must agree:
nothing sold twice, no escrow released or refunded twice, and ``verify`` finds no violation.

PostgreSQL only: these races are about row locks (``FOR UPDATE``, conditional updates);
SQLite takes one writer at a time, so it has no such race to lose.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select

from tindahan import limits
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog, escrow, orders, shipments
from tindahan.services.commerce import jobs as order_jobs
from tindahan.services.commerce.catalog import NewProduct, NewVariant
from tindahan.services.commerce.orders import CartLine
from tindahan.services.commerce.views import OrderView
from tindahan.services.ledger import transfers as ledger_service
from tindahan.services.ledger.verify import verify
from tindahan.services.payments import cash, wallets
from tindahan.services.platform import chart, fees, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import order_lines, variants
from tindahan.store.commerce_tables import orders as order_table
from tindahan.store.database import Database, connect
from tindahan.store.vault import Vault

pytestmark = pytest.mark.postgres

DAY = 86_400
FUNDS = 1_000_000  # ₱10,000 per buyer
SHIPPING = 5_000
FEE_BPS = 200  # the marketplace fee: 2% of what is released, HALF_UP
RELEASE_DAYS = 7
OPERATOR = Caller("key_operator", None, frozenset(SCOPES))


# --- fixtures and helpers ----------------------------------------------------------------------
@pytest.fixture
def db_url(postgres_url: str) -> str:
    """Only the PostgreSQL server (``db`` copies the migrated template into it)."""
    return postgres_url


@pytest.fixture
def platform(db: Database) -> Platform:
    made = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(made)
    # Fee settings are cached per process for a few seconds: writing the ones these tests
    # rely on also clears that cache, so no earlier test's settings leak in.
    made.run(
        lambda unit: fees.put_fee_settings(
            unit,
            OPERATOR,
            {"marketplace_fee_bps": FEE_BPS, "escrow_auto_release_days": RELEASE_DAYS},
        )
    )
    return made


def party_caller(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


@dataclass(frozen=True)
class Shop:
    merchant: Caller
    merchant_id: str
    settlement_wallet: str
    storefront_id: str


@dataclass(frozen=True)
class Buyer:
    caller: Caller
    party_id: str
    wallet: str


def wallet_ids(unit: Unit, party_id: str) -> dict[str, str]:
    found = wallets.list_wallets(unit, OPERATOR, 10, None, party_id)["data"]
    return {w["kind"]: w["id"] for w in found}


def open_shop(platform: Platform) -> Shop:
    def work(unit: Unit) -> Shop:
        merchant = parties.create(
            unit,
            OPERATOR,
            NewParty(
                kind="merchant",
                name="Aling Nena's Store",
                mcc="5411",
                city="Marikina",
                province="Metro Manila",
            ),
        )
        store = catalog.create_storefront(
            unit,
            OPERATOR,
            slug="aling-nena",
            name="Aling Nena Online",
            shipping_fee_minor=SHIPPING,
            merchant_id=merchant["id"],
        )
        settlement = wallet_ids(unit, merchant["id"])["settlement"]
        return Shop(party_caller(merchant["id"]), merchant["id"], settlement, store["id"])

    return platform.run(work)


def add_product(platform: Platform, shop: Shop, new: NewProduct) -> dict[str, Any]:
    return platform.run(
        lambda unit: catalog.create_product(unit, shop.merchant, shop.storefront_id, new)
    )


def make_buyers(platform: Platform, count: int) -> list[Buyer]:
    """Customers (ID-verified, so the ``full`` tier), each funded with ``FUNDS``."""

    def work(unit: Unit) -> list[Buyer]:
        made = []
        for i in range(count):
            party = parties.create(
                unit, OPERATOR, NewParty(kind="customer", name=f"Mamimili {i}", tier="full")
            )
            wallet = wallet_ids(unit, party["id"])["main"]
            cash.fund(unit, OPERATOR, wallet, FUNDS, "PHP", None)
            made.append(Buyer(party_caller(party["id"]), party["id"], wallet))
        return made

    return platform.run(work)


def checkout(
    platform: Platform,
    shop: Shop,
    buyer: Buyer,
    product_id: str,
    quantity: int,
    variant_id: str | None = None,
) -> OrderView:
    line = CartLine(product_id, quantity, variant_id)
    return platform.run(
        lambda unit: orders.checkout(unit, buyer.caller, shop.storefront_id, [line])
    )


def pay(platform: Platform, caller: Caller, order_id: str) -> OrderView:
    return platform.run(lambda unit: escrow.pay(unit, caller, order_id, None))


def cancel(platform: Platform, caller: Caller, order_id: str) -> OrderView:
    return platform.run(lambda unit: escrow.cancel(unit, caller, order_id, "changed my mind"))


def confirm(platform: Platform, caller: Caller, order_id: str) -> OrderView:
    return platform.run(lambda unit: escrow.confirm(unit, caller, order_id))


def auto_release(platform: Platform, order_id: str) -> bool:
    return platform.run(lambda unit: escrow.auto_release(unit, order_id=order_id))


def ship_and_deliver(platform: Platform, shop: Shop, order_id: str, tracking: str) -> str:
    """The merchant ships everything and reports it delivered (two transactions)."""
    shipment = platform.run(
        lambda unit: shipments.ship(unit, shop.merchant, order_id, "LBC", tracking)
    )
    platform.run(
        lambda unit: shipments.post_event(unit, shop.merchant, shipment["id"], "delivered")
    )
    return str(shipment["id"])


def get_order(platform: Platform, order_id: str) -> OrderView:
    return platform.run(lambda unit: orders.get(unit, OPERATOR, order_id), write=False)


def balance(platform: Platform, wallet_id: str) -> int:
    found = platform.run(lambda unit: wallets.get(unit, OPERATOR, wallet_id), write=False)
    return int(found["balance_minor"])


def stock_of(platform: Platform, variant_id: str) -> int:
    return int(
        platform.run(
            lambda unit: unit.conn.execute(
                select(variants.c.stock).where(variants.c.id == variant_id)
            ).scalar_one(),
            write=False,
        )
    )


def lines_for(platform: Platform, variant_id: str) -> list[dict[str, Any]]:
    """Every order line for the variant, with its order's status (straight from the tables)."""
    query = (
        select(order_lines, order_table.c.status)
        .join(order_table, order_table.c.id == order_lines.c.order_id)
        .where(order_lines.c.variant_id == variant_id)
    )
    return platform.run(
        lambda unit: [dict(r) for r in unit.conn.execute(query).mappings()], write=False
    )


def fee_of(amount_minor: int) -> int:
    """2% HALF_UP to the centavo, worked out here rather than by the code under test."""
    return (amount_minor * FEE_BPS + 5_000) // 10_000


def books_ok(db: Database) -> None:
    report = verify(db)
    assert report.violations == []


@dataclass(frozen=True)
class Outcome:
    value: Any = None
    refusal: str | None = None  # the RefusalError's code

    @property
    def ok(self) -> bool:
        return self.refusal is None


def race(actions: Sequence[Callable[[], Any]]) -> list[Outcome]:
    """Run each action on its own thread, all released at once by a barrier. A refusal is an
    outcome; anything else raised in a thread is raised again here and fails the test."""
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Outcome:
        barrier.wait(timeout=60)
        try:
            return Outcome(action())
        except RefusalError as refusal:
            return Outcome(refusal=refusal.code)

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        futures = [pool.submit(run, action) for action in actions]
        return [f.result(timeout=120) for f in futures]


class StockWatch:
    """Reads a variant's committed stock over and over, on a connection of its own, while a
    race runs: the lowest and highest values anyone could have seen."""

    def __init__(self, url: str, variant_id: str) -> None:
        self.url, self.variant_id = url, variant_id
        self.seen: list[int] = []
        self._stop = threading.Event()
        self._first = threading.Event()  # the race starts once the watch has its first value
        self._thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        db = connect(self.url)
        query = select(variants.c.stock).where(variants.c.id == self.variant_id)
        try:
            while not self._stop.is_set():
                self.seen.append(
                    db.transact(lambda conn: conn.execute(query).scalar_one(), write=False)
                )
                self._first.set()
                self._stop.wait(0.002)
        finally:
            db.dispose()

    def __enter__(self) -> StockWatch:
        self._thread.start()
        assert self._first.wait(timeout=30), "the stock watch never read the stock"
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    @property
    def low(self) -> int:
        return min(self.seen)

    @property
    def high(self) -> int:
        return max(self.seen)


@pytest.fixture
def watch(db_url: str) -> Iterator[Callable[[str], StockWatch]]:
    yield partial(StockWatch, db_url)


# --- 1. the last items -------------------------------------------------------------------------
BUYERS = 30
LEFT = 5


@pytest.mark.parametrize(
    "wants",
    [
        pytest.param([1] * BUYERS, id="each-wants-one"),
        pytest.param([1 + i % 2 for i in range(BUYERS)], id="some-want-two"),
    ],
)
def test_thirty_buyers_racing_for_the_last_five_items_get_five(platform, watch, wants):
    shop = open_shop(platform)
    product = add_product(platform, shop, NewProduct("Ube halaya 350 g", 25_000, stock=LEFT))
    variant_id = product["variants"][0]["id"]
    buyers = make_buyers(platform, BUYERS)

    with watch(variant_id) as seen:
        outcomes = race(
            [
                partial(checkout, platform, shop, b, product["id"], q)
                for b, q in zip(buyers, wants, strict=True)
            ]
        )

    sold = [o.value for o in outcomes if o.ok]
    assert sum(order["lines"][0]["quantity"] for order in sold) == LEFT  # no more, no less
    assert {o.refusal for o in outcomes if not o.ok} == {"out_of_stock"}
    assert len(sold) < BUYERS
    assert stock_of(platform, variant_id) == 0
    assert seen.seen and seen.low >= 0 and seen.high <= LEFT
    for order in sold:
        assert order["status"] == "pending_payment"
        assert order["total_minor"] == order["lines"][0]["quantity"] * 25_000 + SHIPPING
    # What the tables hold agrees with what the callers were told.
    rows = lines_for(platform, variant_id)
    assert sorted(r["order_id"] for r in rows) == sorted(o["id"] for o in sold)
    assert sum(r["quantity"] for r in rows) == LEFT
    books_ok(platform.db)


# --- 2. one order paid twice at once ------------------------------------------------------------
def test_an_order_paid_twice_at_once_is_paid_once(platform):
    """Two taps on "Pay" (or a client retrying without an idempotency key), for five orders
    at once: one payment each, the other refused, each buyer debited once."""
    shop = open_shop(platform)
    product = add_product(platform, shop, NewProduct("Barako coffee 250 g", 18_000, stock=100))
    buyers = make_buyers(platform, 5)
    placed = [checkout(platform, shop, b, product["id"], 1 + i) for i, b in enumerate(buyers)]

    outcomes = race(
        [
            partial(pay, platform, b.caller, order["id"])
            for b, order in zip(buyers, placed, strict=True)
            for _ in range(2)
        ]
    )

    for i, (buyer, order) in enumerate(zip(buyers, placed, strict=True)):
        pair = outcomes[2 * i : 2 * i + 2]
        assert sorted(o.refusal or "paid" for o in pair) == ["order_transition_invalid", "paid"]
        paid = next(o.value for o in pair if o.ok)
        total = order["total_minor"]
        assert paid["status"] == "paid" and paid["escrow"]["held_minor"] == total
        assert balance(platform, buyer.wallet) == FUNDS - total  # debited once
        after = get_order(platform, order["id"])
        assert after["escrow"]["paid_in_minor"] == total
        assert [h["action"] for h in after["history"]] == ["checkout", "pay"]
        assert len(after["transfer_ids"]) == 1
    assert balance(platform, shop.settlement_wallet) == 0  # held in escrow, not released
    books_ok(platform.db)


# --- 3. the buyer confirms while the worker auto-releases ---------------------------------------
def delivered_orders(
    platform: Platform, shop: Shop, buyers: list[Buyer], product_id: str
) -> list[OrderView]:
    placed = []
    for i, buyer in enumerate(buyers):
        order = checkout(platform, shop, buyer, product_id, 1 + i % 3)
        pay(platform, buyer.caller, order["id"])
        ship_and_deliver(platform, shop, order["id"], f"LBC{i:06d}")
        placed.append(get_order(platform, order["id"]))
        assert placed[-1]["status"] == "delivered"
    return placed


def assert_released_once(
    platform: Platform, shop: Shop, placed: list[OrderView], winners: list[str]
) -> None:
    """Each order completed by exactly the action that won its race, the merchant paid
    held less the fee exactly once, the fees credited once, and the books balanced."""
    expected = 0
    fees = 0
    for order, winner in zip(placed, winners, strict=True):
        done = get_order(platform, order["id"])
        total = order["total_minor"]
        assert done["status"] == "completed"
        assert done["escrow"]["held_minor"] == 0
        assert done["escrow"]["released_minor"] == total
        assert done["escrow"]["fee_minor"] == fee_of(total)
        releases = [h for h in done["history"] if h["action"] in ("confirm", "auto_release")]
        assert [h["action"] for h in releases] == [winner]
        assert len(done["transfer_ids"]) == 3  # pay, release, release fee: nothing twice
        expected += total - fee_of(total)
        fees += fee_of(total)
    assert balance(platform, shop.settlement_wallet) == expected
    assert fee_revenue(platform.db) == fees
    books_ok(platform.db)


def fee_revenue(db: Database) -> int:
    shards = [f"op.fees.{i:02d}" for i in range(limits.OPERATOR_ACCOUNT_SHARDS)]
    found = ledger_service.lookup_accounts(db, shards).values()
    return sum(a.credits_posted - a.debits_posted for a in found)


def test_a_buyer_confirming_as_the_worker_auto_releases_releases_once(platform, clock):
    """Six delivered orders past their release time; for each, the buyer confirms and the
    worker's job for that order runs at the same moment. One of the two wins each race."""
    shop = open_shop(platform)
    product = add_product(platform, shop, NewProduct("Piña cloth 1 m", 33_325, stock=100))
    buyers = make_buyers(platform, 6)
    placed = delivered_orders(platform, shop, buyers, product["id"])
    clock.advance(RELEASE_DAYS * DAY + 1)

    outcomes = race(
        [
            action
            for b, order in zip(buyers, placed, strict=True)
            for action in (
                partial(confirm, platform, b.caller, order["id"]),
                partial(auto_release, platform, order["id"]),
            )
        ]
    )

    winners = []
    for i in range(len(placed)):
        confirmed, released = outcomes[2 * i], outcomes[2 * i + 1]
        assert released.ok  # the worker's job never raises: it re-checks under the lock
        if confirmed.ok:
            assert released.value is False
            assert confirmed.value["status"] == "completed"
            winners.append("confirm")
        else:
            assert confirmed.refusal == "order_transition_invalid"
            assert released.value is True
            winners.append("auto_release")
    assert_released_once(platform, shop, placed, winners)


def test_buyers_confirming_while_the_worker_sweeps_release_each_order_once(platform, clock):
    """The worker's real sweep (``release_orders``: one query, then one transaction per
    order) runs beside every buyer confirming at once."""
    shop = open_shop(platform)
    product = add_product(platform, shop, NewProduct("Piña cloth 1 m", 33_325, stock=100))
    buyers = make_buyers(platform, 6)
    placed = delivered_orders(platform, shop, buyers, product["id"])
    clock.advance(RELEASE_DAYS * DAY + 1)

    outcomes = race(
        [
            partial(order_jobs.release_orders, platform),
            *(
                partial(confirm, platform, b.caller, order["id"])
                for b, order in zip(buyers, placed, strict=True)
            ),
        ]
    )

    swept, confirms = outcomes[0], outcomes[1:]
    assert swept.ok
    assert {o.refusal for o in confirms if not o.ok} <= {"order_transition_invalid"}
    assert swept.value + sum(o.ok for o in confirms) == len(placed)
    winners = ["confirm" if o.ok else "auto_release" for o in confirms]
    assert_released_once(platform, shop, placed, winners)


# --- 4. cancels racing checkouts for one variant ------------------------------------------------
INITIAL = 20


def test_cancels_racing_checkouts_never_conjure_or_lose_stock(platform, watch):
    """Size M starts with 20. Six orders of 2 are placed (three of them paid); then, all at
    once: each of those six is cancelled by its buyer and by the merchant together, two more
    pending orders are paid by their buyers while the merchant cancels them, and twelve new
    buyers check out 2 each. Stock given back is given back once; stock never exceeds what
    the shop had, never goes negative, and ends as 20 less what live orders hold."""
    shop = open_shop(platform)
    product = add_product(
        platform,
        shop,
        NewProduct(
            "Marikina shoes",
            120_000,
            variants=[NewVariant("M", INITIAL), NewVariant("L", 3)],
        ),
    )
    size_m, size_l = (v["id"] for v in product["variants"])
    early = make_buyers(platform, 8)
    late = make_buyers(platform, 12)
    placed = [checkout(platform, shop, b, product["id"], 2, size_m) for b in early]
    for buyer, order in zip(early[:3], placed[:3], strict=True):
        pay(platform, buyer.caller, order["id"])
    assert stock_of(platform, size_m) == INITIAL - 2 * len(early)
    pairs = list(zip(early, placed, strict=True))
    doubly, contested = pairs[:6], pairs[6:]

    actions: list[Callable[[], Any]] = []
    for buyer, order in doubly:
        actions += [
            partial(cancel, platform, buyer.caller, order["id"]),
            partial(cancel, platform, shop.merchant, order["id"]),
        ]
    for buyer, order in contested:
        actions += [
            partial(pay, platform, buyer.caller, order["id"]),
            partial(cancel, platform, shop.merchant, order["id"]),
        ]
    actions += [partial(checkout, platform, shop, b, product["id"], 2, size_m) for b in late]
    with watch(size_m) as seen:
        outcomes = race(actions)

    doubly_out = outcomes[: 2 * len(doubly)]
    contested_out = outcomes[2 * len(doubly) : 2 * (len(doubly) + len(contested))]
    late_out = outcomes[2 * (len(doubly) + len(contested)) :]
    for i in range(len(doubly)):
        pair = doubly_out[2 * i : 2 * i + 2]
        assert sorted(o.refusal or "ok" for o in pair) == ["ok", "order_transition_invalid"]
    for i in range(len(contested)):
        paid, cancelled = contested_out[2 * i], contested_out[2 * i + 1]
        assert cancelled.ok  # before payment or after it (then with a refund): either way
        assert paid.ok or paid.refusal == "order_transition_invalid"
    assert {o.refusal for o in late_out if not o.ok} <= {"out_of_stock"}
    sold_late = sum(o.ok for o in late_out)

    # Every early order ended cancelled, its stock back exactly once, its money back whole.
    for buyer, order in zip(early, placed, strict=True):
        after = get_order(platform, order["id"])
        assert after["status"] == "cancelled"
        assert after["lines"][0]["cancelled_quantity"] == 2
        assert after["escrow"]["held_minor"] == 0
        assert after["escrow"]["refunded_minor"] == after["escrow"]["paid_in_minor"]
        assert balance(platform, buyer.wallet) == FUNDS
    rows = lines_for(platform, size_m)
    live = sum(r["quantity"] - r["cancelled_quantity"] for r in rows if r["status"] != "cancelled")
    returned = sum(r["cancelled_quantity"] for r in rows)
    taken = sum(r["quantity"] for r in rows)
    assert returned == 2 * len(early)
    assert live == 2 * sold_late
    assert stock_of(platform, size_m) == INITIAL - live
    assert INITIAL - taken + returned == stock_of(platform, size_m)
    assert taken - returned <= INITIAL  # never more handed out than the shop had
    assert seen.seen and seen.low >= 0 and seen.high <= INITIAL
    assert stock_of(platform, size_l) == 3  # the other size was never touched
    books_ok(platform.db)


# --- 5. many escrows into one merchant ----------------------------------------------------------
def test_many_buyers_paying_and_confirming_at_once_settle_the_merchant_exactly(platform):
    """Twelve buyers check out, pay, and (after the merchant ships and delivers every order
    at once) confirm, each step all at once: the merchant's settlement wallet, one row every
    release locks, ends with the sum of each order's total less its own rounded fee."""
    shop = open_shop(platform)
    product = add_product(platform, shop, NewProduct("Calamansi juice 1 L", 18_333, stock=100))
    buyers = make_buyers(platform, 12)

    checked_out = race(
        [
            partial(checkout, platform, shop, b, product["id"], 1 + i % 3)
            for i, b in enumerate(buyers)
        ]
    )
    assert all(o.ok for o in checked_out)
    placed = [o.value for o in checked_out]

    paid = race(
        [
            partial(pay, platform, b.caller, order["id"])
            for b, order in zip(buyers, placed, strict=True)
        ]
    )
    assert all(o.ok and o.value["status"] == "paid" for o in paid)
    for buyer, order in zip(buyers, placed, strict=True):
        assert balance(platform, buyer.wallet) == FUNDS - order["total_minor"]
    assert balance(platform, shop.settlement_wallet) == 0
    report = verify(platform.db)
    assert report.violations == []
    assert report.escrow_orders == len(placed)
    assert report.escrow_held_minor == sum(o["total_minor"] for o in placed)

    shipped = race(
        [
            partial(ship_and_deliver, platform, shop, order["id"], f"JT{i:06d}")
            for i, order in enumerate(placed)
        ]
    )
    assert all(o.ok for o in shipped)

    confirmed = race(
        [
            partial(confirm, platform, b.caller, order["id"])
            for b, order in zip(buyers, placed, strict=True)
        ]
    )
    assert all(o.ok and o.value["status"] == "completed" for o in confirmed)

    totals = [o["total_minor"] for o in placed]
    assert balance(platform, shop.settlement_wallet) == sum(t - fee_of(t) for t in totals)
    assert fee_revenue(platform.db) == sum(fee_of(t) for t in totals)
    for order, total in zip((o.value for o in confirmed), totals, strict=True):
        assert order["escrow"]["released_minor"] == total
        assert order["escrow"]["fee_minor"] == fee_of(total)
    report = verify(platform.db)
    assert report.violations == []
    assert (report.escrow_orders, report.escrow_held_minor) == (0, 0)
