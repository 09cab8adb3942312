"""What paydays, holidays and the Christmas season do to *this* store's sales (issue 26,
item 1), as factors a merchant can read ("paydays sell 1.35× a usual day").

The factors are the demand model's own (``insights.forecast``) fitted on the store's daily
count of sales alone: each is backfitted against the weekday pattern and a slow level, so a
payday that falls on a Saturday is not credited with the Saturday's lift, and each is shrunk
toward "no effect" by the model's priors, so a store with a handful of sales is not told that
holidays triple them. A factor is shown as a ``Decimal`` rounded half-even to 2 places; an
effect with no such day since the store's first sale is "not seen yet" (its factor stays 1).
Within ``SAME_WITHIN`` of 1 it is "about the same" as a usual day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np

from tindahan.insights import forecast
from tindahan.insights.days import Flags

SAME_WITHIN = Decimal("0.10")
NAMES = forecast.EFFECTS  # payday, holiday, christmas


@dataclass(frozen=True)
class Effect:
    name: str
    #: Sales on such a day over a usual day's (1.00: no difference).
    factor: Decimal
    #: Such days since the store's first sale in the history.
    days_seen: int

    @property
    def verdict(self) -> str:
        """``more``, ``less``, ``same`` or ``unseen``."""
        if self.days_seen == 0:
            return "unseen"
        if abs(self.factor - 1) < SAME_WITHIN:
            return "same"
        return "more" if self.factor > 1 else "less"


def _two_places(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def store_effects(counts: Sequence[int], first: date) -> list[Effect]:
    """The effects on a store whose daily sales counts from ``first`` are ``counts``."""
    days = len(counts)
    started = next((i for i, c in enumerate(counts) if c > 0), days)
    if started == days:
        return [Effect(name, Decimal("1.00"), 0) for name in NAMES]
    fitted = forecast.fit(
        np.array([[float(c) for c in counts]]), np.array([started], dtype=np.int64), first
    )
    flags = Flags(first, days)
    found = []
    for name in NAMES:
        seen = int(np.asarray(getattr(flags, name))[started:].sum())
        factor = _two_places(float(fitted.effects[name][0])) if seen else Decimal("1.00")
        found.append(Effect(name, factor, seen))
    return found
