"""A store's sales mix: when in the day it sells, who comes back, the average basket, and by
which channel the money came (issue 26, item 1).

From one record per sale (its Manila hour, amount, channel and buyer), for one window:

* **By hour**: sales and amount for each hour 0–23 of the Manila day; the busiest hour is the
  one with the most money (the earliest on a tie), none without sales.
* **Repeat buyers**: buyers with two sales or more in the window, out of the buyers the
  records name (every sale here has one: a wallet pays); their share of the buyers and their
  share of the money, exact ``Decimal`` quotients rounded ``HALF_EVEN`` to 4 places.
* **Average basket**: the money over the number of sales, rounded *down* to the centavo
  (money stays integer minor units; a merchant is never told more than it made).
* **Channels**: ``online`` (a paid order), ``request`` (a payment request paid, by link or its
  dynamic QR), ``qr`` (any other payment to the merchant: a scanned static QR or a direct
  payment — the record does not tell them apart, and both happen at the counter); each with
  its sales, money and share of the money (4 places, half-even).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

CHANNELS = ("online", "qr", "request")
_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Sale:
    hour: int
    amount_minor: int
    channel: str
    buyer: str | None


@dataclass(frozen=True)
class Channel:
    sales: int
    amount_minor: int
    share: Decimal


@dataclass(frozen=True)
class Mix:
    sales: int
    amount_minor: int
    #: ``(sales, amount_minor)`` for each hour 0–23.
    by_hour: tuple[tuple[int, int], ...]
    busiest_hour: int | None
    buyers: int
    repeat_buyers: int
    repeat_buyer_share: Decimal
    repeat_sales_share: Decimal
    average_basket_minor: int
    channels: dict[str, Channel]


def _share(part: int, whole: int) -> Decimal:
    if whole == 0:
        return Decimal("0.0000")
    return (Decimal(part) / Decimal(whole)).quantize(_PLACES, rounding=ROUND_HALF_EVEN)


def mix(sales: Iterable[Sale]) -> Mix:
    rows = list(sales)
    for sale in rows:
        if not 0 <= sale.hour <= 23:
            raise ValueError(f"hour {sale.hour} is not 0 to 23")
        if sale.channel not in CHANNELS:
            raise ValueError(f"channel {sale.channel!r} is not one of {CHANNELS}")
        if sale.amount_minor < 0:
            raise ValueError("a sale's amount is not negative")
    count, amount = len(rows), sum(s.amount_minor for s in rows)
    hours = [[0, 0] for _ in range(24)]
    for sale in rows:
        hours[sale.hour][0] += 1
        hours[sale.hour][1] += sale.amount_minor
    busiest = max(range(24), key=lambda h: (hours[h][1], -h)) if count else None
    visits = Counter(s.buyer for s in rows if s.buyer is not None)
    repeat = {buyer for buyer, n in visits.items() if n >= 2}
    named = sum(s.amount_minor for s in rows if s.buyer is not None)
    repeat_amount = sum(s.amount_minor for s in rows if s.buyer in repeat)
    channels = {}
    for name in CHANNELS:
        mine = [s.amount_minor for s in rows if s.channel == name]
        channels[name] = Channel(len(mine), sum(mine), _share(sum(mine), amount))
    return Mix(
        sales=count,
        amount_minor=amount,
        by_hour=tuple((c, a) for c, a in hours),
        busiest_hour=busiest,
        buyers=len(visits),
        repeat_buyers=len(repeat),
        repeat_buyer_share=_share(len(repeat), len(visits)),
        repeat_sales_share=_share(repeat_amount, named),
        average_basket_minor=amount // count if count else 0,
        channels=channels,
    )
