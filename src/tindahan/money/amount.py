"""Money: an integer amount of a currency's minor unit.

Why integers: a centavo is indivisible, so an amount is an ``int`` count of minor units
(``Money(123450, "PHP")`` is ₱1,234.50) and addition, subtraction and comparison are exact. The
amount stays within ``±MAX_AMOUNT_MINOR`` (signed 64-bit, the SQL ``BIGINT`` range).

Invariants held here:

* arithmetic and ordering only within one currency (``CurrencyMismatchError`` otherwise; equality
  across currencies is simply ``False``);
* multiplication by ``int`` only; anything fractional (a fee rate, an FX rate) goes through
  ``tindahan.money.rate`` where the rounding mode is named;
* ``allocate`` splits an amount into parts that sum to it exactly: no centavo is created or lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tindahan.limits import MAX_AMOUNT_MINOR
from tindahan.money.currency import currency as _currency
from tindahan.money.errors import (
    AmountOutOfRangeError,
    CurrencyMismatchError,
    MoneyError,
    MoneyTypeError,
)


def ensure_amount_minor(value: object) -> int:
    """Return ``value`` if it is an ``int`` (not ``bool``) within ``±MAX_AMOUNT_MINOR``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise MoneyTypeError(
            f"an amount in minor units is an int, not {type(value).__name__}; "
            "convert fractional values with tindahan.money.to_minor and a named rounding"
        )
    if not -MAX_AMOUNT_MINOR <= value <= MAX_AMOUNT_MINOR:
        raise AmountOutOfRangeError(
            f"amount {value} minor units is outside ±{MAX_AMOUNT_MINOR} (signed 64-bit)"
        )
    return int(value)


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: ``amount_minor`` minor units of the ISO 4217 ``currency``."""

    amount_minor: int
    currency: str

    def __post_init__(self) -> None:
        ensure_amount_minor(self.amount_minor)
        _currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        return cls(0, currency)

    @property
    def exponent(self) -> int:
        """The currency's ISO 4217 minor unit (decimal places)."""
        return _currency(self.currency).exponent

    def is_zero(self) -> bool:
        """True when the amount is zero."""
        return self.amount_minor == 0

    def _check_same(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {self.currency} and {other.currency}; convert first"
            )

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same(other, "add")
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same(other, "subtract")
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount_minor, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        return Money(abs(self.amount_minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            return NotImplemented
        return Money(self.amount_minor * factor, self.currency)

    def __rmul__(self, factor: int) -> Money:
        return self.__mul__(factor)

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same(other, "compare")
        return self.amount_minor < other.amount_minor

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same(other, "compare")
        return self.amount_minor <= other.amount_minor

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same(other, "compare")
        return self.amount_minor > other.amount_minor

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._check_same(other, "compare")
        return self.amount_minor >= other.amount_minor

    def __str__(self) -> str:
        """Locale-neutral text for logs and messages, e.g. ``PHP 1234.50``."""
        exponent = self.exponent
        sign = "-" if self.amount_minor < 0 else ""
        major, minor = divmod(abs(self.amount_minor), 10**exponent)
        if exponent == 0:
            return f"{self.currency} {sign}{major}"
        return f"{self.currency} {sign}{major}.{minor:0{exponent}d}"


def allocate(money: Money, weights: Sequence[int]) -> list[Money]:
    """Split ``money`` in proportion to ``weights`` so that the parts sum to it exactly.

    Largest-remainder method: each part gets the whole minor units of its share, then the minor
    units left over go one each to the parts with the largest remainders, ties to the earlier
    index. Each part thus differs from its exact share by less than one minor unit, and a zero
    weight gets zero. A negative amount is split as its absolute value, then negated, so
    ``allocate(-m, w) == [-p for p in allocate(m, w)]``.
    """
    checked = _check_weights(weights)
    total_weight = sum(checked)
    magnitude = abs(money.amount_minor)
    shares = [divmod(magnitude * weight, total_weight) for weight in checked]
    parts = [share for share, _ in shares]
    leftover = magnitude - sum(parts)
    by_remainder = sorted(range(len(checked)), key=lambda i: (-shares[i][1], i))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    sign = -1 if money.amount_minor < 0 else 1
    return [Money(sign * part, money.currency) for part in parts]


def _check_weights(weights: Sequence[int]) -> list[int]:
    checked = list(weights)
    if not checked:
        raise MoneyError("allocate needs at least one weight")
    for weight in checked:
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise MoneyTypeError(f"weights are int, not {type(weight).__name__}")
        if weight < 0:
            raise MoneyError(f"weights must not be negative, got {weight}")
    if sum(checked) == 0:
        raise MoneyError("weights must not all be zero")
    return checked
