"""A sales CSV read and checked into a dense panel: one row per series, one column per day.

The file's columns are ``merchant_id, product_id, day, units`` (others are ignored), one row
per product and day it sold; a day without a row is a day of zero sales. A series (a merchant's
product) runs from its first row to the file's last day: the period the file covers ends on
its last day for every product, so a product that stopped selling is seen selling zero rather
than disappearing, and every series is held out over the same last days.

Refused, with the line: a missing column, an empty id, a day that is not ``YYYY-MM-DD``, units
that are not a non-negative number, and a series whose days do not strictly increase down the
file (a day repeated, or out of order). Units may be fractional (rice by the kilo); they are
counts of goods, not money, so floats are right here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from tindahan import limits
from tindahan.insights.errors import InsightsError

COLUMNS = ("merchant_id", "product_id", "day", "units")
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Panel:
    """``units[i, t]`` sold by series ``i`` on day ``first + t``; ``start[i]`` its first day's
    column (before it, the series did not exist: ``units`` is 0 there and must be masked)."""

    keys: list[tuple[str, str]]
    first: date
    units: FloatArray
    start: npt.NDArray[np.int64]

    @property
    def days(self) -> int:
        return int(self.units.shape[1])

    def mask(self) -> npt.NDArray[np.bool_]:
        return np.arange(self.days)[None, :] >= self.start[:, None]


def _line(index: int) -> int:
    return index + 2  # the header is line 1


def read(path: Path) -> Panel:
    """Read and check the file; every refusal names the line and the rule."""
    if not path.is_file():
        raise InsightsError(f"{path}: no such file")
    if path.stat().st_size > limits.INSIGHTS_MAX_CSV_BYTES:
        raise InsightsError(f"{path} is larger than {limits.INSIGHTS_MAX_CSV_BYTES} bytes")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InsightsError(f"{path} is empty: expected a header {','.join(COLUMNS)}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise InsightsError(f"{path} is not a readable CSV: {first}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise InsightsError(
            f"{path} lacks the column(s) {', '.join(missing)}: "
            f"expected {', '.join(COLUMNS)} (found {', '.join(frame.columns)})"
        )
    if frame.empty:
        raise InsightsError(f"{path} has a header but no rows of sales")
    return _panel(frame[list(COLUMNS)])


def _panel(frame: pd.DataFrame) -> Panel:
    for column in ("merchant_id", "product_id"):
        values = frame[column].str.strip()
        empty = np.flatnonzero((values == "").to_numpy())
        if empty.size:
            raise InsightsError(f"line {_line(int(empty[0]))}: {column} is empty")
        frame = frame.assign(**{column: values})
    days = pd.to_datetime(frame["day"].str.strip(), format="%Y-%m-%d", errors="coerce")
    bad = np.flatnonzero(days.isna().to_numpy())
    if bad.size:
        i = int(bad[0])
        raise InsightsError(f"line {_line(i)}: day {frame['day'].iat[i]!r} is not YYYY-MM-DD")
    units = pd.to_numeric(frame["units"].str.strip(), errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(~np.isfinite(units))
    if bad.size:
        i = int(bad[0])
        raise InsightsError(f"line {_line(i)}: units {frame['units'].iat[i]!r} is not a number")
    bad = np.flatnonzero(units < 0)
    if bad.size:
        i = int(bad[0])
        raise InsightsError(f"line {_line(i)}: units {frame['units'].iat[i]} is negative")
    codes, keys = pd.MultiIndex.from_frame(frame[["merchant_id", "product_id"]]).factorize()
    day_numbers = (days.to_numpy().astype("datetime64[D]").astype(np.int64)).astype(np.int64)
    _check_order(codes, day_numbers, frame)
    first_number, last_number = int(day_numbers.min()), int(day_numbers.max())
    span = last_number - first_number + 1
    if span * len(keys) > limits.INSIGHTS_MAX_CELLS:
        raise InsightsError(
            f"{len(keys)} series over {span} days is more than {limits.INSIGHTS_MAX_CELLS} "
            "series-days: split the file by merchant"
        )
    columns = day_numbers - first_number
    panel = np.zeros((len(keys), span), np.float64)
    panel[codes, columns] = units
    start = np.full(len(keys), span, np.int64)
    np.minimum.at(start, codes, columns)
    first = date.fromordinal(date(1970, 1, 1).toordinal() + first_number)
    return Panel([(str(m), str(p)) for m, p in keys], first, panel, start)


def _check_order(
    codes: npt.NDArray[np.intp], days: npt.NDArray[np.int64], frame: pd.DataFrame
) -> None:
    """Within a series, each row's day after the previous row's: a repeat or a step back is
    refused at its line, naming the line it clashes with."""
    order = np.argsort(codes, kind="stable")
    same = codes[order][1:] == codes[order][:-1]
    step = days[order][1:] - days[order][:-1]
    bad = np.flatnonzero(same & (step <= 0))
    if not bad.size:
        return
    # The earliest offending line in the file.
    at = min((int(k) for k in bad), key=lambda k: int(order[k + 1]))
    here, before = int(order[at + 1]), int(order[at])
    who = f"merchant {frame['merchant_id'].iat[here]} product {frame['product_id'].iat[here]}"
    day = frame["day"].iat[here].strip()
    if step[at] == 0:
        raise InsightsError(
            f"line {_line(here)}: {who} has day {day} twice (first on line {_line(before)})"
        )
    raise InsightsError(
        f"line {_line(here)}: {who} day {day} comes after {frame['day'].iat[before].strip()} "
        f"on line {_line(before)}: days must increase within a series"
    )
