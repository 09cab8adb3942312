"""Delivery addresses: the address book, the checks, the order's sealed copy, and who sees it.

Through the services on SQLite and PostgreSQL: an address is refused field by field; it is
never stored in clear; an order keeps the address it was placed with even when the book
entry is edited or removed afterwards; the buyer, the merchant and the operator read it, a
stranger gets "no such order" / "no such address"; webhook events carry none of it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tindahan import limits
from tindahan.commerce import addresses as rules
from tindahan.commerce import psgc
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.commerce import addresses, catalog, orders
from tindahan.services.commerce.addresses import Delivery
from tindahan.services.commerce.catalog import NewProduct
from tindahan.services.commerce.orders import CartLine
from tindahan.services.commerce.views import OrderView
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import addresses as address_table
from tindahan.store.commerce_tables import order_addresses
from tindahan.store.tables import metadata
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
MALANDAY = psgc.Codes("1380700005", "1380700000", None, "1300000000")
HOME = {
    "recipient": "Maria Santos",
    "phone": "0917 123 4567",
    "street": "12 Sampaguita St., Unit 3B",
    "barangay": "Malanday",
    "city": "Marikina",
    "province": "Metro Manila",
    "postal_code": "1805",
    "notes": "green gate beside the chapel",
}


def caller(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


@pytest.fixture
def platform(db) -> Platform:
    made = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(made)
    return made


@pytest.fixture
def shop(platform: Platform) -> dict[str, Any]:
    """A merchant with one product, a buyer and a stranger (another customer)."""

    def work(unit: Unit) -> dict[str, Any]:
        merchant = parties.create(
            unit,
            OPERATOR,
            NewParty(
                kind="merchant",
                name="Aling Nena",
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
            shipping_fee_minor=5000,
            merchant_id=merchant["id"],
        )
        product = catalog.create_product(
            unit, caller(merchant["id"]), store["id"], NewProduct("Barako coffee", 18000, stock=9)
        )
        buyer = parties.create(unit, OPERATOR, NewParty(kind="customer", name="Maria"))
        stranger = parties.create(unit, OPERATOR, NewParty(kind="customer", name="Juan"))
        return {
            "merchant": caller(merchant["id"]),
            "store": store,
            "product": product,
            "buyer": caller(buyer["id"]),
            "stranger": caller(stranger["id"]),
        }

    return platform.run(work)


def refused(platform: Platform, work: Any) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        platform.run(work)
    return caught.value


def order_with(platform: Platform, shop: dict[str, Any], delivery: Delivery) -> OrderView:
    line = CartLine(shop["product"]["id"], 1)
    return platform.run(
        lambda u: orders.checkout(u, shop["buyer"], shop["store"]["id"], [line], None, delivery)
    )


def all_rows(platform: Platform) -> list[str]:
    def work(unit: Unit) -> list[str]:
        found = []
        for table in (address_table, order_addresses):
            found += [repr(dict(r)) for r in unit.conn.execute(select(table)).mappings()]
        return found

    return platform.run(work, write=False)


def test_every_wrong_field_is_named_and_phones_are_normalised():
    wrong = {**HOME, "phone": "12345", "postal_code": "18O5", "barangay": "  ", "street": ""}
    assert [(p.field, p.code) for p in rules.problems(wrong)] == [
        ("phone", "phone_invalid"),
        ("street", "parameter_missing"),
        ("barangay", "parameter_missing"),
        ("postal_code", "postal_code_invalid"),
    ]
    assert rules.problems(HOME) == []
    clean = rules.address({**HOME, "notes": None}, prefix="address.")
    assert clean.phone == "+639171234567" and clean.notes == ""
    with pytest.raises(RefusalError) as caught:
        rules.address({**HOME, "postal_code": "18050"}, prefix="address.")
    assert caught.value.param == "address.postal_code"
    with pytest.raises(RefusalError) as caught:
        rules.address({**HOME, "colour": "red"})
    assert caught.value.code == "parameter_unknown"


def test_the_book_keeps_addresses_sealed_and_only_for_its_owner(platform, shop):
    buyer, stranger = shop["buyer"], shop["stranger"]
    made = platform.run(lambda u: addresses.add(u, buyer, HOME))
    assert made["phone"] == "+639171234567" and made["barangay"] == "Malanday"
    stored = " ".join(all_rows(platform))
    for secret in ("Maria Santos", "Sampaguita", "9171234567", "Malanday", "chapel"):
        assert secret not in stored
    for who in (stranger, shop["merchant"]):
        found = refused(platform, lambda u, who=who: addresses.get(u, who, made["id"]))
        assert found.category is Category.NOT_FOUND
        mine = platform.run(lambda u, who=who: addresses.list_addresses(u, who, 10))
        assert mine["data"] == []
    theirs = platform.run(
        lambda u: addresses.list_addresses(u, OPERATOR, 10, party_id=buyer.party_id)
    )
    assert [a["id"] for a in theirs["data"]] == [made["id"]]
    bad = refused(platform, lambda u: addresses.add(u, buyer, {**HOME, "postal_code": "12"}))
    assert (bad.code, bad.param) == ("postal_code_invalid", "postal_code")
    assert len(platform.run(lambda u: addresses.list_addresses(u, buyer, 10))["data"]) == 1


def test_an_order_keeps_the_address_it_was_placed_with(platform, shop):
    buyer = shop["buyer"]
    entry = platform.run(lambda u: addresses.add(u, buyer, HOME))
    order = order_with(platform, shop, Delivery(address_id=entry["id"]))
    shipped_to = order["shipping_address"]
    assert shipped_to is not None and shipped_to["street"] == HOME["street"]
    platform.run(lambda u: addresses.change(u, buyer, entry["id"], {"street": "99 Bagong Daan"}))
    platform.run(lambda u: addresses.remove(u, buyer, entry["id"]))
    for who in (buyer, shop["merchant"], OPERATOR):
        seen = platform.run(lambda u, who=who: orders.get(u, who, order["id"]))
        assert seen["shipping_address"] == {
            **HOME,
            "phone": "+639171234567",
            "city": "City of Marikina",
            "psgc": MALANDAY.as_dict(),
        }
    gone = refused(platform, lambda u: orders.get(u, shop["stranger"], order["id"]))
    assert gone.category is Category.NOT_FOUND
    again = refused(
        platform,
        lambda u: orders.checkout(
            u,
            buyer,
            shop["store"]["id"],
            [CartLine(shop["product"]["id"], 1)],
            None,
            Delivery(address_id=entry["id"]),
        ),
    )
    assert (again.code, again.param) == ("address_removed", "address_id")


def test_a_new_address_at_checkout_is_saved_to_the_book(platform, shop):
    order = order_with(platform, shop, Delivery(address=HOME))
    shipped_to = order["shipping_address"]
    assert shipped_to is not None and shipped_to["recipient"] == "Maria Santos"
    book = platform.run(lambda u: addresses.list_addresses(u, shop["buyer"], 10))["data"]
    assert [a["postal_code"] for a in book] == ["1805"]


def test_a_bad_or_foreign_address_changes_nothing(platform, shop):
    before = all_rows(platform)
    stock = shop["product"]["variants"][0]["stock"]
    bad = refused(
        platform,
        lambda u: orders.checkout(
            u,
            shop["buyer"],
            shop["store"]["id"],
            [CartLine(shop["product"]["id"], 1)],
            None,
            Delivery(address={**HOME, "phone": "0817 123 4567"}),
        ),
    )
    assert (bad.code, bad.param) == ("phone_invalid", "address.phone")
    theirs = platform.run(lambda u: addresses.add(u, shop["stranger"], HOME))
    foreign = refused(
        platform,
        lambda u: orders.checkout(
            u,
            shop["buyer"],
            shop["store"]["id"],
            [CartLine(shop["product"]["id"], 1)],
            None,
            Delivery(address_id=theirs["id"]),
        ),
    )
    assert (foreign.category, foreign.param) == (Category.NOT_FOUND, "address_id")
    after = platform.run(lambda u: catalog.get_product(u, shop["merchant"], shop["product"]["id"]))
    assert after["variants"][0]["stock"] == stock
    assert len(all_rows(platform)) == len(before) + 1  # only the stranger's own entry


def test_the_book_has_a_bound(platform, shop, monkeypatch):
    monkeypatch.setattr(limits, "MAX_ADDRESSES_PER_PARTY", 2)
    for _ in range(2):
        platform.run(lambda u: addresses.add(u, shop["buyer"], HOME))
    full = refused(platform, lambda u: addresses.add(u, shop["buyer"], HOME))
    assert full.code == "address_book_full"


def test_events_carry_no_address(platform, shop):
    order_with(platform, shop, Delivery(address=HOME))
    events = metadata.tables["events"]
    payloads = platform.run(
        lambda u: [repr(dict(r)) for r in u.conn.execute(select(events)).mappings()],
        write=False,
    )
    assert payloads and not any("Sampaguita" in p for p in payloads)


def test_places_are_matched_to_the_psgc_and_their_codes_kept_beside(platform, shop):
    buyer = shop["buyer"]
    typed = {**HOME, "barangay": "brgy. malanday", "city": "MARIKINA CITY", "province": ""}
    made = platform.run(lambda u: addresses.add(u, buyer, typed))
    assert (made["barangay"], made["city"], made["province"]) == (
        "Malanday",
        "City of Marikina",
        "Metro Manila",
    )
    assert made["psgc"] == MALANDAY.as_dict()
    order = order_with(platform, shop, Delivery(address_id=made["id"]))
    assert order["shipping_address"] is not None
    assert order["shipping_address"]["psgc"] == MALANDAY.as_dict()
    codes = platform.run(lambda u: addresses.order_codes(u, order["id"]), write=False)
    assert codes == MALANDAY and psgc.region_of(codes.barangay) == "1300000000"
    # the codes are in clear beside the sealed address (a barangay, not a person)
    rows = platform.run(
        lambda u: u.conn.execute(select(order_addresses)).mappings().all(), write=False
    )
    assert [r["barangay_code"] for r in rows] == ["1380700005"]
    # moving the entry re-locates it
    moved = platform.run(
        lambda u: addresses.change(
            u,
            buyer,
            made["id"],
            {"barangay": "Lahug", "city": "Cebu City", "province": "Cebu", "postal_code": "6000"},
        )
    )
    assert moved["province"] == "Cebu"
    assert moved["psgc"]["city_code"] == "0730600000" and moved["psgc"]["province_code"] is None


def test_a_misspelled_place_is_refused_with_suggestions_and_changes_nothing(platform, shop):
    before = all_rows(platform)
    typo = refused(
        platform, lambda u: addresses.add(u, shop["buyer"], {**HOME, "barangay": "Malandy"})
    )
    assert (typo.code, typo.param) == ("barangay_unknown", "barangay")
    assert "did you mean Malanday" in typo.message
    at_checkout = refused(
        platform,
        lambda u: orders.checkout(
            u,
            shop["buyer"],
            shop["store"]["id"],
            [CartLine(shop["product"]["id"], 1)],
            None,
            Delivery(address={**HOME, "postal_code": "1100"}),
        ),
    )
    assert (at_checkout.code, at_checkout.param) == ("postal_code_mismatch", "address.postal_code")
    no_province = {**HOME, "barangay": "San Isidro", "city": "Angono", "province": ""}
    assert [(p.field, p.code) for p in rules.problems({**no_province, "postal_code": "1930"})] == [
        ("province", "parameter_missing")
    ]
    assert all_rows(platform) == before


def test_the_backfill_fills_the_codes_of_old_addresses_that_match(platform, shop):
    buyer = shop["buyer"]
    good = platform.run(lambda u: addresses.add(u, buyer, HOME))
    old = platform.run(lambda u: addresses.add(u, buyer, HOME))
    order = order_with(platform, shop, Delivery(address_id=good["id"]))

    def as_before_the_check(unit: Unit) -> None:
        # rows stored before the check: no codes; one typed with a place the list lacks
        nulls = dict.fromkeys(("barangay_code", "city_code", "province_code", "region_code"))
        unit.conn.execute(address_table.update().values(**nulls))
        unit.conn.execute(order_addresses.update().values(**nulls))
        nowhere = rules.from_stored({**rules.address(HOME).as_dict(), "barangay": "Atlantis"})
        sealed = addresses._seal(unit, nowhere, f"address:{old['id']}")
        unit.conn.execute(
            address_table.update()
            .where(address_table.c.id == old["id"])
            .values(address_cipher=sealed)
        )

    platform.run(as_before_the_check)
    assert platform.run(lambda u: addresses.get(u, buyer, good["id"]))["psgc"] is None
    counts = platform.run(addresses.backfill_codes)
    assert counts == {"matched": 2, "unmatched": 1}
    assert platform.run(lambda u: addresses.get(u, buyer, good["id"]))["psgc"] == MALANDAY.as_dict()
    assert platform.run(lambda u: addresses.get(u, buyer, old["id"]))["psgc"] is None
    placed = platform.run(lambda u: orders.get(u, buyer, order["id"]))["shipping_address"]
    assert placed is not None and placed["psgc"] == MALANDAY.as_dict()
    assert platform.run(addresses.backfill_codes) == {"matched": 0, "unmatched": 1}
