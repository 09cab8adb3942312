"""Demo data for ``make run``: a barangay's shops, their buyers, an agent, three weeks of sales.

Barangay San Roque, Marikina: Aling Nena's sari-sari store, Kusina ni Lola (a carinderia),
Mang Tonyo's hardware and Ate Joy's online ukay-ukay shop; Tindahan ni Ben is the cash agent;
eight buyers, and Tita Baby in Daly City, a buyer abroad with a USD wallet. Ate Joy and
Mang Tonyo sell online too: their storefronts' orders go through escrow, shipping by J&T
and LBC, delivery, release (some by the buyer, some by the worker after the period), one
dispute still open and one order paid in dollars.

Everything goes through the real services — funding the agent's float from the bank,
cash-ins at Ben's, daily purchases, a few P2P sends, payment requests, a refund and a
cash-out — with a clock that walks through the last three weeks, so statements, limits and
the coming credit scores see a realistic history. Amounts come from a seeded random
generator: the same demo every time.

A few suspicious patterns (``typologies``) run among them, judged by the shipped risk rules,
so the operator's alert queue is not empty.

The three couriers' rate cards come with half a year of simulated deliveries (and a typhoon
week's advisories), so checkouts show windows learned from them.

Seeding runs only on a database with no parties (``seed`` returns 0 otherwise).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select

from tindahan.credit import simulate as simulator
from tindahan.delivery import simulate as delivery_simulator
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.port import LedgerPort
from tindahan.lending.calendar import business_date
from tindahan.services.commerce import (
    addresses,
    catalog,
    disputes,
    escrow,
    orders,
    photos,
    shipments,
)
from tindahan.services.commerce import jobs as order_jobs
from tindahan.services.delivery import couriers, promises
from tindahan.services.lending.views import OfferView
from tindahan.services.payments import fx, payments, requests, wallets
from tindahan.services.platform import keys, parties
from tindahan.services.seed import booking, pictures, simulation, typologies
from tindahan.services.seed.booking import Skipped
from tindahan.services.unit import Platform, SettableClock, Unit
from tindahan.store.database import connect
from tindahan.store.payment_tables import api_keys
from tindahan.store.payment_tables import parties as party_table

DAYS = 21
#: What the seed counts an online order's escrow payment under when the ledger skips it.
ORDER_PAYMENT = "online order paid into escrow (and its shipping, delivery, release)"
#: … and a simulated shop's cash-out (its settlement-to-main sweep books on SQL only).
SIMULATED_CASH_OUT = "cash-out of a shop with months of history (its sweep)"
OPERATOR = Caller("demo", None, frozenset(DEFAULT_SCOPES))
MERCHANTS = [
    ("Aling Nena's Sari-Sari Store", "5411", (1_500, 35_000), 14),
    ("Kusina ni Lola", "5812", (6_000, 18_000), 10),
    ("Mang Tonyo's Hardware", "5251", (8_000, 150_000), 2),
    ("Ate Joy's Ukay-Ukay", "5651", (15_000, 80_000), 3),
]
BUYERS = [
    "Juan dela Cruz",
    "Maria Santos",
    "Pedro Reyes",
    "Ana Villanueva",
    "Jose Ramos",
    "Liza Bautista",
    "Carlo Mendoza",
    "Grace Aquino",
]

#: Each buyer's delivery address (the same index as ``BUYERS``, then the buyer abroad's, who
#: sends to family): real Marikina barangays with their PHLPost codes, so each passes the PSGC
#: checks (``commerce.psgc``) and gets its codes. (street, barangay, postal code.)
HOMES = [
    ("7 Kamagong St.", "Concepcion Uno", "1807"),
    ("12 Sampaguita St., Unit 3B", "Malanday", "1805"),
    ("45 Bayan-Bayanan Ave.", "Concepcion Dos", "1811"),
    ("3 Molave St.", "Nangka", "1808"),
    ("88 J.P. Rizal St.", "San Roque", "1801"),
    ("21 Ilang-Ilang St.", "Parang", "1809"),
    ("9 Champaca St.", "Marikina Heights", "1810"),
    ("15 Gil Fernando Ave.", "Santo Niño", "1800"),
    ("30 Shoe Ave.", "Tañong", "1803"),
]


@dataclass
class Demo:
    platform: Platform
    merchants: list[str] = field(default_factory=list)
    buyers: list[str] = field(default_factory=list)
    agent: str = ""
    abroad: str = ""
    products: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    homes: dict[str, str] = field(default_factory=dict)  # buyer → address book entry
    open_orders: list[dict[str, Any]] = field(default_factory=list)
    disputed: bool = False
    made: int = 0
    #: What a TigerBeetle ledger does not take yet, left out (``booking.Skipped``).
    skipped: booking.Skipped = field(default_factory=booking.Skipped)

    def run(self, work: Callable[[Unit], Any]) -> Any:
        return self.platform.run(work)

    def try_run(self, work: Callable[[Unit], Any], what: str = "") -> Any:
        """A demo buyer may run short or hit a limit, as real ones do: skip that sale (and
        count it under ``what`` when the TigerBeetle ledger does not take it yet)."""
        return self.try_book(lambda: self.run(work), what)

    def try_book(self, book: Callable[[], Any], what: str = "") -> Any:
        """``try_run`` for a movement made through ``booking`` (either ledger's path)."""
        try:
            result = book()
        except RefusalError as refusal:
            self.skipped.note(what or refusal.message, refusal)
            return None
        self.made += 1
        return result


def is_empty(platform: Platform) -> bool:
    count = platform.run(
        lambda u: u.conn.execute(select(func.count()).select_from(party_table)).scalar_one(),
        write=False,
    )
    return count == 0


def seed_with_history(
    db_url: str, vault: Any, ledger: LedgerPort | None = None, skipped: Skipped | None = None
) -> int:
    """Seed through a database handle whose clock walks through the past weeks; ``ledger``:
    the deployment's TigerBeetle cluster, if it has one (``booking``), and ``skipped``
    gathers what it does not take yet."""
    clock = SettableClock()
    with connect(db_url, clock=clock) as database:
        return seed(Platform(database, vault, ledger=ledger), clock.set, skipped)


def seed(platform: Platform, clock: Callable[[int], None], skipped: Skipped | None = None) -> int:
    """Create the demo; ``clock(ns)`` sets the time the platform's services see."""
    if not is_empty(platform):
        return 0
    rng = random.Random(1055)
    demo = Demo(platform, skipped=skipped if skipped is not None else Skipped())
    now = platform.now()
    start = now - DAYS * 86_400 * 10**9
    dormant = typologies.dormant_start(platform, clock, start)
    clock(start)
    _people(demo)
    float_wallet = _wallet(demo, demo.agent, "float")
    booking.fund(platform, OPERATOR, float_wallet, 20_000_000, "PHP", "BDO-DEP-0001")
    _shops(demo)
    for day in range(DAYS):
        midnight = start + day * 86_400 * 10**9
        _day(demo, rng, midnight, clock)
        _online(demo, rng, midnight, clock, last=day == DAYS - 1)
    who = {"agent": demo.agent, "hardware": demo.merchants[2], "dormant": dormant}
    demo.made += typologies.seed(platform, clock, now - 45 * 60 * 10**9, who, demo.skipped)
    clock(now)
    return demo.made


def _people(demo: Demo) -> None:
    address = {"city": "Marikina", "province": "Metro Manila"}
    for index, (name, mcc, _, _) in enumerate(MERCHANTS):
        new = parties.NewParty(
            "merchant", name, phone=f"+6391755500{index:02d}", mcc=mcc, **address
        )
        demo.merchants.append(_create(demo, new))
    agent = parties.NewParty("agent", "Tindahan ni Ben", phone="+639175550100", **address)
    demo.agent = _create(demo, agent)
    for index, name in enumerate(BUYERS):
        tier = "full" if index % 3 == 0 else "basic"
        new = parties.NewParty(
            "customer",
            name,
            phone=f"+6391855501{index:02d}",
            tier=tier,
            id_number=f"PSN-1234-5678-{index:04d}" if tier == "full" else None,
        )
        demo.buyers.append(_create(demo, new))

    abroad = parties.NewParty("customer", "Tita Baby (Daly City)", tier="full", currency="USD")
    demo.abroad = _create(demo, abroad)
    for index, buyer in enumerate([*demo.buyers, demo.abroad]):
        street, barangay, postal_code = HOMES[index]
        recipient = BUYERS[index] if index < len(BUYERS) else BUYERS[0]
        home = {
            "recipient": recipient,
            "phone": f"+6391855501{index % len(BUYERS):02d}",
            "street": street,
            "barangay": barangay,
            "city": "Marikina",
            "province": "Metro Manila",
            "postal_code": postal_code,
            "notes": "",
        }
        made = demo.run(partial(addresses.add, caller=OPERATOR, raw=home, party_id=buyer))
        demo.homes[buyer] = made["id"]


#: Online shops: (merchant index, slug, shipping fee, products). A product is (title, price,
#: stock) or (title, price, [(size, stock), ...]).
Stock = int | list[tuple[str, int]]
SHOPS: list[tuple[int, str, int, list[tuple[str, int, Stock]]]] = [
    (
        3,
        "ate-joy-ukay",
        4_500,
        [
            ("Ukay bundle, 5 shirts", 45_000, [("S", 6), ("M", 10), ("L", 8)]),
            ("Denim jacket, Japan surplus", 65_000, [("M", 3), ("L", 2)]),
            ("Tote bag, abaca", 28_000, 20),
        ],
    ),
    (
        2,
        "mang-tonyo-hardware",
        12_000,
        [
            ("Cordless drill 12V", 189_000, 4),
            ("Paint, latex white 4L", 72_500, 15),
            ("Nails, common 2in, 1 kg", 9_500, 60),
        ],
    ),
]
#: Mid-market PHP per unit, the sort of figures of late 2026.
RATES = {"USD": "58.25", "CNY": "8.05", "EUR": "63.10"}
BLURB = "Order online, pay into escrow, receive in 2-4 days."


#: Couriers' rate cards for the demo (illustrative fees in centavos, not any courier's
#: published rates): the operator's list a merchant picks from on /m/shipping.
COURIERS: dict[str, tuple[str, int, int]] = {
    "jnt": ("J&T Express", 8_500, 1),
    "lbc": ("LBC Express", 11_000, 1),
    "flash": ("Flash Express", 8_000, 2),
}


def _courier_card(name: str, base: int, days: int) -> dict[str, Any]:
    zones = ("within_city", "metro_manila", "luzon", "visayas", "mindanao", "island_crossing")
    card: dict[str, Any] = {"name": name, "cod_bps": 275, "cod_min_minor": 1_500, "zones": {}}
    for step, zone in enumerate(zones):
        card["zones"][zone] = {
            "min_days": days + step // 2,
            "max_days": days + step // 2 + 2,
            "tiers": [
                {"max_weight_g": grams, "fee_minor": base + 1_500 * step + extra}
                for grams, extra in ((500, 0), (1_000, 2_000), (3_000, 6_000), (5_000, 12_000))
            ],
        }
    return card


#: Simulated shipments the demo's delivery windows are learned from (``delivery.simulate``).
HISTORY_SHIPMENTS = 3_000


def _delivery_history(demo: Demo) -> None:
    """Half a year of the three couriers' simulated deliveries before the demo's weeks,
    and the typhoon week's advisories: checkouts show learned windows."""
    first = business_date(demo.platform.now()) - timedelta(days=190)
    made = delivery_simulator.simulate(HISTORY_SHIPMENTS, seed=25, start=first, days=180)
    demo.run(
        partial(
            promises.import_history, caller=OPERATOR, shipments=made.shipments, source="simulated"
        )
    )
    for area, days in made.advisories.days.items():
        demo.run(partial(promises.set_advisory, caller=OPERATOR, area=area, days=days))


def _shops(demo: Demo) -> None:
    for code, (courier, base, days) in COURIERS.items():
        card = _courier_card(courier, base, days)
        demo.run(partial(couriers.set_card, caller=OPERATOR, code=code, body=card))
    _delivery_history(demo)
    for code, rate in RATES.items():
        demo.run(
            partial(fx.put_rate, caller=OPERATOR, currency=code, mid_rate=rate, spread_bps=None)
        )
    for index, slug, fee, items in SHOPS:
        owner = _as(demo.merchants[index])
        name = MERCHANTS[index][0]
        store = demo.run(
            partial(
                catalog.create_storefront,
                caller=owner,
                slug=slug,
                name=name,
                description=BLURB,
                shipping_fee_minor=fee,
            )
        )
        for title, price, stock in items:
            options = (
                [catalog.NewVariant(n, q) for n, q in stock] if isinstance(stock, list) else []
            )
            plain = None if isinstance(stock, list) else stock
            new = catalog.NewProduct(title, price, stock=plain, variants=options)
            made = demo.run(
                partial(catalog.create_product, caller=owner, storefront_id=store["id"], new=new)
            )
            _photo(demo.platform, owner, made["id"], title)
            picks = [(made["id"], v["id"]) for v in made["variants"]]
            demo.products.setdefault(store["id"], []).extend(picks)
    usd = _wallet(demo, demo.abroad, "main")
    booking.fund(demo.platform, OPERATOR, usd, 30_000, "USD", "WISE-0001")


def _online(
    demo: Demo, rng: random.Random, midnight: int, clock: Callable[[int], None], last: bool
) -> None:
    """Every day: an order or two; open orders ship, arrive, get confirmed."""
    hour = 3_600 * 10**9
    clock(midnight + 10 * hour)
    for order in list(demo.open_orders):
        _advance(demo, rng, order, last)
    for _ in range(rng.randrange(1, 4)):
        store_id = rng.choice(sorted(demo.products))
        product_id, variant_id = rng.choice(demo.products[store_id])
        line = orders.CartLine(product_id, rng.randrange(1, 3), variant_id)
        _buy(demo, rng.choice(demo.buyers), store_id, line, in_dollars=False)
    if last:  # a buyer abroad pays in dollars on the last day
        store_id = sorted(demo.products)[0]
        product_id, variant_id = demo.products[store_id][-1]
        _buy(demo, demo.abroad, store_id, orders.CartLine(product_id, 1, variant_id), True)
    clock(midnight + 23 * hour)
    order_jobs.expire_orders(demo.platform)  # carts left unpaid (the buyer ran short)
    order_jobs.release_orders(demo.platform)


def _buy(demo: Demo, buyer: str, store_id: str, line: orders.CartLine, in_dollars: bool) -> None:
    who = _as(buyer)
    delivery = addresses.Delivery(address_id=demo.homes[buyer]) if buyer in demo.homes else None
    made = demo.try_run(
        partial(
            orders.checkout, caller=who, storefront_id=store_id, lines=[line], delivery=delivery
        )
    )
    if not made:
        return
    quote_id = None
    if in_dollars:
        quote = demo.run(partial(escrow.quote, caller=who, order_id=made["id"], currency=None))
        quote_id = quote["id"]
    pay = partial(booking.pay_order, demo.platform, who, made["id"], quote_id)
    paid = demo.try_book(pay, ORDER_PAYMENT)
    if paid and not in_dollars:
        demo.open_orders.append({**made, "stage": 0})


def _advance(demo: Demo, rng: random.Random, order: dict[str, Any], last: bool) -> None:
    merchant, buyer, oid = _as(order["merchant_id"]), _as(order["buyer_id"]), order["id"]
    stage = order["stage"]
    if stage == 0 and rng.random() < 0.7:
        courier = rng.choice(["J&T Express", "LBC"])
        tracking = f"PH{rng.randrange(10**9, 10**10)}"
        made = demo.try_run(
            partial(
                shipments.ship,
                caller=merchant,
                order_id=oid,
                courier=courier,
                tracking_number=tracking,
            )
        )
        if made:
            order["shipment_id"], order["stage"] = made["id"], 1
    elif stage == 1 and rng.random() < 0.6:
        for status in ("picked_up", "in_transit", "out_for_delivery", "delivered"):
            demo.try_run(
                partial(
                    shipments.post_event,
                    caller=merchant,
                    shipment_id=order["shipment_id"],
                    status=status,
                )
            )
        order["stage"] = 2
    elif stage == 2 and rng.random() < 0.4:
        if last and not demo.disputed:
            reason = "the jacket has a torn sleeve"
            demo.try_run(partial(disputes.open_dispute, caller=buyer, order_id=oid, reason=reason))
            demo.disputed = True
        else:
            demo.try_book(partial(booking.confirm_order, demo.platform, buyer, oid))
        demo.open_orders.remove(order)


def _create(demo: Demo, new: parties.NewParty) -> str:
    made: dict[str, Any] = demo.run(partial(parties.create, caller=OPERATOR, new=new))
    return str(made["id"])


def _wallet(demo: Demo, party_id: str, kind: str) -> str:
    found = demo.run(lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id))["data"]
    return str(next(w["id"] for w in found if w["kind"] == kind))


def _as(party_id: str) -> Caller:
    return Caller("demo", party_id, frozenset(DEFAULT_SCOPES))


def _day(demo: Demo, rng: random.Random, midnight: int, clock: Callable[[int], None]) -> None:
    hour = 3_600 * 10**9
    events: list[tuple[int, Callable[[], Any]]] = []
    platform = demo.platform
    for buyer in demo.buyers:
        if rng.random() < 0.3:  # cash-in at Ben's, ₱500 to ₱3,000 in ₱100s
            amount = rng.randrange(5, 31) * 10_000
            cash_in = partial(
                booking.cash_in,
                platform,
                caller=_as(demo.agent),
                customer_id=buyer,
                amount_minor=amount,
                currency="PHP",
                agent_id=None,
            )
            events.append((rng.randrange(7, 20), cash_in))
    for merchant, (_, _, (low, high), per_day) in zip(demo.merchants, MERCHANTS, strict=True):
        for _ in range(rng.randrange(per_day // 2, per_day + 1)):
            buyer = rng.choice(demo.buyers)
            amount = rng.randrange(low // 25, high // 25 + 1) * 25  # prices end in 25 centavos
            new = payments.NewPayment(merchant, amount, "PHP")
            events.append((rng.randrange(6, 22), partial(booking.pay, platform, _as(buyer), new)))
    if rng.random() < 0.5:
        sender, receiver = rng.sample(demo.buyers, 2)
        new = payments.NewPayment(
            receiver, rng.randrange(1, 11) * 10_000, "PHP", description="padala"
        )
        events.append((rng.randrange(8, 21), partial(booking.pay, platform, _as(sender), new)))
    events.sort(key=lambda e: e[0])
    for at, book in events:
        clock(midnight + at * hour + rng.randrange(0, hour))
        demo.try_book(book)
    _extras(demo, rng, midnight, clock)


def _extras(demo: Demo, rng: random.Random, midnight: int, clock: Callable[[int], None]) -> None:
    """Now and then: a payment request, a refund, a cash-out."""
    clock(midnight + 20 * 3_600 * 10**9)
    ukay = demo.merchants[3]
    if rng.random() < 0.4:
        amount = rng.randrange(20, 61) * 1_000
        made = demo.try_run(
            lambda u: requests.create(
                u,
                _as(ukay),
                amount_minor=amount,
                currency="PHP",
                reference=f"ORDER-{rng.randrange(1000, 9999)}",
                description="ukay bundle, shipped by J&T",
            )
        )
        if made:
            buyer = rng.choice(demo.buyers)
            demo.try_book(lambda: booking.pay_request(demo.platform, _as(buyer), made["id"]))
    if rng.random() < 0.15:
        sold = demo.run(
            lambda u: payments.list_payments(u, _as(demo.merchants[0]), 5, None, "merchant")
        )["data"]
        if sold:
            demo.try_book(
                lambda: booking.refund(
                    demo.platform,
                    _as(demo.merchants[0]),
                    sold[0]["id"],
                    None,
                    "expired item returned",
                )
            )
    if rng.random() < 0.2:
        buyer = rng.choice(demo.buyers)
        amount = rng.randrange(2, 11) * 10_000
        out = demo.try_book(
            lambda: booking.cash_out(demo.platform, _as(buyer), demo.agent, amount, "PHP", None)
        )
        if out:
            demo.try_book(lambda: booking.confirm(demo.platform, _as(demo.agent), out["id"]))


#: The demo people who get an API key printed at each start (who, as in ``DEMO_LOGINS``).
KEY_HOLDERS = ("operator", "merchant", "merchant with a loan offer")


def demo_keys(platform: Platform, people: list[dict[str, str]]) -> dict[str, str]:
    """The keys printed at start-up, by who: the operator's, Aling Nena's store's and the
    merchant with the loan offer's (the party that signs in with that phone, ``people`` as
    ``seed_logins`` returns them).

    Each secret is derived from the data key (HMAC-SHA256 of who and which party), so the
    same demo database prints the same keys at every start and another installation's
    differ; only on a test-environment database (``tk_test_``), which a demo always is. A
    key is stored (hashed) the first time and found again afterwards."""
    if keys.environment_of(platform) != "test":
        raise ValueError("demo keys are only for a test-environment (demo) database")
    found: dict[str, str] = {}
    for person in people:
        who = person["who"]
        if who in KEY_HOLDERS:
            party_id = person.get("party_id") or None
            found[who] = platform.run(partial(_key_for, who=who, party_id=party_id))
    return found


def _key_for(unit: Unit, who: str, party_id: str | None) -> str:
    label = f"tindahan demo api key v1:{who}:{party_id or 'operator'}".encode()
    mac = hmac.new(unit.vault.key, label, hashlib.sha256).digest()
    secret = keys.PREFIXES["test"] + base64.urlsafe_b64encode(mac).decode().rstrip("=")
    stored = select(api_keys.c.id).where(api_keys.c.secret_hash == keys.digest(secret))
    if unit.conn.execute(stored).first() is None:
        keys.create(unit, None, party_id=party_id, secret=secret)
    return secret


#: Shops with months of history for the credit demo: a simulated population written
#: through the payments services (``services.seed.simulation``), at a fifth of full activity so
#: that seeding takes seconds (about 1,000 sales; four shops old enough to score, one
#: too young). Their names come from the simulator.
CREDIT_SHOPS = 5
CREDIT_HISTORY_DAYS = 180
CREDIT_ACTIVITY = 0.2
CREDIT_SEED = 11
NAMES = [name for name, *_ in MERCHANTS]


def seed_credit_history(
    db_url: str,
    vault: Any,
    now_ns: int | None = None,
    ledger: LedgerPort | None = None,
    skipped: Skipped | None = None,
) -> int:
    """Merchants with half a year of sales, so the demo can show scores, not only
    "insufficient history". Returns the number of sales written; on a TigerBeetle ledger
    ``skipped`` counts the cash-outs left out (``simulation``'s docstring)."""
    now = now_ns if now_ns is not None else time.time_ns()
    population = simulator.recent(
        CREDIT_SHOPS,
        as_of_ns=now,
        history_days=CREDIT_HISTORY_DAYS,
        seed=CREDIT_SEED,
        activity=CREDIT_ACTIVITY,
        horizon_days=30,
    )
    written = simulation.write_with_history(db_url, vault, population, ledger=ledger)
    left_out = written.refused.get(booking.NOT_PORTED, 0)
    if skipped is not None and left_out:
        skipped[SIMULATED_CASH_OUT] += left_out
    return written.sales


# --- lending (issue 7) -----------------------------------------------------------------------
# The demo's loan product: working capital for a shop, weekly installments, repaid partly
#: from each sale (15% of it goes to the loan's reserve until the next installment is
#: covered). Within the small-loan ceilings at its highest rate.
def demo_product() -> Any:
    from tindahan.services.lending.offers import NewProduct

    return NewProduct(
        name="Puhunan: weekly working capital, repaid from sales",
        min_principal_minor=100_000,
        max_principal_minor=5_000_000,
        frequency="weekly",
        min_term=4,
        max_term=16,
        rate_min="2",
        rate_max="4",
        fee_bps=200,
        penalty_rate="3",
        grace_days=2,
        auto_deduct_bps=1500,
        max_probability="0.35",
    )


def seed_lending(platform: Platform, model: Any = None) -> dict[str, str]:
    """A loan product, the Philippine regular holidays, and for the shops with months of
    sales: an assessment each, an open offer for the first one that qualifies (the demo
    merchant sees it with its disclosure) and an accepted, disbursed loan for the next.
    Idempotent: nothing is done when a product exists. Returns what it made, by name."""
    from tindahan.lending.calendar import business_date
    from tindahan.services.lending import holidays as loan_holidays
    from tindahan.services.lending import offers as loan_offers
    from tindahan.store.lending_tables import loan_products

    operator = Caller("demo", None, frozenset(DEFAULT_SCOPES))
    if platform.run(
        lambda u: u.conn.execute(select(func.count()).select_from(loan_products)).scalar(),
        write=False,
    ):
        return {}
    year = business_date(platform.now()).year
    platform.run(lambda u: loan_holidays.seed_holidays(u, range(year, year + 2)))
    product = platform.run(lambda u: loan_offers.create_product(u, operator, demo_product()))
    made = {"product": product["id"]}
    query = (
        select(party_table.c.id)
        .where(party_table.c.kind == "merchant", party_table.c.name.not_in(NAMES))
        .order_by(party_table.c.created_at_ns, party_table.c.id)
    )
    shops = platform.run(lambda u: list(u.conn.execute(query).scalars()), write=False)
    for shop in shops:
        if _lend_to(platform, operator, shop, product["id"], made, model):
            break
    return made


def _lend_to(
    platform: Platform,
    operator: Caller,
    shop: str,
    product_id: str,
    made: dict[str, str],
    model: Any,
) -> bool:
    """Assess one shop and make it an offer: the first stays open, the second is accepted
    (True when the demo has both)."""
    from tindahan.services.credit import assessments as credit
    from tindahan.services.lending import offers as loan_offers

    def assess(unit: Unit) -> dict[str, Any]:
        return credit.assess(unit, operator, shop, model)

    def offer(unit: Unit) -> OfferView:
        new = loan_offers.NewOffer(product_id, merchant_id=shop, term=8)
        return loan_offers.create_offer(unit, operator, new)

    if platform.run(assess)["decision"] != "scored":
        return False
    try:
        made_offer = platform.run(offer)
    except RefusalError:
        return False
    if "offer" not in made:
        made["offer"] = made_offer["id"]
        return False
    me = Caller("demo", shop, frozenset(DEFAULT_SCOPES))

    made["loan"] = booking.accept_offer(platform, me, made_offer["id"])["id"]
    return True


# --- web sign-ins (the web app) --------------------------------------------------------------
#: (who, phone, PIN) of each demo login; the PINs pass ``logins.check_secret`` (no runs).
DEMO_LOGINS = [
    ("operator", "+639170000001", "240816"),
    ("merchant with a loan offer", "+639170000002", "381927"),
    ("merchant", "+639170000003", "514263"),
    ("online seller", "+639170000004", "627384"),
    ("buyer", "+639170000005", "739451"),
]
OPERATOR_STAFF = "Operator (demo)"
#: The shop with the open loan offer gets a storefront too, so the web demo of that merchant
#: can sell online as well as borrow: (title, price in centavos, stock).
OFFER_SHOP_PRODUCTS = [
    ("Bigas, dinorado 5 kg", 32_500, 40, 5_000),
    ("Kape 3-in-1, 30 sachets", 18_900, 60, 600),
    ("Mantika, 1 L", 9_800, 50, 950),
]
OFFER_SHOP_FUNDING = 200_000  # ₱2,000
BUYER_FUNDING = 500_000  # ₱5,000


def seed_logins(platform: Platform) -> list[dict[str, str]]:
    """Web sign-ins with fixed PINs for the operator's staff, the merchant with the open loan
    offer, Aling Nena's store, Ate Joy's online shop and Juan dela Cruz, for the console.

    Idempotent: when any login exists nothing is written, and the list is read back from
    the logins themselves (whoever signs in with each demo phone), so the banner names the
    party that phone reaches even if offers changed since. On the first run the merchant
    with the offer also gets a storefront with three products and ₱2,000 in its wallet, and
    Juan ₱5,000, so every journey of the web demo can be walked."""
    from tindahan.services.platform import logins
    from tindahan.store.lending_tables import loan_offers as offers
    from tindahan.store.web_tables import logins as login_table

    if platform.run(lambda u: u.conn.execute(select(login_table.c.id).limit(1)).first()):
        return platform.run(_existing_logins, write=False)

    def one(query: Any) -> Any:
        return platform.run(
            lambda u: u.conn.execute(query.limit(1)).scalar_one_or_none(), write=False
        )

    def named(name: str, kind: str) -> str | None:
        found = one(
            select(party_table.c.id).where(party_table.c.name == name, party_table.c.kind == kind)
        )
        return str(found) if found else None

    offered = one(
        select(offers.c.merchant_id).where(offers.c.status == "open").order_by(offers.c.id)
    )
    if offered is None:  # lending not seeded: the shop with months of sales, as demo_keys picks
        offered = one(
            select(party_table.c.id)
            .where(party_table.c.kind == "merchant", party_table.c.name.not_in(NAMES))
            .order_by(party_table.c.created_at_ns, party_table.c.id)
        )
    people: dict[str, str | None] = {
        "operator": None,
        "merchant with a loan offer": offered,
        "merchant": named(MERCHANTS[0][0], "merchant"),
        "online seller": named(MERCHANTS[3][0], "merchant"),
        "buyer": named(BUYERS[0], "customer"),
    }
    made: list[tuple[dict[str, str], str | None]] = []
    for who, phone, pin in DEMO_LOGINS:
        party_id = people[who]
        if who != "operator" and party_id is None:
            continue  # not in this database (a demo seeded without it)
        name = OPERATOR_STAFF
        if party_id is not None:
            name = str(one(select(party_table.c.name).where(party_table.c.id == party_id)))
        entry = {"who": who, "name": name, "phone": phone, "pin": pin, "party_id": party_id or ""}
        made.append((entry, party_id))
    for entry, party_id in made:
        platform.run(
            partial(
                logins.create,
                caller=OPERATOR,
                party_id=party_id,
                phone=entry["phone"],
                secret=entry["pin"],
                name=OPERATOR_STAFF if party_id is None else None,
            )
        )
    if offered is not None:
        _offer_shop(platform, str(offered))
    if people["buyer"] is not None:
        _fund_main(platform, str(people["buyer"]), BUYER_FUNDING, "DEMO-WEB-BUYER")
    return [entry for entry, _ in made]


def _existing_logins(unit: Unit) -> list[dict[str, str]]:
    """The demo sign-ins as the database has them: per demo phone, its login's party."""
    from tindahan.payments import parties as rules
    from tindahan.store.web_tables import logins as login_table

    found = []
    for who, phone, pin in DEMO_LOGINS:
        index = unit.vault.index(rules.phone_number(phone))
        row = (
            unit.conn.execute(
                select(login_table.c.party_id, login_table.c.name).where(
                    login_table.c.phone_index == index
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            continue
        party_id = row["party_id"] or ""
        name = row["name"]
        if party_id:
            name = unit.conn.execute(
                select(party_table.c.name).where(party_table.c.id == party_id)
            ).scalar_one()
        found.append({"who": who, "name": name, "phone": phone, "pin": pin, "party_id": party_id})
    return found


def _offer_shop(platform: Platform, merchant_id: str) -> None:
    """A storefront shipping by courier, three products and ₱2,000 for the merchant with
    the loan offer."""
    from tindahan.store.commerce_tables import storefronts

    has_store = platform.run(
        lambda u: u.conn.execute(
            select(storefronts.c.id).where(storefronts.c.merchant_id == merchant_id).limit(1)
        ).first(),
        write=False,
    )
    if not has_store:
        name = platform.run(lambda u: parties.get(u, OPERATOR, merchant_id)["name"], write=False)
        owner = _as(merchant_id)
        store = platform.run(
            partial(
                catalog.create_storefront,
                caller=owner,
                slug=demo_slug(name),
                name=name,
                description=BLURB,
                shipping_fee_minor=5_000,
            )
        )
        for title, price, stock, grams in OFFER_SHOP_PRODUCTS:
            new = catalog.NewProduct(title, price, stock=stock, weight_g=grams)
            made = platform.run(
                partial(catalog.create_product, caller=owner, storefront_id=store["id"], new=new)
            )
            _photo(platform, owner, made["id"], title)
        # It ships with the three couriers: its cart shows each one's fee and the window
        # learned from the demo's delivery history.
        choices = [couriers.Choice(code) for code in COURIERS]
        platform.run(
            partial(
                couriers.set_shipping,
                caller=owner,
                storefront_id=store["id"],
                choices=choices,
                free_over_minor=None,
            )
        )
    _fund_main(platform, merchant_id, OFFER_SHOP_FUNDING, "DEMO-WEB-SHOP")


def _photo(platform: Platform, owner: Caller, product_id: str, title: str) -> None:
    """The product's demo photo (``seed.pictures``), added as a merchant's upload is."""
    prepared = photos.prepare(pictures.tile(title))  # outside the unit, as the faces do
    platform.run(
        partial(
            photos.add,
            caller=owner,
            product_id=product_id,
            prepared=prepared,
            alt=pictures.alt_text(title),
        )
    )


def demo_slug(name: str) -> str:
    """``tindahan-demo-suki-store`` from "Suki Store": a slug ``catalog`` accepts."""
    from tindahan import limits

    words = "".join(c if c.isascii() and c.isalnum() else " " for c in name.lower()).split()
    return "-".join(["tindahan", "demo", *words])[: limits.SLUG_MAX_LENGTH].rstrip("-")


def _fund_main(platform: Platform, party_id: str, amount_minor: int, reference: str) -> None:
    found = platform.run(
        lambda u: wallets.list_wallets(u, OPERATOR, 10, None, party_id), write=False
    )["data"]
    main = next(w for w in found if w["kind"] == "main" and w["currency"] == "PHP")
    booking.fund(platform, OPERATOR, main["id"], amount_minor, "PHP", reference)
