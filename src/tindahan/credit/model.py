"""One interface over both models: fit, calibrate, score in points, explain.

**Calibration.** A learner's raw log-odds are mapped to a probability of default by Platt
scaling, ``p = 1 / (1 + exp(-(a * raw + b)))``, with ``a`` and ``b`` fitted on raw scores of
training rows by a model that did not fit them: the trees' own early-stopping rows
(``gbm.calibration_sample``), or for the scorecard out-of-fold scores from
``CALIBRATION_FOLDS`` inner folds. The calibration never sees a row's own fit. Platt
keeps the order of scores (so AUC is untouched) and needs few rows; the model card's
calibration plot shows how well it did.

**Points.** The industry's scaling: ``points = OFFSET + FACTOR * ln(odds of good)``, with
600 points at 50:1 odds and 20 points to double the odds (``FACTOR = 20 / ln 2``). Points are
rounded half up to whole points for display; the probability is what decides.

**Reason codes.** A learner reports, per row and feature, the log-odds of default the
feature added — for the scorecard, above that feature's safest bin; for the trees, its
TreeSHAP contribution against the average row. Times ``a * FACTOR`` that is points lost.
The reasons are the features that cost the most points (at least ``MIN_REASON_POINTS``),
largest first, at most ``MAX_REASONS``, each in words from ``describe``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from tindahan.credit.dataset import Column, Rows
from tindahan.credit.errors import CreditError
from tindahan.credit.gbm import Gbm
from tindahan.credit.scorecard import Scorecard

BASE_POINTS = 600
BASE_ODDS = 50
POINTS_TO_DOUBLE = 20
FACTOR = POINTS_TO_DOUBLE / math.log(2)
OFFSET = BASE_POINTS - FACTOR * math.log(BASE_ODDS)
CALIBRATION_FOLDS = 3
MAX_REASONS = 4
MIN_REASON_POINTS = 1.0
KINDS = ("scorecard", "gbm")

Describe = Callable[[str, Any], str]


class Learner(Protocol):
    @property
    def features(self) -> list[str]: ...

    def fit(
        self,
        x: pd.DataFrame,
        y: np.ndarray,
        columns: list[Column],
        seed: int,
        directions: dict[str, int] | None = None,
    ) -> None: ...

    def raw(self, x: Rows) -> np.ndarray: ...

    def contributions(self, x: Rows) -> np.ndarray: ...

    def state(self) -> dict[str, Any]: ...


def learner(kind: str) -> Learner:
    if kind == "scorecard":
        return Scorecard()
    if kind == "gbm":
        return Gbm()
    raise CreditError(f"unknown model {kind!r}: choose scorecard or gbm")


def describe_generic(feature: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{feature} is missing"
    if isinstance(value, float):
        return f"{feature} is {value:.6g}"
    return f"{feature} is {value!r}"


@dataclass(frozen=True)
class Reason:
    code: str
    points: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "points_lost": self.points, "text": self.text}


@dataclass(frozen=True)
class Decision:
    probability: float
    points: int
    reasons: list[Reason] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "probability_of_default": round(self.probability, 6),
            "score": self.points,
            "reasons": [r.as_dict() for r in self.reasons],
        }


def half_up(x: float) -> int:
    """Whole points, rounded half up (named: never Python's half-even ``round``)."""
    return math.floor(x + 0.5)


def to_points(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-9, 1 - 1e-9)
    points: np.ndarray = OFFSET + FACTOR * np.log((1 - clipped) / clipped)
    return points


@dataclass
class Scorer:
    kind: str
    columns: list[Column]
    model: Learner
    slope: float = 1.0
    intercept: float = 0.0
    directions: dict[str, int] = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        kind: str,
        x: pd.DataFrame,
        y: np.ndarray,
        columns: list[Column],
        seed: int = 0,
        directions: dict[str, int] | None = None,
    ) -> Scorer:
        hints = directions or {}
        model = learner(kind)
        model.fit(x, y, columns, seed, hints)
        sample = getattr(model, "calibration_sample", None)
        raw, seen = (
            sample if sample is not None else (_out_of_fold(kind, x, y, columns, seed, hints), y)
        )
        platt = LogisticRegression(C=1e6, max_iter=1000).fit(raw.reshape(-1, 1), seen)
        slope, intercept = float(platt.coef_[0][0]), float(platt.intercept_[0])
        return cls(kind, list(columns), model, slope, intercept, hints)

    def probability(self, x: Rows) -> np.ndarray:
        z = self.slope * self.model.raw(x) + self.intercept
        return 1 / (1 + np.exp(-z))

    def points_lost(self, x: Rows) -> np.ndarray:
        return self.model.contributions(x) * self.slope * FACTOR

    def decide(
        self, x: Rows, describe: Describe = describe_generic, reasons: bool = True
    ) -> list[Decision]:
        p = self.probability(x)
        points = to_points(p)
        if not reasons:
            return [Decision(float(pi), half_up(si)) for pi, si in zip(p, points, strict=True)]
        lost = self.points_lost(x)
        names = self.model.features
        columns = [np.asarray(x[name]) for name in names]
        order = np.argsort(-lost, axis=1, kind="stable")[:, :MAX_REASONS]
        decisions = []
        for i in range(len(x)):
            found = [
                Reason(names[j], half_up(lost[i, j]), describe(names[j], columns[j][i]))
                for j in order[i]
                if lost[i, j] >= MIN_REASON_POINTS
            ]
            decisions.append(Decision(float(p[i]), half_up(points[i]), found))
        return decisions


def _out_of_fold(
    kind: str,
    x: pd.DataFrame,
    y: np.ndarray,
    columns: list[Column],
    seed: int,
    directions: dict[str, int],
) -> np.ndarray:
    folds = StratifiedKFold(CALIBRATION_FOLDS, shuffle=True, random_state=seed)
    raw = np.zeros(len(y))
    for train, test in folds.split(np.zeros(len(y)), y):
        model = learner(kind)
        model.fit(x.iloc[train], y[train], columns, seed, directions)
        raw[test] = model.raw(x.iloc[test])
    return raw
