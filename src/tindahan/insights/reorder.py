"""Reorder advice from a product's demand forecast, the supplier's lead time and the stock kept.

The classic periodic-review rule (an order-up-to level with safety stock), with the demand's
spread taken as Poisson around the forecast — the model's own assumption for daily counts
(``insights.forecast``):

* **reorder point** = the smallest stock that covers the demand of the ``lead_time_days``
  before a new delivery arrives with probability ``service_level`` (95 % unless said): the
  Poisson quantile of the forecast summed over the lead time. Its excess over that sum is
  the safety stock.
* **reorder soon** when the stock kept is at or below the reorder point: an order placed today
  arrives just as the stock would run out on a busy run of days.
* **quantity** = the order-up-to level (the same quantile over the lead time plus the days
  until the next restocking trip, ``review_days``, a week unless said) minus the stock kept,
  never below zero.
* **days of cover** = how many whole days the stock lasts at the forecast: the last day on
  which the forecast summed from today is still within the stock (the whole horizon if it
  never runs out within it).

Units are whole goods, so the point and the quantity are integers; the forecast is a float
expectation. A forecast of zero demand gives a point of zero and no reorder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import pdtr, pdtrik

from tindahan.insights.errors import InsightsError

SERVICE_LEVEL = 0.95
REVIEW_DAYS = 7


@dataclass(frozen=True)
class Advice:
    reorder_point: int
    safety_stock: float
    order_up_to: int
    quantity: int
    reorder_soon: bool
    days_of_cover: int
    lead_time_demand: float


def _quantile(mean: float, level: float) -> int:
    """The smallest whole ``k`` with P(Poisson(mean) ≤ k) ≥ ``level`` — what
    ``scipy.stats.poisson.ppf`` answers, from the two special functions it is built on
    (``pdtrik`` inverts the CDF over real ``k``; ``pdtr`` is the CDF). Called directly, a
    quantile costs microseconds instead of ppf's ~0.3 ms of argument checking: the insights
    page asks two per product (``make bench-insights``' profile)."""
    if mean <= 0:
        return 0
    k = max(int(np.ceil(pdtrik(level, mean))) - 1, 0)
    while pdtr(k, mean) < level:
        k += 1
    while k > 0 and pdtr(k - 1, mean) >= level:
        k -= 1
    return k


def advise(
    daily: npt.ArrayLike,
    stock: int,
    lead_time_days: int,
    review_days: int = REVIEW_DAYS,
    service_level: float = SERVICE_LEVEL,
) -> Advice:
    """The advice for one product; ``daily`` is its forecast from tomorrow on, at least
    ``lead_time_days + review_days`` days long."""
    forecast = np.asarray(daily, np.float64)
    if stock < 0:
        raise InsightsError(f"stock must not be negative, not {stock}")
    if lead_time_days < 0 or review_days < 1:
        raise InsightsError("the lead time must be 0 days or more and the review 1 day or more")
    if not 0.5 <= service_level < 1:
        raise InsightsError(f"the service level must be from 0.5 to below 1, not {service_level}")
    if forecast.ndim != 1 or len(forecast) < lead_time_days + review_days:
        raise InsightsError(
            f"the forecast covers {forecast.size} days: the lead time and review need "
            f"{lead_time_days + review_days}"
        )
    if not np.all(np.isfinite(forecast)) or np.any(forecast < 0):
        raise InsightsError("the forecast must be finite and not negative")
    lead = float(forecast[:lead_time_days].sum())
    point = _quantile(lead, service_level)
    up_to = _quantile(float(forecast[: lead_time_days + review_days].sum()), service_level)
    soon = lead > 0 and stock <= point
    cumulative = np.cumsum(forecast)
    cover = int(np.searchsorted(cumulative, stock, side="right"))
    return Advice(
        reorder_point=point,
        safety_stock=round(point - lead, 2),
        order_up_to=up_to,
        quantity=max(up_to - stock, 0) if soon else 0,
        reorder_soon=soon,
        days_of_cover=cover,
        lead_time_demand=round(lead, 2),
    )
