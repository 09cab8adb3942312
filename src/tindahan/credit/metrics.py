"""How good a model's probabilities are: AUC, KS, Gini, Brier, and the curves the model card
draws. All on the pooled out-of-sample predictions; none of them touches a threshold."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve


@dataclass(frozen=True)
class Metrics:
    auc: float
    ks: float
    gini: float
    brier: float
    n: int
    events: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "auc": round(self.auc, 4),
            "ks": round(self.ks, 4),
            "gini": round(self.gini, 4),
            "brier": round(self.brier, 4),
            "n": self.n,
            "events": self.events,
        }


def measure(y: np.ndarray, p: np.ndarray) -> Metrics:
    """``y`` 0/1 events, ``p`` predicted probabilities of the event."""
    auc = float(roc_auc_score(y, p))
    fpr, tpr, _ = roc_curve(y, p)
    return Metrics(
        auc=auc,
        ks=float(np.max(tpr - fpr)),
        gini=2 * auc - 1,
        brier=float(brier_score_loss(y, p)),
        n=len(y),
        events=int(np.sum(y)),
    )


def calibration_curve(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> tuple[list[float], list[float], list[int]]:
    """Mean predicted versus observed event rate in quantile bins of ``p``."""
    order = np.argsort(p, kind="stable")
    predicted, observed, counts = [], [], []
    for part in np.array_split(order, bins):
        if len(part):
            predicted.append(float(np.mean(p[part])))
            observed.append(float(np.mean(y[part])))
            counts.append(len(part))
    return predicted, observed, counts
