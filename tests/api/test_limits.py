"""KYC tier limits through the HTTP API, on SQLite and PostgreSQL.

Each limit of a tier (``limits.KYC_TIER_DEFAULTS``) is enforced on a party's main wallet and
named in the refusal: 402 ``limit_exceeded`` with the limit as ``param``. A refusal is never
a partial move: the money state is the same before and after it (some limits are checked
after the ledger booked the transfers, so this proves the rollback). Daily and monthly totals
follow the Manila calendar (UTC+8, ``payments/periods.py``). The operator's changes to a tier
apply to the next payment. And many payments at once from one wallet never add up past its
daily limit.
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.api.conftest import Party, make_party
from tindahan import limits
from tindahan.services.ledger.verify import verify
from tindahan.store.payment_tables import payments, wallet_usage
from tindahan.store.tables import accounts, transfers

BASIC = limits.KYC_TIER_DEFAULTS["basic"]
PER_TRANSACTION = BASIC["per_transaction_max_minor"]
DAILY_OUT = BASIC["daily_outgoing_max_minor"]
MONTHLY_OUT = BASIC["monthly_outgoing_max_minor"]
MONTHLY_IN = BASIC["monthly_incoming_max_minor"]
MAX_BALANCE = BASIC["max_balance_minor"]
#: Philippine Standard Time, UTC+8 all year: the test's own clock face, not the code's.
MANILA = timezone(timedelta(hours=8))


# --- helpers -----------------------------------------------------------------------------
def money_state(platform) -> tuple[Any, ...]:
    """Every account's balances, the transfer and payment counts, the limit totals."""
    with platform.db.engine.connect() as conn:
        balances = conn.execute(
            select(
                accounts.c.id,
                accounts.c.debits_pending,
                accounts.c.debits_posted,
                accounts.c.credits_pending,
                accounts.c.credits_posted,
            ).order_by(accounts.c.id)
        ).all()
        booked = conn.execute(select(func.count()).select_from(transfers)).scalar_one()
        made = conn.execute(select(func.count()).select_from(payments)).scalar_one()
        usage = conn.execute(
            select(wallet_usage).order_by(
                wallet_usage.c.account_id, wallet_usage.c.period, wallet_usage.c.direction
            )
        ).all()
    return [tuple(r) for r in balances], booked, made, [tuple(r) for r in usage]


def basic_customer(world, name: str = "Lola Basing") -> Party:
    return make_party(
        world.api, world.operator, {"kind": "customer", "name": name, "tier": "basic"}
    )


def fund(world, party: Party, total_minor: int) -> None:
    """Fund in pieces no larger than the basic per-transaction maximum."""
    while total_minor:
        piece = min(PER_TRANSACTION, total_minor)
        world.fund(party, piece)
        total_minor -= piece


def pay(world, payer: Party, amount_minor: int, payee: Party | None = None) -> httpx.Response:
    body = {
        "payee_id": (payee or world.merchant).id,
        "amount_minor": amount_minor,
        "currency": "PHP",
    }
    return world.api.post("/v1/payments", payer.key, body)


def spend_today(world, payer: Party, total_minor: int) -> None:
    while total_minor:
        piece = min(PER_TRANSACTION, total_minor)
        world.api.ok(pay(world, payer, piece))
        total_minor -= piece


def funding(world, party: Party, amount_minor: int) -> httpx.Response:
    body = {"wallet_id": party.wallets["main"], "amount_minor": amount_minor, "currency": "PHP"}
    return world.api.post("/v1/fundings", world.operator, body)


def assert_limit(response: httpx.Response, limit_name: str) -> dict[str, Any]:
    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert error["type"] == "payment_error", error
    assert error["code"] == "limit_exceeded", error
    assert error["param"] == limit_name, error
    return error


def refused_without_moving(platform, send, limit_name: str) -> dict[str, Any]:
    """Send a request that must be refused by ``limit_name``; nothing may change."""
    before = money_state(platform)
    error = assert_limit(send(), limit_name)
    assert money_state(platform) == before
    assert verify(platform.db).ok
    return error


def manila(clock) -> datetime:
    return datetime.fromtimestamp(clock.now // 10**9, UTC).astimezone(MANILA)


def advance_to(clock, moment: datetime) -> None:
    seconds = int((moment - manila(clock)).total_seconds())
    assert seconds > 0
    clock.advance(seconds)


def next_manila_midnight(clock) -> datetime:
    today = manila(clock).replace(hour=0, minute=0, second=0, microsecond=0)
    return today + timedelta(days=1)


def next_manila_month(clock) -> datetime:
    first = manila(clock).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first + timedelta(days=32)).replace(day=1)


def put_tier(world, name: str, **changes: int) -> dict[str, Any]:
    """Replace a tier (a figure left out means no limit, so send them all)."""
    figures = {**limits.KYC_TIER_DEFAULTS.get(name, {}), **changes}
    return world.api.ok(world.api.post(f"/v1/kyc_tiers/{name}", world.operator, figures))


# --- each limit, named -----------------------------------------------------------------------
def test_per_transaction_maximum(world, platform):
    customer = basic_customer(world)
    fund(world, customer, PER_TRANSACTION + 1_000)
    error = refused_without_moving(
        platform, lambda: pay(world, customer, PER_TRANSACTION + 1), "per_transaction_max_minor"
    )
    assert "10,000.00" in error["message"]  # the figure, in pesos
    assert world.api.ok(pay(world, customer, PER_TRANSACTION))["status"] == "succeeded"
    assert world.balance(customer) == 1_000
    # money coming in is held to it too
    refused_without_moving(
        platform, lambda: funding(world, customer, PER_TRANSACTION + 1), "per_transaction_max_minor"
    )


def test_daily_outgoing_limit_resets_at_manila_midnight_not_utc(world, platform, clock):
    customer = basic_customer(world)
    fund(world, customer, DAILY_OUT + 1_000_000)
    start = manila(clock)
    spend_today(world, customer, DAILY_OUT)  # several payments, exactly up to the limit
    assert world.balance(customer) == 1_000_000
    refused_without_moving(platform, lambda: pay(world, customer, 1), "daily_outgoing_max_minor")
    # P2P counts the same as a merchant payment
    refused_without_moving(
        platform, lambda: pay(world, customer, 1, world.buyer), "daily_outgoing_max_minor"
    )
    # past midnight in UTC, but still the same day in Manila (UTC+8): still refused
    utc_midnight = (start - timedelta(hours=8)).replace(hour=0, minute=0, second=0) + timedelta(
        days=1
    )
    assert utc_midnight + timedelta(hours=8) < next_manila_midnight(clock)
    advance_to(clock, utc_midnight + timedelta(hours=8, seconds=1))
    assert manila(clock).date() == start.date()
    refused_without_moving(platform, lambda: pay(world, customer, 1), "daily_outgoing_max_minor")
    # one second before Manila midnight: still today
    advance_to(clock, next_manila_midnight(clock) - timedelta(seconds=1))
    refused_without_moving(platform, lambda: pay(world, customer, 1), "daily_outgoing_max_minor")
    # midnight in Manila: a new day
    clock.advance(1)
    assert manila(clock).date() == start.date() + timedelta(days=1)
    spend_today(world, customer, 1_000_000)
    assert world.balance(customer) == 0


def test_monthly_outgoing_limit(world, platform, clock):
    assert MONTHLY_OUT <= MAX_BALANCE and MONTHLY_OUT % DAILY_OUT == 0
    customer = basic_customer(world)
    fund(world, customer, MONTHLY_OUT)  # this month's incoming
    advance_to(clock, next_manila_month(clock) + timedelta(hours=9))
    month = manila(clock).month
    for _ in range(MONTHLY_OUT // DAILY_OUT):  # spend the month's limit, a day's worth a day
        spend_today(world, customer, DAILY_OUT)
        clock.advance(24 * 3600)
    assert manila(clock).month == month
    assert world.balance(customer) == 0
    fund(world, customer, MONTHLY_OUT)  # the same month: incoming is within its own limit
    error = refused_without_moving(
        platform, lambda: pay(world, customer, 1), "monthly_outgoing_max_minor"
    )
    assert "100,000.00" in error["message"]
    advance_to(clock, next_manila_month(clock))
    assert world.api.ok(pay(world, customer, 1))["status"] == "succeeded"


def test_monthly_incoming_limit(world, platform, clock):
    assert MONTHLY_IN - DAILY_OUT + 1 <= MAX_BALANCE
    customer = basic_customer(world)
    fund(world, customer, MONTHLY_IN - DAILY_OUT)
    spend_today(world, customer, DAILY_OUT)
    fund(world, customer, DAILY_OUT)  # exactly the month's incoming limit
    balance = world.balance(customer)
    assert balance == MONTHLY_IN - DAILY_OUT  # room left under the maximum balance
    refused_without_moving(
        platform, lambda: funding(world, customer, 1), "monthly_incoming_max_minor"
    )
    # a payment to the wallet is booked, then refused and rolled back whole
    refused_without_moving(
        platform, lambda: pay(world, world.buyer, 1, customer), "monthly_incoming_max_minor"
    )
    assert world.balance(world.buyer) == 1_000_000
    advance_to(clock, next_manila_month(clock))
    world.api.ok(pay(world, world.buyer, 1, customer))
    assert world.balance(customer) == balance + 1


def test_maximum_balance(world, platform, clock):
    customer = basic_customer(world)
    fund(world, customer, MAX_BALANCE)
    advance_to(clock, next_manila_month(clock))  # a new month: incoming is not the limit now
    refused_without_moving(platform, lambda: funding(world, customer, 1), "max_balance_minor")
    refused_without_moving(
        platform, lambda: pay(world, world.buyer, 1, customer), "max_balance_minor"
    )
    assert world.balance(customer) == MAX_BALANCE
    world.api.ok(pay(world, customer, 5_000))
    world.api.ok(pay(world, world.buyer, 5_000, customer))  # back to the maximum, not over
    assert world.balance(customer) == MAX_BALANCE
    refused_without_moving(
        platform, lambda: pay(world, world.buyer, 1, customer), "max_balance_minor"
    )


def test_a_failed_cash_out_gives_back_its_daily_usage(world, platform):
    customer = basic_customer(world)
    fund(world, customer, DAILY_OUT)
    body = {"agent_id": world.agent.id, "amount_minor": DAILY_OUT // 2, "currency": "PHP"}
    held = [world.api.ok(world.api.post("/v1/cash_outs", customer.key, body)) for _ in range(2)]
    fund(world, customer, 1_000)
    refused_without_moving(platform, lambda: pay(world, customer, 1), "daily_outgoing_max_minor")
    canceled = world.api.post(f"/v1/cash_outs/{held[0]['id']}/cancel", customer.key, {})
    if canceled.status_code != 200:
        # no traceback: on a 500, pytest parsing source while uvicorn's thread formats the
        # server's traceback can trip a CPython 3.11 AST bug (an INTERNALERROR)
        pytest.fail(f"cancel: {canceled.status_code} {canceled.text}", pytrace=False)
    assert canceled.json()["status"] == "failed"
    assert world.api.ok(pay(world, customer, 1_000))["status"] == "succeeded"


# --- the operator changes a tier ---------------------------------------------------------------
def test_operator_tier_changes_apply_to_the_next_payment(world, platform):
    customer = basic_customer(world)
    fund(world, customer, 3 * PER_TRANSACTION)
    shown = put_tier(world, "basic", per_transaction_max_minor=300_000)
    assert shown["per_transaction_max_minor"] == 300_000
    listed = world.api.ok(world.api.get("/v1/kyc_tiers", world.operator))["data"]
    assert {t["name"]: t for t in listed}["basic"]["per_transaction_max_minor"] == 300_000
    error = refused_without_moving(
        platform, lambda: pay(world, customer, 300_001), "per_transaction_max_minor"
    )
    assert "3,000.00" in error["message"]
    put_tier(world, "basic", per_transaction_max_minor=600_000)
    world.api.ok(pay(world, customer, 500_000))
    # the daily limit: reached, then raised the same day
    put_tier(world, "basic")
    spend_today(world, customer, DAILY_OUT - 500_000)
    refused_without_moving(platform, lambda: pay(world, customer, 1), "daily_outgoing_max_minor")
    put_tier(world, "basic", daily_outgoing_max_minor=DAILY_OUT + 1)
    world.api.ok(pay(world, customer, 1))
    refused_without_moving(platform, lambda: pay(world, customer, 1), "daily_outgoing_max_minor")
    # a party moved to another tier gets that tier's limits
    world.api.ok(world.api.post(f"/v1/parties/{customer.id}", world.operator, {"tier": "full"}))
    world.api.ok(pay(world, customer, PER_TRANSACTION - 1))
    assert verify(platform.db).ok


def test_a_tier_of_its_own(world, platform):
    """An operator-made tier: only the figures it names are limits."""
    put_tier(world, "market_vendor", daily_outgoing_max_minor=50_000)
    vendor = make_party(
        world.api,
        world.operator,
        {"kind": "customer", "name": "Aling Rosa", "tier": "market_vendor"},
    )
    world.fund(vendor, 5 * PER_TRANSACTION)  # no per-transaction or balance limit in this tier
    world.api.ok(pay(world, vendor, 50_000))
    refused_without_moving(platform, lambda: pay(world, vendor, 1), "daily_outgoing_max_minor")


# --- concurrency -------------------------------------------------------------------------------
def _all_at_once(base_url: str, sends: list[Any]) -> list[httpx.Response]:
    barrier = threading.Barrier(len(sends))

    def run(send: Any) -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=120) as client:
            client.get("/health")
            barrier.wait(timeout=60)
            return send(client)

    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        return list(pool.map(run, sends))


def _post(client: httpx.Client, path: str, api_key: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": str(uuid.uuid4())}
    return client.post(path, headers=headers, json=body)


@pytest.mark.parametrize("amount_minor", [250_000, 300_000])
def test_concurrent_payments_never_add_up_past_the_daily_limit(
    world, platform, server, amount_minor
):
    """Sixteen payments at once, worth twice the daily limit, from one funded wallet."""
    customer = basic_customer(world)
    fund(world, customer, DAILY_OUT + 2 * PER_TRANSACTION)
    held = world.balance(customer)
    body = {"payee_id": world.merchant.id, "amount_minor": amount_minor, "currency": "PHP"}
    tries = 2 * DAILY_OUT // amount_minor + 1
    responses = _all_at_once(
        server, [lambda c: _post(c, "/v1/payments", customer.key, body) for _ in range(tries)]
    )
    won = [r for r in responses if r.status_code == 200]
    lost = [r for r in responses if r.status_code != 200]
    for response in lost:
        assert_limit(response, "daily_outgoing_max_minor")
    spent = sum(r.json()["amount_minor"] for r in won)
    assert spent <= DAILY_OUT
    assert len(won) == DAILY_OUT // amount_minor  # all that fit, and no more
    assert world.balance(customer) == held - spent
    with platform.db.engine.connect() as conn:
        totals = dict(
            conn.execute(
                select(wallet_usage.c.period, wallet_usage.c.total_minor).where(
                    wallet_usage.c.direction == "out"
                )
            ).all()
        )
    assert set(totals.values()) == {spent}  # today and this month, both exactly what went
    assert verify(platform.db).ok


def test_concurrent_fundings_never_push_a_wallet_past_its_limits(world, platform, server):
    customer = basic_customer(world)
    body = {
        "wallet_id": customer.wallets["main"],
        "amount_minor": PER_TRANSACTION,
        "currency": "PHP",
    }
    tries = MONTHLY_IN // PER_TRANSACTION + 6
    responses = _all_at_once(
        server, [lambda c: _post(c, "/v1/fundings", world.operator, body) for _ in range(tries)]
    )
    won = [r for r in responses if r.status_code == 200]
    for response in (r for r in responses if r.status_code != 200):
        assert_limit(response, "monthly_incoming_max_minor")
    assert len(won) == MONTHLY_IN // PER_TRANSACTION
    assert world.balance(customer) == MONTHLY_IN
    assert verify(platform.db).ok
