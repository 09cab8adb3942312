"""Onboarding from the console through HTTP (issue 21, item 9), on SQLite and PostgreSQL:
one form makes the party, its business profile and tier, its sign-in with a first PIN
shown once, and its ID images (re-encoded without metadata, sealed in the private store,
shown to staff only); bad input is refused beside its field and nothing is made."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.web.conftest import OPERATOR, Browser, Site
from tindahan.services.platform import audit, parties
from tindahan.store.media import PRIVATE_DIR_ENV

NEW_PHONE = "09181234567"


def _id_photo() -> bytes:
    """A phone's photo of an ID, with the camera's make and a GPS position in its EXIF."""
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (14.0, 39.0, 2.5)
    out = io.BytesIO()
    Image.new("RGB", (1600, 1000), (30, 90, 160)).save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def _fields(**changes: str) -> dict[str, str]:
    fields = {
        "kind": "merchant",
        "name": "Carinderia ni Aling Rosa",
        "phone": NEW_PHONE,
        "mcc": "5812",
        "city": "Marikina",
        "province": "Metro Manila",
        "tier": "basic",
        "id_number": "N01-23-456789",
    }
    return {**fields, **changes}


def _send(
    browser: Browser, fields: dict[str, str], front: bytes | None, back: bytes | None = None
) -> Any:
    browser.get("/op/onboard")
    files = {}
    if front is not None:
        files["id_front"] = ("front.jpg", front, "image/jpeg")
    if back is not None:
        files["id_back"] = ("back.jpg", back, "image/jpeg")
    body = {"csrf_token": browser.token(), **fields}
    return browser.http.post("/op/onboard", data=body, files=files or None)


def _private_files() -> list[Path]:
    return [p for p in Path(os.environ[PRIVATE_DIR_ENV]).rglob("*") if p.is_file()]


def _party_count(site: Site) -> int:
    found = site.platform.run(lambda u: parties.list_parties(u, OPERATOR, 100, None), write=False)
    return len(found["data"])


def _onboardings(site: Site) -> list[dict[str, Any]]:
    entries = site.platform.run(lambda u: audit.list_entries(u, OPERATOR, 100), write=False)
    return [e for e in entries["data"] if e["action"] == "party.onboarded"]


def test_an_operator_onboards_a_merchant_who_then_signs_in(browser, second_browser, site):
    browser.sign_in(site.operator)
    answer = _send(browser, _fields(), _id_photo(), _id_photo())
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    pin = re.search(r'data-testid="first-pin"><strong>(\d{6})</strong>', answer.text)
    assert pin, "the first PIN is shown"
    (entry,) = _onboardings(site)
    party_id = entry["object_id"]
    assert entry["actor"].startswith("lgn_")
    assert [d["kind"] for d in entry["details"]["documents"]] == ["id_front", "id_back"]
    party = site.platform.run(lambda u: parties.get(u, OPERATOR, party_id), write=False)
    assert party["kind"] == "merchant" and party["tier"] == "basic" and party["id_verified"]
    assert party["business"] == {"mcc": "5812", "city": "Marikina", "province": "Metro Manila"}
    assert f"/op/parties/{party_id}/qr" in answer.text
    # The PIN is not kept anywhere the page could show it again.
    assert pin.group(1) not in browser.get(f"/op/parties/{party_id}").text

    # The ID images: shown to staff as metadata-free WebP; sealed in the private store.
    name = entry["details"]["documents"][0]["name"]
    image = browser.get(f"/op/parties/{party_id}/documents/{name}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/webp"
    assert "no-store" in image.headers["cache-control"]
    shown = Image.open(io.BytesIO(image.content))
    assert shown.format == "WEBP" and shown.width == 1080 and not shown.getexif()
    stored = (Path(os.environ[PRIVATE_DIR_ENV]) / name[:2] / name[2:4] / name).read_bytes()
    assert not stored.startswith(b"RIFF") and image.content not in stored

    poster = browser.get(f"/op/parties/{party_id}/qr")
    assert poster.status_code == 200 and '<svg class="qr"' in poster.text

    # The new merchant signs in with the phone and the PIN, and reaches no ID image.
    form = {"phone": NEW_PHONE, "secret": pin.group(1)}
    assert second_browser.post("/signin", form, from_page="/signin").status_code == 303
    assert second_browser.get("/m").status_code == 200
    assert second_browser.get(f"/op/parties/{party_id}/documents/{name}").status_code == 404


def test_a_merchant_or_buyer_cannot_onboard(browser, site):
    browser.sign_in(site.merchant)
    assert browser.get("/op/onboard").status_code == 404
    before = _party_count(site)
    browser.get("/m")
    body = {"csrf_token": browser.token(), **_fields()}
    files = {"id_front": ("front.jpg", _id_photo(), "image/jpeg")}
    assert browser.http.post("/op/onboard", data=body, files=files).status_code == 404
    assert _party_count(site) == before


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'
BOMB = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\xc3P\x00\x00\xc3P\x08\x02\x00\x00\x00"
    b"\x00\x00\x00\x00"
)


@pytest.mark.parametrize(
    ("changes", "front", "field", "words"),
    [
        # site.merchant's login has this phone (its party has none): the party is made
        # first in the transaction, then the login is refused, and the party goes too.
        ({"phone": "09170000002"}, "photo", "phone", "already has an account"),
        ({"phone": "12345"}, "photo", "phone", "mobile"),
        ({}, b"this is not an image", "id_front", "JPEG, PNG or WebP"),
        (
            {},
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>',
            "id_front",
            "JPEG",
        ),
        ({}, BOMB, "id_front", ""),
        ({}, None, "id_front", "front of the ID"),
        ({"mcc": "54x1"}, "photo", "mcc", "four digits"),
        ({"name": ""}, "photo", "name", "fill this in"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_made(
    browser, site, changes, front, field, words
):
    browser.sign_in(site.operator)
    before = (_party_count(site), len(_private_files()))
    image = _id_photo() if front == "photo" else front
    answer = _send(browser, _fields(**changes), image)
    assert answer.status_code == 400
    error = re.search(rf'<p id="e-{field}" class="error">([^<]+)</p>', answer.text)
    assert error, f"no error beside {field}"
    assert words.lower() in error.group(1).lower()
    assert (_party_count(site), len(_private_files())) == before
    assert _onboardings(site) == []
    assert 'value="Marikina"' in answer.text  # what was typed is kept
