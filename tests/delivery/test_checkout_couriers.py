"""Couriers at checkout, through the services on SQLite and PostgreSQL: the operator's rate
cards, the storefront's couriers and terms, the offers a buyer sees for a cart and an
address, and the order keeping the chosen courier, zone, fee and window."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.commerce import catalog, orders
from tindahan.services.commerce.addresses import Delivery
from tindahan.services.commerce.catalog import NewProduct
from tindahan.services.commerce.orders import CartLine
from tindahan.services.delivery import couriers
from tindahan.services.delivery.couriers import Choice
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import orders as order_table
from tindahan.store.commerce_tables import rate_cards as courier_table
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))


def caller(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


def address(barangay: str, city: str, province: str, postal_code: str) -> dict[str, str]:
    return {
        "recipient": "Maria Santos",
        "phone": "0917 123 4567",
        "street": "12 Sampaguita St.",
        "barangay": barangay,
        "city": city,
        "province": province,
        "postal_code": postal_code,
        "notes": "",
    }


QUEZON_CITY = address("Alicia", "Quezon City", "Metro Manila", "1105")
DAVAO = address("Agdao", "Davao City", "", "8000")


def tier(grams: int, fee: int) -> dict[str, int]:
    return {"max_weight_g": grams, "fee_minor": fee}


JNT: dict[str, Any] = {
    "name": "J&T Express",
    "cod_bps": 275,
    "cod_min_minor": 1_500,
    "zones": {
        "metro_manila": {"min_days": 1, "max_days": 3, "tiers": [tier(1_000, 8_500)]},
        "island_crossing": {"min_days": 4, "max_days": 8, "tiers": [tier(1_000, 23_000)]},
    },
}
LBC = {
    "name": "LBC",
    "zones": {"metro_manila": {"min_days": 1, "max_days": 2, "tiers": [tier(3_000, 12_000)]}},
}


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(made)
    return made


@pytest.fixture
def shop(platform: Platform) -> dict[str, Any]:
    """A Marikina shop with a 400 g product, shipping by J&T (card price) and LBC (the
    merchant's flat ₱60); a buyer."""

    def work(unit: Unit) -> dict[str, Any]:
        couriers.set_card(unit, OPERATOR, "jnt", JNT)
        couriers.set_card(unit, OPERATOR, "lbc", LBC)
        merchant = parties.create(
            unit,
            OPERATOR,
            NewParty(
                kind="merchant", name="Aling Nena", mcc="5411", city="Marikina", province="NCR"
            ),
        )
        store = catalog.create_storefront(
            unit,
            OPERATOR,
            slug="aling-nena",
            name="Aling Nena Online",
            shipping_fee_minor=5_000,
            merchant_id=merchant["id"],
        )
        seller = caller(merchant["id"])
        product = catalog.create_product(
            unit, seller, store["id"], NewProduct("Barako coffee", 18_000, stock=9, weight_g=400)
        )
        couriers.set_shipping(
            unit, seller, store["id"], [Choice("jnt"), Choice("lbc", 6_000)], None
        )
        buyer = parties.create(unit, OPERATOR, NewParty(kind="customer", name="Maria"))
        return {
            "merchant": seller,
            "store": store,
            "product": product,
            "buyer": caller(buyer["id"]),
        }

    return platform.run(work)


def offers(platform: Platform, shop: dict[str, Any], where: dict[str, str], qty: int = 1) -> Any:
    line = CartLine(shop["product"]["id"], qty)
    return platform.run(
        lambda u: orders.shipping_offers(
            u, shop["buyer"], shop["store"]["id"], [line], Delivery(None, where, False)
        ),
        write=False,
    )


def checkout(
    platform: Platform,
    shop: dict[str, Any],
    where: dict[str, str],
    courier: str | None,
    qty: int = 1,
) -> Any:
    line = CartLine(shop["product"]["id"], qty)
    return platform.run(
        lambda u: orders.checkout(
            u,
            shop["buyer"],
            shop["store"]["id"],
            [line],
            None,
            Delivery(None, where, False),
            courier,
        )
    )


def refused(platform: Platform, work: Any) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        platform.run(work)
    return caught.value


def test_each_courier_priced_for_the_address(platform, shop):
    found = offers(platform, shop, QUEZON_CITY)
    assert found["zone"] == "metro_manila"
    assert [
        (o["courier"], o["fee_minor"], o["min_days"], o["max_days"]) for o in found["offers"]
    ] == [
        ("lbc", 6_000, 1, 2),  # the merchant's flat fee, cheapest first
        ("jnt", 8_500, 1, 3),
    ]
    assert found["offers"][0]["courier_fee_minor"] == 12_000
    far = offers(platform, shop, DAVAO)
    assert far["zone"] == "island_crossing"
    assert [o["courier"] for o in far["offers"]] == ["jnt"]
    assert "no rate for the island_crossing zone" in far["unavailable"]["lbc"]


def test_the_order_keeps_courier_zone_fee_and_window(platform, shop):
    order = checkout(platform, shop, DAVAO, "jnt")
    assert order["shipping_minor"] == 23_000
    assert order["total_minor"] == 18_000 + 23_000
    assert order["delivery"] == {
        "courier": "jnt",
        "name": "J&T Express",
        "zone": "island_crossing",
        "min_days": 4,
        "max_days": 8,
        "estimate": True,
        "promised_at": None,  # not paid yet
        "late": False,
    }


def test_a_checkout_that_cannot_be_priced_says_why_and_writes_nothing(platform, shop):
    def count(unit: Unit) -> int:
        return len(unit.conn.execute(select(order_table.c.id)).all())

    cases = [
        (DAVAO, "lbc", 1, "courier_unavailable"),
        (QUEZON_CITY, None, 1, "courier_missing"),
        (QUEZON_CITY, "flash", 1, "courier_unavailable"),
        (QUEZON_CITY, "jnt", 3, "courier_unavailable"),  # 1.2 kg: over J&T's last tier
    ]
    for where, courier, qty, code in cases:
        refusal = refused(
            platform, lambda u, w=where, c=courier, q=qty: checkout_in(u, shop, w, c, q)
        )
        assert refusal.code == code and refusal.param == "courier", (courier, refusal.message)
    assert platform.run(count, write=False) == 0


def checkout_in(
    unit: Unit, shop: dict[str, Any], where: dict[str, str], courier: str | None, qty: int
) -> Any:
    line = CartLine(shop["product"]["id"], qty)
    return orders.checkout(
        unit,
        shop["buyer"],
        shop["store"]["id"],
        [line],
        None,
        Delivery(None, where, False),
        courier,
    )


def test_no_weight_no_courier_price(platform, shop):
    def work(unit: Unit) -> Any:
        bare = catalog.create_product(
            unit, shop["merchant"], shop["store"]["id"], NewProduct("Kakanin", 5_000, stock=3)
        )
        line = CartLine(bare["id"], 1)
        return orders.checkout(
            unit,
            shop["buyer"],
            shop["store"]["id"],
            [line],
            None,
            Delivery(None, QUEZON_CITY, False),
            "jnt",
        )

    refusal = refused(platform, work)
    assert refusal.code == "weight_missing"


def test_free_shipping_over_an_amount(platform, shop):
    platform.run(
        lambda u: couriers.set_shipping(
            u, shop["merchant"], shop["store"]["id"], [Choice("jnt")], 30_000
        )
    )
    assert checkout(platform, shop, QUEZON_CITY, "jnt", qty=1)["shipping_minor"] == 8_500
    two = checkout(platform, shop, QUEZON_CITY, "jnt", qty=2)
    assert two["shipping_minor"] == 0 and two["total_minor"] == 36_000


def test_a_flat_fee_shop_stays_flat_and_refuses_a_courier(platform, shop):
    platform.run(
        lambda u: couriers.set_shipping(u, shop["merchant"], shop["store"]["id"], [], 40_000)
    )
    order = checkout(platform, shop, DAVAO, None)
    assert order["shipping_minor"] == 5_000 and order["delivery"] is None
    refusal = refused(platform, lambda u: checkout_in(u, shop, DAVAO, "jnt", 1))
    assert refusal.code == "courier_unavailable"
    assert checkout(platform, shop, DAVAO, None, qty=3)["shipping_minor"] == 0


def test_rate_cards_are_the_operators_and_edits_take_effect(platform, shop):
    refusal = refused(platform, lambda u: couriers.set_card(u, shop["merchant"], "jnt", JNT))
    assert refusal.category == Category.PERMISSION
    cheaper = {
        **JNT,
        "zones": {
            **JNT["zones"],
            "metro_manila": {"min_days": 1, "max_days": 2, "tiers": [tier(1_000, 7_000)]},
        },
    }
    platform.run(lambda u: couriers.set_card(u, OPERATOR, "jnt", cheaper))
    jnt = next(o for o in offers(platform, shop, QUEZON_CITY)["offers"] if o["courier"] == "jnt")
    assert (jnt["fee_minor"], jnt["max_days"]) == (7_000, 2)
    bad = refused(
        platform, lambda u: couriers.set_card(u, OPERATOR, "jnt", {**JNT, "zones": {"luzon": {}}})
    )
    assert bad.param == "zones.luzon.min_days"
    stored = platform.run(
        lambda u: u.conn.execute(
            select(courier_table.c.card).where(courier_table.c.code == "jnt")
        ).scalar_one(),
        write=False,
    )
    assert "7000" in stored  # the refused edit changed nothing
    platform.run(lambda u: couriers.retire(u, OPERATOR, "jnt"))
    found = offers(platform, shop, QUEZON_CITY)
    assert [o["courier"] for o in found["offers"]] == ["lbc"]
    assert "not taking parcels" in found["unavailable"]["jnt"]


def test_a_storefront_lists_only_known_couriers(platform, shop):
    seller, store = shop["merchant"], shop["store"]["id"]
    for choices, free, code in [
        ([Choice("dhl")], None, "resource_missing"),
        ([Choice("jnt"), Choice("jnt")], None, "courier_repeated"),
        ([Choice("jnt", -1)], None, "flat_fee_invalid"),
        ([Choice("jnt")], 0, "free_shipping_invalid"),
    ]:
        refusal = refused(
            platform, lambda u, c=choices, f=free: couriers.set_shipping(u, seller, store, c, f)
        )
        assert refusal.code == code
    view = platform.run(lambda u: couriers.shipping(u, OPERATOR, store), write=False)
    assert [c["courier"] for c in view["couriers"]] == ["jnt", "lbc"]
