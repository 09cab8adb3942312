"""The catalogs: every string the pages can show has a Filipino and a Cebuano translation
that keeps its placeholders (English is the source), and the language is chosen the way the
switch and the browser say."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tindahan.web import i18n

WEB = Path(i18n.__file__).parent
_PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%\([a-z_]+\)s")


def source_strings() -> dict[str, str]:
    """msgid -> where it is used, from the templates and the web modules."""
    found: dict[str, str] = {}
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    for filename, line, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options
    ):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{line}")
    return found


def filipino() -> dict[str, str]:
    return catalog("fil")


def cebuano() -> dict[str, str]:
    return catalog("ceb")


def catalog(lang: str) -> dict[str, str]:
    translated: dict[str, str] = {}
    for path in sorted((WEB / "locale" / lang / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if not message.id or message.fuzzy:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for index, msgid in enumerate(ids):
                    text = strings[min(index, len(strings) - 1)]
                    if text:
                        translated[msgid] = text
    return translated


def test_the_pages_have_strings_to_translate():
    assert len(source_strings()) > 20


def test_every_string_has_a_filipino_translation():
    translated = filipino()
    missing = {text: where for text, where in source_strings().items() if text not in translated}
    assert not missing, "untranslated (add them to a .po under web/locale/fil):\n" + "\n".join(
        f"{where}: {text!r}" for text, where in sorted(missing.items(), key=lambda i: i[1])
    )


def test_translations_keep_their_placeholders():
    wrong = [
        (lang, msgid, text)
        for lang in ("fil", "ceb")
        for msgid, text in catalog(lang).items()
        if sorted(_PLACEHOLDER.findall(msgid)) != sorted(_PLACEHOLDER.findall(text))
    ]
    assert not wrong


def test_every_string_has_a_cebuano_translation():
    translated = cebuano()
    missing = {text: where for text, where in source_strings().items() if text not in translated}
    assert not missing, "untranslated (add them to a .po under web/locale/ceb):\n" + "\n".join(
        f"{where}: {text!r}" for text, where in sorted(missing.items(), key=lambda i: i[1])
    )


def test_the_three_languages_are_offered_and_differ():
    assert list(i18n.LOCALES) == ["en", "fil", "ceb"]
    fil, ceb = filipino(), cebuano()
    assert set(fil) == set(ceb)  # one source, two complete catalogs
    same = [msgid for msgid in ceb if ceb[msgid] == fil[msgid] and ceb[msgid] != msgid]
    assert len(same) < len(ceb) // 10  # Cebuano is its own language, not Filipino copied


def test_language_choice():
    assert i18n.choose("fil", "en-US") == "fil"
    assert i18n.choose(None, "tl-PH,en;q=0.5") == "fil"
    assert i18n.choose(None, "fil-PH") == "fil"
    assert i18n.choose("xx", "de-DE") == "en"
    assert i18n.choose(None, None) == "en"
    assert i18n.choose("ceb", "fil-PH") == "ceb"
    assert i18n.choose(None, "ceb-PH,en;q=0.5") == "ceb"


def test_money_and_dates_follow_the_language():
    with i18n.using("en"):
        english = i18n.money(123_450)
        english_day = i18n.day("2026-12-15")
    with i18n.using("fil"):
        filipino_day = i18n.day("2026-12-15")
        assert i18n.gettext("Sign in") != "Sign in"
    assert english == "₱1,234.50"
    assert "Dec" in english_day
    assert "Dis" in filipino_day
    with i18n.using("ceb"):
        assert i18n.money(123_450) == "₱1,234.50"
        assert "Dis" in i18n.day("2026-12-15")
        assert i18n.gettext("Sign in") == "Mag-sign in"
