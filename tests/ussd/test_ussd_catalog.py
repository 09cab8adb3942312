"""The USSD catalogs (issue 24, item 4): every string the menus can say has a Filipino and a
Cebuano translation keeping its placeholders, and every fixed screen fits 182 characters in
each language."""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import tindahan
from tindahan.ussd import catalog, menu

ROOT = Path(tindahan.__file__).parent
KEYWORDS = {"N_": None, "Prompt": None, "Refusal": None}
SAMPLE = {
    "digits": "6",
    "length": "8",
    "name": "Aling Nena's Sari-Sari Store",
    "amount": "P1,234,567.00",
    "code": "1234566",
    "ref": "7KQ2-M9XD",
    "minutes": "15",
    "left": "P9,999,999.00",
    "what": "x" * 30,
    "day": "07/12",
    "mobile": "+639171234567",
}


def source_strings() -> dict[str, str]:
    found: dict[str, str] = {}
    for folder in (ROOT / "ussd", ROOT / "services" / "ussd"):
        for filename, line, message, _c, _x in extract_from_dir(
            str(folder), [("**.py", "python")], keywords=KEYWORDS
        ):
            if isinstance(message, str) and message and message != menu.MAIN:
                found.setdefault(message, f"{folder.name}/{filename}:{line}")
    return found


def translated(lang: str) -> dict[str, str]:
    path = catalog.LOCALE_DIR / lang / "LC_MESSAGES" / "ussd.po"
    with path.open("rb") as handle:
        return {
            str(m.id): str(m.string)
            for m in read_po(handle, locale=lang)
            if isinstance(m.id, str) and m.id and isinstance(m.string, str) and m.string
        }


def _placeholders(text: str) -> set[str]:
    return {name for _l, name, _f, _c in string.Formatter().parse(text) if name is not None}


def test_the_menus_have_strings_to_translate() -> None:
    assert len(source_strings()) > 60


def test_every_string_has_filipino_and_cebuano_with_its_placeholders() -> None:
    strings = source_strings()
    for lang in ("fil", "ceb"):
        have = translated(lang)
        missing = {text: where for text, where in strings.items() if text not in have}
        assert not missing, f"untranslated in {lang}: {missing}"
        for text in strings:
            assert _placeholders(have[text]) == _placeholders(text), (lang, text)


def test_every_screen_fits_in_every_language() -> None:
    for lang in catalog.LANGUAGES:
        screens = [menu.main_screen(functools.partial(catalog.say, lang))]
        screens += [catalog.say(lang, text, SAMPLE) for text in source_strings()]
        for text in screens:
            assert len(catalog.CONTINUE + text) <= 182, (lang, len(text), text)
            assert re.fullmatch(r"[\x20-\x7e\n]*", text), f"not GSM-7 safe: {text!r}"


def test_the_screen_is_cut_to_182_characters() -> None:
    long = "\n".join(f"line {n} " + "x" * 20 for n in range(12))
    cut = catalog.screen(long, end=True)
    assert len(cut) <= 182 and cut.startswith("END line 0") and cut.endswith("..")


def test_amounts_are_written_from_integer_centavos() -> None:
    assert catalog.pesos(0) == "P0.00"
    assert catalog.pesos(5) == "P0.05"
    assert catalog.pesos(123_456_789) == "P1,234,567.89"
    assert catalog.pesos(-5_000) == "-P50.00"
