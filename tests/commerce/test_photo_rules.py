"""Product photos' rules, with no database: what an upload must be, and what is kept of it.

The bad-input list of issue 21: a file that is not an image, an SVG with a script, a
decompression bomb, a photo over 5 MB, one over the pixel cap, a truncated file, an empty
one: each refused with its own code on the ``file`` field. And what is kept: WebP at the
configured widths, never wider than the original, with no EXIF/GPS left, turned upright.
"""

from __future__ import annotations

import io
import zlib

import pytest
from PIL import Image

from tindahan import limits
from tindahan.commerce import photos
from tindahan.kernel.refusals import RefusalError


def jpeg(width: int = 1600, height: int = 1200, exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", (width, height), (200, 40, 40))
    image.paste((20, 120, 200), (0, 0, width // 2, height // 2))
    image.save(out, "JPEG", quality=85, **({"exif": exif} if exif else {}))
    return out.getvalue()


def gps_exif(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (14.0, 39.0, 2.5)  # Marikina
    gps[3], gps[4] = "E", (121.0, 6.0, 1.5)
    return exif.tobytes()


def refusal(data: bytes) -> RefusalError:
    with pytest.raises(RefusalError) as caught:
        photos.prepare(data)
    assert caught.value.param == "file"
    return caught.value


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` × ``height`` and whose data is a few bytes: the
    shape of a decompression bomb (the pixels are never there to decode)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body).to_bytes(4, "big")
        return len(body).to_bytes(4, "big") + kind + body + crc

    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    data = zlib.compress(b"\0" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "photo_empty"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", "photo_format"),
        (b"just some text named photo.jpg", "photo_format"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(document.cookie)</script></svg>",
            "photo_format",
        ),
        (b'<svg onload="alert(1)" width="10" height="10"/>', "photo_format"),
        (png_header_claiming(100_000, 100_000), "photo_too_many_pixels"),
        (png_header_claiming(8_000, 5_001), "photo_too_many_pixels"),
        (b"\0" * (limits.PHOTO_MAX_BYTES + 1), "photo_too_large"),
    ],
    ids=["empty", "pdf", "text", "svg-script", "svg-onload", "bomb", "over-cap", "huge"],
)
def test_bad_uploads_are_refused_with_their_own_code(data: bytes, code: str) -> None:
    assert refusal(data).code == code


def test_a_truncated_photo_is_refused_not_padded() -> None:
    whole = jpeg()
    assert refusal(whole[: len(whole) * 2 // 3]).code == "photo_damaged"


def test_a_gif_is_not_one_of_the_accepted_formats() -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 40)).save(out, "GIF")
    assert refusal(out.getvalue()).code == "photo_format"


def test_what_is_kept_is_webp_at_each_width_with_no_metadata() -> None:
    upload = jpeg(exif=gps_exif())
    assert b"PhoneMaker" in upload  # the upload carries it
    prepared = photos.prepare(upload)
    assert (prepared.width, prepared.height) == (1600, 1200)
    assert [r.width for r in prepared.renditions] == list(limits.PHOTO_WIDTHS)
    for kept in prepared.renditions:
        image = Image.open(io.BytesIO(kept.data))
        assert image.format == "WEBP"
        assert image.size == (kept.width, kept.width * 3 // 4)
        assert not image.getexif()
        assert "exif" not in image.info and "icc_profile" not in image.info
        assert b"PhoneMaker" not in kept.data and b"Exif" not in kept.data
        assert kept.name.endswith(".webp") and len(kept.name) == 64 + 5


def test_a_small_photo_is_never_scaled_up() -> None:
    prepared = photos.prepare(jpeg(500, 250))
    assert [(r.width, r.height) for r in prepared.renditions] == [(320, 160), (500, 250)]
    assert photos.widths(100) == [100]
    assert photos.widths(5000) == list(limits.PHOTO_WIDTHS)


def test_a_sideways_phone_photo_is_turned_upright() -> None:
    prepared = photos.prepare(jpeg(1600, 1200, exif=gps_exif(orientation=6)))
    assert (prepared.width, prepared.height) == (1200, 1600)


def test_transparency_survives_in_a_png() -> None:
    out = io.BytesIO()
    Image.new("RGBA", (400, 400), (0, 0, 0, 0)).save(out, "PNG")
    kept = photos.prepare(out.getvalue()).renditions[0]
    assert Image.open(io.BytesIO(kept.data)).mode == "RGBA"


def test_the_same_photo_gets_the_same_names() -> None:
    first, again = photos.prepare(jpeg()), photos.prepare(jpeg())
    assert [r.name for r in first.renditions] == [r.name for r in again.renditions]


@pytest.mark.parametrize("alt", ["", "   ", None, 5])
def test_alt_text_is_required(alt: object) -> None:
    with pytest.raises(RefusalError) as caught:
        photos.alt_text(alt)
    assert (caught.value.code, caught.value.param) == ("alt_text_missing", "alt")


def test_alt_text_is_bounded() -> None:
    assert photos.alt_text("  Red shirt, front  ") == "Red shirt, front"
    with pytest.raises(RefusalError):
        photos.alt_text("x" * (limits.PHOTO_ALT_MAX_LENGTH + 1))
