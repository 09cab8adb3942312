"""Gradient-boosted trees (LightGBM), monotone where the direction is known.

Fixed, conservative settings rather than a search: small trees (15 leaves, at least 20 rows
a leaf), a slow learning rate with row and column subsampling, L2 on the leaves. The number
of rounds is found by early stopping on a stratified 20% of the *training* rows, then the
trees are refitted on all of them with that many rounds: the test folds of ``evaluate`` are
never looked at. The early-stopping rows, scored by the model that did not train on them,
are also what the calibration is fitted on: two fits in all, not eight, which is what
keeps training on 100,000 rows within a minute. Categorical columns go to LightGBM as
categories (its own grouping, with smoothing); missing values take LightGBM's
learned default branch.

A feature with a known direction (``directions``: +1, risk rises with the value; -1, it
falls) gets a monotone constraint, so that, say, more sales can never lower a score.

Explanations are LightGBM's own ``pred_contrib`` (TreeSHAP): each feature's share of the
log-odds for this row against the average row.

Saved as LightGBM's text model plus the category lists, no pickle.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from tindahan.credit.dataset import Column, Rows

PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.03,
    "num_leaves": 15,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "reg_lambda": 5.0,
    "cat_smooth": 20.0,
    "min_data_per_group": 20,
    "verbose": -1,
    # One thread: on a shared two-core machine OpenMP threads that spin-wait for a busy core
    # made a 6 s cross-validation take 69 s; one thread is predictable.
    "n_jobs": 1,
}
MAX_ROUNDS = 1000
PATIENCE = 50
VALIDATION_SHARE = 0.2
MODEL_FILE = "gbm.txt"


class Gbm:
    kind: ClassVar[str] = "gbm"

    def __init__(self) -> None:
        self.columns: list[Column] = []
        self.rounds = 0
        self.booster: lgb.Booster | None = None
        #: Raw scores of the early-stopping rows by the model that did not train on them,
        #: with their outcomes: what the Platt calibration is fitted on (see ``model``).
        self.calibration_sample: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def features(self) -> list[str]:
        return [c.name for c in self.columns]

    def _frame(self, x: Rows) -> pd.DataFrame:
        data = {}
        for c in self.columns:
            if c.kind == "numeric":
                data[c.name] = np.asarray(x[c.name], dtype=float)
            else:
                data[c.name] = pd.Categorical(x[c.name], categories=list(c.categories))
        return pd.DataFrame(data, index=x.index if isinstance(x, pd.DataFrame) else None)

    def _params(self, seed: int, directions: dict[str, int]) -> dict[str, Any]:
        signs = [
            _sign(directions.get(c.name, 0)) if c.kind == "numeric" else 0 for c in self.columns
        ]
        params = {**PARAMS, "seed": seed}
        if any(signs):
            params["monotone_constraints"] = signs
            params["monotone_constraints_method"] = "intermediate"
        return params

    def fit(
        self,
        x: pd.DataFrame,
        y: np.ndarray,
        columns: list[Column],
        seed: int,
        directions: dict[str, int] | None = None,
    ) -> None:
        self.columns = list(columns)
        params = self._params(seed, directions or {})
        data = self._frame(x)
        fit_idx, val_idx = train_test_split(
            np.arange(len(y)), test_size=VALIDATION_SHARE, stratify=y, random_state=seed
        )
        train = lgb.Dataset(data.iloc[fit_idx], y[fit_idx], free_raw_data=False)
        valid = lgb.Dataset(data.iloc[val_idx], y[val_idx], reference=train)
        probe = lgb.train(
            params,
            train,
            num_boost_round=MAX_ROUNDS,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(PATIENCE, verbose=False)],
        )
        self.rounds = max(int(probe.best_iteration or MAX_ROUNDS), 10)
        raw = probe.predict(data.iloc[val_idx], num_iteration=self.rounds, raw_score=True)
        self.calibration_sample = (np.asarray(raw, dtype=float), y[val_idx])
        self.booster = lgb.train(params, lgb.Dataset(data, y), num_boost_round=self.rounds)

    def _booster(self) -> lgb.Booster:
        if self.booster is None:
            raise RuntimeError("the model is not fitted")
        return self.booster

    def raw(self, x: Rows) -> np.ndarray:
        return np.asarray(self._booster().predict(self._frame(x), raw_score=True), dtype=float)

    def contributions(self, x: Rows) -> np.ndarray:
        contrib = self._booster().predict(self._frame(x), pred_contrib=True)
        return np.asarray(contrib, dtype=float)[:, :-1]

    def state(self) -> dict[str, Any]:
        return {
            "rounds": self.rounds,
            "columns": [
                {"name": c.name, "kind": c.kind, "categories": list(c.categories)}
                for c in self.columns
            ],
            "model_file": MODEL_FILE,
        }

    def save(self, folder: Path) -> None:
        self._booster().save_model(str(folder / MODEL_FILE))

    @classmethod
    def from_state(cls, state: dict[str, Any], folder: Path | None = None) -> Gbm:
        model = cls()
        model.rounds = int(state["rounds"])
        model.columns = [
            Column(c["name"], c["kind"], tuple(c["categories"])) for c in state["columns"]
        ]
        if folder is not None:
            model.booster = lgb.Booster(model_file=str(folder / state["model_file"]))
        return model


def _sign(direction: int) -> int:
    """+1 or -1 constrain the trees; anything else (a valley, see ``scorecard``) does not."""
    return direction if direction in (-1, 1) else 0
