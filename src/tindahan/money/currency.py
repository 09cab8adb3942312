"""Currencies: ISO 4217 codes and their minor units.

Why: an amount is an integer count of a currency's *minor unit* (centavo, cent, fils). How many
minor units make a major unit is the ISO 4217 "minor unit" (exponent): 2 for PHP (100 centavos),
0 for JPY, 3 for KWD. That exponent, and nothing else, decides how many decimal places an amount
may have; it is taken from ISO 4217 itself, not from display conventions (CLDR, and so Babel, shows
IDR and TWD with no decimals, while ISO 4217 gives them 2).

Codes are strict: three upper-case ASCII letters from the table below. ``"php"`` is refused with a
hint rather than guessed at, because a code that is silently "fixed" is a code nobody checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from tindahan.money.errors import MoneyTypeError, UnknownCurrencyError

_CODE_SHAPE: Final = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency: alphabetic code, numeric code and minor-unit exponent."""

    code: str
    """Alphabetic code, e.g. ``"PHP"``."""
    numeric: str
    """Three-digit numeric code as text (leading zeros matter), e.g. ``"608"``."""
    exponent: int
    """ISO 4217 minor unit: decimal places of the currency, e.g. 2 for PHP."""


def _table(*rows: tuple[str, str, int]) -> MappingProxyType[str, Currency]:
    return MappingProxyType({code: Currency(code, numeric, exp) for code, numeric, exp in rows})


# Source: ISO 4217, List One "Current currency & funds" (maintenance agency: SIX Group),
# columns "Alphabetic Code", "Numeric Code" and "Minor unit". The set covers the Philippines and
# the markets of Filipino workers and buyers abroad (Asia-Pacific, the Gulf, Europe, the Americas).
CURRENCIES: Final[MappingProxyType[str, Currency]] = _table(
    ("PHP", "608", 2),  # Philippine peso
    ("USD", "840", 2),  # US dollar
    ("EUR", "978", 2),  # euro
    ("JPY", "392", 0),  # yen
    ("KRW", "410", 0),  # won
    ("VND", "704", 0),  # dong
    ("SGD", "702", 2),  # Singapore dollar
    ("HKD", "344", 2),  # Hong Kong dollar
    ("CNY", "156", 2),  # yuan renminbi
    ("TWD", "901", 2),  # new Taiwan dollar
    ("AUD", "036", 2),  # Australian dollar
    ("CAD", "124", 2),  # Canadian dollar
    ("GBP", "826", 2),  # pound sterling
    ("AED", "784", 2),  # UAE dirham
    ("SAR", "682", 2),  # Saudi riyal
    ("QAR", "634", 2),  # Qatari rial
    ("KWD", "414", 3),  # Kuwaiti dinar
    ("BHD", "048", 3),  # Bahraini dinar
    ("OMR", "512", 3),  # rial Omani
    ("MYR", "458", 2),  # Malaysian ringgit
    ("THB", "764", 2),  # baht
    ("IDR", "360", 2),  # rupiah
    ("NZD", "554", 2),  # New Zealand dollar
    ("CHF", "756", 2),  # Swiss franc
)
"""Supported currencies by alphabetic code (read-only)."""


def currency(code: str) -> Currency:
    """Return the supported currency with this ISO 4217 alphabetic code.

    Raises ``UnknownCurrencyError`` for anything else, including lower-case codes.
    """
    if not isinstance(code, str):
        raise MoneyTypeError(f"a currency code is a str, not {type(code).__name__}")
    found = CURRENCIES.get(code)
    if found is not None:
        return found
    if _CODE_SHAPE.fullmatch(code) is None:
        hint = ""
        if code.strip().upper() in CURRENCIES:
            hint = f"; did you mean {code.strip().upper()!r}?"
        raise UnknownCurrencyError(
            f"{code[:16]!r} is not a currency code: ISO 4217 codes are three upper-case "
            f"letters{hint}"
        )
    raise UnknownCurrencyError(
        f"unsupported currency {code!r}; supported: {', '.join(sorted(CURRENCIES))}"
    )
