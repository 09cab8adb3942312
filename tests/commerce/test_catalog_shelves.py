"""Categories, search, paging and photos through the services, on SQLite and PostgreSQL.

Search runs on SQLite's FTS5 and PostgreSQL's full-text index: the same queries below are
asked of both engines and must find exactly the same products (the test is parametrised
over both, with one expected answer per query). Paging walks past 200 products with the
cursor and sees each once. Photos: what is stored where, and that a refused upload stores
nothing (neither a row nor a file).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select

from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.services.commerce import catalog, categories, photos
from tindahan.services.commerce.catalog import Filter, NewProduct
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.commerce_tables import product_photos
from tindahan.store.media import DiskMedia
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
PUBLIC = Caller("web:storefront", "~public", frozenset())
GOODS = [
    ("Kape Barako", "Batangas coffee, 250 g, ground"),
    ("Kapeng 3-in-1", "Coffee, creamer and sugar: 10 sachets"),
    ("Tsokolate tablea", "Pure cacao from Bohol"),
    ("Pandesal", None),
    ("Ube halaya", "Purple yam jam, 350 g jar"),
    ("Dried mangoes", "Cebu's, 200 g. Sweet and chewy!"),
    ("Bagoong alamang", "Shrimp paste, spicy"),
    ("Café con leche mix", "Kape na may gatas"),
    ("Polvoron", "Made in Parañaque"),
]
#: query → the titles it finds (the same on both engines).
SEARCHES = {
    "kape": {"Kape Barako", "Kapeng 3-in-1", "Café con leche mix"},
    "KAP": {"Kape Barako", "Kapeng 3-in-1", "Café con leche mix"},
    "coffee": {"Kape Barako", "Kapeng 3-in-1"},
    "coffee sachets": {"Kapeng 3-in-1"},
    "3-in-1": {"Kapeng 3-in-1"},
    "in": {"Kapeng 3-in-1", "Polvoron"},
    "200 g": {"Dried mangoes"},
    "g": {"Kape Barako", "Ube halaya", "Dried mangoes", "Café con leche mix"},
    "café": {"Café con leche mix"},
    "cafe": {"Café con leche mix"},
    "parañaque": {"Polvoron"},
    "PARANAQUE": {"Polvoron"},
    "cebu's": {"Dried mangoes"},
    "jam, jar": {"Ube halaya"},
    "pandesal": {"Pandesal"},
    "spicy shrimp": {"Bagoong alamang"},
    "hipon": set(),
    "coffee cacao": set(),
    "": {t for t, _ in GOODS},
    "  ,.!  ": {t for t, _ in GOODS},
}


def caller(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


@pytest.fixture
def platform(db, tmp_path: Path) -> Platform:
    made = Platform(db, Vault(b"k" * 32), media=DiskMedia(tmp_path / "media"))
    chart.ensure_operator_accounts(made)
    return made


def _merchant(unit: Unit, name: str, slug: str) -> tuple[Caller, dict[str, Any]]:
    merchant = parties.create(
        unit,
        OPERATOR,
        NewParty(kind="merchant", name=name, mcc="5411", city="Lipa", province="Batangas"),
    )
    store = catalog.create_storefront(
        unit, OPERATOR, slug=slug, name=name, merchant_id=merchant["id"]
    )
    return caller(merchant["id"]), store


@pytest.fixture
def shop(platform: Platform) -> dict[str, Any]:
    def work(unit: Unit) -> dict[str, Any]:
        owner, store = _merchant(unit, "Tindahan ni Aling Nena", "aling-nena")
        other, elsewhere = _merchant(unit, "Kape ni Mang Jose", "mang-jose")
        made = {
            title: catalog.create_product(
                unit, owner, store["id"], NewProduct(title, 5000, description, stock=5)
            )
            for title, description in GOODS
        }
        catalog.create_product(  # another shop's coffee: never in this shop's results
            unit, other, elsewhere["id"], NewProduct("Kape Amadeo", 9000, "coffee", stock=1)
        )
        return {"owner": owner, "store": store, "products": made, "other": other}

    return platform.run(work)


def titles(platform: Platform, store_id: str, wanted: Filter, who: Caller = PUBLIC) -> set[str]:
    found = platform.run(
        lambda u: catalog.list_products(u, who, store_id, 200, None, wanted), write=False
    )
    return {p["title"] for p in found["data"]}


def test_search_finds_the_same_products_on_either_engine(platform, shop):
    store = shop["store"]["id"]
    answers = {q: titles(platform, store, Filter(q=q)) for q in SEARCHES}
    assert answers == SEARCHES


def test_a_changed_title_is_found_by_its_new_words_only(platform, shop):
    product = shop["products"]["Pandesal"]
    platform.run(
        lambda u: catalog.update_product(
            u, shop["owner"], product["id"], {"title": "Ensaymada", "description": "buttery"}
        )
    )
    store = shop["store"]["id"]
    assert titles(platform, store, Filter(q="pandesal")) == set()
    assert titles(platform, store, Filter(q="ensay butter")) == {"Ensaymada"}
    platform.run(
        lambda u: catalog.update_product(u, shop["owner"], product["id"], {"price_minor": 6000})
    )
    assert titles(platform, store, Filter(q="ensaymada")) == {"Ensaymada"}


def test_a_hidden_product_is_searched_by_its_owner_only(platform, shop):
    product = shop["products"]["Pandesal"]
    platform.run(
        lambda u: catalog.update_product(u, shop["owner"], product["id"], {"active": False})
    )
    store = shop["store"]["id"]
    assert titles(platform, store, Filter(q="pandesal")) == set()
    assert titles(platform, store, Filter(q="pandesal"), shop["owner"]) == {"Pandesal"}


def test_an_unreasonable_search_is_refused(platform, shop):
    for q in ["x" * 201, "a b c d e f g h i", "y" * 41]:
        with pytest.raises(RefusalError) as caught:
            titles(platform, shop["store"]["id"], Filter(q=q))
        assert (caught.value.code, caught.value.param) == ("search_invalid", "q")


def test_categories_group_filter_and_combine_with_search(platform, shop):
    owner, store, made = shop["owner"], shop["store"]["id"], shop["products"]

    def work(unit: Unit) -> dict[str, Any]:
        drinks = categories.create(unit, owner, store, "Inumin")
        sweets = categories.create(unit, owner, store, "  Matamis  ")
        for title in ("Kape Barako", "Kapeng 3-in-1", "Tsokolate tablea"):
            catalog.update_product(unit, owner, made[title]["id"], {"category_id": drinks["id"]})
        for title in ("Ube halaya", "Dried mangoes"):
            catalog.update_product(unit, owner, made[title]["id"], {"category_id": sweets["id"]})
        return {"drinks": drinks, "sweets": sweets}

    shelves = platform.run(work)
    drinks, sweets = shelves["drinks"], shelves["sweets"]
    assert sweets["name"] == "Matamis"
    assert titles(platform, store, Filter(drinks["id"])) == {
        "Kape Barako",
        "Kapeng 3-in-1",
        "Tsokolate tablea",
    }
    assert titles(platform, store, Filter(drinks["id"], "coffee")) == {
        "Kape Barako",
        "Kapeng 3-in-1",
    }
    assert titles(platform, store, Filter(sweets["id"], "coffee")) == set()
    listed = platform.run(lambda u: categories.listed(u, PUBLIC, store), write=False)
    assert [(c["name"], c["product_count"]) for c in listed["data"]] == [
        ("Inumin", 3),
        ("Matamis", 2),
    ]
    renamed = platform.run(lambda u: categories.rename(u, owner, drinks["id"], "Drinks"))
    assert renamed["name"] == "Drinks"
    platform.run(lambda u: categories.remove(u, owner, sweets["id"]))
    mangoes = platform.run(lambda u: catalog.get_product(u, PUBLIC, made["Dried mangoes"]["id"]))
    assert mangoes["category_id"] is None and mangoes["active"]  # still on sale, unshelved
    with pytest.raises(RefusalError) as caught:
        titles(platform, store, Filter(sweets["id"]))
    assert caught.value.category is Category.NOT_FOUND


def test_category_names_are_unique_ignoring_case_and_belong_to_their_shop(platform, shop):
    owner, other, store = shop["owner"], shop["other"], shop["store"]["id"]
    drinks = platform.run(lambda u: categories.create(u, owner, store, "Inumin"))
    for work, code in [
        (lambda u: categories.create(u, owner, store, "INUMIN"), "category_exists"),
        (lambda u: categories.create(u, owner, store, " "), "category_name_invalid"),
        (lambda u: categories.create(u, owner, store, "x" * 41), "category_name_invalid"),
        (lambda u: categories.create(u, other, store, "Theirs"), "resource_missing"),
        (lambda u: categories.rename(u, other, drinks["id"], "Mine"), "resource_missing"),
        (lambda u: categories.remove(u, other, drinks["id"]), "resource_missing"),
    ]:
        with pytest.raises(RefusalError) as caught:
            platform.run(work)
        assert caught.value.code == code
    theirs = platform.run(
        lambda u: catalog.list_products(u, other, "mang-jose", 1, None)["data"][0]
    )
    with pytest.raises(RefusalError) as caught:  # another shop's category: not found
        platform.run(
            lambda u: catalog.update_product(u, other, theirs["id"], {"category_id": drinks["id"]})
        )
    assert caught.value.param == "category_id"
    assert platform.run(lambda u: categories.get(u, PUBLIC, drinks["id"]))["name"] == "Inumin"


def test_paging_walks_past_200_products_and_sees_each_once(platform, shop):
    owner, store = shop["owner"], shop["store"]["id"]

    def work(unit: Unit) -> None:
        for n in range(230):
            new = NewProduct(f"Sabon {n}", 2500, "laundry soap bar", stock=3)
            catalog.create_product(unit, owner, store, new)

    platform.run(work)
    for wanted, size, count in [(Filter(), 200, 239), (Filter(q="soap"), 75, 230)]:
        seen: list[str] = []
        after = None
        while True:
            found = platform.run(
                lambda u, a=after, s=size, w=wanted: catalog.list_products(
                    u, PUBLIC, store, s, a, w
                ),
                write=False,
            )
            seen += [p["id"] for p in found["data"]]
            if not found["has_more"]:
                break
            after = found["data"][-1]["id"]
        assert len(seen) == len(set(seen)) == count
        assert seen == sorted(seen)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1200, 900), (10, 120, 70)).save(out, "JPEG")
    return out.getvalue()


def _stored(platform: Platform) -> tuple[int, list[Path]]:
    rows = platform.run(lambda u: len(u.conn.execute(select(product_photos)).all()), write=False)
    media = platform.media
    assert isinstance(media, DiskMedia)
    return rows, sorted(p for p in media.root.rglob("*") if p.is_file())


def test_a_photo_is_stored_as_renditions_and_shown_on_the_product(platform, shop):
    owner, product = shop["owner"], shop["products"]["Kape Barako"]
    prepared = photos.prepare(_jpeg())
    added = platform.run(lambda u: photos.add(u, owner, product["id"], prepared, "Coffee bag"))
    assert [s["width"] for s in added["sizes"]] == [320, 640, 1080]
    shown = platform.run(lambda u: catalog.get_product(u, PUBLIC, product["id"]))
    assert shown["photos"] == [added]
    name = added["sizes"][0]["url"].removeprefix("/media/")
    data = platform.run(lambda u: photos.rendition(u, name), write=False)
    assert data is not None and data[:4] == b"RIFF"
    assert platform.run(lambda u: photos.rendition(u, "../../etc/passwd"), write=False) is None
    assert _stored(platform)[0] == 1 and len(_stored(platform)[1]) == 3
    again = platform.run(lambda u: photos.remove(u, owner, product["id"], added["id"]))
    assert again["photos"] == [] and _stored(platform) == (0, [])


def test_a_refused_photo_stores_nothing(platform, shop):
    owner, other, product = shop["owner"], shop["other"], shop["products"]["Kape Barako"]
    for data in [b"<svg><script>alert(1)</script></svg>", b"not an image", _jpeg()[:2000]]:
        with pytest.raises(RefusalError):
            photos.prepare(data)
    prepared = photos.prepare(_jpeg())
    for work, code in [
        (lambda u: photos.add(u, other, product["id"], prepared, "Mine"), "resource_missing"),
        (lambda u: photos.add(u, owner, product["id"], prepared, " "), "alt_text_missing"),
        (lambda u: photos.add(u, PUBLIC, product["id"], prepared, "x"), "scope_missing"),
    ]:
        with pytest.raises(RefusalError) as caught:
            platform.run(work)
        assert caught.value.code == code
    assert _stored(platform) == (0, [])


def test_a_product_holds_at_most_eight_photos(platform, shop):
    owner, product = shop["owner"], shop["products"]["Pandesal"]
    prepared = photos.prepare(_jpeg())
    for n in range(8):
        platform.run(lambda u, n=n: photos.add(u, owner, product["id"], prepared, f"Side {n}"))
    with pytest.raises(RefusalError) as caught:
        platform.run(lambda u: photos.add(u, owner, product["id"], prepared, "One more"))
    assert caught.value.code == "photos_full"
    first = platform.run(lambda u: catalog.get_product(u, PUBLIC, product["id"]))["photos"][0]
    platform.run(lambda u: photos.remove(u, owner, product["id"], first["id"]))
    assert len(_stored(platform)[1]) == 3  # the other seven share the same bytes


def test_a_removal_that_rolls_back_keeps_the_photo_and_its_files(platform, shop):
    owner, product = shop["owner"], shop["products"]["Kape Barako"]
    prepared = photos.prepare(_jpeg())
    added = platform.run(lambda u: photos.add(u, owner, product["id"], prepared, "Coffee bag"))
    before = _stored(platform)

    def remove_then_fail(unit: Unit) -> None:
        photos.remove(unit, owner, product["id"], added["id"])
        raise RuntimeError("a later step of the same transaction failed")

    with pytest.raises(RuntimeError):
        platform.run(remove_then_fail)
    assert _stored(platform) == before and before[0] == 1 and len(before[1]) == 3
    name = added["sizes"][0]["url"].removeprefix("/media/")
    assert platform.run(lambda u: photos.rendition(u, name), write=False) is not None
