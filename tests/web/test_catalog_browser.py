"""The catalog's journey in Chromium at 360 px (issue 21): a merchant uploads a photo and
shelves a product in a category; a buyer on a phone sees the photo at the small size (the
320-pixel rendition, picked by ``srcset``/``sizes``), filters by the category, searches,
taps the quantity stepper, and sees the sticky cart button with the count and the total.
The pages are saved at 360 and 1280 px; nothing is wider than the phone.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from tests.web import test_browser as journeys
from tests.web.test_browser import go, shots, sign_in

# The browser journeys' fixtures: the embedded store, the live app, pages at 360 px.
db_url = journeys.db_url
live = journeys.live
open_page = journeys.open_page

NO_SIDEWAYS = "document.documentElement.scrollWidth <= window.innerWidth"


def jpeg(path: Any) -> str:
    image = Image.new("RGB", (1600, 1200), (150, 75, 0))
    image.paste((240, 220, 200), (400, 300, 1200, 900))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    path.write_bytes(out.getvalue())
    return str(path)


def test_a_photo_and_a_category_then_a_buyer_finds_it_on_a_phone(site, open_page, tmp_path):
    merchant, buyer = open_page(), open_page()
    sign_in(merchant, site.merchant)
    go(merchant, "/m/categories")
    merchant.get_by_label("New category").fill("Inumin")
    merchant.get_by_role("button", name="Add the category").click()
    merchant.wait_for_load_state()
    coffee = site.products[0]
    go(merchant, f"/m/products/{coffee['id']}")
    merchant.get_by_label("Category").select_option(label="Inumin")
    merchant.get_by_role("button", name="Save the details").click()
    merchant.wait_for_load_state()
    merchant.get_by_label("Photo", exact=True).set_input_files(jpeg(tmp_path / "kape.jpg"))
    merchant.get_by_label("What the photo shows").fill("A box of coffee sachets")
    merchant.get_by_role("button", name="Add the photo").click()
    merchant.wait_for_load_state()
    assert merchant.get_by_text("Photo added.").is_visible()
    shots(merchant, "product-photos")

    go(buyer, "/s/nena-store")
    photo = buyer.get_by_alt_text("A box of coffee sachets")
    photo.scroll_into_view_if_needed()
    buyer.wait_for_function(
        "(img) => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    # At 360 px a card is half the screen: the 320-pixel rendition is the one fetched (its
    # URL is the img's src, the narrowest; the 640 and 1080 are in srcset).
    small = photo.get_attribute("src") or ""
    assert photo.evaluate("(img) => img.currentSrc") == buyer.base + small
    fetched = buyer.request.get(buyer.base + small)
    assert Image.open(io.BytesIO(fetched.body())).size == (320, 240)
    assert fetched.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert buyer.evaluate(NO_SIDEWAYS)
    shots(buyer, "storefront-photos")
    buyer.get_by_role("link", name="Inumin").click()
    buyer.wait_for_load_state()
    assert buyer.locator(".product").count() == 1
    buyer.get_by_label("Search this shop").fill("sachets")
    buyer.get_by_role("button", name="Search").click()
    buyer.wait_for_load_state()
    assert "category=" in buyer.url and "q=sachets" in buyer.url
    card = buyer.locator(".product", has_text="Coffee 3-in-1")
    card.get_by_role("button", name="One more: Coffee 3-in-1, 10 sachets").click()
    assert card.get_by_label("Quantity").input_value() == "2"
    card.get_by_role("button", name="Add to cart").click()
    buyer.wait_for_load_state()
    bar = buyer.get_by_role("link", name="View cart (2) · ₱180.00")
    assert bar.is_visible()
    buyer.mouse.wheel(0, 2000)
    box = bar.bounding_box()
    assert box is not None and box["y"] + box["height"] <= 800  # stays on screen: sticky
    assert buyer.evaluate(NO_SIDEWAYS)
    shots(buyer, "storefront-search")
