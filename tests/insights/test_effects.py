"""This store's payday, holiday and Christmas effects (issue 26, item 1), no database: a
simulated store whose paydays sell twice a usual day and whose holidays sell half is told so;
a store without sales, or without a December yet, is told nothing it has not seen."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from tindahan.insights import effects
from tindahan.insights.days import Flags

FIRST = date(2024, 11, 1)


def _store(days: int, payday: float, holiday: float) -> list[int]:
    flags = Flags(FIRST, days)
    rng = np.random.default_rng(7)
    rate = 20.0 * np.where(flags.payday, payday, 1.0) * np.where(flags.holiday, holiday, 1.0)
    return [int(x) for x in rng.poisson(rate)]


def test_a_stores_paydays_and_holidays_are_recovered():
    found = {e.name: e for e in effects.store_effects(_store(365, 2.0, 0.5), FIRST)}
    assert abs(found["payday"].factor - 2) <= Decimal("0.15")
    assert found["payday"].verdict == "more" and found["payday"].days_seen > 50
    assert abs(found["holiday"].factor - Decimal("0.5")) <= Decimal("0.2")
    assert found["holiday"].verdict == "less"
    assert found["christmas"].verdict == "same"  # a December with no lift of its own


def test_what_a_store_has_not_seen_is_not_said():
    nothing = effects.store_effects([0] * 60, FIRST)
    assert [(e.factor, e.verdict) for e in nothing] == [(Decimal("1.00"), "unseen")] * 3
    # Sales only from 2 Jan to 10 Feb 2025: paydays seen, no regular holiday nor December.
    first = date(2025, 1, 2)
    counts = [5] * 40
    found = {e.name: e for e in effects.store_effects(counts, first)}
    assert found["christmas"].verdict == "unseen" and found["christmas"].days_seen == 0
    assert found["payday"].days_seen == sum(
        1 for i in range(40) if (first + timedelta(days=i)).day in (15, 16, 30, 31, 1)
    )
    assert found["payday"].verdict == "same"  # a flat store: no payday lift
