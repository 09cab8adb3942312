"""The rules that need history beyond one bucket, live: structuring, mules, dormancy, round
trips and refund spikes — each just below and just above its thresholds, through the
services on SQLite and PostgreSQL, with the money held (or refused) and ``ledger verify``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Clock
from tests.risk.test_live import (
    OPERATOR,
    _alerts,
    _balance,
    _party,
    _pay,
    platform,
)
from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import risk_gate, verify
from tindahan.services.payments import cash, refunds
from tindahan.services.platform import parties
from tindahan.services.unit import Platform

__all__ = ["platform"]  # the fixture, shared with test_live

HOUR = 3600
DAY = 24 * HOUR

RULES = """
[[rule]]
id = "structuring"
version = 2
decision = "review"
explain = "{count} just below {threshold_minor}"
[rule.params]
thresholds_minor = [1000000]
band_percent = 10
window_hours = 2
min_count = 3
kinds = ["p2p"]

[[rule]]
id = "mule"
version = 2
decision = "review"
[rule.params]
window_hours = 2
min_senders = 3
out_share_percent = 70
min_in_minor = 300000

[[rule]]
id = "dormant"
version = 2
decision = "review"
[rule.params]
dormant_days = 30
min_minor = 1000000

[[rule]]
id = "round_trip"
version = 2
decision = "review"
explain = "back through {hops} wallets"
[rule.params]
window_hours = 2
max_hops = 3
return_percent = 80
min_minor = 500000
kinds = ["p2p"]

[[rule]]
id = "refund_spike"
version = 2
decision = "review"
[rule.params]
window_days = 2
min_refunds = 3
ratio_percent = 30
"""


@pytest.fixture(autouse=True)
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(RULES)
    monkeypatch.setenv(risk_gate.RULES_ENV, str(path))
    return path


def _rules(platform: Platform) -> list[str]:
    return [a["rule"] for a in _alerts(platform) if a["decision"] == "review"]


def test_structuring_is_the_third_just_below_the_threshold_within_the_window(
    platform: Platform, clock: Clock
) -> None:
    ana, ben = _party(platform, "Ana", 10_000_000), _party(platform, "Ben")
    _pay(platform, ana, ben, 899_999)  # below the band (₱9,000 to ₱10,000): not counted
    _pay(platform, ana, ben, 1_000_000)  # at the threshold: not below it
    _pay(platform, ana, ben, 900_000)
    _pay(platform, ana, ben, 999_999)
    assert _rules(platform) == []  # two just below: one short
    clock.advance(2 * HOUR)  # the first two leave the two-hour window
    _pay(platform, ana, ben, 950_000)
    _pay(platform, ana, ben, 950_000)
    assert _rules(platform) == []
    _pay(platform, ana, ben, 950_000)  # the third within two hours
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["version"], alert["party_id"]) == ("structuring", 2, ana)
    assert alert["explanation"] == "3 just below 1000000" and alert["hold_id"]
    received = 899_999 + 1_000_000 + 900_000 + 999_999 + 3 * 950_000
    assert _balance(platform, ben) == (received, received - 950_000)
    assert verify.verify(platform.db).ok


def _agent(platform: Platform) -> str:
    new = parties.NewParty(kind="agent", name="Aling Nena")
    agent: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    return agent


def _cash_out(platform: Platform, customer: str, agent: str, amount: int) -> None:
    platform.run(lambda u: cash.cash_out(u, OPERATOR, agent, amount, "PHP", customer))


def test_a_mule_is_money_from_new_senders_leaving_by_cash_out(platform: Platform) -> None:
    agent = _agent(platform)
    mule = _party(platform, "Mule")
    s1, s2, s3 = (_party(platform, f"Sender {n}", 5_000_000) for n in (1, 2, 3))
    _pay(platform, s1, mule, 150_000)
    _pay(platform, s2, mule, 150_000)
    _pay(platform, s1, mule, 50_000)  # s1 again: not a new sender
    _cash_out(platform, mule, agent, 250_000)  # two new senders: one short
    _pay(platform, s3, mule, 100_000)  # three new senders, ₱4,000 in
    _cash_out(platform, mule, agent, 29_999)  # ₱2,799.99 out: just under 70 %
    assert _rules(platform) == []
    before = _balance(platform, mule)
    with pytest.raises(RefusalError) as caught:
        _cash_out(platform, mule, agent, 1)  # ₱2,800 out: 70 %
    assert caught.value.code == "risk_review" and "rule" not in caught.value.message
    assert _balance(platform, mule) == before  # nothing left
    (alert,) = _alerts(platform)  # kept, though the cash-out rolled back
    assert (alert["rule"], alert["party_id"], alert["kind"]) == ("mule", mule, "cash_out")
    assert (alert["status"], alert["hold_id"]) == ("open", None)
    assert '"senders": 3' in alert["evidence"] and '"out_minor": 280000' in alert["evidence"]
    assert verify.verify(platform.db).ok


def test_dormant_then_large(platform: Platform, clock: Clock) -> None:
    ana, ben = _party(platform, "Ana", 5_000_000), _party(platform, "Ben")
    clock.advance(30 * DAY)
    _pay(platform, ana, ben, 999_999)  # idle long enough, the amount just under
    clock.advance(30 * DAY - 1)
    _pay(platform, ana, ben, 1_000_000)  # the amount, idle a second short
    assert _rules(platform) == []
    clock.advance(30 * DAY)
    _pay(platform, ana, ben, 1_000_000)
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["party_id"]) == ("dormant", ana)
    assert '"idle_days": 30' in alert["evidence"]
    assert _balance(platform, ben)[1] == 1_999_999
    assert verify.verify(platform.db).ok


def test_round_trips_through_two_and_three_wallets(platform: Platform, clock: Clock) -> None:
    ana, ben, cy = (_party(platform, n, 5_000_000) for n in ("Ana", "Ben", "Cy"))
    _pay(platform, ana, ben, 1_000_000)
    _pay(platform, ben, ana, 799_999)  # back, just under 80 %
    assert _rules(platform) == []
    _pay(platform, ben, ana, 800_000)  # 80 % back
    (two,) = _alerts(platform)
    assert (two["rule"], two["party_id"], two["explanation"]) == (
        "round_trip",
        ana,
        "back through 2 wallets",
    )
    clock.advance(2 * HOUR)  # the window passes
    _pay(platform, ben, ana, 800_000)
    assert len(_alerts(platform)) == 1
    _pay(platform, cy, ben, 1_000_000)
    _pay(platform, ben, ana, 900_000)
    _pay(platform, ana, cy, 850_000)  # cy > ben > ana > cy
    three = _alerts(platform)[-1]
    assert (three["rule"], three["party_id"], three["explanation"]) == (
        "round_trip",
        cy,
        "back through 3 wallets",
    )
    assert f'"path": "{cy}>{ben}>{ana}>{cy}"' in three["evidence"]
    assert _balance(platform, cy)[1] == 5_000_000 - 1_000_000
    assert verify.verify(platform.db).ok


def test_a_refund_spike_against_the_merchants_sales(platform: Platform, clock: Clock) -> None:
    buyer = _party(platform, "Buyer", 5_000_000)
    new = parties.NewParty(
        kind="merchant", name="Tindahan ni Aling Rosa", mcc="5411", city="Pasig", province="NCR"
    )
    shop: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    sales = [_pay(platform, buyer, shop, 500_000) for _ in range(2)]  # ₱10,000 of sales

    def refund(i: int, amount: int) -> None:
        platform.run(lambda u: refunds.create(u, OPERATOR, sales[i]["id"], amount, None))

    # What the merchant pays back is the refund less the fee the operator returns (1 %):
    refund(0, 100_000)  # ₱990
    refund(0, 100_000)  # ₱990
    clock.advance(DAY)
    refund(1, 103_000)  # ₱1,019.70: three refunds, ₱2,999.70 — just under 30 % of ₱10,000
    assert _rules(platform) == []
    refund(1, 1_000)  # ₱9.90 more: four refunds, 30 %
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["party_id"]) == ("refund_spike", shop)
    assert '"refunds": 4' in alert["evidence"] and '"sales_minor": 1000000' in alert["evidence"]
    assert verify.verify(platform.db).ok


def test_refunds_out_of_escrow_count_as_the_merchants_against_its_escrow_sales(
    platform: Platform,
) -> None:
    from tindahan.kernel.callers import SCOPES, Caller
    from tindahan.services.commerce import catalog, escrow, orders
    from tindahan.services.commerce.catalog import NewProduct
    from tindahan.services.commerce.orders import CartLine

    buyer = _party(platform, "Buyer", 5_000_000)
    new = parties.NewParty(
        kind="merchant", name="Ube ni Lola", mcc="5411", city="Pasig", province="NCR"
    )
    shop: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    store = platform.run(
        lambda u: catalog.create_storefront(
            u, OPERATOR, slug="ube-ni-lola", name="Ube ni Lola", merchant_id=shop
        )
    )["id"]
    item = platform.run(
        lambda u: catalog.create_product(
            u, OPERATOR, store, NewProduct("Ube jam", 500_000, stock=9)
        )
    )
    as_buyer = Caller(f"key_{buyer}", buyer, frozenset(SCOPES))
    as_shop = Caller(f"key_{shop}", shop, frozenset(SCOPES))

    def order() -> str:
        lines = [CartLine(item["id"], 1, None)]
        made = platform.run(lambda u: orders.checkout(u, as_buyer, store, lines))
        platform.run(lambda u: escrow.pay(u, as_buyer, made["id"], None))
        return str(made["id"])

    first, second = order(), order()  # ₱10,000 of sales, into escrow

    def refund(order_id: str, amount: int) -> None:
        platform.run(lambda u: escrow.refund(u, as_shop, order_id, amount, [], None))

    refund(first, 99_000)
    refund(first, 100_000)
    refund(second, 100_000)  # three refunds, ₱2,990: just under 30 % of ₱10,000
    assert _rules(platform) == []
    refund(second, 1_000)  # four, ₱3,000: 30 %
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["party_id"], alert["kind"]) == ("refund_spike", shop, "refund")
    assert '"refunds": 4' in alert["evidence"] and '"sales_minor": 1000000' in alert["evidence"]
    assert alert["counterparty"] == buyer and alert["hold_id"] is not None
    assert verify.verify(platform.db).ok


def test_open_disputes_count_as_refunds_until_resolved_and_a_refund_they_end_in_once(
    platform: Platform,
) -> None:
    from sqlalchemy import select

    from tindahan.kernel.callers import SCOPES, Caller
    from tindahan.services.commerce import catalog, disputes, escrow, orders
    from tindahan.services.commerce.catalog import NewProduct
    from tindahan.services.commerce.orders import CartLine
    from tindahan.store.risk_tables import risk_usage

    buyer = _party(platform, "Buyer", 5_000_000)
    new = parties.NewParty(
        kind="merchant", name="Kakanin ni Nena", mcc="5411", city="Pasig", province="NCR"
    )
    shop: str = platform.run(lambda u: parties.create(u, OPERATOR, new))["id"]
    store = platform.run(
        lambda u: catalog.create_storefront(
            u, OPERATOR, slug="kakanin-ni-nena", name="Kakanin", merchant_id=shop
        )
    )["id"]
    item = platform.run(
        lambda u: catalog.create_product(
            u, OPERATOR, store, NewProduct("Bibingka", 500_000, stock=9)
        )
    )
    as_buyer = Caller(f"key_{buyer}", buyer, frozenset(SCOPES))
    as_shop = Caller(f"key_{shop}", shop, frozenset(SCOPES))

    def order() -> str:
        made = platform.run(
            lambda u: orders.checkout(u, as_buyer, store, [CartLine(item["id"], 1, None)])
        )
        platform.run(lambda u: escrow.pay(u, as_buyer, made["id"], None))
        return str(made["id"])

    first, second, _, _, disputed = (order() for _ in range(5))  # ₱25,000 of sales

    def refund(order_id: str, amount: int) -> None:
        platform.run(lambda u: escrow.refund(u, as_shop, order_id, amount, [], None))

    def open_disputes() -> tuple[int, int]:
        d = risk_usage.c
        query = select(d.count, d.amount_minor).where(d.party_id == shop, d.metric == "dispute")
        rows = platform.run(lambda u: u.conn.execute(query).all(), write=False)
        return sum(r[0] for r in rows), sum(r[1] for r in rows)

    dispute = platform.run(lambda u: disputes.open_dispute(u, as_buyer, disputed, "sira"))
    assert open_disputes() == (1, 500_000)  # a claim on ₱5,000, counted before it moves
    refund(first, 100_000)
    refund(first, 149_000)  # 2 refunds + 1 dispute, ₱7,490: just under 30 % of ₱25,000
    assert _rules(platform) == []
    refund(second, 1_000)  # ₱7,500: 30 % — without the open dispute it would be 10 %
    (alert,) = _alerts(platform)
    assert (alert["rule"], alert["party_id"]) == ("refund_spike", shop)
    assert '"open_disputes": 1' in alert["evidence"] and '"refunds": 4' in alert["evidence"]
    assert '"refund_minor": 750000' in alert["evidence"]

    # resolved for the buyer: the dispute is taken off before its refund is judged, so the
    # ₱5,000 is counted once (as the refund), not as a dispute and a refund
    platform.run(lambda u: disputes.resolve(u, OPERATOR, dispute["id"], "refund", None, "ok"))
    assert open_disputes() == (0, 0)
    (last,) = (a for a in _alerts(platform) if a["amount_minor"] == 500_000)
    assert last["rule"] == "refund_spike" and last["hold_id"] is not None
    assert '"open_disputes": 0' in last["evidence"] and '"refunds": 4' in last["evidence"]
    assert '"refund_minor": 750000' in last["evidence"]
    assert verify.verify(platform.db).ok
