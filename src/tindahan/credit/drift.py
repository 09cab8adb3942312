"""Population stability: has what the model sees moved since it was trained?

The Population Stability Index of a variable between a reference sample (the training
rows) and a later one is ``sum((a - e) * ln(a / e))`` over bins, ``e`` and ``a`` the shares
of each sample in a bin. Bins are the reference's deciles for numbers (ties merged) and the
categories for text; missing values are a bin of their own; empty shares are floored at
``FLOOR`` so the logarithm stays finite. The usual reading (Siddiqi; Yurdakul, 2018):
below 0.10 stable, 0.10–0.25 a moderate shift worth watching, above 0.25 a significant
shift — investigate, and likely retrain.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tindahan.credit.dataset import Column

FLOOR = 1e-4
#: Below this many rows the shares are too noisy for PSI to mean much: the report says so.
MIN_ROWS = 100
STABLE = 0.10
SHIFT = 0.25
QUANTILES = 10


def flag(psi: float) -> str:
    if psi < STABLE:
        return "stable"
    return "moderate shift" if psi <= SHIFT else "significant shift"


def reference(values: pd.Series, kind: str) -> dict[str, Any]:
    """What a later sample is compared against: the bins and the reference's shares."""
    if kind == "numeric":
        x = values.to_numpy(dtype=float)
        present = x[~np.isnan(x)]
        edges = (
            sorted(set(np.quantile(present, np.linspace(0, 1, QUANTILES + 1)[1:-1]).tolist()))
            if len(present)
            else []
        )
        return {"kind": kind, "edges": edges, "shares": _shares_numeric(x, edges)}
    cats = sorted({str(v) for v in values.dropna()})
    return {"kind": kind, "categories": cats, "shares": _shares_categorical(values, cats)}


def _shares_numeric(x: np.ndarray, edges: list[float]) -> list[float]:
    idx = np.where(np.isnan(x), len(edges) + 1, np.searchsorted(edges, x, side="right"))
    counts = np.bincount(idx.astype(int), minlength=len(edges) + 2)
    return [float(c) / max(len(x), 1) for c in counts]


def _shares_categorical(values: pd.Series, cats: list[str]) -> list[float]:
    lookup = {c: i for i, c in enumerate(cats)}
    idx = values.map(lambda v: len(cats) if pd.isna(v) else lookup.get(str(v), len(cats) + 1))
    counts = np.bincount(idx.to_numpy(dtype=int), minlength=len(cats) + 2)
    return [float(c) / max(len(values), 1) for c in counts]


def psi(ref: dict[str, Any], values: pd.Series) -> float:
    if ref["kind"] == "numeric":
        actual = _shares_numeric(values.to_numpy(dtype=float), ref["edges"])
    else:
        actual = _shares_categorical(values, ref["categories"])
    expected = list(ref["shares"]) + [0.0] * (len(actual) - len(ref["shares"]))
    e = np.maximum(np.asarray(expected), FLOOR)
    a = np.maximum(np.asarray(actual), FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def baseline(features: pd.DataFrame, columns: list[Column], points: np.ndarray) -> dict[str, Any]:
    return {
        "score": reference(pd.Series(points), "numeric"),
        "features": {c.name: reference(features[c.name], c.kind) for c in columns},
    }


def report(base: dict[str, Any], features: pd.DataFrame, points: np.ndarray) -> dict[str, Any]:
    score = psi(base["score"], pd.Series(points))
    rows = {name: psi(ref, features[name]) for name, ref in base["features"].items()}
    return {
        "n": len(points),
        "score": {"psi": round(score, 4), "flag": flag(score)},
        "features": {
            name: {"psi": round(value, 4), "flag": flag(value)}
            for name, value in sorted(rows.items(), key=lambda kv: -kv[1])
        },
        "thresholds": {"stable_below": STABLE, "significant_above": SHIFT},
        "note": (
            f"only {len(points)} rows: PSI needs about {MIN_ROWS} or more to be meaningful"
            if len(points) < MIN_ROWS
            else ""
        ),
    }
