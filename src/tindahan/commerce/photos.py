"""Product photos: what an upload must be, and what is kept of it.

An upload is untrusted bytes from a phone. It is accepted only if Pillow reads it as a
JPEG, PNG or WebP within ``limits.PHOTO_MAX_BYTES`` and ``limits.PHOTO_MAX_PIXELS`` (the
pixel count is read from the header before any pixel is decoded, so a decompression bomb is
refused unread), and it decodes to the end (a truncated file is refused, never padded with
grey). Anything else (an SVG, which can carry a script; a PDF; text named ``.jpg``) is
refused by what its bytes are, whatever its name or declared type says.

What is kept is never the upload itself: the pixels are turned upright by their EXIF
orientation, then re-encoded as WebP at each of ``limits.PHOTO_WIDTHS`` no wider than the
original, from a fresh image that carries no metadata (no EXIF, no GPS position, no camera
serial, no ICC profile, no XMP). Each rendition is named by the SHA-256 of its bytes, so its
address never changes meaning and it may be cached for a year.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from tindahan import limits
from tindahan.kernel.refusals import RefusalError, invalid
from tindahan.payments import parties as text_rules

#: The formats an upload may be, as Pillow names them.
FORMATS = ("JPEG", "PNG", "WEBP")
#: Pillow's own bomb guard stays on, at our cap (its error is raised at twice its limit).
Image.MAX_IMAGE_PIXELS = limits.PHOTO_MAX_PIXELS
ImageFile.LOAD_TRUNCATED_IMAGES = False


@dataclass(frozen=True)
class Rendition:
    """One width of a photo, as stored: WebP bytes named by their SHA-256."""

    width: int
    height: int
    data: bytes

    @property
    def name(self) -> str:
        return hashlib.sha256(self.data).hexdigest() + ".webp"


@dataclass(frozen=True)
class Prepared:
    """A checked upload: its upright size and the renditions to store, narrowest first."""

    width: int
    height: int
    renditions: tuple[Rendition, ...]


def alt_text(value: object) -> str:
    """What the photo shows, for a buyer who cannot see it: required."""
    if not isinstance(value, str) or not value.strip():
        message = "describe the photo (alt text) for buyers who cannot see it"
        raise invalid("alt_text_missing", message, "alt")
    return text_rules.text(value, "alt", limits.PHOTO_ALT_MAX_LENGTH)


def prepare(data: bytes) -> Prepared:
    """The upload checked and re-encoded, or a refusal (param ``file``) saying why."""
    if not data:
        raise _refused("photo_empty", "the file is empty")
    if len(data) > limits.PHOTO_MAX_BYTES:
        mib = limits.PHOTO_MAX_BYTES // (1024 * 1024)
        raise _refused("photo_too_large", f"a photo is at most {mib} MB")
    image = _opened(data)
    size = image.size
    # A JPEG decodes at 1/2, 1/4 or 1/8 scale when that still covers the widest rendition
    # (the DCT does the scaling): a 12-megapixel phone photo decodes in a fraction of the time.
    widest = limits.PHOTO_WIDTHS[-1]
    image.draft("RGB", (widest, widest))
    upright = _decoded(image)
    if upright.size != image.size:  # turned a quarter: the original's sides swap too
        size = (size[1], size[0])
    renditions: list[Rendition] = []
    source = upright
    for width in sorted(widths(upright.width), reverse=True):  # each from the one above
        height = max(1, (upright.height * width + upright.width // 2) // upright.width)
        kept, source = _rendition(source, width, height)  # height: half up, from the original
        renditions.insert(0, kept)
    return Prepared(size[0], size[1], tuple(renditions))


def widths(original: int) -> list[int]:
    """The widths kept: each of ``PHOTO_WIDTHS`` narrower than the original, and the
    original's own width when it is narrower than the widest (never scaled up)."""
    kept = [w for w in limits.PHOTO_WIDTHS if w < original]
    if original <= limits.PHOTO_WIDTHS[-1]:
        kept.append(original)
    return kept or [limits.PHOTO_WIDTHS[-1]]


def _opened(data: bytes) -> Image.Image:
    if _looks_like_svg(data):
        raise _refused(
            "photo_format", "SVG is not accepted (it can carry scripts): use JPEG, PNG or WebP"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise _refused("photo_format", "this is not a JPEG, PNG or WebP image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError):
        raise _refused("photo_damaged", "the image is damaged or cut short") from None
    if image.width < 1 or image.height < 1 or image.width * image.height > limits.PHOTO_MAX_PIXELS:
        raise _too_many_pixels()
    return image


def _looks_like_svg(data: bytes) -> bool:
    head = data[:4096].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def _decoded(image: Image.Image) -> Image.Image:
    """Every pixel decoded (a truncated file fails here), turned upright, in RGB(A)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            upright = ImageOps.exif_transpose(image) or image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (OSError, SyntaxError, ValueError):
        raise _refused("photo_damaged", "the image is damaged or cut short") from None
    mode = "RGBA" if "A" in upright.getbands() or "transparency" in upright.info else "RGB"
    return upright.convert(mode)


def _rendition(image: Image.Image, width: int, height: int) -> tuple[Rendition, Image.Image]:
    """``image`` at ``width`` × ``height`` as WebP, and the resized pixels (the next,
    narrower one is made from them: a smaller image to shrink)."""
    sized = image
    if (width, height) != image.size:
        sized = image.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A fresh image holds the pixels only: no EXIF, GPS, ICC profile or XMP can follow.
    clean = Image.new(sized.mode, sized.size)
    clean.paste(sized)
    out = io.BytesIO()
    clean.save(out, "WEBP", quality=limits.PHOTO_WEBP_QUALITY, method=4)
    return Rendition(width, height, out.getvalue()), clean


def _too_many_pixels() -> RefusalError:
    megapixels = limits.PHOTO_MAX_PIXELS // 1_000_000
    return _refused("photo_too_many_pixels", f"a photo is at most {megapixels} megapixels")


def _refused(code: str, message: str) -> RefusalError:
    return invalid(code, message, "file")
