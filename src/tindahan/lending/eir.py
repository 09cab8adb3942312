"""The effective interest rate: the internal rate of return of what the borrower actually
receives against what they actually pay.

BSP Circular 730 (implementing the Truth in Lending Act, RA 3765) defines the EIR as the
rate that discounts the installments to the **net proceeds** (principal less every fee and
charge deducted up front); penalties are not in it. Here the cash flows are ``−net`` at time
0 and each installment's total at period 1, 2, …, n — periods of equal length, the way the
circular's examples count them, whatever a holiday did to one due date.

Solved in ``Decimal`` by Newton's method from the nominal rate, kept inside a bracket that
bisection narrows whenever a Newton step would leave it: the present value falls strictly
as the rate rises (every installment is a positive inflow), so the root is unique and the
bracket always holds it. Annualised: ``(1 + r)^(periods per year) − 1``; per month:
``(1 + r)^(periods per year / 12) − 1`` (for monthly installments, ``r`` itself).

Decision — how dear a loan may be and still have an EIR. Whenever something is received
(net proceeds of at least a centavo) the root exists and is unique, and it is at most
``Σ installments / net proceeds − 1``. So a fee deducted that leaves the borrower a centavo
of a ₱100 million loan has an EIR, but one of up to 10^10 per period: no number a
borrower can read, and no lawful loan's (BSP Circular 1133 caps small loans at an EIR of
15% a month). The EIR is solved up to ``CEILING`` (2^20, about a million, per period);
past it the disclosure is refused (``rate_invalid``, "beyond reason") rather than shown, so
nothing can offer such a loan. A loan whose net proceeds are a centavo but whose
installments are small (₱1.00 owed a period later: 99 per period) is solved as any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Context, Decimal

from tindahan.kernel.refusals import invalid

_CTX = Context(prec=40)
_ONE = Decimal(1)
#: Stop when a step moves the rate by less than this (far below the 8 decimal places shown).
_TOLERANCE = Decimal("1e-20")
_MAX_STEPS = 200
#: The dearest EIR per period that is solved and shown; past it the loan is refused.
CEILING = Decimal(2**20)


def _npv(rate: Decimal, net: int, payments: Sequence[int]) -> tuple[Decimal, Decimal]:
    """Present value of the flows at ``rate`` and its derivative."""
    value, slope = Decimal(-net), Decimal(0)
    factor = _CTX.divide(_ONE, _ONE + rate)
    discount = _ONE
    for t, amount in enumerate(payments, start=1):
        discount = _CTX.multiply(discount, factor)
        term = _CTX.multiply(Decimal(amount), discount)
        value = _CTX.add(value, term)
        slope = _CTX.subtract(slope, _CTX.multiply(term, _CTX.multiply(Decimal(t), factor)))
    return value, slope


def per_period(net_proceeds_minor: int, payments: Sequence[int]) -> Decimal:
    """The rate per period at which the payments are worth exactly the net proceeds."""
    if net_proceeds_minor <= 0:
        raise invalid("fee_invalid", "the fees deducted leave the borrower nothing", "fee_minor")
    if not payments or any(p < 0 for p in payments) or sum(payments) <= 0:
        raise ValueError("a loan is repaid by positive installments")
    low, high = Decimal("-0.999999"), Decimal(1)
    while _npv(high, net_proceeds_minor, payments)[0] > 0:  # even richer loans: widen
        if high >= CEILING:  # the root is past it: no loan's (see the module's decision)
            raise invalid(
                "rate_invalid",
                "the effective rate is beyond reason: over 2^20 per period for what the"
                " borrower receives",
                "rate",
            )
        high *= 2
    rate = Decimal(0)
    for _ in range(_MAX_STEPS):
        value, slope = _npv(rate, net_proceeds_minor, payments)
        if value > 0:
            low = rate
        else:
            high = rate
        step = _CTX.divide(value, slope) if slope else Decimal(0)
        candidate = rate - step
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - rate) < _TOLERANCE:
            return candidate
        rate = candidate
    return rate


def compound(rate: Decimal, periods: Decimal | int) -> Decimal:
    """``(1 + rate)^periods − 1``: a rate per period over ``periods`` periods."""
    return _CTX.power(_ONE + rate, Decimal(periods)) - 1


def text(rate: Decimal, places: int = 8) -> str:
    """A rate as a plain decimal string (``"0.07341234"``), ``HALF_EVEN`` to ``places``.

    However large the rate (a daily rate of 30% compounds to about 10^41 a year), every
    digit is kept: the context holds the integer digits and the places. A rate that rounds
    to zero is ``"0.00…"``, never ``"-0.00…"`` (the solver may stop a hair below zero)."""
    digits = max(rate.adjusted(), 0) + places + 2
    shown = rate.quantize(Decimal(1).scaleb(-places), context=Context(prec=max(digits, 40)))
    if shown.is_zero():
        shown = shown.copy_abs()
    return f"{shown:f}"
