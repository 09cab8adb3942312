"""Errors raised by the money domain.

Why one hierarchy: every refusal in this package is a ``MoneyError``, itself a ``ValueError``, so a
face (API, CLI) can turn any of them into a clear message with one ``except`` clause, while the
subclasses let callers and tests tell the reasons apart. Nothing here is ever silently rounded or
coerced: when an amount cannot be represented exactly, one of these is raised instead.
"""

from __future__ import annotations


class MoneyError(ValueError):
    """Base class: an amount, currency, rate or text that the money rules refuse."""


class MoneyTypeError(MoneyError, TypeError):
    """A value of the wrong Python type (for example a ``str`` where a ``Decimal`` rate belongs)."""


class UnknownCurrencyError(MoneyError):
    """A currency code that is not a supported ISO 4217 code."""


class CurrencyMismatchError(MoneyError):
    """Arithmetic or ordering across two currencies, which needs an explicit conversion."""


class AmountOutOfRangeError(MoneyError):
    """An amount in minor units outside ``[-MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR]``."""


class PrecisionError(MoneyError):
    """More decimal places than the currency's ISO 4217 minor unit allows, or an inexact result."""


class MoneyParseError(MoneyError):
    """Text that is not a well-formed money amount."""


class UnknownLocaleError(MoneyError):
    """A locale identifier that Babel (CLDR) does not know."""
