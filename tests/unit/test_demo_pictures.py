"""The demo's product photos (``services.seed.pictures``): drawn, not shipped as files; the
same title gives the same bytes (a re-seed reuses the stored files); each is a picture the
upload path accepts, re-encoded to WebP."""

from __future__ import annotations

import io

from PIL import Image

from tindahan.commerce import photos
from tindahan.services.seed import pictures


def test_a_tile_is_the_products_colour_with_its_initials():
    data = pictures.tile("Kape 3-in-1, 30 sachets")
    assert data == pictures.tile("Kape 3-in-1, 30 sachets")
    picture = Image.open(io.BytesIO(data))
    assert picture.format == "PNG" and picture.size == (pictures.SIZE, pictures.SIZE)
    assert picture.getpixel((5, 5)) == pictures.colour("Kape 3-in-1, 30 sachets")
    # the initials are drawn in white in the middle
    middle = picture.crop((160, 160, 480, 420)).getcolors(maxcolors=100_000) or []
    assert any(rgb == (255, 255, 255) for _, rgb in middle)
    assert pictures.initials("Kape 3-in-1, 30 sachets") == "KS"
    assert pictures.initials("bigas") == "B" and pictures.initials("5 kg") == "K"
    assert pictures.initials("2 × 3") == "?"


def test_tiles_differ_and_pass_the_upload_checks():
    titles = ["Bigas, dinorado 5 kg", "Mantika, 1 L", "Sabon panlaba"]
    assert len({pictures.tile(t) for t in titles}) == 3
    prepared = photos.prepare(pictures.tile(titles[0]))
    assert prepared.width == pictures.SIZE
    assert all(r.data[:4] == b"RIFF" and r.data[8:12] == b"WEBP" for r in prepared.renditions)
    assert photos.alt_text(pictures.alt_text(titles[0])).startswith(titles[0])
