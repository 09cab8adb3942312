"""What a storefront, a product and a cart line may hold.

A product is sold as one or more *variants* (size M, size L; or a single unnamed variant
when the product has no options), each with its own stock and, optionally, its own price.
Stock lives on the variant because that is what runs out: the last size-M shirt.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tindahan import limits
from tindahan.kernel.refusals import invalid
from tindahan.payments import parties as text_rules

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def slug(value: object) -> str:
    """``aling-nenas-store``: lowercase letters and digits, single hyphens between."""
    if not isinstance(value, str):
        raise invalid("slug_invalid", "slug is text", "slug")
    if not limits.SLUG_MIN_LENGTH <= len(value) <= limits.SLUG_MAX_LENGTH:
        message = f"a slug is {limits.SLUG_MIN_LENGTH} to {limits.SLUG_MAX_LENGTH} characters"
        raise invalid("slug_invalid", message, "slug")
    if not SLUG.fullmatch(value):
        message = "a slug is lowercase letters and digits with single hyphens between words"
        raise invalid("slug_invalid", message, "slug")
    return value


def title(value: str, param: str = "title") -> str:
    return text_rules.text(value, param, limits.TITLE_MAX_LENGTH)


def description(value: str | None) -> str | None:
    if value is None:
        return None
    found = text_rules.text(
        value, "description", limits.PRODUCT_DESCRIPTION_MAX_LENGTH, required=False
    )
    return found or None


def price(value: object, param: str = "price_minor") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise invalid("price_invalid", f"{param} is a positive whole number of centavos", param)
    if value > limits.MAX_AMOUNT_MINOR:
        raise invalid("price_invalid", f"{param} is too large", param)
    return value


def stock(value: object, param: str = "stock") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limits.MAX_STOCK:
        message = f"{param} is a whole number from 0 to {limits.MAX_STOCK:,}"
        raise invalid("stock_invalid", message, param)
    return value


def shipping_fee(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        message = "shipping_fee_minor is a whole number of centavos, 0 or more"
        raise invalid("shipping_fee_invalid", message, "shipping_fee_minor")
    if value > limits.MAX_AMOUNT_MINOR:
        message = "shipping_fee_minor is too large"
        raise invalid("shipping_fee_invalid", message, "shipping_fee_minor")
    return value


def variant_names(names: Sequence[str | None]) -> list[str | None]:
    """Variant names: none (one plain variant) or all named, unique ignoring case."""
    if not names:
        raise invalid("variants_invalid", "a product has at least one variant", "variants")
    if len(names) > limits.MAX_VARIANTS:
        message = f"a product has at most {limits.MAX_VARIANTS} variants"
        raise invalid("variants_invalid", message, "variants")
    if len(names) == 1 and names[0] is None:
        return [None]
    if any(n is None for n in names):
        message = "when a product has options, each one has a name"
        raise invalid("variants_invalid", message, "variants")
    checked = [
        text_rules.text(n or "", "variants.name", limits.VARIANT_NAME_MAX_LENGTH) for n in names
    ]
    if len({n.casefold() for n in checked}) != len(checked):
        raise invalid("variants_invalid", "variant names must differ", "variants")
    return list(checked)


def quantity(value: object, param: str = "quantity") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid("quantity_invalid", f"{param} is a whole number", param)
    if not 1 <= value <= limits.MAX_LINE_QUANTITY:
        message = f"{param} is 1 to {limits.MAX_LINE_QUANTITY:,}"
        raise invalid("quantity_invalid", message, param)
    return value


def line_count(count: int) -> None:
    if count == 0:
        raise invalid("cart_empty", "an order needs at least one line", "lines")
    if count > limits.MAX_ORDER_LINES:
        message = f"an order has at most {limits.MAX_ORDER_LINES} lines"
        raise invalid("lines_invalid", message, "lines")
