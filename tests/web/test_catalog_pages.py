"""Product photos, categories and search on the pages, over HTTP.

The merchant uploads a photo on the product's page (multipart): it is shown there and on the
storefront with a ``srcset`` of WebP renditions served from content-hashed ``/media/`` names
with a year's cache; a file that is not a photo (text, an SVG with a script, a cut-short
JPEG) or no alt text is refused beside its field and stores nothing. Categories are made,
renamed and removed (after a confirmation step) on their page and chosen on the product's;
the storefront filters by one, searches, and pages past one screen of products.
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import httpx
from PIL import Image

from tindahan import limits
from tindahan.kernel.callers import DEFAULT_SCOPES, Caller
from tindahan.services.commerce import catalog, categories

from .conftest import OPERATOR, Browser, Person, Site


def _get(url: str, **kwargs: object) -> httpx.Response:
    """A GET with room for a loaded machine: the first error page a server process renders
    took 0.9-1 s on a quiet machine and over httpx's default 5 s under CI's load."""
    return httpx.get(url, timeout=60, **kwargs)  # type: ignore[arg-type]


def caller(person: Person) -> Caller:
    return Caller("test", person.party_id, frozenset(DEFAULT_SCOPES))


def jpeg(width: int = 1200, height: int = 900) -> bytes:
    out = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", (width, height), (160, 90, 30)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def upload(
    browser: Browser, product_id: str, data: bytes, alt: str = "Coffee sachets, front"
) -> httpx.Response:
    page = f"/m/products/{product_id}"
    html = browser.get(page).text
    form = html[html.index('enctype="multipart/form-data"') :]
    body = {"csrf_token": browser.token(form), "idempotency_key": browser.key(form), "alt": alt}
    files = {"file": ("photo.jpg", data, "image/jpeg")}
    response = browser.http.post(f"{page}/photos", data=body, files=files)
    browser.last = response.text
    return response


def photos_of(site: Site, product_id: str) -> list[dict[str, Any]]:
    found = site.platform.run(lambda u: catalog.get_product(u, OPERATOR, product_id), write=False)
    return list(found["photos"])


def test_a_photo_uploaded_on_the_product_page_is_shown_with_its_sizes(site, browser, web):
    coffee = site.products[0]
    browser.sign_in(site.merchant)
    answer = upload(browser, coffee["id"], jpeg())
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/m/products/{coffee['id']}?saved=photo"
    [photo] = photos_of(site, coffee["id"])
    assert photo["alt"] == "Coffee sachets, front"
    assert [s["width"] for s in photo["sizes"]] == list(limits.PHOTO_WIDTHS)
    page = browser.get(answer.headers["location"]).text
    assert "Photo added." in page and photo["sizes"][0]["url"] in page
    shop = _get(f"{web}/s/nena-store").text
    srcset = ", ".join(f"{s['url']} {s['width']}w" for s in photo["sizes"])
    assert f'srcset="{srcset}"' in shop and 'alt="Coffee sachets, front"' in shop
    served = _get(web + photo["sizes"][0]["url"])
    assert served.status_code == 200 and served.headers["content-type"] == "image/webp"
    assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert b"PhoneMaker" not in served.content
    assert Image.open(io.BytesIO(served.content)).size == (320, 240)
    assert _get(f"{web}/media/{'0' * 64}.webp").status_code == 404
    assert _get(f"{web}/media/..%2F..%2Fetc%2Fpasswd").status_code == 404
    key_re = re.compile(r'action="/m/products/[^"]+/photos/(pho_[a-z0-9]+)/remove"')
    assert key_re.search(page)
    removed = browser.post(
        f"/m/products/{coffee['id']}/photos/{photo['id']}/remove",
        {"idempotency_key": str(uuid.uuid4())},
    )
    assert removed.status_code == 303 and photos_of(site, coffee["id"]) == []
    assert _get(web + photo["sizes"][0]["url"]).status_code == 404


def test_a_bad_upload_is_refused_beside_its_field_and_stores_nothing(site, browser):
    coffee = site.products[0]
    browser.sign_in(site.merchant)
    whole = jpeg()
    for data, alt, says in [
        (b"this is a text file", "A photo", "use a JPEG, PNG or WebP picture"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "A photo",
            "use a JPEG, PNG or WebP picture",
        ),
        (whole[: len(whole) // 2], "A photo", "damaged or cut short"),
        (whole, "", "Please fill this in."),
    ]:
        answer = upload(browser, coffee["id"], data, alt)
        assert answer.status_code == 400, answer.text
        assert says in answer.text and 'aria-invalid="true"' in answer.text
    assert photos_of(site, coffee["id"]) == []
    stranger = Browser(str(browser.http.base_url))
    stranger.sign_in(site.other_merchant)
    assert stranger.get(f"/m/products/{coffee['id']}").status_code == 404
    stranger.close()


def test_categories_are_made_chosen_and_filter_the_storefront(site, browser, web):
    coffee = site.products[0]
    browser.sign_in(site.merchant)
    made = browser.post(
        "/m/categories",
        {"name": "Inumin", "idempotency_key": str(uuid.uuid4())},
        from_page="/m/categories",
    )
    assert made.status_code == 303
    twice = browser.post(
        "/m/categories",
        {"name": "inumin", "idempotency_key": str(uuid.uuid4())},
        from_page="/m/categories",
    )
    assert twice.status_code == 400 and "You already have a category with this name." in twice.text
    [drinks] = site.platform.run(
        lambda u: categories.listed(u, OPERATOR, site.storefront["id"])["data"], write=False
    )
    saved = browser.post(
        f"/m/products/{coffee['id']}",
        {
            "title": coffee["title"],
            "price": "65.00",
            "active": "1",
            "category_id": drinks["id"],
            "idempotency_key": str(uuid.uuid4()),
        },
        from_page=f"/m/products/{coffee['id']}",
    )
    assert saved.status_code == 303
    shop = _get(f"{web}/s/nena-store").text
    assert f'href="/s/nena-store?category={drinks["id"]}"' in shop
    only = _get(f"{web}/s/nena-store", params={"category": drinks["id"]}).text
    assert "Coffee 3-in-1" in only and "T-shirt" not in only
    found = _get(f"{web}/s/nena-store", params={"q": "cotton shirt"}).text
    assert "T-shirt, cotton" in found and "Coffee 3-in-1" not in found
    assert "Results for “cotton shirt”" in found
    none = _get(f"{web}/s/nena-store", params={"q": "shirt", "category": drinks["id"]}).text
    assert "Nothing here matches" in none
    wordy = _get(f"{web}/s/nena-store", params={"q": "a b c d e f g h i"})
    assert wordy.status_code == 400 and "Search with fewer or shorter words." in wordy.text
    ask = browser.get(f"/m/categories?remove={drinks['id']}").text
    assert "Remove the category Inumin?" in ask and "Its 1 products stay on sale" in ask
    gone = browser.post(
        f"/m/categories/{drinks['id']}/remove", {"idempotency_key": browser.key(ask)}
    )
    assert gone.status_code == 303
    assert "Coffee 3-in-1" in _get(f"{web}/s/nena-store").text


def test_the_storefront_pages_past_one_screen_and_shows_the_cart_button(site, browser, web):
    owner = caller(site.merchant)

    def work(u: Any) -> None:
        for n in range(limits.STOREFRONT_PAGE_SIZE + 3):
            new = catalog.NewProduct(f"Sabon {n:02d}", 2_500, "laundry soap", stock=4)
            catalog.create_product(u, owner, site.storefront["id"], new)

    site.platform.run(work)
    first = browser.get("/s/nena-store").text
    assert first.count('class="product"') == limits.STOREFRONT_PAGE_SIZE
    more = re.search(r'href="(/s/nena-store\?after=[^"]+)"', first)
    assert more, "no link to the next page"
    second = browser.get(more.group(1).replace("&amp;", "&")).text
    assert second.count('class="product"') == 2 + 3  # 29 products in all
    assert '<a href="/s/nena-store">Back to the first page</a>' in second
    assert ">More products</a>" not in second
    assert "cart-bar" not in first
    added = browser.post(
        "/s/nena-store/cart", {"product_id": site.products[0]["id"], "quantity": "3"}
    )
    assert added.status_code == 303
    page = browser.get(added.headers["location"]).text
    assert "View cart (3) · ₱245.00" in page and 'class="step"' in page
