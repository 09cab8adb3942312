"""A merchant's reorder list from its own order lines, on SQLite and PostgreSQL.

The shop is made through the catalog services; its half-year of paid orders is written
straight into the order tables (the service only reads them, and 700 orders through checkout
and escrow would take minutes). Figures checked by hand: a product that sold exactly 4 a day
is forecast 4 a day (every factor 1, TSB's probability 1), so with a 3-day lead time its
reorder point is the 95 % Poisson quantile of 12 — 18 — and its order-up-to level for 10
days the quantile of 40 — 51 (``test_reorder.py`` checks both against scipy).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import insert

from tests.conftest import Clock
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog
from tindahan.services.commerce.catalog import NewProduct
from tindahan.services.insights import products, reorder
from tindahan.services.payments.sales import day_start_ns
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import order_lines, orders
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
TODAY = date(2025, 11, 20)
HOUR_NS = 3600 * 10**9


def owner(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


@pytest.fixture
def shop(db, clock: Clock) -> dict[str, Any]:
    clock.now = day_start_ns(TODAY) + 10 * HOUR_NS
    platform = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(platform)

    def work(unit: Unit) -> dict[str, Any]:
        made = {}
        for name, slug in (("Tindahan ni Aling Nena", "nena"), ("Kay Mang Jose", "jose")):
            party = parties.create(
                unit,
                OPERATOR,
                NewParty(kind="merchant", name=name, mcc="5411", city="Lipa", province="Batangas"),
            )
            store = catalog.create_storefront(
                unit, OPERATOR, slug=slug, name=name, merchant_id=party["id"]
            )
            made[slug] = (party["id"], store["id"])
        nena, store = made["nena"]
        me = owner(nena)
        goods = {
            title: catalog.create_product(unit, me, store, NewProduct(title, 2500, stock=stock))
            for title, stock in (("Kape", 15), ("Asukal", 30), ("Sardinas", 4), ("Toyo", 2))
        }
        hidden = NewProduct("Lumang sabon", 1000, stock=0, active=False)
        goods["Lumang sabon"] = catalog.create_product(unit, me, store, hidden)
        buyer = parties.create(unit, OPERATOR, NewParty(kind="customer", name="Ana Cruz"))
        number = 0
        for back in range(1, 183):  # every day of the half-year before today
            day = TODAY - timedelta(days=back)
            for title in ("Kape", "Asukal", "Lumang sabon"):
                number += 1
                product = goods[title]
                # Kape's first day is an order of 6 with 2 cancelled: 4 count.
                quantity, cancelled = (6, 2) if (title, back) == ("Kape", 182) else (4, 0)
                _order(unit, number, nena, store, buyer["id"], day, product, quantity, cancelled)
        # Another shop's order today and long ago: never counted.
        return {"merchant": nena, "other": made["jose"][0], "goods": goods, "platform": platform}

    return platform.run(work)


def _order(
    unit: Unit,
    number: int,
    merchant: str,
    store: str,
    buyer: str,
    day: date,
    product: dict[str, Any],
    quantity: int,
    cancelled: int,
) -> None:
    at = day_start_ns(day) + 9 * HOUR_NS
    total = 2500 * quantity
    order_id = f"ord_{number:06d}"
    unit.conn.execute(
        insert(orders).values(
            id=order_id, short_ref=f"R{number:07d}", storefront_id=store, merchant_id=merchant,
            buyer_id=buyer, status="completed", currency="PHP", items_minor=total,
            shipping_minor=0, total_minor=total, paid_in_minor=total, held_minor=0,
            released_minor=total, fee_minor=0, refunded_minor=0, buyer_currency="PHP",
            buyer_paid_minor=total, buyer_refunded_minor=0, transfer_ids="[]", paid_at_ns=at,
            created_at_ns=at, updated_at_ns=at,
        )
    )  # fmt: skip
    unit.conn.execute(
        insert(order_lines).values(
            order_id=order_id, line_no=1, product_id=product["id"],
            variant_id=product["variants"][0]["id"], title=product["title"],
            unit_price_minor=2500, quantity=quantity, shipped_quantity=quantity - cancelled,
            cancelled_quantity=cancelled,
        )
    )  # fmt: skip


def _list(shop: dict[str, Any], caller: Caller, **options: Any) -> dict[str, Any]:
    platform: Platform = shop["platform"]
    return platform.run(
        lambda unit: reorder.reorder_list(unit, caller, shop["merchant"], **options), write=False
    )


def test_the_reorder_list_by_hand(shop: dict[str, Any]) -> None:
    result = _list(shop, owner(shop["merchant"]))
    assert result["as_of"] == "2025-11-19" and result["lead_time_days"] == 3
    by_title = {p["title"]: p for p in result["products"]}
    assert set(by_title) == {"Kape", "Asukal", "Sardinas", "Toyo"}  # the inactive one is not
    kape, asukal = by_title["Kape"], by_title["Asukal"]
    assert kape["sold_last_28_days"] == 112 and kape["forecast_daily"] == pytest.approx(4.0)
    assert kape["reorder_soon"] and kape["reorder_point"] == 18
    assert kape["order_quantity"] == 51 - 15 and kape["days_of_cover"] == 3
    assert not asukal["reorder_soon"] and asukal["order_quantity"] == 0
    assert asukal["days_of_cover"] == 7
    # Never sold: forecast zero, never "reorder soon", lasts the whole horizon.
    for title in ("Sardinas", "Toyo"):
        assert by_title[title]["forecast_daily"] == 0 and not by_title[title]["reorder_soon"]
    assert result["products"][0]["title"] == "Kape"  # "reorder soon" first


def test_a_longer_lead_time_raises_the_point(shop: dict[str, Any]) -> None:
    result = _list(shop, OPERATOR, lead_time_days=6)
    asukal = next(p for p in result["products"] if p["title"] == "Asukal")
    # 24 expected over 6 days: the 95 % quantity is 32 > 30 in stock.
    assert asukal["reorder_point"] == 32 and asukal["reorder_soon"]


def test_a_lead_time_kept_per_product_replaces_the_default(shop: dict[str, Any]) -> None:
    """Asukal's supplier takes 6 days (kept on the product): its point is 32 as above, while
    Kape keeps the list's 3 days (18); forgetting it goes back to the default; another
    merchant and a bad figure are refused and change nothing."""
    platform: Platform = shop["platform"]
    me, asukal = owner(shop["merchant"]), shop["goods"]["Asukal"]["id"]
    kept = platform.run(lambda u: products.record_lead_time(u, me, asukal, 6))
    assert kept == {"object": "product_lead_time", "product_id": asukal, "lead_time_days": 6}
    by_title = {p["title"]: p for p in _list(shop, me)["products"]}
    assert (by_title["Asukal"]["lead_time_days"], by_title["Asukal"]["lead_time_kept"]) == (6, True)
    assert by_title["Asukal"]["reorder_point"] == 32 and by_title["Asukal"]["reorder_soon"]
    assert (by_title["Kape"]["lead_time_days"], by_title["Kape"]["lead_time_kept"]) == (3, False)
    assert by_title["Kape"]["reorder_point"] == 18
    bad: list[tuple[Caller, Any, str]] = [
        (owner(shop["other"]), 2, "resource_missing"),
        (me, 61, "parameter_invalid"),
        (me, -1, "parameter_invalid"),
        (me, True, "parameter_invalid"),
    ]
    for who, days, code in bad:
        with pytest.raises(RefusalError) as refused:
            platform.run(partial(products.record_lead_time, caller=who, product_id=asukal,
                                 lead_time_days=days))  # fmt: skip
        assert refused.value.code == code
    assert platform.run(lambda u: products.lead_time_of(u, me, asukal), write=False) == 6
    platform.run(lambda u: products.record_lead_time(u, me, asukal, None))
    asukal_row = next(p for p in _list(shop, me)["products"] if p["title"] == "Asukal")
    assert asukal_row["reorder_point"] < 32 and not asukal_row["lead_time_kept"]


def test_another_merchant_and_bad_options_are_refused(shop: dict[str, Any]) -> None:
    with pytest.raises(RefusalError) as refused:
        _list(shop, owner(shop["other"]))
    assert refused.value.code == "resource_missing"
    for options in ({"lead_time_days": -1}, {"lead_time_days": 61}, {"review_days": 0}):
        with pytest.raises(RefusalError) as bad:
            _list(shop, OPERATOR, **options)
        assert bad.value.code == "parameter_invalid"


def test_the_cli_lists_and_refuses(shop: dict[str, Any], db) -> None:
    from typer.testing import CliRunner

    from tindahan.cli.app import app

    url = db.url.render_as_string(hide_password=False)
    runner = CliRunner()
    listed = runner.invoke(
        app, ["insights", "reorder", "--merchant", shop["merchant"], "--db", url, "--json"]
    )
    assert listed.exit_code == 0, listed.output
    # The wall clock's today: the half-year of 2025 orders may be out of the window, but
    # every active product is listed.
    assert len(json.loads(listed.stdout)["products"]) == 4
    missing = runner.invoke(app, ["insights", "reorder", "--merchant", "pty_nobody", "--db", url])
    assert missing.exit_code == 2
    assert missing.stderr.strip().splitlines() == ["error: no such party (resource_missing)"]
