"""Reading a QR code from a picture: a phone's photo of a shop's poster, or a screenshot of
a code someone sent (issue 21, item 6). The browser's own ``BarcodeDetector`` reads the
camera where it exists; this is the path that works everywhere, server-side.

Decoding is zxing-cpp's (the C++ port of ZXing, maintained, Apache-2.0, binary wheels): a
QR code in a photo is found at an angle, in poor light, among other things. Pillow opens
the picture first, and every bound is checked before a pixel is decoded: the bytes
(``limits.QR_IMAGE_MAX_BYTES``), the formats a phone makes (JPEG, PNG, WebP, GIF: never
SVG or anything with scripts), and the pixel count (``limits.QR_IMAGE_MAX_PIXELS``: a
decompression bomb is refused from its header, before it is unpacked). The picture is read
in grey and shrunk to ``limits.QR_IMAGE_DECODE_SIDE`` on its longer side, enough for a code
that fills a tenth of the frame. Nothing is kept: the bytes are dropped after decoding.
"""

from __future__ import annotations

import io
import warnings

import zxingcpp
from PIL import Image, ImageOps, UnidentifiedImageError

from tindahan import limits
from tindahan.qr.errors import QrError

FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})


class QrImageError(QrError):
    """A picture that is not one, is too large, or holds no readable QR code; ``code``
    says which (``image_invalid``, ``image_too_large``, ``qr_not_found``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _open(data: bytes) -> Image.Image:
    if len(data) > limits.QR_IMAGE_MAX_BYTES:
        raise QrImageError("image_too_large", "the picture is too large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
            width, height = picture.size
            if width * height > limits.QR_IMAGE_MAX_PIXELS:
                raise QrImageError("image_too_large", "the picture has too many pixels")
            picture.draft("L", (limits.QR_IMAGE_DECODE_SIDE, limits.QR_IMAGE_DECODE_SIDE))
            grey = ImageOps.exif_transpose(picture).convert("L")
    except QrImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise QrImageError("image_too_large", "the picture has too many pixels") from exc
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
    ) as exc:
        raise QrImageError("image_invalid", "this is not a picture (JPEG, PNG, WebP)") from exc
    grey.thumbnail((limits.QR_IMAGE_DECODE_SIDE, limits.QR_IMAGE_DECODE_SIDE))
    return grey


def read(data: bytes) -> str:
    """The text of the first QR code in the picture."""
    grey = _open(data)
    found = zxingcpp.read_barcodes(
        grey, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    texts = [f.text for f in found if f.valid and f.text]
    if not texts:
        raise QrImageError("qr_not_found", "no QR code could be read in this picture")
    return texts[0]
