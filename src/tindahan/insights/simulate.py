"""Sales series with known patterns, to test and measure the forecast against.

Each product sells Poisson units around its own rate (log-normal across products, a share of
them slow movers under one unit a day), times a weekday pattern, a payday lift, a holiday dip
and a Christmas-season lift that are the *truth* the model must recover. A slow random walk
moves each product's rate (±2 % a day at most in expectation) so a level has to be tracked,
not just averaged. Deterministic for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from tindahan.insights.days import Flags
from tindahan.insights.sales import Panel

#: Monday … Sunday: a sari-sari store's week (weekends busier, Monday the quietest).
WEEKDAY = (0.85, 0.9, 0.95, 0.95, 1.05, 1.2, 1.1)


@dataclass(frozen=True)
class Truth:
    weekday: tuple[float, ...] = WEEKDAY
    payday: float = 1.4
    holiday: float = 0.7
    christmas: float = 1.6


def panel(
    products: int,
    days: int,
    first: date = date(2025, 1, 1),
    seed: int = 0,
    truth: Truth = Truth(),
    slow_share: float = 0.3,
    merchants: int = 0,
) -> Panel:
    """``products`` series over ``days`` days from ``first``, all starting on ``first``."""
    rng = np.random.default_rng(seed)
    flags = Flags(first, days)
    weekday = np.array(truth.weekday, np.float64)
    weekday = weekday / weekday.mean()
    seasonal = weekday[flags.weekday]
    seasonal = seasonal * np.where(flags.payday, truth.payday, 1.0)
    seasonal = seasonal * np.where(flags.holiday, truth.holiday, 1.0)
    seasonal = seasonal * np.where(flags.christmas, truth.christmas, 1.0)
    slow = rng.random(products) < slow_share
    rate = np.where(
        slow, rng.uniform(0.05, 0.8, products), np.exp(rng.normal(np.log(4.0), 0.8, products))
    )
    walk = np.cumsum(rng.normal(0.0, 0.01, (products, days)), axis=1)
    expected = rate[:, None] * np.exp(walk) * seasonal[None, :]
    units = rng.poisson(expected).astype(np.float64)
    stores = max(merchants, 1 + products // 50)
    keys = [(f"m{i % stores:05d}", f"p{i:06d}") for i in range(products)]
    return Panel(keys, first, units, np.zeros(products, np.int64))


def frame(data: Panel) -> pd.DataFrame:
    """The panel as the CSV's rows: one per series and day it sold (zero days left out)."""
    rows, columns = np.nonzero(data.units)
    days = [(data.first + timedelta(days=int(c))).isoformat() for c in range(data.days)]
    merchant = np.array([k[0] for k in data.keys])
    product = np.array([k[1] for k in data.keys])
    units: npt.NDArray[np.float64] = data.units[rows, columns]
    return pd.DataFrame(
        {
            "merchant_id": merchant[rows],
            "product_id": product[rows],
            "day": np.array(days)[columns],
            "units": units.astype(np.int64),
        }
    )
