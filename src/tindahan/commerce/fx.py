"""Buyers abroad: the operator's rate table, the spread, and converting without losing a centavo.

A rate is PHP per one unit of the foreign currency (``USD/PHP 58.25``: one dollar is ₱58.25),
the mid-market rate the operator enters. A buyer paying in dollars gets the *customer rate*,
the mid rate less the spread: ``mid × (10,000 − spread_bps) / 10,000``, exact in ``Decimal``.

Roundings, named:
- what the buyer pays for a PHP total P is the least amount F (in the buyer's minor units)
  whose value at the customer rate, rounded ``DOWN`` to the centavo, covers P: so the PHP
  that reaches escrow is exactly P and the buyer pays at most one minor unit more than the
  exact quotient (``UP``), never less;
- a refund of R of the P gives back the cumulative ``FLOOR`` share of F: after refunds
  totalling R, exactly ⌊F·R/P⌋ has gone back, so a full refund returns F to the cent and the
  buyer carries no exchange-rate risk on a refund (the operator's FX book does).

On the ledger each side is its own currency ledger: F moves buyer → ``op.fx.USD`` on the
USD ledger, P moves ``op.fx.PHP`` → escrow on the PHP ledger, linked, so each ledger sums to
zero on its own and the operator's FX position is the pair of ``op.fx`` balances.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal, InvalidOperation, localcontext

from tindahan import limits
from tindahan.kernel.refusals import invalid
from tindahan.money import Money, Rounding, convert
from tindahan.money.currency import currency as currency_info

HOME = "PHP"
#: ASCII digits, an optional fraction: no exponent, sign, spaces, underscores or other
#: scripts' digits (``Decimal`` would take them all).
PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")
_BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    mid_rate: Decimal
    spread_bps: int
    customer_rate: Decimal
    php_minor: int
    buyer_minor: int


def supported(code: str) -> str:
    """A currency a buyer abroad may pay in."""
    if code not in limits.FX_CURRENCIES:
        known = ", ".join(limits.FX_CURRENCIES)
        message = f"no FX for {code}/{HOME}: buyers abroad pay in {known}"
        raise invalid("fx_pair_unsupported", message, "currency")
    return code


def rate(text: str, param: str = "rate") -> Decimal:
    """An operator-entered rate: a plain decimal within the bounds in ``limits``."""
    if not isinstance(text, str) or not PLAIN_DECIMAL.fullmatch(text):
        raise invalid("rate_invalid", f"{param} is a decimal number like 58.25", param)
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise invalid("rate_invalid", f"{param} is a decimal number like 58.25", param) from None
    low, high = Decimal(limits.FX_RATE_MIN), Decimal(limits.FX_RATE_MAX)
    if not low <= value <= high:
        raise invalid("rate_invalid", f"{param} is between {low} and {high}", param)
    if len(value.normalize().as_tuple().digits) > limits.FX_RATE_MAX_DIGITS:
        message = f"{param} has at most {limits.FX_RATE_MAX_DIGITS} significant digits"
        raise invalid("rate_invalid", message, param)
    return value.normalize()


def spread(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("spread_invalid", "spread_bps is a whole number", "spread_bps")
    if not 0 <= value <= limits.MAX_FX_SPREAD_BPS:
        message = f"spread_bps is 0 to {limits.MAX_FX_SPREAD_BPS}"
        raise invalid("spread_invalid", message, "spread_bps")
    return value


def customer_rate(mid: Decimal, spread_bps: int) -> Decimal:
    """Exact: at most 12 + 5 significant digits, well inside the default context."""
    with localcontext() as ctx:
        ctx.prec = limits.RATE_CONTEXT_PRECISION
        return (mid * (_BPS - spread_bps) / _BPS).normalize()


def php_value(buyer_minor: int, currency: str, rate_: Decimal) -> int:
    """What ``buyer_minor`` is worth in centavos at ``rate_``, rounded ``DOWN``."""
    return convert(Money(buyer_minor, currency), rate_, HOME, Rounding.DOWN).amount_minor


def quote(php_minor: int, currency: str, mid: Decimal, spread_bps: int) -> Quote:
    """The least foreign amount that buys ``php_minor`` (see the module docstring)."""
    supported(currency)
    rate_ = customer_rate(mid, spread_bps)
    shift = currency_info(currency).exponent - currency_info(HOME).exponent
    with localcontext() as ctx:
        ctx.prec = limits.RATE_CONTEXT_PRECISION
        estimate = int((Decimal(php_minor).scaleb(shift) / rate_).to_integral_value(ROUND_CEILING))
    if estimate > limits.MAX_AMOUNT_MINOR - 1:  # before any Money is made of it
        raise invalid("amount_invalid", "the converted amount is too large", "currency")
    buyer_minor = max(estimate, 1)
    while php_value(buyer_minor, currency, rate_) < php_minor:  # guard the division
        buyer_minor += 1
    while buyer_minor > 1 and php_value(buyer_minor - 1, currency, rate_) >= php_minor:
        buyer_minor -= 1
    if buyer_minor > limits.MAX_AMOUNT_MINOR:
        raise invalid("amount_invalid", "the converted amount is too large", "currency")
    return Quote(currency, mid, spread_bps, rate_, php_minor, buyer_minor)


def refund_share(buyer_minor: int, php_minor: int, refunded_before: int, refunding: int) -> int:
    """The foreign amount a PHP refund gives back (cumulative floor; see the docstring)."""
    assert refunding > 0 and refunded_before + refunding <= php_minor
    after = buyer_minor * (refunded_before + refunding) // php_minor
    before = buyer_minor * refunded_before // php_minor
    return after - before


def text(value: Decimal) -> str:
    """A rate as plain digits (``10000``, not ``1E+4``): what the API shows and stores."""
    return format(value, "f")
