"""Lessons through the services (issue 26, item 5) on SQLite and PostgreSQL: the catalogue in
the reader's language with the next lesson from the merchant's data, progress kept per
merchant, the quiz, the certificate, tenancy, and the operator's editing (a broken picture
or unsafe HTML refused with nothing saved)."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.conftest import Clock
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.services.commerce import catalog
from tindahan.services.commerce.catalog import NewProduct
from tindahan.services.insights import lessons, products
from tindahan.services.platform import chart, parties
from tindahan.services.platform.parties import NewParty
from tindahan.services.unit import Platform, Unit
from tindahan.store.lesson_tables import lessons as lesson_rows
from tindahan.store.vault import Vault

OPERATOR = Caller("key_operator", None, frozenset(SCOPES))
PHOTOS_RIGHT = [1, 1]  # the shipped photo lesson's right answers


def owner(party_id: str) -> Caller:
    return Caller(f"key_{party_id}", party_id, frozenset(SCOPES))


@pytest.fixture
def shop(db, clock: Clock) -> dict[str, Any]:
    platform = Platform(db, Vault(b"k" * 32))
    chart.ensure_operator_accounts(platform)

    def work(unit: Unit) -> dict[str, Any]:
        made = {}
        for name, slug in (("Tindahan ni Aling Nena", "nena"), ("Kay Mang Jose", "jose")):
            party = parties.create(
                unit, OPERATOR, NewParty(kind="merchant", name=name, mcc="5411", city="Lipa",
                                         province="Batangas")
            )  # fmt: skip
            store = catalog.create_storefront(
                unit, OPERATOR, slug=slug, name=name, merchant_id=party["id"]
            )
            made[slug] = (party["id"], store["id"])
        nena, store = made["nena"]
        kape = catalog.create_product(unit, owner(nena), store, NewProduct("Kape", 2500, stock=5))
        return {"nena": nena, "jose": made["jose"][0], "kape": kape["id"]}

    return {"platform": platform, **platform.run(work)}


def _run(shop: dict[str, Any], work: Any) -> Any:
    return shop["platform"].run(work)


def test_a_merchant_takes_a_lesson(shop):
    nena, me = shop["nena"], owner(shop["nena"])
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "fil"))
    assert [x["slug"] for x in listed["data"]][:2] == ["photos", "descriptions"]
    assert listed["data"][0]["title"] == "Pagkuha ng litrato ng produkto"
    assert listed["data"][0]["progress"] == {
        "screen": 0, "score": None, "questions": None, "completed_at": None
    }  # fmt: skip
    # Kape has no photo: the photo lesson first, from the merchant's own data.
    assert listed["next"] == {"slug": "photos", "from_your_data": True}
    assert listed["completed"] == 0

    second = _run(shop, lambda u: lessons.open_screen(u, me, nena, "photos", 2, "ceb"))
    assert second["lang"] == "ceb" and second["screen"] == 2 and "<strong>" in second["html"]
    _run(shop, lambda u: lessons.open_screen(u, me, nena, "photos", 1, "ceb"))
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "en"))
    assert listed["data"][0]["progress"]["screen"] == 2  # the furthest screen is kept
    for bad in (0, 4, True):
        with pytest.raises(RefusalError) as refused:
            _run(shop, lambda u, b=bad: lessons.open_screen(u, me, nena, "photos", b, "en"))
        assert refused.value.param == "screen"

    wrong = _run(shop, lambda u: lessons.answer(u, me, nena, "photos", [0, 1], "en"))
    assert (wrong["passed"], wrong["right"], wrong["score"]) == (False, [False, True], 1)
    with pytest.raises(RefusalError) as refused:
        _run(shop, lambda u: lessons.certificate(u, me, nena, "photos", "en"))
    assert refused.value.code == "lesson_not_completed"

    right = _run(shop, lambda u: lessons.answer(u, me, nena, "photos", PHOTOS_RIGHT, "en"))
    assert right["passed"] and right["progress"]["completed_at"] is not None
    passed_at = right["progress"]["completed_at"]
    again = _run(shop, lambda u: lessons.answer(u, me, nena, "photos", [0, 0], "en"))
    assert not again["passed"] and again["progress"]["completed_at"] == passed_at
    paper = _run(shop, lambda u: lessons.certificate(u, me, nena, "photos", "fil"))
    assert paper["name"] == "Tindahan ni Aling Nena"
    assert paper["title"] == "Pagkuha ng litrato ng produkto"
    assert paper["completed_at"] == passed_at

    # Next: Kape's description is short.
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "en"))
    assert listed["next"] == {"slug": "descriptions", "from_your_data": True}
    assert listed["completed"] == 1
    _run(shop, lambda u: lessons.answer(u, me, nena, "descriptions", [0, 1], "en"))
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "en"))
    assert listed["next"] == {"slug": "pricing", "from_your_data": True}  # no cost recorded
    _run(shop, lambda u: products.record_cost(u, me, shop["kape"], 1800))
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "en"))
    assert listed["next"] == {"slug": "credit-history", "from_your_data": True}  # no loan yet
    assert _run(shop, lambda u: lessons.completions(u)) == {nena: 2}


def test_bad_answers_and_other_merchants_change_nothing(shop):
    nena, me = shop["nena"], owner(shop["nena"])
    for answers in ([1], [1, 1, 1], [1, 3], [1, -1], [True, 1]):
        with pytest.raises(RefusalError) as refused:
            _run(shop, lambda u, a=answers: lessons.answer(u, me, nena, "photos", a, "en"))
        assert refused.value.param == "answers"
    jose = owner(shop["jose"])
    for work in (
        lambda u: lessons.catalogue(u, jose, nena, "en"),
        lambda u: lessons.answer(u, jose, nena, "photos", PHOTOS_RIGHT, "en"),
        lambda u: lessons.certificate(u, jose, nena, "photos", "en"),
    ):
        with pytest.raises(RefusalError) as refused:
            _run(shop, work)
        assert refused.value.code == "resource_missing"
    with pytest.raises(RefusalError) as refused:
        _run(shop, lambda u: lessons.open_screen(u, me, nena, "no-such", 1, "en"))
    assert refused.value.code == "resource_missing"
    with pytest.raises(RefusalError):
        _run(shop, lambda u: lessons.catalogue(u, me, nena, "es"))
    assert _run(shop, lambda u: lessons.completions(u)) == {}
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "en"))
    assert all(x["progress"]["screen"] == 0 for x in listed["data"])


def test_the_operator_edits_and_adds_lessons(shop):
    nena, me = shop["nena"], owner(shop["nena"])
    shipped = _run(shop, lambda u: lessons.source(u, OPERATOR, "eir", "fil"))
    assert not shipped["saved"] and shipped["title"] == "Ano ang ibig sabihin ng EIR ng utang"
    broken = {**shipped, "body": shipped["body"] + "\n\n![x](/lessons/pictures/gone.svg)"}
    unsafe = {**shipped, "body": "<script>alert(1)</script>"}
    for bad, param in ((broken, "body"), (unsafe, "body"), ({**shipped, "quiz": "? Q"}, "quiz")):
        fields = {k: bad[k] for k in ("title", "summary", "body", "quiz")}
        with pytest.raises(RefusalError) as refused:
            _run(shop, lambda u, f=fields: lessons.save(u, OPERATOR, "eir", "fil", **f))
        assert refused.value.code == "lesson_invalid" and refused.value.param == param
    count = select(func.count()).select_from(lesson_rows)
    assert _run(shop, lambda u: u.conn.scalar(count)) == 0  # nothing half-saved
    with pytest.raises(RefusalError) as refused:  # a merchant may not edit
        _run(shop, lambda u: lessons.save(u, me, "eir", "fil", "T", "", "x", "? Q\n+ a\n- b"))
    assert refused.value.code == "operator_only"

    fields = {k: shipped[k] for k in ("summary", "body", "quiz")}
    _run(shop, lambda u: lessons.save(u, OPERATOR, "eir", "fil", "Ang EIR ng utang", **fields))
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "fil"))
    assert next(x for x in listed["data"] if x["slug"] == "eir")["title"] == "Ang EIR ng utang"
    assert _run(shop, lambda u: lessons.source(u, OPERATOR, "eir", "fil"))["saved"]

    new = {"title": "Selling on payday", "summary": "The 15th and 30th.",
           "body": "Stock up before payday.\n\n---\n\n![A parcel](/lessons/pictures/parcel.svg)",
           "quiz": "? When do sales rise?\n+ Around payday\n- On Mondays"}  # fmt: skip
    _run(shop, lambda u: lessons.save(u, OPERATOR, "payday", "en", **new))
    listed = _run(shop, lambda u: lessons.catalogue(u, me, nena, "ceb"))
    last = listed["data"][-1]
    assert (last["slug"], last["lang"], last["screens"]) == ("payday", "en", 2)  # English shown
    table = _run(shop, lambda u: lessons.catalogue_for_operator(u, OPERATOR, "ceb"))
    assert table[-1] == {
        "slug": "payday", "title": "Selling on payday", "written": False, "saved": False,
        "completed": 0,
    }  # fmt: skip


def _photo(color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), color).save(out, "JPEG")
    return out.getvalue()


def test_the_operator_uploads_a_picture_and_a_lesson_shows_it(shop):
    """Item 5's pictures: an upload checked and re-encoded as a product photo, kept under its
    content hash, shown by a lesson that names it; an unknown ``/media/`` name, a product's
    photo among them, is refused like a missing drawing and nothing is saved."""
    nena, me = shop["nena"], owner(shop["nena"])
    prepared = lessons.prepare_image(_photo())
    made = _run(shop, lambda u: lessons.upload_image(u, OPERATOR, prepared))
    assert made["object"] == "lesson_image" and made["width"] == 900 and made["height"] == 600
    assert re.fullmatch(r"[0-9a-f]{64}\.webp", made["name"])
    assert made["url"] == "/media/" + made["name"]
    assert made["markdown"] == f"![what it shows]({made['url']})"
    stored = shop["platform"].media.get(made["name"])
    assert stored is not None and stored.startswith(b"RIFF") and stored[8:12] == b"WEBP"
    again = _run(shop, lambda u: lessons.upload_image(u, OPERATOR, prepared))
    assert again == made  # the same picture, the same name, one row
    assert _run(shop, lambda u: lessons.images(u, OPERATOR)) == [made]
    with pytest.raises(RefusalError) as refused:  # a merchant may not upload
        _run(shop, lambda u: lessons.upload_image(u, me, prepared))
    assert refused.value.code == "operator_only"
    with pytest.raises(RefusalError) as refused:  # sniffed, not trusted: text is no picture
        lessons.prepare_image(b"<svg onload='alert(1)'></svg>")
    assert refused.value.param == "file"

    quiz = "? What shows the product best?\n+ A clear photo\n- A blurry one"
    unknown = "/media/" + "0" * 64 + ".webp"
    for source in (unknown, "/media/" + made["name"].upper(), "/media/x.webp"):
        body = f"Light matters.\n\n![Kape]({source})"
        with pytest.raises(RefusalError) as refused:
            _run(shop, lambda u, b=body: lessons.save(u, OPERATOR, "light", "en", "Light", "", b,
                                                      quiz))  # fmt: skip
        assert refused.value.code == "lesson_invalid" and refused.value.param == "body"
        assert f"shows a picture that does not exist: {source}" in refused.value.message
    count = select(func.count()).select_from(lesson_rows)
    assert _run(shop, lambda u: u.conn.scalar(count)) == 0  # nothing half-saved

    body = f"Light matters.\n\n![A cup of kape by the window]({made['url']})"
    _run(shop, lambda u: lessons.save(u, OPERATOR, "light", "en", "Light", "", body, quiz))
    shown = _run(shop, lambda u: lessons.open_screen(u, me, nena, "light", 1, "en"))
    assert f'<img src="{made["url"]}" alt="A cup of kape by the window">' in shown["html"]
