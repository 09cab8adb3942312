"""Rounding modes, which every conversion to minor units must name.

Why: rounding is where centavos appear or vanish, so it is never implicit. There is no default
mode anywhere in ``tindahan.money``; each caller writes the mode at the call site, e.g. a fee
rounded ``HALF_UP`` or interest rounded ``DOWN`` (in the customer's favour), and a reader sees it.

The values are the ``decimal`` module's own mode names, so a member passes straight to
``Decimal.quantize``.
"""

from __future__ import annotations

from enum import StrEnum


class Rounding(StrEnum):
    """A named rounding mode (value: the matching ``decimal.ROUND_*`` constant)."""

    HALF_EVEN = "ROUND_HALF_EVEN"
    """Nearest; ties to the even neighbour (banker's rounding)."""
    HALF_UP = "ROUND_HALF_UP"
    """Nearest; ties away from zero (the schoolbook rule)."""
    DOWN = "ROUND_DOWN"
    """Toward zero (truncation)."""
    UP = "ROUND_UP"
    """Away from zero."""
    FLOOR = "ROUND_FLOOR"
    """Toward negative infinity."""
    CEILING = "ROUND_CEILING"
    """Toward positive infinity."""
