"""Money for Tindahan: exact amounts, named rounding, locale-aware text.

The unit rule (DESIGN.md, invariant 1):

* An amount is an ``int`` count of the currency's minor unit (centavos for PHP) together with an
  ISO 4217 currency code: ``Money(123450, "PHP")`` is ₱1,234.50. Integers make sums exact and map
  to SQL ``BIGINT``; the range is ``±MAX_AMOUNT_MINOR`` (signed 64-bit).
* Fractions (fee rates, interest, FX rates) are ``Decimal``, never inexact numbers, and live
  only on the way between two amounts.
* Every step from a fraction back to minor units names its ``Rounding`` at the call site; there
  is no default mode. Text is parsed without any rounding at all.

Modules: ``currency`` (ISO 4217 table), ``amount`` (``Money``, ``allocate``), ``rounding``,
``rate`` (Decimal ↔ minor units, fees, FX), ``text`` (Babel parsing and formatting) and
``errors``. Their bounds are in ``tindahan.limits``, with every other bound.
"""

from tindahan.limits import (
    MAX_AMOUNT_MINOR,
    MAX_MONEY_TEXT_LENGTH,
    MAX_RATE_DIGITS,
    MAX_RATE_EXPONENT,
    MIN_RATE_EXPONENT,
    RATE_CONTEXT_PRECISION,
)
from tindahan.money.amount import Money, allocate, ensure_amount_minor
from tindahan.money.currency import CURRENCIES, Currency, currency
from tindahan.money.errors import (
    AmountOutOfRangeError,
    CurrencyMismatchError,
    MoneyError,
    MoneyParseError,
    MoneyTypeError,
    PrecisionError,
    UnknownCurrencyError,
    UnknownLocaleError,
)
from tindahan.money.rate import (
    apply_bps,
    apply_rate,
    bps_of,
    convert,
    exact_minor,
    from_minor,
    to_minor,
)
from tindahan.money.rounding import Rounding
from tindahan.money.text import AMBIGUOUS_SIGNS, format_amount, format_money, parse_money

__all__ = [
    "AMBIGUOUS_SIGNS",
    "CURRENCIES",
    "MAX_AMOUNT_MINOR",
    "MAX_MONEY_TEXT_LENGTH",
    "MAX_RATE_DIGITS",
    "MAX_RATE_EXPONENT",
    "MIN_RATE_EXPONENT",
    "RATE_CONTEXT_PRECISION",
    "AmountOutOfRangeError",
    "Currency",
    "CurrencyMismatchError",
    "Money",
    "MoneyError",
    "MoneyParseError",
    "MoneyTypeError",
    "PrecisionError",
    "Rounding",
    "UnknownCurrencyError",
    "UnknownLocaleError",
    "allocate",
    "apply_bps",
    "apply_rate",
    "bps_of",
    "convert",
    "currency",
    "ensure_amount_minor",
    "exact_minor",
    "format_amount",
    "format_money",
    "from_minor",
    "parse_money",
    "to_minor",
]
