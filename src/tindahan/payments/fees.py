"""Merchant discount fees, agent commissions and the fee share a refund gives back.

Roundings, named:
- merchant discount: ``HALF_UP`` to the centavo (the schoolbook rule merchants check by hand);
- agent commission: ``DOWN`` (the operator never pays more than the rate);
- a refund's share of the fee: cumulative ``FLOOR`` — after refunds totalling R of an amount
  A with fee F, exactly ⌊F·R/A⌋ has gone back, so partial refunds never return more than
  the fee and a full refund returns all of it, to the centavo.
"""

from __future__ import annotations

from tindahan import limits
from tindahan.kernel.refusals import invalid
from tindahan.money import Money, Rounding, apply_bps


def check_bps(value: object, param: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("rate_invalid", f"{param} is a whole number of basis points", param)
    if not 0 <= value <= limits.MAX_FEE_BPS:
        raise invalid("rate_invalid", f"{param} is 0 to {limits.MAX_FEE_BPS} basis points", param)
    return value


def merchant_discount(amount: Money, bps: int) -> Money:
    return apply_bps(amount, bps, Rounding.HALF_UP)


def agent_commission(amount: Money, bps: int) -> Money:
    return apply_bps(amount, bps, Rounding.DOWN)


def fee_returned(fee_minor: int, amount_minor: int, refunded_before: int, refunding: int) -> int:
    """The part of the fee this refund gives back (see the module docstring)."""
    assert refunding > 0 and refunded_before + refunding <= amount_minor
    after = fee_minor * (refunded_before + refunding) // amount_minor
    before = fee_minor * refunded_before // amount_minor
    return after - before
