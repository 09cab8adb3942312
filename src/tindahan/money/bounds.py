"""Bounds of the money domain (defined in ``tindahan.limits``, the one place for bounds).

Why these numbers:

* ``MAX_AMOUNT_MINOR`` is ``2**63 - 1``, the largest signed 64-bit integer: amounts are stored in
  SQL ``BIGINT`` columns (PostgreSQL, and SQLite's 64-bit ``INTEGER``), so an amount that passes
  here always fits in the database. The range is symmetric, so negating an amount never overflows.
* ``MAX_RATE_DIGITS`` and the rate exponents bound a ``Decimal`` rate so that amount × rate is
  computed *exactly* within ``RATE_CONTEXT_PRECISION`` digits (19 digits of amount + 30 of rate
  fit in 50), before the one rounding that the caller names.
* ``MAX_MONEY_TEXT_LENGTH`` bounds the text handed to the parser; the longest well-formed amount
  (sign, symbol, 19 digits with group separators, decimals) is far shorter.
"""

from __future__ import annotations

from tindahan.limits import (
    MAX_AMOUNT_MINOR,
    MAX_MONEY_TEXT_LENGTH,
    MAX_RATE_DIGITS,
    MAX_RATE_EXPONENT,
    MIN_RATE_EXPONENT,
    RATE_CONTEXT_PRECISION,
)

__all__ = [
    "MAX_AMOUNT_MINOR",
    "MAX_MONEY_TEXT_LENGTH",
    "MAX_RATE_DIGITS",
    "MAX_RATE_EXPONENT",
    "MIN_RATE_EXPONENT",
    "RATE_CONTEXT_PRECISION",
]
