"""The scorecard: optimal binning with Weight of Evidence, then logistic regression.

Each feature is cut into bins by optbinning (a constraint-programming search for the bins
that separate events best, with at least 5% of rows in each and, where the direction is
known, an event rate that only rises or only falls, or falls then rises: ``VALLEY``). Each
bin's Weight of Evidence is ``ln(share of non-events / share of events)`` (optbinning's
convention: higher is safer);
missing values get their own bin (its WoE when the training data had missing values, else
0, neutral); an unseen category counts as missing.

Features whose Information Value is below ``MIN_IV`` (0.02, "not predictive" in Siddiqi's
*Credit Risk Scorecards*) are left out, chosen on the training rows only. The logistic
regression is L2-regularised; a feature whose coefficient comes out with the wrong sign
(a safer bin adding risk, which happens with correlated features) is dropped and the
regression refitted, so every bin's points read the right way round.

After fitting, the model is nothing but tables: split points or category groups, WoE per
bin, a coefficient per feature and an intercept. Scoring is a lookup (no optbinning at
scoring time), and the tables are saved as JSON: readable, diffable, no pickle.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tindahan.credit.dataset import Column, Rows

#: A direction meaning "safest somewhere in the middle, riskier towards both ends" (sales
#: momentum: a fall is risky, and so is a loan sized on a sudden peak): bins whose event
#: rate falls then rises (optbinning's ``valley``). The trees get no constraint for it.
VALLEY = 2
MIN_IV = 0.02
MIN_BIN_SHARE = 0.05
C = 1.0


@dataclass
class Binned:
    """One feature's bins: numeric ``splits`` (bins are ``(-inf, s0)``, ``[s0, s1)``, …)
    or categorical ``groups``; ``woe`` per bin, then the missing bin's last."""

    name: str
    kind: str
    splits: list[float]
    groups: list[list[str]]
    woe: list[float]
    iv: float
    coef: float = 0.0

    def index(self, values: pd.Series | np.ndarray) -> np.ndarray:
        missing = len(self.woe) - 1
        if self.kind == "numeric":
            x = np.asarray(values, dtype=float)
            idx = np.searchsorted(np.asarray(self.splits, dtype=float), x, side="right")
            found: np.ndarray = np.where(np.isnan(x), missing, idx)
            return found
        lookup = {cat: i for i, group in enumerate(self.groups) for cat in group}
        mapped: np.ndarray = pd.Series(values).map(lookup).fillna(missing).to_numpy(dtype=np.int64)
        return mapped

    def labels(self) -> list[str]:
        if self.kind == "numeric":
            edges = [-np.inf, *self.splits, np.inf]
            names = [f"[{_num(a)}, {_num(b)})" for a, b in itertools.pairwise(edges)]
        else:
            names = [", ".join(group) for group in self.groups]
        return [*names, "missing"]


def _num(x: float) -> str:
    return "-inf" if x == -np.inf else "inf" if x == np.inf else f"{x:.6g}"


def _bin(column: Column, x: pd.Series, y: np.ndarray, trend: int | None) -> Binned:
    # optbinning and scikit-learn only when fitting: a saved scorecard scores by lookup, and
    # ``VALLEY`` is read by every process that builds features (the API's among them).
    from optbinning import OptimalBinning

    numeric = column.kind == "numeric"
    options: dict[str, Any] = {"min_prebin_size": MIN_BIN_SHARE, "solver": "cp"}
    if numeric and trend:
        shape = "ascending" if trend > 0 else "descending"
        options["monotonic_trend"] = "valley" if trend == VALLEY else shape
    binning = OptimalBinning(
        name=column.name, dtype="numerical" if numeric else "categorical", **options
    )
    values = x.to_numpy(dtype=float) if numeric else x.to_numpy(dtype=object)
    if x.dropna().nunique() < 2:
        # Nothing to learn here (all missing or one value, in this fold): a single
        # neutral bin with no information value, so the feature is not chosen.
        return Binned(column.name, column.kind, [], [] if numeric else [[]], [0.0, 0.0], 0.0)
    binning.fit(values, y)
    with warnings.catch_warnings():
        # optbinning's table builder sets a string into a float column, which pandas 3
        # deprecates (Pandas4Warning); the figures read here are unaffected.
        warnings.simplefilter("ignore", pd.errors.Pandas4Warning)
        table = binning.binning_table.build()
    bins = len(binning.splits) + 1 if numeric else len(binning.splits)
    woe = [float(w) for w in table["WoE"].iloc[:bins]]
    # Rows: the bins, then "Special", "Missing" and "Totals".
    missing_count = int(table["Count"].iloc[bins + 1])
    missing_woe = float(table["WoE"].iloc[bins + 1])
    woe.append(missing_woe if missing_count > 0 else 0.0)
    iv = float(table.loc["Totals", "IV"])
    splits = [float(s) for s in binning.splits] if numeric else []
    groups = [] if numeric else [[str(c) for c in group] for group in binning.splits]
    return Binned(column.name, column.kind, splits, groups, woe, iv)


class Scorecard:
    kind: ClassVar[str] = "scorecard"

    def __init__(self) -> None:
        self.bins: list[Binned] = []
        self.intercept = 0.0
        self._tables: tuple[list[Binned], list[tuple[np.ndarray, np.ndarray]], np.ndarray] | None
        self._tables = None

    def _lookup(self) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
        """Each bin's splits and points (WoE times the coefficient) as arrays, and the
        safest bin's points per feature: built once per fitted or loaded card, not per row
        scored (one merchant's decision reads them for every feature)."""
        if self._tables is None or self._tables[0] is not self.bins:
            arrays = [
                (np.asarray(b.splits, dtype=float), np.asarray(b.woe) * b.coef) for b in self.bins
            ]
            best = np.array([min(np.asarray(b.woe) * b.coef) for b in self.bins])
            self._tables = (self.bins, arrays, best)
        return self._tables[1], self._tables[2]

    @property
    def features(self) -> list[str]:
        return [b.name for b in self.bins]

    def fit(
        self,
        x: pd.DataFrame,
        y: np.ndarray,
        columns: list[Column],
        seed: int,
        directions: dict[str, int] | None = None,
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        hints = directions or {}
        binned = [_bin(c, x[c.name], y, hints.get(c.name)) for c in columns]
        chosen = [b for b in binned if b.iv >= MIN_IV] or sorted(binned, key=lambda b: -b.iv)[:1]
        while True:
            woe = self._woe(x, chosen)
            model = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(woe, y)
            coefs = model.coef_[0]
            wrong = [b for b, c in zip(chosen, coefs, strict=True) if c > 0]
            if not wrong or len(wrong) == len(chosen):
                break
            chosen = [b for b in chosen if b not in wrong]
        for b, c in zip(chosen, coefs, strict=True):
            b.coef = float(c)
        self.bins, self.intercept = chosen, float(model.intercept_[0])

    @staticmethod
    def _woe(x: Rows, bins: list[Binned]) -> np.ndarray:
        out = np.empty((len(x), len(bins)))
        for j, b in enumerate(bins):
            out[:, j] = np.asarray(b.woe)[b.index(x[b.name])]
        return out

    def raw(self, x: Rows) -> np.ndarray:
        """The log-odds of the event."""
        raw: np.ndarray = self.intercept + self._terms(x).sum(axis=1)
        return raw

    def _terms(self, x: Rows) -> np.ndarray:
        if any(b.kind != "numeric" for b in self.bins):
            coefs = np.array([b.coef for b in self.bins])
            terms: np.ndarray = self._woe(x, self.bins) * coefs
            return terms
        # All numeric (the merchant card): the same lookup, from the cached arrays.
        arrays, _ = self._lookup()
        out = np.empty((len(x), len(self.bins)))
        for j, (b, (splits, points)) in enumerate(zip(self.bins, arrays, strict=True)):
            values = np.asarray(x[b.name], dtype=float)
            idx = np.searchsorted(splits, values, side="right")
            out[:, j] = points[np.where(np.isnan(values), len(points) - 1, idx)]
        return out

    def contributions(self, x: Rows) -> np.ndarray:
        """Log-odds each feature adds above its safest bin (never negative): the points a
        merchant lost on it, before scaling."""
        _, best = self._lookup()
        lost: np.ndarray = self._terms(x) - best
        return lost

    def state(self) -> dict[str, Any]:
        return {
            "intercept": self.intercept,
            "bins": [b.__dict__ for b in self.bins],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], _folder: Any = None) -> Scorecard:
        card = cls()
        card.intercept = float(state["intercept"])
        card.bins = [Binned(**b) for b in state["bins"]]
        return card

    def table(self, factor: float, slope: float) -> list[dict[str, Any]]:
        """Points per bin for the model card (before the shared base points)."""
        rows = []
        for b in self.bins:
            for label, woe in zip(b.labels(), b.woe, strict=True):
                points = -factor * slope * b.coef * woe
                rows.append({"feature": b.name, "bin": label, "woe": woe, "points": points})
        return rows
