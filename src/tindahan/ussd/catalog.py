"""What USSD says, in English, Filipino or Cebuano, on one 182-character screen (issue 24).

Every string is an English ``msgid`` in the code (the menus' ``Prompt``/``Refusal`` and the
service's ``N_``), translated in gettext catalogs under ``ussd/locale/<lang>/LC_MESSAGES/
ussd.po``, compiled in memory with Babel when first needed (no ``.mo`` kept), as the web
app's are. A test extracts every string and holds that Filipino and Cebuano both have it,
with the same placeholders, and that each screen fits.

Why plain ``P1,234.50`` and not ``₱``: USSD strings travel in the GSM 7-bit alphabet, which
has no peso sign; a handset shows ``?`` or switches the whole screen to UCS-2, which halves
what fits. Amounts are whole centavos (``int``) until they are written here.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from tindahan import limits

LANGUAGES = ("en", "fil", "ceb")
NAMES = {"en": "English", "fil": "Filipino", "ceb": "Cebuano"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
CONTINUE = "CON "
END = "END "
#: The longest text after the prefix.
ROOM = limits.USSD_SCREEN_MAX_CHARS - len(CONTINUE)


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for "mark, translate later")
    """Mark a string for the catalogs; ``say`` translates it."""
    return msgid


@cache
def translations(lang: str) -> NullTranslations:
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "ussd.po"
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as handle:
        read = read_po(handle, locale=lang)
    merged = Catalog(locale=lang)
    for message in read:
        if message.id and message.string and not message.fuzzy:
            merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer)


def say(lang: str, msgid: str, params: Mapping[str, Any] | None = None) -> str:
    """``msgid`` in ``lang``, its placeholders filled."""
    text = translations(lang if lang in LANGUAGES else DEFAULT).gettext(msgid)
    return text.format(**params) if params else text


def pesos(amount_minor: int) -> str:
    """``P1,234.50`` (``-P5.00`` for a debit): integer arithmetic, no float."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}P{whole:,}.{cents:02d}"


def screen(text: str, *, end: bool) -> str:
    """The answer's body: the prefix and the text, cut to the screen with ``…`` never
    mid-word where a line break is near (a long name, a long movement list)."""
    if len(text) > ROOM:
        cut = text[: ROOM - 2]
        line = cut.rfind("\n")
        text = (cut[:line] if line > ROOM // 2 else cut) + ".."
    return (END if end else CONTINUE) + text
