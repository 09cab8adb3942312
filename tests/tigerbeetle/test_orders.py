"""Orders with escrow through the API with the ledger on a real TigerBeetle cluster (issue 22):
paying into escrow and its release (the buyer's confirmation, the worker's automatic
release) through the two-store order, a crash after each step, recovery, the resend with the
same key, refusals changing nothing, an order held still while its money moves, what is not
ported yet refused, and verify's escrow checks.

The deployment is ``test_payments``'s (one per database kind for this module: a one-replica
cluster, the barangay moved over with the migration); the tests compare before and after.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.api.conftest import Party, make_party
from tests.tigerbeetle import test_payments
from tests.tigerbeetle.test_payments import Deployment, _dies
from tests.tigerbeetle.test_requests_qr import PIN, _Browser
from tests.tigerbeetle.test_requests_qr import browser as browser  # the signed-in buyer
from tests.tigerbeetle.test_web_withdraw_send import sign_in as sign_in  # anyone signed in
from tindahan.commerce.fx import refund_share
from tindahan.services.commerce import escrow_cluster
from tindahan.services.commerce import jobs as order_jobs
from tindahan.services.payments import two_store
from tindahan.services.platform import logins
from tindahan.store.commerce_tables import disputes as dispute_rows
from tindahan.store.commerce_tables import fx_quotes, orders
from tindahan.store.payment_tables import events, two_store_payments, wallet_usage
from tindahan.store.risk_tables import risk_usage
from tindahan.tigerbeetle.verify import verify as verify_cluster

pytestmark = pytest.mark.xdist_group("tigerbeetle-b")
#: The payments module's fixtures: this module gets its own deployment from them.
deployment = test_payments.deployment
crash_after = test_payments.crash_after

PRICE = 18_000
SHIPPING = 5_000
TOTAL = PRICE + SHIPPING
FEE = 460  # the marketplace's 2% of ₱230.00, HALF_UP


@pytest.fixture(scope="module")
def shop(deployment: Deployment) -> dict[str, Any]:
    api, key = deployment.api, deployment.world.merchant.key
    store = api.ok(
        api.post(
            "/v1/storefronts",
            key,
            {"slug": "tb-orders", "name": "Aling Nena Online", "shipping_fee_minor": SHIPPING},
        )
    )
    coffee = api.ok(
        api.post(
            f"/v1/storefronts/{store['id']}/products",
            key,
            {"title": "Barako coffee 250 g", "price_minor": PRICE, "stock": 500},
        )
    )
    dear = api.ok(
        api.post(
            f"/v1/storefronts/{store['id']}/products",
            key,
            {"title": "Carabao cart", "price_minor": 999_000, "stock": 5},
        )
    )
    return {"store": store, "coffee": coffee, "dear": dear}


def _order(
    d: Deployment, shop: dict[str, Any], product: str = "coffee", quantity: int = 1
) -> dict[str, Any]:
    lines = [{"product_id": shop[product]["id"], "quantity": quantity}]
    body = {"storefront_id": shop["store"]["id"], "lines": lines}
    return d.api.ok(d.api.post("/v1/orders", d.world.buyer.key, body))


def _pay(d: Deployment, order_id: str, key: str | None = None) -> Any:
    return d.api.post(f"/v1/orders/{order_id}/pay", d.world.buyer.key, {}, idem=key)


def _confirm(d: Deployment, order_id: str, key: str | None = None) -> Any:
    return d.api.post(f"/v1/orders/{order_id}/confirm", d.world.buyer.key, {}, idem=key)


def _deliver(d: Deployment, order_id: str) -> None:
    api, key = d.api, d.world.merchant.key
    body = {"courier": "LBC", "tracking_number": f"LBC{uuid.uuid4().hex[:8]}"}
    shipment = api.ok(api.post(f"/v1/orders/{order_id}/shipments", key, body))
    for status in ("delivered",):
        api.ok(api.post(f"/v1/shipments/{shipment['id']}/events", key, {"status": status}))


def _get(d: Deployment, order_id: str) -> dict[str, Any]:
    return d.api.ok(d.api.get(f"/v1/orders/{order_id}", d.world.buyer.key))


def _escrow(d: Deployment, order_id: str) -> int:
    name = order_id.replace("_", ".") + ".escrow"
    account = d.ledger.lookup_accounts([name]).get(name)
    return 0 if account is None else account.balance_posted


def _events(d: Deployment, event_type: str, order_id: str) -> int:
    rows = d.platform.run(
        lambda u: list(u.conn.execute(select(events.c.data).where(events.c.type == event_type))),
        write=False,
    )
    return sum(json.loads(data)["data"]["id"] == order_id for (data,) in rows)


def _out_today(d: Deployment, buyer: Party | None = None) -> int:
    """The buyer's running outgoing total (day and month rows together)."""
    account = d.accounts((buyer or d.world.buyer, "main"))[0].id

    def read(unit: Any) -> int:
        found = unit.conn.execute(
            select(wallet_usage.c.total_minor).where(
                wallet_usage.c.account_id == account, wallet_usage.c.direction == "out"
            )
        )
        return sum(found.scalars())

    return d.platform.run(read, write=False)


def _clean(d: Deployment, *, whole: bool = False) -> None:
    """Nothing left unfinished and verify's orders part clean; ``whole``: the payments' part
    too (every place's transfers, every posted transfer's place: it reads every account's
    statement, so once a story, not after each step)."""
    assert two_store.unfinished(d.platform) == 0
    assert escrow_cluster.verify(d.db, d.ledger) == []
    if whole:
        assert two_store.verify(d.db, d.ledger) == []


def test_an_order_paid_into_escrow_and_released_books_in_the_cluster(deployment, shop):
    d = deployment
    order = _order(d, shop)
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    paid = d.api.ok(_pay(d, order["id"], key))
    assert paid["status"] == "paid" and paid["escrow"]["held_minor"] == TOTAL
    assert d.balances()[:2] == (buyer - TOTAL, settlement)  # not the merchant's yet
    assert _escrow(d, order["id"]) == TOTAL
    again = _pay(d, order["id"], key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert _events(d, "order.paid", order["id"]) == 1
    twice = _pay(d, order["id"])  # a second key: the SQL path's refusal, decided in A
    assert twice.status_code == 409, twice.text
    _deliver(d, order["id"])
    key = str(uuid.uuid4())
    done = d.api.ok(_confirm(d, order["id"], key))
    assert done["status"] == "completed"
    assert done["escrow"]["released_minor"] == TOTAL and done["escrow"]["fee_minor"] == FEE
    assert done["escrow"]["held_minor"] == 0
    assert d.balances()[:2] == (buyer - TOTAL, settlement + TOTAL - FEE)
    assert _escrow(d, order["id"]) == 0
    replay = _confirm(d, order["id"], key)
    assert replay.json() == done and replay.headers["Idempotent-Replayed"] == "true"
    assert _events(d, "order.completed", order["id"]) == 1
    history = [(h["action"], h["actor_role"]) for h in _get(d, order["id"])["history"]]
    assert history[1] == ("pay", "buyer") and history[-1] == ("confirm", "buyer")
    _clean(d, whole=True)
    assert verify_cluster(d.ledger).ok


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_paying_an_order_pays_it_once(
    deployment, shop, crash_after, step
):
    """The payments' table for an order's payment: the process dies after ``step``; recovery
    (or the retry) finishes it; the buyer pays once, escrow holds it once, ``order.paid``
    once, and the order names what was booked."""
    d = deployment
    order = _order(d, shop)
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _pay(d, order["id"], key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    answer = d.api.ok(_pay(d, order["id"], key))
    assert answer["status"] == "paid" and answer["escrow"]["held_minor"] == TOTAL
    replay = _pay(d, order["id"], key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[:2] == (buyer - TOTAL, settlement)
    assert _escrow(d, order["id"]) == TOTAL
    assert _events(d, "order.paid", order["id"]) == 1
    _clean(d)


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_release_pays_the_merchant_once(
    deployment, shop, crash_after, step
):
    d = deployment
    order = _order(d, shop)
    d.api.ok(_pay(d, order["id"]))
    _deliver(d, order["id"])
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _confirm(d, order["id"], key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    answer = d.api.ok(_confirm(d, order["id"], key))
    assert answer["status"] == "completed" and answer["escrow"]["fee_minor"] == FEE
    assert d.balances()[:2] == (buyer, settlement + TOTAL - FEE)
    assert _escrow(d, order["id"]) == 0
    assert _events(d, "order.completed", order["id"]) == 1
    _clean(d)


def test_not_enough_money_is_refused_and_changes_nothing(deployment, shop):
    """The buyer's wallet too low for the order: ``402 insufficient_funds`` as on SQL, the
    order still ``pending_payment``, the balances and the running total as they were, the
    retry the same answer; a smaller order then pays (the escrow account opened by the
    refused attempt is reused)."""
    d = deployment
    order = _order(d, shop, "dear")
    before, out = d.balances(), _out_today(d)
    key = str(uuid.uuid4())
    low = _pay(d, order["id"], key)
    assert low.status_code == 402, low.text
    assert low.json()["error"]["code"] == "insufficient_funds"
    assert d.balances() == before and _out_today(d) == out
    assert _get(d, order["id"])["status"] == "pending_payment"
    again = _pay(d, order["id"], key)
    assert again.status_code == 402 and again.json() == low.json()
    assert _events(d, "order.paid", order["id"]) == 0
    cancelled = d.api.post(f"/v1/orders/{order['id']}/cancel", d.world.buyer.key, {})
    assert d.api.ok(cancelled)["status"] == "cancelled"  # unpaid: nothing to move
    _clean(d)


def test_an_order_whose_money_is_moving_waits(deployment, shop, crash_after):
    """Left ``reserving`` by a crash, the order's payment holds the order still: a cancel is
    refused ``409 order_movement_pending`` and the worker's expiry passes it by; recovery
    then pays it, once."""
    d = deployment
    order = _order(d, shop)
    crash_after("A")
    _dies(d, lambda: _pay(d, order["id"]))
    crash_after(None)
    cancel = d.api.post(f"/v1/orders/{order['id']}/cancel", d.world.buyer.key, {})
    assert cancel.status_code == 409, cancel.text
    assert cancel.json()["error"]["code"] == "order_movement_pending"

    def expire_now(unit: Any) -> None:
        where = orders.c.id == order["id"]
        unit.conn.execute(update(orders).where(where).values(expires_at_ns=0))

    d.platform.run(expire_now)
    order_jobs.expire_orders(d.platform)
    assert _get(d, order["id"])["status"] == "pending_payment"
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert _get(d, order["id"])["status"] == "paid"
    assert _escrow(d, order["id"]) == TOTAL
    _clean(d)


def test_the_worker_releases_a_delivered_order_through_the_cluster(deployment, shop, crash_after):
    """The automatic release: the worker's round goes through the two-store order; a crash
    after its A leaves it to recovery, and the next round does not release it twice."""
    d = deployment
    first, second = _order(d, shop), _order(d, shop)
    for order in (first, second):
        d.api.ok(_pay(d, order["id"]))
        _deliver(d, order["id"])
    buyer, settlement, _ = d.balances()

    def due_now(unit: Any) -> None:
        ids = [first["id"], second["id"]]
        unit.conn.execute(update(orders).where(orders.c.id.in_(ids)).values(release_at_ns=0))

    d.platform.run(due_now)
    crash_after("A")
    with pytest.raises(test_payments.Crash):
        order_jobs.release_orders(d.platform)
    crash_after(None)
    assert order_jobs.release_orders(d.platform) == 1  # the other; the first is moving
    assert two_store.recover(d.platform, older_than_s=0) == 1
    assert order_jobs.release_orders(d.platform) == 0
    for order in (first, second):
        done = _get(d, order["id"])
        assert done["status"] == "completed" and done["history"][-1]["actor_role"] == "worker"
        assert _events(d, "order.completed", order["id"]) == 1
    assert d.balances()[:2] == (buyer, settlement + 2 * (TOTAL - FEE))
    _clean(d)


def test_an_order_s_qr_code_pays_into_escrow_on_the_cluster(deployment, shop):
    d = deployment
    order = _order(d, shop)
    code = d.api.ok(d.api.get(f"/v1/orders/{order['id']}/qr", d.world.buyer.key))
    buyer = d.balances()[0]
    key = str(uuid.uuid4())
    body = {"payload": code["payload"]}
    paid = d.api.ok(d.api.post("/v1/qr/order_payments", d.world.buyer.key, body, idem=key))
    assert paid["id"] == order["id"] and paid["status"] == "paid"
    again = d.api.post("/v1/qr/order_payments", d.world.buyer.key, body, idem=key)
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[0] == buyer - TOTAL and _escrow(d, order["id"]) == TOTAL
    _clean(d)


def _stock(d: Deployment, shop: dict[str, Any]) -> int:
    found = d.api.ok(d.api.get(f"/v1/products/{shop['coffee']['id']}", d.world.merchant.key))
    return int(found["variants"][0]["stock"])


def _refund(d: Deployment, order_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    path = f"/v1/orders/{order_id}/refunds"
    return d.api.post(path, d.world.merchant.key, {"reason": "wala nang stock", **body}, idem=key)


def test_a_paid_order_s_cancel_gives_the_money_back_once(deployment, shop):
    """The buyer cancels a paid order: escrow back to the buyer through the two-store order,
    the stock back on the shelf at C, ``order.cancelled`` once; the replay answers the same."""
    d = deployment
    stock = _stock(d, shop)
    order = _order(d, shop)
    d.api.ok(_pay(d, order["id"]))
    buyer = d.balances()[0]
    key = str(uuid.uuid4())
    path = f"/v1/orders/{order['id']}/cancel"
    cancelled = d.api.ok(d.api.post(path, d.world.buyer.key, {"reason": "nagbago isip"}, idem=key))
    assert cancelled["status"] == "cancelled" and cancelled["escrow"]["refunded_minor"] == TOTAL
    assert cancelled["history"][-1]["note"] == "nagbago isip"
    again = d.api.post(path, d.world.buyer.key, {"reason": "nagbago isip"}, idem=key)
    assert again.json() == cancelled and again.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[0] == buyer + TOTAL and _escrow(d, order["id"]) == 0
    assert _stock(d, shop) == stock
    assert _events(d, "order.cancelled", order["id"]) == 1
    _clean(d)


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_refund_out_of_escrow_refunds_once(
    deployment, shop, crash_after, step
):
    """The merchant's partial refund (by amount): the process dies after ``step``; recovery
    (or the retry) finishes it; the buyer gets it once, escrow gives it once, the order
    counts it once, ``order.partially_refunded`` once; the rest then refunds it whole."""
    d = deployment
    order = _order(d, shop)
    d.api.ok(_pay(d, order["id"]))
    buyer = d.balances()[0]
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: _refund(d, order["id"], {"amount_minor": 3_000}, key))
    crash_after(None)
    recovered = two_store.recover(d.platform, older_than_s=0)
    assert recovered == (0 if step in ("inside A", "C") else 1)
    answer = d.api.ok(_refund(d, order["id"], {"amount_minor": 3_000}, key))
    assert answer["status"] == "paid" and answer["escrow"]["refunded_minor"] == 3_000
    replay = _refund(d, order["id"], {"amount_minor": 3_000}, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[0] == buyer + 3_000 and _escrow(d, order["id"]) == TOTAL - 3_000
    assert _events(d, "order.partially_refunded", order["id"]) == 1
    rest = d.api.ok(_refund(d, order["id"], {"amount_minor": TOTAL - 3_000}))
    assert rest["status"] == "refunded" and rest["escrow"]["held_minor"] == 0
    assert d.balances()[0] == buyer + TOTAL and _escrow(d, order["id"]) == 0
    _clean(d)


def test_verify_names_an_order_whose_escrow_differs_from_the_cluster(deployment, shop):
    d = deployment
    order = _order(d, shop)
    d.api.ok(_pay(d, order["id"]))
    _clean(d)

    def held(unit: Any, value: int) -> None:  # the rest "refunded", as the CHECK wants
        where = orders.c.id == order["id"]
        forged = {"held_minor": value, "refunded_minor": TOTAL - value}
        unit.conn.execute(update(orders).where(where).values(**forged))

    d.platform.run(lambda u: held(u, TOTAL - 1))
    try:
        problems = escrow_cluster.verify(d.db, d.ledger)
        assert problems == [
            f"order {order['id']}: escrow holds {TOTAL} in the cluster, the order {TOTAL - 1}"
        ]
    finally:
        d.platform.run(lambda u: held(u, TOTAL))
    _clean(d, whole=True)


@pytest.mark.one_database
def test_the_web_order_page_pays_and_confirms_on_the_cluster_once(deployment, shop, browser):
    """The order page's Pay (with the PIN) and Confirm buttons take the API's own A
    (``escrow_cluster``) through the two-store order: a double tap moves the money once."""
    d = deployment
    order = _order(d, shop)
    buyer, settlement, _ = d.balances()
    browser.get(f"/b/orders/{order['id']}")
    sent = {"pin": PIN, "idempotency_key": browser.field("idempotency_key")}
    paid = browser.post(f"/b/orders/{order['id']}/pay", sent)
    assert paid.status_code == 303, paid.text
    again = browser.post(f"/b/orders/{order['id']}/pay", sent)  # a double tap
    assert again.status_code == 303, again.text
    assert _get(d, order["id"])["status"] == "paid"
    assert d.balances()[0] == buyer - TOTAL and _escrow(d, order["id"]) == TOTAL
    _deliver(d, order["id"])
    browser.get(f"/b/orders/{order['id']}")
    sent = {"idempotency_key": browser.field("idempotency_key")}
    for _ in range(2):
        done = browser.post(f"/b/orders/{order['id']}/confirm", sent)
        assert done.status_code == 303, done.text
    assert _get(d, order["id"])["status"] == "completed"
    assert d.balances()[:2] == (buyer - TOTAL, settlement + TOTAL - FEE)
    assert _events(d, "order.paid", order["id"]) == _events(d, "order.completed", order["id"]) == 1
    _clean(d)


# -- a buyer abroad: paying from and refunded to a wallet in dollars ----------------------------

#: The buyer abroad's FX legs move these (the FX liquidity in dollars and in pesos).
_FX = ("op.fx.USD", "op.fx.PHP")
#: ₱230.00 at 58.25 less 1.50 % (57.37625 a dollar): US$4.01, rounded up so it buys the total.
DOLLARS = 401


@pytest.fixture(scope="module")
def abroad(deployment: Deployment) -> Party:
    """Tita Baby in Daly City: a USD wallet funded with US$100.00 on the cluster (too little
    for the dear cart), and the operator's rate for the day."""
    api, operator = deployment.api, deployment.world.operator
    body = {"kind": "customer", "name": "Tita Baby (Daly City)", "currency": "USD", "tier": "full"}
    party = make_party(api, operator, body)
    api.ok(api.post("/v1/fx_rates/USD", operator, {"mid_rate": "58.25", "spread_bps": 150}))
    funding = {"wallet_id": party.wallets["main"], "amount_minor": 100_00, "currency": "USD"}
    api.ok(api.post("/v1/fundings", operator, funding))
    return party


def _abroad_order(
    d: Deployment, shop: dict[str, Any], abroad: Party, product: str = "coffee"
) -> dict[str, Any]:
    lines = [{"product_id": shop[product]["id"], "quantity": 1}]
    body = {"storefront_id": shop["store"]["id"], "lines": lines}
    return d.api.ok(d.api.post("/v1/orders", abroad.key, body))


def _pay_in_dollars(d: Deployment, abroad: Party, order_id: str, key: str | None = None) -> Any:
    """A quote for the order, then the payment at it (the key for the payment)."""
    quote = d.api.ok(d.api.post(f"/v1/orders/{order_id}/fx_quotes", abroad.key, {}))
    body = {"quote_id": quote["id"]}
    return d.api.post(f"/v1/orders/{order_id}/pay", abroad.key, body, idem=key), quote


def _dollars(d: Deployment, abroad: Party) -> int:
    (account,) = d.accounts((abroad, "main"))
    assert account.debits_pending == account.credits_pending == 0
    return account.balance_posted


def _fx(d: Deployment) -> list[int]:
    found = d.ledger.lookup_accounts(list(_FX))
    assert all(found[i].debits_pending == found[i].credits_pending == 0 for i in _FX)
    return [found[i].balance_posted for i in _FX]


def _rate(d: Deployment, mid: str) -> None:
    body = {"mid_rate": mid, "spread_bps": 150}
    d.api.ok(d.api.post("/v1/fx_rates/USD", d.world.operator, body))


def _expire(d: Deployment, quote_id: str) -> None:
    where = fx_quotes.c.id == quote_id
    d.platform.run(lambda u: u.conn.execute(update(fx_quotes).where(where).values(expires_at_ns=0)))


def _sums_per_ledger_zero(d: Deployment) -> None:
    totals = d.ledger.totals()
    assert {t.ledger for t in totals} >= {"PHP", "USD"}
    assert all(t.debits_posted == t.credits_posted for t in totals)


def test_a_buyer_abroad_pays_in_dollars_and_is_refunded_on_the_cluster(deployment, shop, abroad):
    """The SQL path's answers and legs: no quote refused, the quote's dollars out of the
    wallet into the FX liquidity and the pesos from it into escrow, held and posted
    together; the replay; a cart too dear refused ``insufficient_funds`` with nothing moved
    and the running total given back; a partial refund then the rest, the dollars back to
    the cent (the cumulative floor), verify and the per-ledger sums clean."""
    d = deployment
    order = _abroad_order(d, shop, abroad)
    assert order["buyer_currency"] == "USD"
    need = d.api.post(f"/v1/orders/{order['id']}/pay", abroad.key, {})
    assert need.status_code == 400 and need.json()["error"]["code"] == "fx_quote_required"
    dollars, (usd, php) = _dollars(d, abroad), _fx(d)
    key = str(uuid.uuid4())
    answer, quote = _pay_in_dollars(d, abroad, order["id"], key)
    paid = d.api.ok(answer)
    assert quote["buyer_minor"] == DOLLARS and quote["customer_rate"] == "57.37625"
    assert (paid["status"], paid["buyer_paid_minor"]) == ("paid", DOLLARS)
    assert paid["escrow"]["held_minor"] == TOTAL
    replay = d.api.post(f"/v1/orders/{order['id']}/pay", abroad.key, {"quote_id": quote["id"]})
    assert replay.status_code == 409  # a second key: the SQL path's refusal, decided in A
    again = d.api.post(
        f"/v1/orders/{order['id']}/pay", abroad.key, {"quote_id": quote["id"]}, idem=key
    )
    assert again.json() == paid and again.headers["Idempotent-Replayed"] == "true"
    assert _dollars(d, abroad) == dollars - DOLLARS and _escrow(d, order["id"]) == TOTAL
    assert _fx(d) == [usd + DOLLARS, php - TOTAL]
    assert _events(d, "order.paid", order["id"]) == 1

    dear = _abroad_order(d, shop, abroad, "dear")
    out = _out_today(d, abroad)
    low, _ = _pay_in_dollars(d, abroad, dear["id"])
    assert low.status_code == 402 and low.json()["error"]["code"] == "insufficient_funds"
    assert _dollars(d, abroad) == dollars - DOLLARS and _out_today(d, abroad) == out
    got = d.api.ok(d.api.get(f"/v1/orders/{dear['id']}", abroad.key))
    assert got["status"] == "pending_payment"

    part = d.api.ok(_refund(d, order["id"], {"amount_minor": 3_000}))
    back = part["buyer_refunded_minor"]
    assert 0 < back < DOLLARS and _dollars(d, abroad) == dollars - DOLLARS + back
    rest = d.api.ok(_refund(d, order["id"], {"amount_minor": TOTAL - 3_000}))
    assert rest["status"] == "refunded" and rest["buyer_refunded_minor"] == DOLLARS
    assert _dollars(d, abroad) == dollars and _escrow(d, order["id"]) == 0
    assert _fx(d) == [usd, php]  # what the spread kept stays nowhere: all of it went back
    _clean(d, whole=True)
    _sums_per_ledger_zero(d)


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_paying_and_refunding_in_dollars_moves_them_once(
    deployment, shop, abroad, crash_after, step
):
    """The payments' table for a buyer abroad: the payment dies after ``step``, recovery
    (or the retry with the same key) books the quote's figures once, even with the rate
    moved and the quote expired after A; then the cancel's
    refund dies after the same step and is finished once: the dollars back to the cent,
    each FX liquidity back where it was, one ``order.paid``, one ``order.cancelled``."""
    d = deployment
    order = _abroad_order(d, shop, abroad)
    dollars, (usd, php) = _dollars(d, abroad), _fx(d)
    quote = d.api.ok(d.api.post(f"/v1/orders/{order['id']}/fx_quotes", abroad.key, {}))
    path, body = f"/v1/orders/{order['id']}/pay", {"quote_id": quote["id"]}
    key = str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: d.api.post(path, abroad.key, body, idem=key))
    crash_after(None)
    if step != "inside A":  # A committed: the quote's figures are the place's from now on
        _rate(d, "61.00")  # so neither a new rate nor the quote's expiry changes them
        _expire(d, quote["id"])
    try:
        recovered = two_store.recover(d.platform, older_than_s=0)
        assert recovered == (0 if step in ("inside A", "C") else 1)
        paid = d.api.ok(d.api.post(path, abroad.key, body, idem=key))
    finally:
        _rate(d, "58.25")
    assert (paid["status"], paid["buyer_paid_minor"]) == ("paid", DOLLARS)
    assert _dollars(d, abroad) == dollars - DOLLARS
    assert _fx(d) == [usd + DOLLARS, php - TOTAL] and _escrow(d, order["id"]) == TOTAL

    path, key = f"/v1/orders/{order['id']}/cancel", str(uuid.uuid4())
    crash_after(step)
    _dies(d, lambda: d.api.post(path, abroad.key, {}, idem=key))
    crash_after(None)
    assert two_store.recover(d.platform, older_than_s=0) == (0 if step in ("inside A", "C") else 1)
    cancelled = d.api.ok(d.api.post(path, abroad.key, {}, idem=key))
    assert cancelled["status"] == "cancelled" and cancelled["buyer_refunded_minor"] == DOLLARS
    assert _dollars(d, abroad) == dollars and _fx(d) == [usd, php]
    assert _escrow(d, order["id"]) == 0
    assert _events(d, "order.paid", order["id"]) == _events(d, "order.cancelled", order["id"]) == 1
    _clean(d)


# -- a refund by lines, the disputes' decisions, the merchant's and the console's forms --------

LINES = {"lines": [{"line_no": 1, "quantity": 1}]}  # one bag of coffee back
SPLIT = 3_000  # a split's part for the buyer; the merchant's ₱200.00 pays a fee of ₱4.00
SPLIT_FEE = 400


def _disputed(d: Deployment, shop: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A paid order, and the dispute its buyer opened on it."""
    order = _order(d, shop)
    d.api.ok(_pay(d, order["id"]))
    return order, _dispute_on(d, order["id"])


def _dispute_on(d: Deployment, order_id: str) -> str:
    path = f"/v1/orders/{order_id}/disputes"
    opened = d.api.ok(d.api.post(path, d.world.buyer.key, {"reason": "basag ang dating"}))
    return str(opened["id"])


def _resolve(d: Deployment, dispute_id: str, body: dict[str, Any], key: str | None = None) -> Any:
    path = f"/v1/disputes/{dispute_id}/resolve"
    return d.api.post(path, d.world.operator, {"note": "nakita sa video", **body}, idem=key)


def _dispute(d: Deployment, dispute_id: str) -> dict[str, Any]:
    return dict(d.api.ok(d.api.get(f"/v1/disputes/{dispute_id}", d.world.operator)))


@pytest.mark.parametrize("step", two_store.STEPS)
def test_a_crash_after_each_step_of_a_refund_by_lines_and_of_a_split_moves_each_once(
    deployment, shop, crash_after, step
):
    """One order, two movements, each cut after ``step``, recovered (or retried), replayed.
    One of two bags refunded by its line: until C the line is not cancelled and its stock
    not back (the lines wait with the place); then the bag's price back to the buyer once,
    the bag back on the shelf once, ``order.partially_refunded`` once. Then the buyer's
    dispute split by the operator: until C the dispute is open and the order ``disputed``;
    then the buyer's part to the buyer once, the rest less the fee to the merchant once,
    escrow empty, the order ``completed`` with those figures, ``order.completed`` and
    ``dispute.resolved`` once, the answer the resolved dispute (as on SQL)."""
    d = deployment
    order = _order(d, shop, quantity=2)
    d.api.ok(_pay(d, order["id"]))
    buyer, settlement, _ = d.balances()
    stock = _stock(d, shop)

    def cut(send: Any) -> None:
        crash_after(step)
        _dies(d, send)
        crash_after(None)

    def recovered() -> None:
        assert two_store.recover(d.platform, older_than_s=0) == (step not in ("inside A", "C"))

    key = str(uuid.uuid4())
    cut(lambda: _refund(d, order["id"], LINES, key))
    if step != "C":
        assert _get(d, order["id"])["lines"][0]["cancelled_quantity"] == 0
        assert _stock(d, shop) == stock
    recovered()
    answer = d.api.ok(_refund(d, order["id"], LINES, key))
    assert answer["status"] == "paid" and answer["escrow"]["refunded_minor"] == PRICE
    assert answer["lines"][0]["cancelled_quantity"] == 1
    assert answer["history"][-1]["note"] == "wala nang stock"
    replay = _refund(d, order["id"], LINES, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    assert d.balances()[0] == buyer + PRICE and _escrow(d, order["id"]) == TOTAL
    assert _stock(d, shop) == stock + 1
    assert _events(d, "order.partially_refunded", order["id"]) == 1

    dispute_id = _dispute_on(d, order["id"])
    key = str(uuid.uuid4())
    body = {"resolution": "split", "refund_minor": SPLIT}
    cut(lambda: _resolve(d, dispute_id, body, key))
    if step != "C":
        assert _dispute(d, dispute_id)["status"] == "open"
        assert _get(d, order["id"])["status"] == "disputed"
    recovered()
    answer = d.api.ok(_resolve(d, dispute_id, body, key))
    assert answer["object"] == "dispute" and answer["status"] == "resolved"
    assert (answer["resolution"], answer["note"]) == ("split", "nakita sa video")
    assert (answer["refund_minor"], answer["release_minor"]) == (SPLIT, TOTAL - SPLIT)
    assert answer == _dispute(d, dispute_id)
    replay = _resolve(d, dispute_id, body, key)
    assert replay.json() == answer and replay.headers["Idempotent-Replayed"] == "true"
    back = PRICE + SPLIT
    assert d.balances()[:2] == (buyer + back, settlement + TOTAL - SPLIT - SPLIT_FEE)
    assert _escrow(d, order["id"]) == 0
    done = _get(d, order["id"])
    assert done["status"] == "completed" and done["history"][-1]["action"] == "resolve_split"
    figures = ("refunded_minor", "released_minor", "fee_minor", "held_minor")
    assert [done["escrow"][f] for f in figures] == [back, TOTAL - SPLIT, SPLIT_FEE, 0]
    assert _events(d, "order.completed", order["id"]) == 1
    assert _events(d, "dispute.resolved", dispute_id) == 1
    _clean(d)


def test_a_buyer_abroad_s_dispute_split_gives_its_share_back_in_dollars(deployment, shop, abroad):
    """A split for a buyer abroad: its part back through the FX liquidity (a refund's two
    legs, held together), its share of the dollars it paid (the cumulative floor, as on
    SQL), the rest to the merchant less the fee; the per-ledger sums zero."""
    d = deployment
    order = _abroad_order(d, shop, abroad)
    d.api.ok(_pay_in_dollars(d, abroad, order["id"])[0])
    dollars, (usd, php), settlement = _dollars(d, abroad), _fx(d), d.balances()[1]
    path = f"/v1/orders/{order['id']}/disputes"
    opened = d.api.ok(d.api.post(path, abroad.key, {"reason": "hindi dumating"}))
    decided = d.api.ok(_resolve(d, opened["id"], {"resolution": "split", "refund_minor": SPLIT}))
    assert (decided["refund_minor"], decided["release_minor"]) == (SPLIT, TOTAL - SPLIT)
    done = d.api.ok(d.api.get(f"/v1/orders/{order['id']}", abroad.key))
    back = refund_share(DOLLARS, TOTAL, 0, SPLIT)
    assert done["status"] == "completed" and done["buyer_refunded_minor"] == back > 0
    assert _dollars(d, abroad) == dollars + back and _fx(d) == [usd - back, php + SPLIT]
    assert d.balances()[1] == settlement + TOTAL - SPLIT - SPLIT_FEE
    assert _escrow(d, order["id"]) == 0
    _clean(d)
    _sums_per_ledger_zero(d)


def test_disputes_decided_for_the_buyer_and_for_the_merchant_book_in_the_cluster(deployment, shop):
    """For the buyer: all of escrow back, the bag back on the shelf, ``refunded``; for the
    merchant: all of it less the fee, ``completed``; a second decision (another key) is the
    SQL path's ``409 dispute_resolved``. ``ledger verify`` checks each decided dispute's
    figures against what its decision booked: a forged one is named."""
    d = deployment
    stock = _stock(d, shop)
    (for_buyer, first), (for_merchant, second) = _disputed(d, shop), _disputed(d, shop)
    buyer, settlement, _ = d.balances()
    key = str(uuid.uuid4())
    refunded = d.api.ok(_resolve(d, first, {"resolution": "refund"}, key))
    assert (refunded["resolution"], refunded["refund_minor"]) == ("refund", TOTAL)
    assert refunded["release_minor"] == 0
    again = _resolve(d, first, {"resolution": "refund"}, key)
    assert again.json() == refunded and again.headers["Idempotent-Replayed"] == "true"
    released = d.api.ok(_resolve(d, second, {"resolution": "release"}))
    assert (released["refund_minor"], released["release_minor"]) == (0, TOTAL)
    later = _resolve(d, second, {"resolution": "refund"})
    assert later.status_code == 409 and later.json()["error"]["code"] == "dispute_resolved"
    assert d.balances()[:2] == (buyer + TOTAL, settlement + TOTAL - FEE)
    assert _get(d, for_buyer["id"])["status"] == "refunded"
    assert _get(d, for_merchant["id"])["escrow"]["fee_minor"] == FEE
    assert _stock(d, shop) == stock - 1  # the refunded order's bag is back; the other sold
    assert _events(d, "order.refunded", for_buyer["id"]) == 1
    assert _events(d, "order.completed", for_merchant["id"]) == 1
    assert _events(d, "dispute.resolved", first) == _events(d, "dispute.resolved", second) == 1
    _clean(d, whole=True)

    def forge(unit: Any, by: int) -> None:
        where = dispute_rows.c.id == second
        row = unit.conn.execute(select(dispute_rows).where(where)).mappings().one()
        moved = {
            "refund_minor": row["refund_minor"] + by,
            "release_minor": row["release_minor"] - by,
        }
        unit.conn.execute(update(dispute_rows).where(where).values(**moved))

    d.platform.run(lambda u: forge(u, 1))
    try:
        problems = escrow_cluster.verify(d.db, d.ledger)
        assert len(problems) == 1 and second in problems[0], problems
    finally:
        d.platform.run(lambda u: forge(u, -1))
    _clean(d)


def _disputes_counted(d: Deployment) -> int:
    """The merchant's open disputes in the risk rules' usage (``risk_usage``)."""
    query = select(risk_usage.c.count).where(
        risk_usage.c.party_id == d.world.merchant.id, risk_usage.c.metric == "dispute"
    )
    return d.platform.run(lambda u: sum(u.conn.execute(query).scalars()), write=False)


def test_refused_or_given_up_refunds_by_lines_and_decisions_change_nothing(
    deployment, shop, crash_after
):
    """A refund's bad lines and too much are the SQL path's refusals, decided in A. Left
    ``reserving`` by a crash, a dispute's decision holds its order still: another decision
    (another key) is refused ``409 order_movement_pending``. Its reservation's time over,
    recovery gives it up, and its retry answers ``402 reservation_expired``: the dispute
    still open and counted against the merchant again, the order ``disputed``, nothing
    moved. A refund by lines given up so leaves its line and stock as they were. Another
    key then decides the dispute."""
    d = deployment
    order, dispute_id = _disputed(d, shop)
    lined = _order(d, shop, quantity=2)
    d.api.ok(_pay(d, lined["id"]))
    before, stock, counted = d.balances(), _stock(d, shop), _disputes_counted(d)
    for lines, code in (([(2, 1)], "line_invalid"), ([(1, 2), (1, 1)], "quantity_invalid")):
        body = {"lines": [{"line_no": n, "quantity": q} for n, q in lines]}
        bad = _refund(d, lined["id"], body)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == code, bad.text
    too_much = _refund(d, lined["id"], {"amount_minor": TOTAL + PRICE + 1})
    assert too_much.status_code == 400
    assert too_much.json()["error"]["code"] == "refund_exceeds_escrow"
    key, lines_key = str(uuid.uuid4()), str(uuid.uuid4())
    crash_after("A")
    _dies(d, lambda: _resolve(d, dispute_id, {"resolution": "refund"}, key))
    _dies(d, lambda: _refund(d, lined["id"], LINES, lines_key))
    crash_after(None)
    other = _resolve(d, dispute_id, {"resolution": "release"})
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "order_movement_pending"
    assert _disputes_counted(d) == counted - 1  # taken off in A, as on SQL

    def past_deadline(unit: Any) -> None:
        where = two_store_payments.c.state == "reserving"
        unit.conn.execute(update(two_store_payments).where(where).values(deadline_ns=0))

    d.platform.run(past_deadline)
    assert two_store.recover(d.platform, older_than_s=0) == 2
    for late in (
        _resolve(d, dispute_id, {"resolution": "refund"}, key),
        _refund(d, lined["id"], LINES, lines_key),
    ):
        assert late.status_code == 402, late.text
        assert late.json()["error"]["code"] == "reservation_expired"
    assert _dispute(d, dispute_id)["status"] == "open"
    assert _get(d, order["id"])["status"] == "disputed"
    assert _get(d, lined["id"])["lines"][0]["cancelled_quantity"] == 0
    assert d.balances() == before and _stock(d, shop) == stock
    assert _disputes_counted(d) == counted
    assert _escrow(d, order["id"]) == _escrow(d, lined["id"]) - PRICE == TOTAL
    done = d.api.ok(_resolve(d, dispute_id, {"resolution": "release"}))
    assert done["status"] == "resolved" and _get(d, order["id"])["status"] == "completed"
    _clean(d)


@pytest.mark.one_database
def test_the_merchant_s_and_the_console_s_forms_move_escrow_on_the_cluster_once(
    deployment, shop, sign_in
):
    """The merchant's Refund and Cancel forms and the console's dispute decision take the
    API's own A (``escrow_cluster``) through the two-store order: after the question, the
    confirmation and a double tap of it move the money once."""
    d = deployment
    refunded, cancelled = _order(d, shop), _order(d, shop)
    for order in (refunded, cancelled):
        d.api.ok(_pay(d, order["id"]))
    split, dispute_id = _disputed(d, shop)
    buyer, settlement, _ = d.balances()
    stock = _stock(d, shop)
    page = sign_in(d.world.merchant)
    forms = (
        (refunded, "refund", {"refund_amount": "30.00", "refund_reason": "kulang ang laman"}),
        (cancelled, "cancel", {"cancel_reason": "ubos na"}),
    )
    for order, action, fields in forms:
        page.get(f"/m/orders/{order['id']}")
        sent = {**fields, "idempotency_key": page.field("idempotency_key")}
        path = f"/m/orders/{order['id']}/{action}"
        asked = page.post(path, sent)
        assert asked.status_code == 200 and 'name="confirmed"' in asked.text, asked.text
        for _ in range(2):  # the confirmation, and a double tap of it
            done = page.post(path, {**sent, "confirmed": "yes"})
            assert done.status_code == 303, done.text
    staff = _staff(d)
    staff.get(f"/op/disputes/{dispute_id}")
    sent = {
        "resolution": "split",
        "split_amount": "30.00",
        "split_note": "kalahati",
        "idempotency_key": staff.field("idempotency_key"),
    }
    for _ in range(2):
        decided = staff.post(f"/op/disputes/{dispute_id}/resolve", sent)
        assert decided.status_code == 303, decided.text
    staff.http.close()
    assert _get(d, refunded["id"])["escrow"]["refunded_minor"] == 3_000
    assert _get(d, cancelled["id"])["status"] == "cancelled"
    assert _dispute(d, dispute_id)["refund_minor"] == SPLIT
    assert d.balances()[:2] == (
        buyer + 3_000 + TOTAL + SPLIT,
        settlement + TOTAL - SPLIT - SPLIT_FEE,
    )
    assert _escrow(d, refunded["id"]) == TOTAL - 3_000 and _escrow(d, cancelled["id"]) == 0
    assert _escrow(d, split["id"]) == 0 and _stock(d, shop) == stock + 1
    assert _events(d, "order.partially_refunded", refunded["id"]) == 1
    assert _events(d, "order.cancelled", cancelled["id"]) == 1
    assert _events(d, "dispute.resolved", dispute_id) == 1
    _clean(d)


def _staff(d: Deployment) -> _Browser:
    """A browser signed in to the console as operator staff (the login made once)."""
    phones: dict[str | None, str] = d.__dict__.setdefault("web_phones", {})
    if None not in phones:
        phone = phones[None] = "+63918" + str(uuid.uuid4().int)[:7]
        d.platform.run(
            lambda u: logins.create(u, None, party_id=None, phone=phone, secret=PIN, name="Ops")
        )
    made = _Browser(d.api.http.base_url)
    made.get("/signin")
    done = made.post("/signin", {"phone": phones[None], "secret": PIN})
    assert done.status_code == 303, done.text
    return made
