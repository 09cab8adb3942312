"""Rates and conversions between ``Decimal`` values and integer minor units.

Why: amounts are integers, but fees, interest and FX rates are fractions. Fractions are
``Decimal`` (exact decimal arithmetic), never anything inexact, and every step from a fraction
back to minor units names its ``Rounding``: there is no default.

How: amount × rate is first computed *exactly* (rates are bounded so the product fits in
``RATE_CONTEXT_PRECISION`` digits; an inexact product would raise rather than round twice), then
shifted by powers of ten exactly (by editing the exponent, not by arithmetic), then rounded once,
to an integer number of minor units, with the caller's mode. The result must fit in
``±MAX_AMOUNT_MINOR``.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Final

from tindahan.limits import (
    MAX_AMOUNT_MINOR,
    MAX_RATE_DIGITS,
    MAX_RATE_EXPONENT,
    MIN_RATE_EXPONENT,
    RATE_CONTEXT_PRECISION,
)
from tindahan.money.amount import Money, ensure_amount_minor
from tindahan.money.currency import currency as _currency
from tindahan.money.errors import (
    AmountOutOfRangeError,
    MoneyError,
    MoneyTypeError,
    PrecisionError,
)
from tindahan.money.rounding import Rounding

_ONE: Final = Decimal(1)
_BASIS_POINT_EXPONENT: Final = -4  # 1 bp = 1/10,000
_MAX_ADJUSTED: Final = len(str(MAX_AMOUNT_MINOR))  # beyond this, no rounding can bring it in range


def _context(*, exact: bool) -> decimal.Context:
    traps = [decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
    if exact:
        traps.append(decimal.Inexact)
    return decimal.Context(
        prec=RATE_CONTEXT_PRECISION, rounding=decimal.ROUND_HALF_EVEN, traps=traps
    )


def _finite(value: Decimal | int, what: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise MoneyTypeError(f"{what} must be a Decimal or an int, not {type(value).__name__}")
    number = Decimal(value)
    if not number.is_finite():
        raise MoneyError(f"{what} must be finite, got {number}")
    return number


def _check_rate(rate: Decimal | int) -> Decimal:
    number = _finite(rate, "a rate")
    if number.is_zero():
        return number
    significant = len("".join(map(str, number.as_tuple().digits)).rstrip("0"))
    if significant > MAX_RATE_DIGITS:
        raise PrecisionError(f"a rate has at most {MAX_RATE_DIGITS} significant digits: {number}")
    if not MIN_RATE_EXPONENT <= number.adjusted() <= MAX_RATE_EXPONENT:
        raise MoneyError(
            f"a rate's magnitude must be at least 1E{MIN_RATE_EXPONENT} and below "
            f"1E+{MAX_RATE_EXPONENT + 1}, got {number}"
        )
    return number


def _check_rounding(rounding: Rounding) -> Rounding:
    if not isinstance(rounding, Rounding):
        raise MoneyTypeError(f"rounding must be a tindahan.money.Rounding member, not {rounding!r}")
    return rounding


def _shift(value: Decimal, places: int) -> Decimal:
    """``value × 10**places`` exactly, by moving the exponent (no context, no rounding)."""
    sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        raise MoneyError(f"not a finite number: {value}")
    return Decimal((sign, digits, exponent + places))


def _round_to_minor(value: Decimal, rounding: Rounding) -> int:
    """Round a value already expressed in minor units to an ``int``, within range."""
    if value.is_zero():
        return 0
    if value.adjusted() > _MAX_ADJUSTED:
        raise AmountOutOfRangeError(f"{value} minor units is outside ±{MAX_AMOUNT_MINOR}")
    rounded = value.quantize(_ONE, rounding=rounding.value, context=_context(exact=False))
    return ensure_amount_minor(int(rounded))


def _times(amount_minor: int, rate: Decimal) -> Decimal:
    try:
        return _context(exact=True).multiply(Decimal(amount_minor), rate)
    except decimal.Inexact as exc:  # cannot happen within the rate bounds; refuse, never round
        raise PrecisionError(
            f"{amount_minor} × {rate} is not exact in {RATE_CONTEXT_PRECISION} digits"
        ) from exc


def to_minor(value: Decimal | int, currency: str, rounding: Rounding) -> int:
    """Major units (``Decimal("1234.505")``) to minor units of ``currency``, rounded as named."""
    number = _finite(value, "a value")
    exponent = _currency(currency).exponent
    return _round_to_minor(_shift(number, exponent), _check_rounding(rounding))


def exact_minor(value: Decimal | int, currency: str) -> int:
    """Major units to minor units of ``currency`` only when exact; ``PrecisionError`` otherwise.

    ``Decimal("1.50")`` and ``Decimal("1.500")`` are 150 centavos; ``Decimal("1.505")`` is refused.
    """
    number = _finite(value, "a value")
    exponent = _currency(currency).exponent
    shifted = _shift(number, exponent)
    result = _round_to_minor(shifted, Rounding.DOWN)
    if result != shifted:
        raise PrecisionError(
            f"{number} {currency} has more decimal places than the {exponent} of {currency} "
            "(ISO 4217 minor unit); round it with to_minor and a named Rounding"
        )
    return result


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """Minor units to an exact ``Decimal`` in major units: ``(123450, "PHP")`` → ``1234.50``."""
    exponent = _currency(currency).exponent
    return _shift(Decimal(ensure_amount_minor(amount_minor)), -exponent)


def apply_rate(money: Money, rate: Decimal | int, rounding: Rounding) -> Money:
    """``money × rate`` in the same currency, rounded once as named (e.g. a fee of 1.5%)."""
    product = _times(money.amount_minor, _check_rate(rate))
    return Money(_round_to_minor(product, _check_rounding(rounding)), money.currency)


def apply_bps(money: Money, bps: int, rounding: Rounding) -> Money:
    """``money × bps / 10,000`` (basis points), rounded once as named."""
    return Money(bps_of(money.amount_minor, bps, rounding), money.currency)


def bps_of(amount_minor: int, bps: int, rounding: Rounding) -> int:
    """``amount_minor × bps / 10,000`` in the same minor units, rounded once as named: a
    fee, a share of a sale, a set-aside — where the currency is the caller's already and the
    figure stays an ``int`` (``apply_bps`` is the same on ``Money``). Exact before the one
    rounding: no ``// 10_000`` by hand, whose rounding a reader has to guess."""
    if isinstance(bps, bool) or not isinstance(bps, int):
        raise MoneyTypeError(f"basis points are an int, not {type(bps).__name__}")
    amount = ensure_amount_minor(amount_minor)
    product = _shift(Decimal(amount * bps), _BASIS_POINT_EXPONENT)
    return _round_to_minor(product, _check_rounding(rounding))


def convert(money: Money, rate: Decimal | int, to_currency: str, rounding: Rounding) -> Money:
    """FX: ``money`` at ``rate`` units of ``to_currency`` per unit of ``money.currency``.

    The result in major units is amount × rate, expressed in ``to_currency``'s minor units and
    rounded once as named. The rate must be positive.
    """
    checked = _check_rate(rate)
    if checked <= 0:
        raise MoneyError(f"an exchange rate must be positive, got {checked}")
    target = _currency(to_currency)
    source_exponent = _currency(money.currency).exponent
    product = _shift(_times(money.amount_minor, checked), target.exponent - source_exponent)
    return Money(_round_to_minor(product, _check_rounding(rounding)), target.code)
