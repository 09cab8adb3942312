"""The operator's aggregates from the database, on SQLite and PostgreSQL, figures by hand.

Thirty-three merchants: Batangas 5411 × 10, Batangas 5812 × 10, Cebu 5411 × 10, Cebu 5812 × 3
(and a closed merchant and a buyer, never counted). Sales are paid orders and QR payments
written straight into their tables (the service only reads them); ten loans are made through
the lending services for Batangas 5411's merchants, two of them then made late by hand.

Suppression by hand: Cebu × 5812 (3) is withheld; Cebu's row then hides Cebu × 5411 (10), the
5411 column Batangas × 5411 (10), the 5812 column Batangas × 5812 (10): every cell is withheld,
every total is shown, and no cell is one subtraction from them.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from tests.conftest import Clock
from tests.lending.conftest import PRODUCT, assess
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog
from tindahan.services.insights import aggregates
from tindahan.services.lending import offers as loan_offers
from tindahan.services.payments.sales import day_start_ns
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import orders
from tindahan.store.lending_tables import loans
from tindahan.store.lesson_tables import lesson_progress
from tindahan.store.payment_tables import payments, wallets
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
TODAY = date(2025, 11, 20)
HOUR_NS = 3600 * 10**9
GROUPS: tuple[tuple[str, str, int], ...] = (
    ("Batangas", "5411", 10),
    ("Batangas", "5812", 10),
    ("Cebu", "5411", 10),
    ("Cebu", "5812", 3),
)


def owner(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


def _order(
    unit: Unit, number: int, merchant: str, store: str, buyer: str, at: int, total: int
) -> None:
    unit.conn.execute(
        insert(orders).values(
            id=f"ord_{number:06d}", short_ref=f"R{number:07d}", storefront_id=store,
            merchant_id=merchant, buyer_id=buyer, status="completed", currency="PHP",
            items_minor=total, shipping_minor=0, total_minor=total, paid_in_minor=total,
            held_minor=0, released_minor=total, fee_minor=0, refunded_minor=0,
            buyer_currency="PHP", buyer_paid_minor=total, buyer_refunded_minor=0,
            transfer_ids="[]", paid_at_ns=at, created_at_ns=at, updated_at_ns=at,
        )
    )  # fmt: skip


def _qr(unit: Unit, number: int, merchant: str, buyer: str, at: int, amount: int) -> None:
    wallet = unit.conn.execute(
        select(wallets.c.id).where(wallets.c.party_id == merchant).limit(1)
    ).scalar_one()
    unit.conn.execute(
        insert(payments).values(
            id=f"pay_{number:06d}", short_ref=f"P{number:07d}", kind="merchant",
            status="succeeded", payer_id=buyer, payee_id=merchant,
            destination_wallet_id=wallet, amount_minor=amount, currency="PHP", fee_minor=0,
            commission_minor=0, refunded_minor=0, fee_returned_minor=0, transfer_ids="[]",
            created_at_ns=at, updated_at_ns=at,
        )
    )  # fmt: skip


def _borrow(platform: Platform, who: Caller, product_id: str) -> None:
    def work(unit: Unit) -> None:
        offer = loan_offers.create_offer(unit, who, loan_offers.NewOffer(product_id))
        loan_offers.accept(unit, who, offer["id"])

    platform.run(work)


@pytest.fixture
def world(db, clock: Clock) -> dict[str, Any]:
    clock.now = day_start_ns(TODAY) + 10 * HOUR_NS
    platform = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(platform)

    def work(unit: Unit) -> dict[str, Any]:
        made: dict[tuple[str, str], list[str]] = {}
        buyer = parties.create(unit, OPERATOR, NewParty(kind="customer", name="Ana Cruz"))["id"]
        store = None
        number = 0
        for province, mcc, count in GROUPS:
            for i in range(count):
                new = NewParty(kind="merchant", name=f"{province} {mcc} {i}", mcc=mcc,
                               city="Town", province=province)  # fmt: skip
                party = parties.create(unit, OPERATOR, new)["id"]
                made.setdefault((province, mcc), []).append(party)
                if store is None:  # one storefront for every order: the service reads none
                    store = catalog.create_storefront(
                        unit, OPERATOR, slug="shop", name="Shop", merchant_id=party
                    )["id"]
        assert store is not None
        # Batangas 5411: each sells ₱100.00 online yesterday and ₱50.00 by QR 31 days ago
        # (the period before): sales 10 × 10,000, before 10 × 5,000, growth +100 %.
        yesterday = day_start_ns(TODAY - timedelta(days=1)) + 9 * HOUR_NS
        before = day_start_ns(TODAY - timedelta(days=31)) + 9 * HOUR_NS
        for merchant in made[("Batangas", "5411")]:
            number += 1
            _order(unit, number, merchant, store, buyer, yesterday, 10_000)
            _qr(unit, number, merchant, buyer, before, 5_000)
        # Batangas 5812: six sell ₱30.00 by QR on the period's first day (30 days ago); today's
        # sale (not over) and one 61 days ago (before both periods) are not counted.
        first = day_start_ns(TODAY - timedelta(days=30)) + HOUR_NS
        for merchant in made[("Batangas", "5812")][:6]:
            number += 1
            _qr(unit, number, merchant, buyer, first, 3_000)
        number += 1
        _qr(unit, number, made[("Batangas", "5812")][7], buyer, clock.now, 99_900)
        number += 1
        old = day_start_ns(TODAY - timedelta(days=61)) + HOUR_NS
        _order(unit, number, made[("Batangas", "5812")][8], store, buyer, old, 77_700)
        # Cebu 5411: all ten sell ₱20.00 last week.
        week = day_start_ns(TODAY - timedelta(days=7)) + HOUR_NS
        for merchant in made[("Cebu", "5411")]:
            number += 1
            _order(unit, number, merchant, store, buyer, week, 2_000)
        # Cebu 5812: three sell ₱1,000.00 each.
        for merchant in made[("Cebu", "5812")]:
            number += 1
            _order(unit, number, merchant, store, buyer, week, 100_000)

        # Lessons: Batangas 5411's ten each passed one in the period, Batangas 5812's ten two;
        # a Cebu merchant passed one 40 days ago (before the period: not counted).
        def passed(merchant: str, slug: str, at: int) -> None:
            unit.conn.execute(
                insert(lesson_progress).values(
                    merchant_id=merchant, slug=slug, screen=3, score=2, questions=2, lang="fil",
                    started_at_ns=at, updated_at_ns=at, completed_at_ns=at,
                )
            )  # fmt: skip

        for merchant in made[("Batangas", "5411")]:
            passed(merchant, "photos", week)
        for merchant in made[("Batangas", "5812")]:
            passed(merchant, "photos", first)
            passed(merchant, "eir", yesterday)
        passed(made[("Cebu", "5411")][0], "photos", day_start_ns(TODAY - timedelta(days=40)))
        # Never counted: a closed merchant's sale, a buyer.
        gone = NewParty(kind="merchant", name="Gone", mcc="5411", city="T", province="Cebu")
        closed = parties.create(unit, OPERATOR, gone)["id"]
        number += 1
        _order(unit, number, closed, store, buyer, week, 500_000)
        from tindahan.store.payment_tables import parties as party_table

        unit.conn.execute(
            update(party_table).where(party_table.c.id == closed).values(status="closed")
        )
        return {"made": made}

    found = platform.run(work)
    product = platform.run(lambda u: loan_offers.create_product(u, OPERATOR, PRODUCT))
    borrowers = found["made"][("Batangas", "5411")]
    for merchant in borrowers:
        assess(platform, merchant)
        _borrow(platform, owner(merchant), product["id"])

    def late(unit: Unit) -> None:
        unit.conn.execute(
            update(loans).where(loans.c.merchant_id == borrowers[0]).values(dpd=5, max_dpd=5)
        )
        unit.conn.execute(
            update(loans).where(loans.c.merchant_id == borrowers[1]).values(dpd=40, max_dpd=40)
        )

    platform.run(late)
    return {"platform": platform, **found}


def _report(world: dict[str, Any], caller: Caller = OPERATOR, days: int = 30) -> dict[str, Any]:
    platform: Platform = world["platform"]
    return platform.run(lambda u: aggregates.merchant_aggregates(u, caller, days), write=False)


def test_the_table_by_hand(world: dict[str, Any]) -> None:
    report = _report(world)
    assert report["k"] == 10 and report["currency"] == "PHP"
    assert report["period"] == {"first_day": "2025-10-21", "last_day": "2025-11-19", "days": 30}
    assert report["previous_period"]["first_day"] == "2025-09-21"
    assert report["previous_period"]["last_day"] == "2025-10-20"
    # Every cell withheld, in every block.
    cells = {(c["province"], c["category"]): c for c in report["cells"]}
    assert set(cells) == {("Batangas", "5411"), ("Batangas", "5812")} | {
        ("Cebu", "5411"),
        ("Cebu", "5812"),
    }
    for cell in cells.values():
        assert cell["withheld"] == ["merchants", "sales", "loans", "lessons"]
        assert {cell[name] for name in aggregates.FIGURES} == {None}
    provinces = {r["province"]: r for r in report["by_province"]}
    batangas, cebu = provinces["Batangas"], provinces["Cebu"]
    assert (batangas["merchants"], batangas["active_merchants"]) == (20, 16)
    assert batangas["sales_minor"] == 10 * 10_000 + 6 * 3_000
    assert batangas["previous_sales_minor"] == 10 * 5_000
    # (118,000 − 50,000) / 50,000 = 1.36
    assert batangas["growth"] == "1.3600" and batangas["withheld"] == []
    assert batangas["borrowers"] == 10
    principal = batangas["outstanding_minor"] // 10
    assert batangas["outstanding_minor"] == 10 * principal > 0
    # One of ten equal loans 5 days late, one 40: PAR1 = 2/10, PAR30 = 1/10.
    assert batangas["par1"] == "0.200000" and batangas["par30"] == "0.100000"
    assert cebu_loans_are_zeros(report)
    assert (cebu["merchants"], cebu["active_merchants"]) == (13, 13)
    assert cebu["sales_minor"] == 10 * 2_000 + 3 * 100_000
    assert cebu["previous_sales_minor"] == 0 and cebu["growth"] is None
    categories = {r["category"]: r for r in report["by_category"]}
    assert categories["5812"]["merchants"] == 13
    # Only nine merchants of 5812 sold in either period (six in Batangas, three in Cebu): its
    # sales are withheld, and then 5411's too, or the grand total would give them away.
    assert categories["5812"]["sales_minor"] is None
    assert categories["5812"]["withheld"] == ["sales"]
    assert categories["5411"]["sales_minor"] is None
    total = report["total"]
    assert (total["merchants"], total["active_merchants"]) == (33, 29)
    assert total["sales_minor"] == 118_000 + 320_000 and total["borrowers"] == 10
    # Lessons: 20 learners in Batangas (30 lessons), none in the period in Cebu (zeros, shown:
    # nobody's figure); by category 10 and 10; every cell withheld (as above).
    assert (batangas["learners"], batangas["lessons_completed"]) == (20, 30)
    assert (cebu["learners"], cebu["lessons_completed"]) == (0, 0)
    assert (categories["5411"]["learners"], categories["5411"]["lessons_completed"]) == (10, 10)
    assert (categories["5812"]["learners"], categories["5812"]["lessons_completed"]) == (10, 20)
    assert (total["learners"], total["lessons_completed"]) == (20, 30)


def cebu_loans_are_zeros(report: dict[str, Any]) -> bool:
    cebu = next(r for r in report["by_province"] if r["province"] == "Cebu")
    return bool(cebu["borrowers"] == 0 and cebu["outstanding_minor"] == 0)


def test_the_csv_marks_withheld_figures(world: dict[str, Any]) -> None:
    report = _report(world)
    rows = list(csv.DictReader(io.StringIO(aggregates.to_csv(report))))
    assert len(rows) == 4 + 2 + 2 + 1
    first = rows[0]
    assert (first["province"], first["category"]) == ("Batangas", "5411")
    assert first["merchants"] == "x" and first["sales_minor"] == "x" and first["par30"] == "x"
    batangas = next(r for r in rows if (r["province"], r["category"]) == ("Batangas", "all"))
    assert batangas["borrowers"] == "10" and batangas["par30"] == "0.100000"
    cebu = next(r for r in rows if (r["province"], r["category"]) == ("Cebu", "all"))
    assert cebu["growth"] == "" and cebu["sales_minor"] == "320000"
    assert rows[-1]["province"] == "all" and rows[-1]["merchants"] == "33"
    # No cell's figure can be read from the CSV at all.
    for row in rows[:4]:
        assert row["merchants"] == row["active_merchants"] == row["sales_minor"] == "x"


def test_a_shorter_period_and_bad_input(world: dict[str, Any]) -> None:
    report = _report(world, days=1)  # yesterday only; before it, the day before
    # Only Batangas 5411's ten sold yesterday (₱100.00 each), nobody the day before.
    assert report["period"]["first_day"] == report["period"]["last_day"] == "2025-11-19"
    total = report["total"]
    assert (total["sales_minor"], total["previous_sales_minor"]) == (100_000, 0)
    assert total["growth"] is None and total["active_merchants"] == 10
    with pytest.raises(RefusalError) as refused:
        _report(world, days=0)
    assert refused.value.code == "parameter_invalid"
    with pytest.raises(RefusalError) as refused:
        _report(world, days=367)
    assert refused.value.code == "parameter_invalid"
    merchant = world["made"][("Cebu", "5411")][0]
    with pytest.raises(RefusalError) as refused:
        _report(world, owner(merchant))
    assert refused.value.code == "operator_only"
