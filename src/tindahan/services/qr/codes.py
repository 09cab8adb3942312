"""QR codes as images: SVG and PNG through segno, with the merchant's name under the code.

The payload is the codec's (``tindahan.qr``); this module only draws it. Error correction is
level M (15 % of the symbol may be damaged — a poster taped to a sari-sari store's counter
gets scuffed), and the quiet zone is the four modules ISO/IEC 18004 asks for. The printable
poster is an SVG: the code, then the name in a large sans-serif line beneath it.
"""

from __future__ import annotations

import io
from html import escape

import segno

FORMATS = ("text", "svg", "png")


def _symbol(payload: str) -> segno.QRCode:
    return segno.make_qr(payload, error="m", boost_error=False, encoding="utf-8")


def svg(payload: str, caption: str | None = None, scale: int = 8, note: str | None = None) -> bytes:
    """The code as SVG; with ``caption`` (the merchant's name), a printable poster, and
    ``note`` (its merchant code, for paying by USSD from a phone without a camera) on a
    second line."""
    buffer = io.BytesIO()
    _symbol(payload).save(buffer, kind="svg", scale=scale, border=4, xmldecl=False)
    image = buffer.getvalue().decode()
    if caption is None:
        return image.encode()
    width, height = _symbol(payload).symbol_size(scale=scale, border=4)
    text_height = (10 if note else 6) * scale
    inner = image[image.index(">") + 1 : image.rindex("</svg>")]
    poster = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + text_height}" '
        f'viewBox="0 0 {width} {height + text_height}">'
        f'<rect width="100%" height="100%" fill="#fff"/>{inner}'
        f'<text x="{width // 2}" y="{height + text_height // 2}" text-anchor="middle" '
        f'font-family="sans-serif" font-size="{3 * scale}" fill="#000">{escape(caption)}</text>'
        + (
            f'<text x="{width // 2}" y="{height + 7 * scale}" text-anchor="middle" '
            f'font-family="sans-serif" font-size="{3 * scale}" fill="#000">{escape(note)}</text>'
            if note
            else ""
        )
        + "</svg>"
    )
    return poster.encode()


def png(payload: str, scale: int = 8) -> bytes:
    buffer = io.BytesIO()
    _symbol(payload).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
