"""Amounts in ISO 20022 text: ``1234.50`` from and to integer minor units, never rounded.

The schemas allow five decimals (``ActiveCurrencyAndAmount``); a currency carries only its
ISO 4217 minor unit (two for PHP), so a message with ``1.005`` PHP is refused, never
rounded: money we did not get cannot be credited, and money we would round away must not
be sent. Currencies outside ISO 4217 (the schema only asks for three capitals) are
refused the same way.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tindahan.money import MoneyError, exact_minor, from_minor
from tindahan.rails.errors import MessageError, Problem


def to_text(amount_minor: int, currency: str) -> str:
    """``(123450, "PHP")`` → ``"1234.50"``: exactly the currency's decimals."""
    if amount_minor <= 0:
        raise MessageError(Problem.INVALID, f"amount must be positive, got {amount_minor}")
    return str(from_minor(amount_minor, currency))


def from_text(text: str, currency: str) -> int:
    """``("1234.5", "PHP")`` → ``123450``; more decimals than the currency has is refused."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise MessageError(Problem.INVALID, f"amount {text!r} is not a number") from None
    try:
        minor = exact_minor(number, currency)
    except MoneyError as exc:
        raise MessageError(Problem.INVALID, f"amount {text} {currency}: {exc}") from None
    if minor <= 0:
        raise MessageError(Problem.INVALID, f"amount {text} {currency} must be positive")
    return minor
