"""Money as text: locale-aware parsing and formatting with Babel (CLDR data).

Why strict: text typed by a merchant or buyer becomes an amount that moves money, so the parser
refuses anything it would have to guess at, with a message that says why. It never rounds:
``"₱1.005"`` is refused (``PrecisionError``), not read as ₱1.00 or ₱1.01.

Parsing rules (``parse_money``), decided once here:

* **Number**: ASCII digits with the locale's decimal symbol and, optionally, its group symbol in
  the right places (checked with ``babel.numbers.parse_decimal(strict=True)``: ``"12,34"`` is
  refused in en_PH). A digit is required on both sides of the decimal symbol (``".5"`` and
  ``"5."`` are refused). No exponents, no ``NaN``, no spaces inside the number (unless the
  locale's group symbol is a space).
* **Decimal places**: at most the currency's ISO 4217 minor unit, *as written*: ``"₱1.500"`` is
  refused although it equals ₱1.50, since three decimals for pesos suggest a typo or a misread
  grouping (``"₱100.000"``). JPY, KRW, VND take no decimals; KWD, BHD, OMR take three.
* **Currency marker**: at most one, before or after the number, with or without space
  (``"₱1,234.50"``, ``"PHP 1,234.50"``, ``"1234.5 PHP"``). Two markers (``"₱5 USD"``) are refused,
  even when they agree. A marker is one of:

  - an ISO 4217 code of a supported currency, in upper case (always unambiguous);
  - the locale's symbol for ``default_currency`` (``"₱"`` for PHP in en_PH; ``"$"`` only when
    the default is USD);
  - a symbol that the locale or international English (CLDR ``en_001``) gives to exactly one
    supported currency: ``"€"``, ``"£"``, ``"₩"``, ``"US$"``, ``"HK$"``, ``"A$"``, ``"CN¥"``….

  The bare signs in ``AMBIGUOUS_SIGNS`` (``"$"``, ``"¥"``) are refused unless they are the
  default currency's own symbol: in the markets this serves (Singapore, Hong Kong, Taiwan,
  Australia, Canada, New Zealand, the US; Japan and China) a bare ``"$"`` or ``"¥"`` names
  several currencies, and a wrong guess is a wrong amount.
* **No marker**: the amount is in ``default_currency``; with ``default_currency=None`` a marker
  is required.
* **Sign**: one optional ``-`` (or the locale's minus sign, or U+2212), or ``+``, either before
  the marker (``"-₱5.00"``, as ``format_money`` writes it) or between marker and number
  (``"₱-5.00"``); never both. Accounting parentheses ``"(₱5.00)"`` are refused.
* **Range**: the result must fit in ``±MAX_AMOUNT_MINOR`` (``AmountOutOfRangeError``); text
  longer than ``MAX_MONEY_TEXT_LENGTH`` is refused before any parsing.

Errors are all ``MoneyError``: ``MoneyParseError`` for malformed text, ``PrecisionError`` for
too many decimals, ``AmountOutOfRangeError``, ``UnknownCurrencyError``, ``UnknownLocaleError``.

Formatting (``format_money``) uses the locale's standard currency pattern with exactly the
currency's ISO 4217 decimal places (CLDR would show IDR and TWD without decimals, hiding minor
units that exist), so ``parse_money(format_money(m), default_currency=m.currency) == m``.

Locales are Babel identifiers; BCP 47 tags with a hyphen (``"fil-PH"``) are accepted too.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Final

import babel.core
import babel.numbers
from babel import Locale

from tindahan.limits import MAX_MONEY_TEXT_LENGTH
from tindahan.money.amount import Money
from tindahan.money.currency import CURRENCIES
from tindahan.money.currency import currency as _currency
from tindahan.money.errors import (
    MoneyParseError,
    MoneyTypeError,
    PrecisionError,
    UnknownLocaleError,
)
from tindahan.money.rate import exact_minor, from_minor

AMBIGUOUS_SIGNS: Final = frozenset({"$", "¥", "￥"})
"""Bare signs written by several currencies; accepted only as the default currency's symbol."""

_INTERNATIONAL_ENGLISH: Final = "en_001"
_BIDI_MARKS: Final = dict.fromkeys(map(ord, "\u200e\u200f\u061c"))
_MINUS_SIGNS: Final = ("-", "\u2212")
_PLUS_SIGNS: Final = ("+",)
_MAX_LOCALE_LENGTH: Final = 64


@lru_cache(maxsize=64)
def _load_locale(identifier: str) -> Locale:
    try:
        return Locale.parse(identifier.replace("-", "_"))
    except (babel.core.UnknownLocaleError, ValueError) as exc:
        raise UnknownLocaleError(
            f"unknown locale {identifier!r}; use a CLDR locale such as 'en_PH' or 'fil-PH'"
        ) from exc


def _locale(identifier: str) -> Locale:
    if not isinstance(identifier, str):
        raise MoneyTypeError(f"a locale is a str such as 'en_PH', not {type(identifier).__name__}")
    if not identifier or len(identifier) > _MAX_LOCALE_LENGTH:
        raise UnknownLocaleError(f"unknown locale {identifier[:_MAX_LOCALE_LENGTH]!r}")
    return _load_locale(identifier)


def _plain(symbol: str) -> str:
    return symbol.translate(_BIDI_MARKS)


@dataclass(frozen=True)
class _Syntax:
    """What money text looks like in one locale."""

    locale: Locale
    group: str
    decimal: str
    minus: frozenset[str]
    shape: re.Pattern[str]
    number: re.Pattern[str]
    symbols: Mapping[str, str]
    """Unambiguous symbol → currency code."""


def _alternatives(options: set[str]) -> str:
    return "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True))


@lru_cache(maxsize=64)
def _syntax(identifier: str) -> _Syntax:
    loc = _load_locale(identifier)
    group = _plain(babel.numbers.get_group_symbol(loc))
    decimal_symbol = _plain(babel.numbers.get_decimal_symbol(loc))
    minus = {*_MINUS_SIGNS, _plain(babel.numbers.get_minus_sign_symbol(loc))}
    signs = minus | {*_PLUS_SIGNS, _plain(babel.numbers.get_plus_sign_symbol(loc))}
    sign = f"(?:{_alternatives(signs)})"
    separators = re.escape(group) + "|" + re.escape(decimal_symbol)
    excluded = "".join(re.escape(c) for c in {*"".join(signs), group, decimal_symbol} if c)
    marker = rf"[^\s0-9{excluded}]+"
    shape = re.compile(
        rf"(?P<sign1>{sign})?\s*(?:(?P<pre>{marker})\s*)?(?P<sign2>{sign})?\s*"
        rf"(?P<num>(?:[0-9]|{separators})+)\s*(?P<post>{marker})?"
    )
    number = re.compile(
        rf"[0-9]+(?:{re.escape(group)}[0-9]+)*(?:{re.escape(decimal_symbol)}(?P<frac>[0-9]+))?"
    )
    return _Syntax(loc, group, decimal_symbol, frozenset(minus), shape, number, _symbols(loc))


def _symbols(loc: Locale) -> Mapping[str, str]:
    owners: dict[str, set[str]] = {}
    for source in (loc, _load_locale(_INTERNATIONAL_ENGLISH)):
        for code in CURRENCIES:
            symbol = source.currency_symbols.get(code)
            if isinstance(symbol, str) and _plain(symbol) not in ("", code):
                owners.setdefault(_plain(symbol), set()).add(code)
    return MappingProxyType(
        {
            symbol: next(iter(codes))
            for symbol, codes in owners.items()
            if len(codes) == 1 and symbol not in AMBIGUOUS_SIGNS
        }
    )


def _symbol_of(code: str, loc: Locale) -> str:
    return _plain(babel.numbers.get_currency_symbol(code, loc))


def _resolve(marker: str, syntax: _Syntax, default_currency: str | None) -> str:
    if re.fullmatch("[A-Z]{3}", marker):
        return _currency(marker).code
    if default_currency is not None and marker == _symbol_of(default_currency, syntax.locale):
        return default_currency
    found = syntax.symbols.get(marker)
    if found is not None:
        return found
    if marker in AMBIGUOUS_SIGNS:
        raise MoneyParseError(
            f"the symbol {marker!r} is ambiguous (several currencies write it): write the ISO "
            "code instead (such as USD or JPY), or pass the currency as default_currency"
        )
    hint = ""
    if marker.upper() in CURRENCIES:
        hint = f"; currency codes are upper case: {marker.upper()!r}"
    raise MoneyParseError(f"unrecognised currency {marker!r} in locale {syntax.locale}{hint}")


def parse_money(text: str, *, default_currency: str | None = "PHP", locale: str = "en_PH") -> Money:
    """Read an amount such as ``"₱1,234.50"`` or ``"PHP 1,234.50"``; see the module docstring.

    Raises a ``MoneyError`` subclass, with a message fit to show to the person who typed it.
    """
    if not isinstance(text, str):
        raise MoneyTypeError(f"money text is a str, not {type(text).__name__}")
    if default_currency is not None:
        default_currency = _currency(default_currency).code
    _locale(locale)  # validates the identifier with a clear error
    syntax = _syntax(locale)
    stripped = text.translate(_BIDI_MARKS).strip()
    if not stripped:
        raise MoneyParseError("no amount given: the text is empty")
    if len(stripped) > MAX_MONEY_TEXT_LENGTH:
        raise MoneyParseError(f"amount text too long ({len(stripped)} > {MAX_MONEY_TEXT_LENGTH})")
    if "(" in stripped or ")" in stripped:
        raise MoneyParseError(
            f"parentheses are not read as a sign in {stripped!r}: write '-' for a negative amount"
        )
    match = syntax.shape.fullmatch(stripped)
    if match is None:
        raise MoneyParseError(f"not an amount of money: {stripped!r}; write e.g. '₱1,234.50'")
    if match["sign1"] and match["sign2"]:
        raise MoneyParseError(f"two signs in {stripped!r}")
    if match["pre"] and match["post"]:
        raise MoneyParseError(f"two currencies in {stripped!r}: write one")
    marker = match["pre"] or match["post"]
    code = _resolve(marker, syntax, default_currency) if marker else default_currency
    if code is None:
        raise MoneyParseError(f"no currency in {stripped!r}: write it, e.g. 'PHP {stripped}'")
    magnitude = _read_number(match["num"].strip(), syntax, code, stripped)
    negative = (match["sign1"] or match["sign2"]) in syntax.minus
    return Money(-magnitude if negative else magnitude, code)


def _read_number(number: str, syntax: _Syntax, code: str, text: str) -> int:
    shape = syntax.number.fullmatch(number)
    if shape is None:
        raise MoneyParseError(
            f"not a well-formed number in {text!r}: digits with {syntax.decimal!r} "
            f"as the decimal symbol and {syntax.group!r} between groups of thousands"
        )
    try:
        value = babel.numbers.parse_decimal(number, syntax.locale, strict=True)
    except babel.numbers.NumberFormatError as exc:
        raise MoneyParseError(f"badly grouped number in {text!r}: {exc}") from exc
    places = len(shape["frac"] or "")
    allowed = _currency(code).exponent
    if places > allowed:
        raise PrecisionError(
            f"{text!r} has {places} decimal places but {code} has {allowed} (ISO 4217); "
            "amounts are never rounded when read"
        )
    return exact_minor(value, code)


def _apply(pattern: babel.numbers.NumberPattern, money: Money, loc: Locale, symbol: bool) -> str:
    exact = copy.copy(pattern)
    exact.frac_prec = (money.exponent, money.exponent)
    value = from_minor(money.amount_minor, money.currency)
    if symbol:
        return str(exact.apply(value, loc, currency=money.currency, currency_digits=False))
    return str(exact.apply(value, loc))


def format_money(money: Money, locale: str = "en_PH") -> str:
    """Display text with the locale's currency symbol: ``Money(123450, "PHP")`` → ``"₱1,234.50"``.

    Shows exactly the currency's ISO 4217 decimal places (JPY none, KWD three); never rounds.
    """
    loc = _locale(locale)
    return _apply(loc.currency_formats["standard"], money, loc, symbol=True)


def format_amount(money: Money, locale: str = "en_PH") -> str:
    """The number alone, grouped for the locale: ``Money(123450, "PHP")`` → ``"1,234.50"``."""
    loc = _locale(locale)
    return _apply(loc.decimal_formats[None], money, loc, symbol=False)
