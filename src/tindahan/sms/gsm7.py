"""The GSM 03.38 7-bit alphabet, counted as the network counts it.

One SMS part carries 160 septets in GSM-7. A character of the basic table costs one septet;
one of the extension table (``^{}\\[~]|€`` and form feed) costs two (an escape, then the
character); any other character forces the whole message into UCS-2, where a part holds only
70 characters. Tindahan's messages are written in GSM-7 and the values put into them are
made GSM-7 first (``plain``), so every message is one 160-septet part.
"""

from __future__ import annotations

import unicodedata

BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION = "^{}\\[~]|€\f"
_BASIC = frozenset(BASIC)
_EXTENSION = frozenset(EXTENSION)

#: Septets in one part of a single (unconcatenated) message.
PART_SEPTETS = 160


def septets(text: str) -> int | None:
    """How many septets ``text`` takes in GSM-7; ``None`` if it cannot be sent in GSM-7."""
    total = 0
    for char in text:
        if char in _BASIC:
            total += 1
        elif char in _EXTENSION:
            total += 2
        else:
            return None
    return total


def fits_one_part(text: str) -> bool:
    count = septets(text)
    return count is not None and count <= PART_SEPTETS


def plain(value: str) -> str:
    """``value`` in GSM-7 basic characters: accents the alphabet lacks dropped (``á`` → ``a``;
    ``ñ`` and ``é`` are kept, the alphabet has them), extension characters and anything else
    replaced by ``?``, runs of white space made one space. Used for names put into texts."""
    out: list[str] = []
    for char in " ".join(value.split()):
        if char in _BASIC and char not in "\n\r":
            out.append(char)
            continue
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(base if base and all(c in _BASIC for c in base) else "?")
    return "".join(out)
