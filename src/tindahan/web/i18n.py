"""Languages: English, Filipino (Tagalog) and Cebuano (Bisaya), from gettext catalogs read
with Babel.

The catalogs are the ``.po`` files under ``web/locale/<lang>/LC_MESSAGES/`` (one per part of
the app, so each can be edited on its own; they are merged at start-up). They are compiled
in memory with Babel when first needed, so no generated ``.mo`` file is kept in the
repository. ``make messages`` extracts the strings from the templates and the web modules
into ``web/locale/messages.pot``; a test holds that every one has a Filipino and a Cebuano
translation keeping its placeholders. The Cebuano catalog was written by the engineers and
waits for a native speaker's review (README, "Languages").

The language of a request comes from the ``tdh_lang`` cookie (the language switch), else
from ``Accept-Language``, else English. Money and dates are formatted for the language's
Philippine locale (``en_PH``, ``fil_PH``, ``ceb_PH``) through Babel; times are shown in Philippine
time (UTC+8, no daylight saving).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_datetime, format_time
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations

from tindahan import limits
from tindahan.money import Money
from tindahan.money.text import format_money

#: The languages offered, and the CLDR locale each formats with.
LOCALES = {"en": "en_PH", "fil": "fil_PH", "ceb": "ceb_PH"}
NAMES = {"en": "English", "fil": "Filipino", "ceb": "Cebuano"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
MANILA = timezone(timedelta(hours=limits.BUSINESS_UTC_OFFSET_HOURS))

_current: ContextVar[str] = ContextVar("tindahan_web_language", default=DEFAULT)


@cache
def translations(lang: str) -> NullTranslations:
    """Every ``.po`` file of ``lang`` merged into one catalog, compiled in memory."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    files = sorted(folder.glob("*.po")) if folder.is_dir() else []
    if not files:
        return NullTranslations()
    merged = Catalog(locale=lang)
    for path in files:
        with path.open("rb") as handle:
            for message in read_po(handle, locale=lang):
                if message.id and message.string and not message.fuzzy:
                    merged[message.id] = message
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer)


def language() -> str:
    return _current.get()


def locale() -> str:
    return LOCALES[language()]


@contextmanager
def using(lang: str) -> Iterator[None]:
    token = _current.set(lang if lang in LOCALES else DEFAULT)
    try:
        yield
    finally:
        _current.reset(token)


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language if it is one we have; else the first of Accept-Language's
    (``fil``, ``tl`` for Tagalog, ``ceb`` for Cebuano) that we have; else English."""
    if cookie in LOCALES:
        return cookie
    for part in (accept_language or "").split(",")[:10]:
        tag = part.split(";")[0].strip().lower().replace("_", "-")
        base = tag.split("-")[0]
        if base in ("fil", "tl"):
            return "fil"
        if base == "ceb":
            return "ceb"
        if base == "en":
            return "en"
    return DEFAULT


def gettext(message: str) -> str:
    return translations(language()).ugettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(language()).ungettext(singular, plural, n)


_ = gettext


# --- formatting ----------------------------------------------------------------------------
def money(amount_minor: int | None, currency: str = "PHP") -> str:
    """``12345`` → ``₱123.45`` in the request's locale (no rounding: minor units are exact)."""
    if amount_minor is None:
        return "—"
    return format_money(Money(int(amount_minor), currency), locale())


def number(value: object) -> str:
    return format_decimal(value, locale=locale())  # type: ignore[arg-type]


def percent(value: object, places: int = 2) -> str:
    """A rate given as a fraction (``Decimal("0.0734")``) as a percentage, rounded half-even
    to ``places`` decimals for display only."""
    pattern = "#,##0." + "0" * places + "%" if places else "#,##0%"
    return format_percent(value, pattern, locale=locale())  # type: ignore[arg-type]


def _moment(value: int | str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, int):
        moment = datetime.fromtimestamp(value / 10**9, UTC)
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(MANILA)


def when(value: int | str | datetime | None) -> str:
    """A moment (ns since the epoch, ISO text or datetime) in Philippine time."""
    moment = _moment(value)
    if moment is None:
        return "—"
    return format_datetime(moment, "medium", tzinfo=MANILA, locale=locale())


def day(value: int | str | date | datetime | None, style: str = "medium") -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, style, locale=locale())
    moment = _moment(value)
    assert moment is not None
    return format_date(moment.date(), style, locale=locale())


def clock(value: int | str | datetime | None) -> str:
    moment = _moment(value)
    if moment is None:
        return "—"
    return format_time(moment, "short", tzinfo=MANILA, locale=locale())
