"""The operator's FX rate table and quotes for buyers abroad (rules: ``commerce.fx``).

The operator keeps one mid rate and spread per foreign currency (``POST /v1/fx_rates/USD``).
A buyer paying an order from a USD wallet first asks for a quote: the order's PHP total, the
dollars it costs at the customer rate, and an expiry (``limits.FX_QUOTE_SECONDS``). Paying
with the quote locks it: the order keeps the quote's figures, so a refund gives back the
dollars paid, whatever the rate does meanwhile. An expired quote is refused; the buyer asks
for a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from tindahan import limits
from tindahan.commerce import fx
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, not_found
from tindahan.money import Money, MoneyError, Rounding, convert
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, new_id
from tindahan.store.commerce_tables import fx_quotes, fx_rates


def rate_view(row: Any) -> dict[str, Any]:
    return {
        "object": "fx_rate",
        "pair": f"{row['currency']}/{fx.HOME}",
        "currency": row["currency"],
        "mid_rate": row["mid_rate"],
        "spread_bps": row["spread_bps"],
        "customer_rate": fx.text(fx.customer_rate(Decimal(row["mid_rate"]), row["spread_bps"])),
        "updated": iso(row["updated_at_ns"]),
    }


def put_rate(
    unit: Unit, caller: Caller, currency: str, mid_rate: str, spread_bps: int | None
) -> dict[str, Any]:
    """Operator: set today's rate (PHP per unit of ``currency``) and, optionally, the spread."""
    caller.require_operator()
    code = fx.supported(currency)
    mid = fx.rate(mid_rate, "mid_rate")
    spread = fx.spread(limits.FX_SPREAD_BPS if spread_bps is None else spread_bps)
    values = {"mid_rate": fx.text(mid), "spread_bps": spread, "updated_at_ns": unit.now()}
    done = unit.conn.execute(
        update(fx_rates).where(fx_rates.c.currency == code).values(**values)
    ).rowcount
    if not done:
        unit.conn.execute(insert(fx_rates).values(currency=code, **values))
    return rate_view({"currency": code, **values})


def list_rates(unit: Unit, caller: Caller) -> dict[str, Any]:
    """Any key may read the rates: a buyer sees the price before asking for a quote."""
    found = unit.conn.execute(select(fx_rates).order_by(fx_rates.c.currency)).mappings()
    return page([rate_view(r) for r in found], False)


def _rate_row(unit: Unit, currency: str) -> Any:
    code = fx.supported(currency)
    row = unit.conn.execute(select(fx_rates).where(fx_rates.c.currency == code)).mappings().first()
    if row is None:
        message = f"the operator has no {code}/{fx.HOME} rate today"
        raise invalid("fx_pair_unsupported", message, "currency")
    return row


def php_equivalent(unit: Unit, amount_minor: int, currency: str) -> int:
    """``amount_minor`` in centavos at the mid rate, ``HALF_UP``: what KYC limits (set in PHP)
    count a foreign-currency movement as."""
    if currency == fx.HOME:
        return amount_minor
    mid = Decimal(_rate_row(unit, currency)["mid_rate"])
    try:
        return convert(Money(amount_minor, currency), mid, fx.HOME, Rounding.HALF_UP).amount_minor
    except MoneyError:  # worth more pesos than any amount may be
        raise invalid("amount_invalid", "amount_minor is too large", "amount_minor") from None


def create_quote(unit: Unit, order: dict[str, Any], buyer_id: str, currency: str) -> dict[str, Any]:
    """A quote for the order's PHP total in ``currency`` (``commerce.orders`` checks who)."""
    row = _rate_row(unit, currency)
    made = fx.quote(
        order["total_minor"], row["currency"], Decimal(row["mid_rate"]), row["spread_bps"]
    )
    now = unit.now()
    quote = {
        "id": new_id("fxq"),
        "order_id": order["id"],
        "buyer_id": buyer_id,
        "currency": made.currency,
        "mid_rate": fx.text(made.mid_rate),
        "spread_bps": made.spread_bps,
        "customer_rate": fx.text(made.customer_rate),
        "php_minor": made.php_minor,
        "buyer_minor": made.buyer_minor,
        "expires_at_ns": now + limits.FX_QUOTE_SECONDS * 10**9,
        "created_at_ns": now,
    }
    unit.conn.execute(insert(fx_quotes), quote)
    return quote_view(quote)


def quote_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "object": "fx_quote",
        "order_id": row["order_id"],
        "pair": f"{row['currency']}/{fx.HOME}",
        "currency": row["currency"],
        "mid_rate": row["mid_rate"],
        "spread_bps": row["spread_bps"],
        "customer_rate": row["customer_rate"],
        "php_minor": row["php_minor"],
        "buyer_minor": row["buyer_minor"],
        "expires_at": iso(row["expires_at_ns"]),
        "created": iso(row["created_at_ns"]),
    }


def locked_quote(unit: Unit, quote_id: str, order: dict[str, Any], currency: str) -> Any:
    """The quote a payment uses: this order's, in the paying wallet's currency, unexpired."""
    row = unit.conn.execute(select(fx_quotes).where(fx_quotes.c.id == quote_id)).mappings().first()
    if row is None or row["order_id"] != order["id"]:
        raise not_found("fx_quote", "quote_id")
    if row["currency"] != currency:
        message = f"the quote is in {row['currency']}; the wallet holds {currency}"
        raise invalid("fx_quote_mismatch", message, "quote_id")
    if row["php_minor"] != order["total_minor"]:
        raise conflict("fx_quote_mismatch", "the quote is for another total", "quote_id")
    if unit.now() >= row["expires_at_ns"]:
        message = "the FX quote has expired; ask for a new one"
        raise conflict("fx_quote_expired", message, "quote_id")
    return row


@dataclass(frozen=True, slots=True)
class Conversion:
    """Foreign money turned into pesos at the customer rate (what a wallet is credited), with
    what the spread kept: ``margin_minor`` = its value at the mid rate less ``php_minor``,
    both rounded ``DOWN`` to the centavo."""

    currency: str
    amount_minor: int
    mid_rate: str
    customer_rate: str
    spread_bps: int
    php_minor: int
    margin_minor: int


def conversion(unit: Unit, amount_minor: int, currency: str) -> Conversion:
    """``amount_minor`` of ``currency`` at today's customer rate (money arriving from abroad)."""
    row = _rate_row(unit, currency)
    mid = Decimal(row["mid_rate"])
    rate_ = fx.customer_rate(mid, row["spread_bps"])
    try:
        php = fx.php_value(amount_minor, row["currency"], rate_)
        at_mid = fx.php_value(amount_minor, row["currency"], mid)
    except MoneyError:
        raise invalid("amount_invalid", "amount_minor is too large", "amount_minor") from None
    if php <= 0:
        raise invalid("amount_invalid", "the amount is worth less than a centavo", "amount_minor")
    return Conversion(
        row["currency"],
        amount_minor,
        fx.text(mid),
        fx.text(rate_),
        row["spread_bps"],
        php,
        at_mid - php,
    )
