"""Bounds of the money domain, each explicit and in one place.

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

from typing import Final

MAX_AMOUNT_MINOR: Final[int] = 2**63 - 1
"""Largest absolute amount in minor units (signed 64-bit, as stored in SQL BIGINT)."""

RATE_CONTEXT_PRECISION: Final[int] = 50
"""Decimal digits of the context in which amount × rate is computed (exactly)."""

MAX_RATE_DIGITS: Final[int] = 30
"""Most significant digits a rate may carry."""

MIN_RATE_EXPONENT: Final[int] = -30
"""Smallest adjusted exponent of a non-zero rate: rates are at least 1E-30 in magnitude."""

MAX_RATE_EXPONENT: Final[int] = 29
"""Largest adjusted exponent of a rate: rates are below 1E+30 in magnitude."""

MAX_MONEY_TEXT_LENGTH: Final[int] = 64
"""Most characters accepted by ``parse_money``."""
