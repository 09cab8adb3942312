"""Holdout evaluation: the last days of every series forecast from the rest, against
seasonal-naive, by weighted absolute percentage error.

* **Holdout.** The last ``horizon`` days of the file are held out for every series (a series
  runs to the file's last day, ``insights.sales``); the model is fitted on the days before
  and forecasts all of them at once, as a nightly batch would.
* **Seasonal-naive.** The same weekday a week before, from the history only: the last seven
  days before the holdout repeated (day *h* of the holdout takes the last history day with
  its weekday). Where that day is before the series began, the series' mean daily units
  stand in (zero with no history), as for the model's fallback.
* **WAPE** = Σ|actual − forecast| / Σ actual over every held-out day of every series: a
  percentage of the units actually sold, so best sellers weigh what they sell and a slow
  item's zero days do not blow it up as MAPE would. With no unit sold in the holdout it is
  undefined (reported as null, and said).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tindahan import limits
from tindahan.insights import forecast
from tindahan.insights.errors import InsightsError
from tindahan.insights.sales import Panel

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Evaluation:
    series: int
    horizon: int
    first_held_out: date
    last_held_out: date
    held_out_days: int
    held_out_units: float
    wape: float | None
    wape_seasonal_naive: float | None
    fallback_series: int
    intermittent_series: int
    pooled: dict[str, float]
    pooled_weekday: list[float]
    predictions: FloatArray = field(repr=False)
    held_out: npt.NDArray[np.bool_] = field(repr=False)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        improvement = None
        if self.wape is not None and self.wape_seasonal_naive:
            improvement = round(100 * (1 - self.wape / self.wape_seasonal_naive), 1)
        return {
            "series": self.series,
            "horizon_days": self.horizon,
            "first_held_out_day": self.first_held_out.isoformat(),
            "last_held_out_day": self.last_held_out.isoformat(),
            "held_out_series_days": self.held_out_days,
            "held_out_units": round(self.held_out_units, 3),
            "wape": _round(self.wape),
            "wape_seasonal_naive": _round(self.wape_seasonal_naive),
            "improvement_pct": improvement,
            "fallback_series": self.fallback_series,
            "intermittent_series": self.intermittent_series,
            "effects": {
                "weekday": {
                    day: round(w, 3) for day, w in zip(WEEKDAYS, self.pooled_weekday, strict=True)
                },
                **{name: round(value, 3) for name, value in self.pooled.items()},
            },
            "model": "calendar factors (weekday, payday, holiday, Christmas) x TSB level",
            "notes": self.notes,
        }


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def check_horizon(horizon: int) -> None:
    if not 1 <= horizon <= limits.INSIGHTS_MAX_HORIZON_DAYS:
        raise InsightsError(
            f"--horizon must be from 1 to {limits.INSIGHTS_MAX_HORIZON_DAYS} days, not {horizon}"
        )


def wape(actual: FloatArray, predicted: FloatArray) -> float | None:
    total = float(actual.sum())
    if total <= 0:
        return None
    return float(np.abs(actual - predicted).sum()) / total


def seasonal_naive(units: FloatArray, start: npt.NDArray[np.int64], horizon: int) -> FloatArray:
    """The last week of ``units`` repeated over ``horizon`` days (see the module docstring)."""
    n, history = units.shape
    seen = np.clip(history - start, 0, None)
    observed = np.arange(history)[None, :] >= start[:, None]
    sold = np.where(observed, units, 0.0).sum(axis=1)
    mean = np.divide(sold, seen, out=np.zeros(n), where=seen > 0)
    source = history - 7 + (np.arange(horizon) % 7)
    valid = (source[None, :] >= start[:, None]) & (source[None, :] >= 0)
    taken = units[:, np.clip(source, 0, max(history - 1, 0))] if history else np.zeros((n, horizon))
    result: FloatArray = np.where(valid, taken, mean[:, None])
    return result


def holdout(panel: Panel, horizon: int) -> Evaluation:
    check_horizon(horizon)
    if panel.days <= horizon:
        raise InsightsError(
            f"the file covers {panel.days} day(s) from {panel.first}: --horizon {horizon} "
            "leaves no history to learn from"
        )
    history = panel.days - horizon
    past = panel.units[:, :history]
    actual = panel.units[:, history:]
    held_out = np.arange(history, panel.days)[None, :] >= panel.start[:, None]
    fitted = forecast.fit(past, np.minimum(panel.start, history), panel.first)
    predicted = np.where(held_out, fitted.predict(horizon), 0.0)
    naive = np.where(held_out, seasonal_naive(past, panel.start, horizon), 0.0)
    notes: list[str] = []
    fallback = int(fitted.fallback.sum())
    if fallback:
        notes.append(
            f"{fallback} series had fewer than {limits.INSIGHTS_MIN_HISTORY_DAYS} days of "
            "history before the holdout: forecast flat at their mean daily units (zero with "
            "no history), without weekday or calendar effects"
        )
    model_wape, naive_wape = wape(actual, predicted), wape(actual, naive)
    if model_wape is None:
        notes.append("no unit was sold in the held-out days: WAPE is undefined")
    first_held_out = panel.first + timedelta(days=history)
    return Evaluation(
        series=len(panel.keys),
        horizon=horizon,
        first_held_out=first_held_out,
        last_held_out=first_held_out + timedelta(days=horizon - 1),
        held_out_days=int(held_out.sum()),
        held_out_units=float(actual.sum()),
        wape=model_wape,
        wape_seasonal_naive=naive_wape,
        fallback_series=fallback,
        intermittent_series=int((fitted.intermittent & ~fitted.fallback).sum()),
        pooled=dict(fitted.pooled),
        pooled_weekday=[float(w) for w in fitted.pooled_weekday],
        predictions=predicted,
        held_out=held_out,
        notes=notes,
    )


def check_output(path: Path, sales: Path) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    if path.resolve() == sales.resolve():
        raise InsightsError(f"--predictions {path} would overwrite the sales file")
    if path.is_dir():
        raise InsightsError(f"--predictions {path} is a directory")
    if not path.parent.resolve().is_dir():
        raise InsightsError(f"--predictions {path}: the folder {path.parent} does not exist")


def write_predictions(panel: Panel, evaluation: Evaluation, path: Path) -> int:
    """``merchant_id, product_id, day, units_predicted`` for every held-out day of every
    series, written whole or not at all (a temporary file renamed over the target)."""
    first = evaluation.first_held_out
    days = [(first + timedelta(days=h)).isoformat() for h in range(evaluation.horizon)]
    rows = 0
    handle, temporary = tempfile.mkstemp(prefix=".predictions-", dir=path.parent.resolve())
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write("merchant_id,product_id,day,units_predicted\n")
            for i, (merchant, product) in enumerate(panel.keys):
                m, p = _csv_field(merchant), _csv_field(product)
                for h in np.flatnonzero(evaluation.held_out[i]):
                    out.write(f"{m},{p},{days[h]},{evaluation.predictions[i, h]:.4f}\n")
                    rows += 1
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return rows


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value
