"""Amortisation schedules, with every rounding named and the remainder where it belongs.

Rules, for each method (rates per period as ``Decimal``; amounts in centavos):

* **interest** of a period is ``balance × rate × factor`` rounded ``HALF_UP`` to the
  centavo (``factor`` is 1 for a whole period; a fraction for a part-period after a
  prepayment; days/nominal-days under actual/365);
* **declining, equal installments**: the level payment ``P·r / (1 − (1 + r)^−n)`` is rounded
  ``HALF_UP`` to the centavo; each installment's principal is that payment less its
  interest; the **last installment takes whatever principal is left**, so the principal
  column sums to exactly ``P`` and the last payment differs from the others by centavos
  (should rounding up pay the loan off before its last installment — only a loan of a few
  centavos an installment — the payment is a centavo lower until it does not);
* **declining, equal principal**: ``⌊P / n⌋`` each (``DOWN``), the last takes the rest;
* **flat add-on** (quotes only): total interest ``P × r × n`` rounded ``HALF_UP``; principal
  and interest spread by cumulative floors (installment *i* gets ``⌊T·i/n⌋ − ⌊T·(i−1)/n⌋``),
  so the last absorbs the remainder;
* an **added fee** is spread the same way over the installments.

So every schedule sums exactly: Σ principal = P, Σ fee = the added fee, and Σ total =
P + Σ interest + fee — a Hypothesis property in the tests holds it for any input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal

from tindahan.kernel.refusals import invalid
from tindahan.lending.terms import Method

#: Enough digits for a 19-digit amount times a rate raised to a few hundred periods.
_CTX = Context(prec=60)
_ONE = Decimal(1)


def round_half_up(value: Decimal) -> int:
    """A value in minor units to an ``int``, ``HALF_UP``."""
    return int(value.quantize(_ONE, rounding=ROUND_HALF_UP, context=_CTX))


def round_down(value: Decimal) -> int:
    """A non-negative value in minor units to an ``int``, ``DOWN`` (truncation)."""
    return int(value.quantize(_ONE, rounding=ROUND_DOWN, context=_CTX))


@dataclass(frozen=True, slots=True)
class Installment:
    seq: int
    start_date: date
    due_date: date
    principal_minor: int
    interest_minor: int
    fee_minor: int = 0

    @property
    def total_minor(self) -> int:
        return self.principal_minor + self.interest_minor + self.fee_minor

    def as_dict(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "due_date": self.due_date.isoformat(),
            "principal_minor": self.principal_minor,
            "interest_minor": self.interest_minor,
            "fee_minor": self.fee_minor,
            "total_minor": self.total_minor,
        }


def spread(total: int, count: int) -> list[int]:
    """``total`` in ``count`` parts by cumulative floors: they differ by at most one centavo
    and sum exactly (the later parts take the remainder)."""
    return [total * i // count - total * (i - 1) // count for i in range(1, count + 1)]


def level_payment(principal: int, rate: Decimal, count: int) -> int:
    """The equal installment ``P·r / (1 − (1 + r)^−n)``, ``HALF_UP`` to the centavo."""
    if rate == 0:
        return -(-principal // count)  # no interest: the principal in equal parts, rounded up
    growth = _CTX.power(_ONE + rate, count)
    exact = _CTX.divide(_CTX.multiply(Decimal(principal), _CTX.multiply(rate, growth)), growth - 1)
    return round_half_up(exact)


def _interest(balance: int, rate: Decimal, factor: Decimal) -> int:
    return round_half_up(_CTX.multiply(_CTX.multiply(Decimal(balance), rate), factor))


def build(
    principal_minor: int,
    rate: Decimal,
    method: Method,
    start: date,
    dates: Sequence[date],
    *,
    fee_minor: int = 0,
    factors: Sequence[Decimal] | None = None,
) -> list[Installment]:
    """The schedule of ``principal_minor`` repaid on ``dates`` (one installment each), the
    first period starting on ``start``; ``fee_minor`` is an added fee (0 when deducted)."""
    count = len(dates)
    _check(principal_minor, rate, count, fee_minor, start, dates)
    weights = list(factors) if factors is not None else [_ONE] * count
    if len(weights) != count:
        raise ValueError("one factor per installment")
    if method == Method.FLAT:
        principals, interests = _flat(principal_minor, rate, weights)
    elif method == Method.EQUAL_PRINCIPAL:
        principals, interests = _equal_principal(principal_minor, rate, weights)
    else:
        principals, interests = _equal_installment(principal_minor, rate, weights)
    fees = spread(fee_minor, count)
    starts = [start, *dates[:-1]]
    return [
        Installment(i + 1, starts[i], dates[i], principals[i], interests[i], fees[i])
        for i in range(count)
    ]


def _check(
    principal: int, rate: Decimal, count: int, fee: int, start: date, dates: Sequence[date]
) -> None:
    if principal <= 0:
        raise invalid("amount_invalid", "the principal must be positive", "principal_minor")
    if count <= 0:
        raise invalid("term_invalid", "a loan has at least one installment", "term")
    if not rate.is_finite() or rate < 0:  # NaN first: comparing a NaN raises InvalidOperation
        raise invalid("rate_invalid", "the rate is a finite, non-negative number", "rate")
    if fee < 0:
        raise invalid("fee_invalid", "the fee cannot be negative", "fee_minor")
    previous = start
    for due in dates:
        if due <= previous:
            raise ValueError("due dates must increase from the start")
        previous = due


def _flat(principal: int, rate: Decimal, weights: list[Decimal]) -> tuple[list[int], list[int]]:
    total_interest = _interest(principal, rate, sum(weights, Decimal(0)))
    return spread(principal, len(weights)), spread(total_interest, len(weights))


def _equal_principal(
    principal: int, rate: Decimal, weights: list[Decimal]
) -> tuple[list[int], list[int]]:
    count = len(weights)
    part = principal // count
    principals = [part] * (count - 1) + [principal - part * (count - 1)]
    interests, balance = [], principal
    for share, weight in zip(principals, weights, strict=True):
        interests.append(_interest(balance, rate, weight))
        balance -= share
    return principals, interests


def _equal_installment(
    principal: int, rate: Decimal, weights: list[Decimal]
) -> tuple[list[int], list[int]]:
    payment = level_payment(principal, rate, len(weights))
    while True:
        principals, interests, left = _level(principal, rate, weights, payment)
        # Rounding the payment up can pay off a loan of a few centavos an installment before
        # its last one (₱0.05 in 4 at 0%: 2, 2, 1, 0): then a centavo less, until the last
        # installment still has principal to take (1, 1, 1, 2).
        if left > 0 or payment == 0:
            return principals, interests
        payment -= 1


def _level(
    principal: int, rate: Decimal, weights: list[Decimal], payment: int
) -> tuple[list[int], list[int], int]:
    """The columns for a level ``payment``, and the principal left for the last one."""
    principals, interests, balance = [], [], principal
    left = principal
    for i, weight in enumerate(weights):
        interest = _interest(balance, rate, weight)
        if i == len(weights) - 1:
            left, share = balance, balance
        else:
            share = min(balance, max(0, payment - interest))
        principals.append(share)
        interests.append(interest)
        balance -= share
    return principals, interests, left
