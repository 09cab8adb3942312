"""Stratified k-fold cross-validation: the honest figure for a model on a data set.

Every decision a model makes from data — bins, Information Value selection, early-stopping
rounds, the Platt calibration — is made inside the training folds; the test fold is only
scored. The metrics are computed on the pooled out-of-fold probabilities (one prediction for
every row, each from a model that never saw it); the per-fold AUCs are reported beside them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from tindahan.credit.dataset import Table
from tindahan.credit.errors import CreditError
from tindahan.credit.metrics import measure
from tindahan.credit.model import Scorer

MAX_FOLDS = 20


@dataclass(frozen=True)
class Evaluation:
    probabilities: np.ndarray
    report: dict[str, Any]


def check_folds(folds: int) -> None:
    if not 2 <= folds <= MAX_FOLDS:
        raise CreditError(f"--folds must be between 2 and {MAX_FOLDS}, not {folds}")


def cross_validate(
    table: Table,
    kind: str,
    folds: int = 5,
    seed: int = 0,
    directions: dict[str, int] | None = None,
) -> Evaluation:
    y = table.target
    if y is None:
        raise CreditError("no target to evaluate against")
    events = int(y.sum())
    check_folds(folds)
    if min(events, len(y) - events) < folds:
        raise CreditError(f"{folds} folds need at least {folds} rows of each class")
    started = time.perf_counter()
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    p = np.zeros(len(y))
    fold_auc = []
    for train, test in splitter.split(np.zeros(len(y)), y):
        x_train, x_test = table.features.iloc[train], table.features.iloc[test]
        scorer = Scorer.fit(kind, x_train, y[train], table.columns, seed, directions)
        p[test] = scorer.probability(x_test)
        fold_auc.append(round(measure(y[test], p[test]).auc, 4))
    report = {
        **measure(y, p).as_dict(),
        "model": kind,
        "folds": folds,
        "seed": seed,
        "auc_folds": fold_auc,
        "target": table.target_name,
        "positive": table.positive,
        "features": len(table.columns),
        "excluded": table.excluded,
        "dropped": table.dropped,
        "notes": table.notes,
        "seconds": round(time.perf_counter() - started, 2),
    }
    return Evaluation(p, report)
