"""The catalog API's photos, categories, search and paging, on SQLite and PostgreSQL.

``POST /v1/products/{id}/photos`` takes multipart/form-data (a file and its alt text): a
photo comes back with its WebP sizes; bad files get the error object on param ``file`` and
store nothing; a body past the upload bound is a 413 before it is read; only the product's
merchant may add one, and a retried upload under the same Idempotency-Key adds one photo.
Categories have create, list, get, rename and remove; products are listed by category and
by search (``q``), with the cursor paging past 200.
"""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from PIL import Image

from tindahan import limits

from .conftest import Api, World


@pytest.fixture
def shop(world: World) -> dict[str, Any]:
    api, key = world.api, world.merchant.key
    store = api.ok(api.post("/v1/storefronts", key, {"slug": "aling-nena", "name": "Aling Nena"}))
    made = {}
    for title, description in [
        ("Barako coffee 250 g", "Strong coffee from Batangas"),
        ("Kapeng 3-in-1", "Coffee, creamer and sugar"),
        ("Marikina shoes", "Leather, hand made"),
    ]:
        body = {"title": title, "description": description, "price_minor": 18000, "stock": 5}
        made[title] = api.ok(api.post(f"/v1/storefronts/{store['id']}/products", key, body))
    return {"store": store, "products": made}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (900, 600), (30, 60, 90)).save(out, "JPEG")
    return out.getvalue()


def upload(
    api: Api,
    key: str | None,
    product_id: str,
    data: bytes,
    alt: str = "Coffee bag",
    idem: str | None = None,
) -> Any:
    headers = {"Idempotency-Key": idem or str(uuid.uuid4())}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return api.http.post(
        f"/v1/products/{product_id}/photos",
        headers=headers,
        data={"alt": alt},
        files={"file": ("p.jpg", data, "image/jpeg")},
    )


def test_a_photo_is_uploaded_listed_and_removed(world, shop):
    api, key = world.api, world.merchant.key
    coffee = shop["products"]["Barako coffee 250 g"]
    idem = str(uuid.uuid4())
    first = upload(api, key, coffee["id"], jpeg(), idem=idem)
    again = upload(api, key, coffee["id"], jpeg(), idem=idem)
    photo = api.ok(first)
    assert again.json() == photo and again.headers.get("idempotent-replayed") == "true"
    assert photo["object"] == "product_photo" and (photo["width"], photo["height"]) == (900, 600)
    assert [(s["width"], s["height"]) for s in photo["sizes"]] == [
        (320, 213),
        (640, 427),
        (900, 600),
    ]
    shown = api.ok(api.get(f"/v1/products/{coffee['id']}", world.buyer.key))
    assert shown["photos"] == [photo]
    # (``/media/…`` is served by the whole app, pages included: tests/web/test_catalog_pages.py)
    assert all(s["url"].startswith("/media/") for s in photo["sizes"])
    gone = api.ok(api.post(f"/v1/products/{coffee['id']}/photos/{photo['id']}/remove", key))
    assert gone["photos"] == []


def test_bad_uploads_get_the_error_object_and_store_nothing(world, shop):
    api, key = world.api, world.merchant.key
    coffee = shop["products"]["Barako coffee 250 g"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for data, alt, status, code in [
        (b"hello", "A photo", 400, "photo_format"),
        (svg, "A photo", 400, "photo_format"),
        (jpeg()[:900], "A photo", 400, "photo_damaged"),
        (b"\xff" * (limits.PHOTO_MAX_BYTES + 10), "A photo", 400, "photo_too_large"),
        (jpeg(), " ", 400, "alt_text_missing"),
    ]:
        answer = upload(api, key, coffee["id"], data, alt)
        assert answer.status_code == status, answer.text
        assert answer.json()["error"]["code"] == code
    huge = upload(api, key, coffee["id"], b"\0" * (limits.PHOTO_UPLOAD_BODY_MAX_BYTES + 1))
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "body_too_large"
    assert upload(api, world.buyer.key, coffee["id"], jpeg()).status_code == 404
    assert upload(api, None, coffee["id"], jpeg()).status_code == 401
    missing = api.http.post(
        f"/v1/products/{coffee['id']}/photos",
        headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(uuid.uuid4())},
        data={"alt": "x"},
    )
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"
    assert api.ok(api.get(f"/v1/products/{coffee['id']}", key))["photos"] == []


def test_categories_and_search_narrow_the_list(world, shop):
    api, key = world.api, world.merchant.key
    store, made = shop["store"], shop["products"]
    drinks = api.ok(api.post(f"/v1/storefronts/{store['id']}/categories", key, {"name": "Inumin"}))
    assert drinks["object"] == "category" and drinks["name"] == "Inumin"
    twice = api.post(f"/v1/storefronts/{store['id']}/categories", key, {"name": "INUMIN"})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "category_exists"
    refused = api.post(f"/v1/storefronts/{store['id']}/categories", world.buyer.key, {"name": "x"})
    assert refused.status_code == 404
    for title in ("Barako coffee 250 g", "Kapeng 3-in-1"):
        body = {"category_id": drinks["id"]}
        assert api.ok(api.post(f"/v1/products/{made[title]['id']}", key, body))["category_id"]
    path = f"/v1/storefronts/{store['id']}/products"

    def titles(**params: Any) -> set[str]:
        return {p["title"] for p in api.ok(api.get(path, world.buyer.key, **params))["data"]}

    assert titles(category_id=drinks["id"]) == {"Barako coffee 250 g", "Kapeng 3-in-1"}
    assert titles(q="coffee") == {"Barako coffee 250 g", "Kapeng 3-in-1"}
    assert titles(q="hand made") == {"Marikina shoes"}
    assert titles(q="leather", category_id=drinks["id"]) == set()
    wordy = api.get(path, world.buyer.key, q="a b c d e f g h i")
    assert wordy.status_code == 400 and wordy.json()["error"]["param"] == "q"
    listed = api.ok(api.get(f"/v1/storefronts/{store['id']}/categories", world.buyer.key))
    assert [(c["name"], c["product_count"]) for c in listed["data"]] == [("Inumin", 2)]
    renamed = api.ok(api.post(f"/v1/categories/{drinks['id']}", key, {"name": "Drinks"}))
    assert renamed["name"] == "Drinks"
    assert api.ok(api.get(f"/v1/categories/{drinks['id']}", world.buyer.key))["name"] == "Drinks"
    assert api.ok(api.post(f"/v1/categories/{drinks['id']}/remove", key))["deleted"] is True
    assert api.get(path, world.buyer.key, category_id=drinks["id"]).status_code == 404
    assert len(titles()) == 3
