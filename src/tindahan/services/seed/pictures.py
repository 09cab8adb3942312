"""The demo's product photos, drawn at seed time: no picture files live in the repository.

Each product gets a square tile in a colour of its own (from its title's hash, so the same
product has the same tile on every run and a re-seeded database reuses the stored files),
with the title's initials large in the middle and the title below, drawn with Pillow and
saved as PNG. The tile then goes through the same path as a merchant's upload
(``services.commerce.photos``: checked, re-encoded to WebP at a few widths, stored in the
platform's ``MediaStore``), so the demo's storefronts show ``srcset`` photos like real ones.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, ImageDraw, ImageFont

SIZE = 640
#: Calm, readable backgrounds (white text on each passes WCAG AA for large text).
PALETTE = (
    (0x1F, 0x6F, 0x5C),
    (0x8A, 0x3B, 0x12),
    (0x2B, 0x4C, 0x8C),
    (0x7A, 0x25, 0x5E),
    (0x4D, 0x5B, 0x1E),
    (0x9C, 0x2F, 0x2F),
    (0x35, 0x35, 0x6B),
    (0x00, 0x5F, 0x73),
)


def initials(title: str) -> str:
    """Up to two letters: the first of the first two words that start with one."""
    words = [w for w in title.replace(",", " ").split() if w[:1].isalpha()]
    return "".join(w[0].upper() for w in words[:2]) or "?"


def colour(title: str) -> tuple[int, int, int]:
    digest = hashlib.sha256(title.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError):  # a Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def tile(title: str) -> bytes:
    """A PNG tile for the product ``title`` (the same bytes for the same title)."""
    picture = Image.new("RGB", (SIZE, SIZE), colour(title))
    draw = ImageDraw.Draw(picture)
    draw.text((SIZE / 2, SIZE * 0.45), initials(title), fill="white", font=_font(260), anchor="mm")
    label = title if len(title) <= 28 else title[:27] + "…"
    draw.text((SIZE / 2, SIZE * 0.85), label, fill="white", font=_font(40), anchor="mm")
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def alt_text(title: str) -> str:
    return f"{title}: a demo picture with its initials"
