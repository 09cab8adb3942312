"""The buyer's cart, kept in the browser (the ``tdh_cart`` cookie) until checkout.

Why a cookie: a visitor fills a cart before signing in (or without an account at all), and
a cart is not worth a database row until it becomes an order. The cookie holds only what the
buyer chose — per storefront, lines of (product id, variant id, quantity) — and never a
price: every page prices the lines from the catalog, and checkout prices them again in the
service. So editing the cookie can do no more than choosing other items on the page would.

Reading is strict and forgiving at once: a cookie that is not our shape (garbage, cut short,
too large) is an empty cart, never an error; a line that is not well formed (an unknown id
shape, a quantity outside 1–``CART_MAX_QUANTITY``) is dropped; keys the cookie should not
have (a "price") are ignored. The value is base64url of compact JSON
(``{"sto_…": [{"p": "prd_…", "v": "var_…", "q": 2}]}``), bounded by
``limits.CART_COOKIE_MAX_BYTES``; when a new line would not fit, the carts of other
storefronts are dropped first, oldest first.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from fastapi import Request
from starlette.responses import Response

from tindahan import limits
from tindahan.web import session

COOKIE = "tdh_cart"
_ID = re.compile(r"^[a-z]{2,6}_[a-z0-9]{8,40}$")


@dataclass(frozen=True)
class Line:
    product_id: str
    variant_id: str
    quantity: int


Carts = dict[str, list[Line]]
"""Storefront id → its cart's lines, in the order they were added."""


class CartFullError(Exception):
    """The cart has ``CART_MAX_LINES`` lines already, or the cookie would be too large."""


# --- reading -------------------------------------------------------------------------------
def read(request: Request) -> Carts:
    """Every storefront's cart in the request's cookie; anything unreadable is no cart."""
    raw = request.cookies.get(COOKIE, "")
    if not raw or len(raw) > limits.CART_COOKIE_MAX_BYTES:
        return {}
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    carts: Carts = {}
    for storefront_id, lines in data.items():
        if isinstance(storefront_id, str) and _ID.match(storefront_id) and isinstance(lines, list):
            kept = _lines(lines)
            if kept:
                carts[storefront_id] = kept
    return carts


def _lines(items: list[object]) -> list[Line]:
    kept: list[Line] = []
    seen: set[str] = set()
    for item in items[: limits.CART_MAX_LINES]:
        line = _line(item)
        if line is not None and line.variant_id not in seen:
            seen.add(line.variant_id)
            kept.append(line)
    return kept


def _line(item: object) -> Line | None:
    if not isinstance(item, dict):
        return None
    product, variant, quantity = item.get("p"), item.get("v"), item.get("q")
    if not (isinstance(product, str) and _ID.match(product)):
        return None
    if not (isinstance(variant, str) and _ID.match(variant)):
        return None
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        return None
    if not 1 <= quantity <= limits.CART_MAX_QUANTITY:
        return None
    return Line(product, variant, quantity)


def count(lines: Sequence[Line]) -> int:
    """How many items (not lines) the cart holds."""
    return sum(line.quantity for line in lines)


# --- changing ------------------------------------------------------------------------------
def add(carts: Carts, storefront_id: str, line: Line) -> Carts:
    """``line`` added to the storefront's cart (its quantity added to the same variant's,
    never beyond ``CART_MAX_QUANTITY``). Raises ``CartFullError``."""
    lines = list(carts.get(storefront_id, []))
    for i, old in enumerate(lines):
        if old.variant_id == line.variant_id:
            total = min(old.quantity + line.quantity, limits.CART_MAX_QUANTITY)
            lines[i] = Line(old.product_id, old.variant_id, total)
            break
    else:
        if len(lines) >= limits.CART_MAX_LINES:
            raise CartFullError(storefront_id)
        lines.append(line)
    return replace(carts, storefront_id, lines)


def replace(carts: Carts, storefront_id: str, lines: Sequence[Line]) -> Carts:
    """The carts with this storefront's lines replaced (and it moved to the newest place);
    older storefronts' carts are dropped while the cookie would be too large."""
    changed = {k: v for k, v in carts.items() if k != storefront_id}
    if lines:
        changed[storefront_id] = list(lines)
    while len(encode(changed)) > limits.CART_COOKIE_MAX_BYTES:
        older = [k for k in changed if k != storefront_id]
        if not older:
            raise CartFullError(storefront_id)
        del changed[older[0]]
    return changed


def encode(carts: Mapping[str, Sequence[Line]]) -> str:
    data = {
        sid: [{"p": x.product_id, "v": x.variant_id, "q": x.quantity} for x in lines]
        for sid, lines in carts.items()
        if lines
    }
    if not data:
        return ""
    text = json.dumps(data, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def write(request: Request, response: Response, carts: Carts) -> None:
    """Set the cookie to ``carts`` (or delete it when every cart is empty)."""
    value = encode(carts)
    options = session.cookie_options(request)
    if not value:
        response.delete_cookie(COOKIE, **options)  # type: ignore[arg-type]
        return
    max_age = limits.CART_COOKIE_DAYS * 86_400
    response.set_cookie(COOKIE, value, max_age=max_age, **options)  # type: ignore[arg-type]
