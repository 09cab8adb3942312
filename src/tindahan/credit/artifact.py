"""Model folders: train, save, load — versioned, readable, and refused when incompatible.

A model folder holds:

* ``metadata.json``: the format and its version, the model kind and version id, when it was
  trained, the training data's SHA-256 and size, the target and its event value, every
  column with its type (and categories), what was excluded as protected or dropped, the
  validation metrics, the score scaling;
* ``model.json``: the fitted learner as tables (scorecard bins and coefficients, or the
  trees' rounds and categories) and the Platt calibration;
* ``gbm.txt``: LightGBM's own text model (trees only), whose SHA-256 ``model.json`` keeps:
  LightGBM aborts the process on some damaged files, so a changed one is refused first;
* ``baseline.json``: the training population's score and feature distributions, for drift;
* ``card.md``, ``roc.png``, ``calibration.png``: the model card.

Nothing is pickled: a model folder from someone else is data, not code.

**Validation metrics** on the card come from a stratified holdout (``HOLDOUT``, 25%) of the
training data, scored by a model fitted on the other 75%; the saved model is then refitted
on every row. ``tindahan credit evaluate`` gives the k-fold figures.

**Compatibility.** ``FORMAT_VERSION`` changes whenever what is saved changes meaning;
loading a folder of another version, or with missing or unreadable files, is a clear error
telling to retrain, never a guess.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from tindahan.credit import drift
from tindahan.credit.dataset import Column, Table
from tindahan.credit.errors import CreditError
from tindahan.credit.gbm import Gbm
from tindahan.credit.metrics import measure
from tindahan.credit.model import BASE_ODDS, BASE_POINTS, POINTS_TO_DOUBLE, Scorer, to_points
from tindahan.credit.scorecard import Scorecard

FORMAT = "tindahan-credit-model"
FORMAT_VERSION = 1
HOLDOUT = 0.25
FILES = ("metadata.json", "model.json", "baseline.json")


@dataclass
class Trained:
    scorer: Scorer
    metadata: dict[str, Any]
    baseline: dict[str, Any]
    holdout_y: np.ndarray
    holdout_p: np.ndarray
    extra: dict[str, Any] = field(default_factory=dict)


def train(
    table: Table,
    kind: str,
    seed: int = 0,
    directions: dict[str, int] | None = None,
    source: str = "",
) -> Trained:
    y = table.target
    if y is None:
        raise CreditError("no target to train on")
    started = time.perf_counter()
    rows = np.arange(len(y))
    fit_rows, hold_rows = train_test_split(rows, test_size=HOLDOUT, stratify=y, random_state=seed)
    x = table.features
    probe = Scorer.fit(kind, x.iloc[fit_rows], y[fit_rows], table.columns, seed, directions)
    hold_p = probe.probability(x.iloc[hold_rows])
    scorer = Scorer.fit(kind, x, y, table.columns, seed, directions)
    points = to_points(scorer.probability(x))
    created = datetime.now(UTC)
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "version": f"{kind}-{created:%Y%m%d%H%M%S}-{(table.data_hash or 'nohash')[:8]}",
        "trained_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "source": source,
        "data_sha256": table.data_hash,
        "rows": len(y),
        "events": int(y.sum()),
        "target": table.target_name,
        "positive": table.positive,
        "seed": seed,
        "columns": [
            {"name": c.name, "kind": c.kind, "categories": list(c.categories)}
            for c in table.columns
        ],
        "used_features": scorer.model.features,
        "directions": dict(directions or {}),
        "excluded_protected": table.excluded,
        "dropped": table.dropped,
        "notes": table.notes,
        "validation": {**measure(y[hold_rows], hold_p).as_dict(), "method": "25% holdout"},
        "scaling": {
            "base_points": BASE_POINTS,
            "base_odds": BASE_ODDS,
            "points_to_double_odds": POINTS_TO_DOUBLE,
        },
        "train_seconds": round(time.perf_counter() - started, 2),
    }
    base = drift.baseline(x, table.columns, points)
    return Trained(scorer, metadata, base, y[hold_rows], hold_p)


def save(trained: Trained, out: str | Path, card: Any = None) -> Path:
    """Write the folder atomically: a temporary sibling, then a rename. An existing folder
    is replaced only when it is itself a model folder."""
    target = Path(out)
    check_out(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".model-", dir=target.parent))
    try:
        scorer = trained.scorer
        state = {
            "learner": scorer.model.state(),
            "calibration": {"slope": scorer.slope, "intercept": scorer.intercept},
        }
        if isinstance(scorer.model, Gbm):
            scorer.model.save(work)
            state["learner"]["model_sha256"] = _digest(work / scorer.model.state()["model_file"])
        _write(work / "model.json", state)
        _write(work / "baseline.json", trained.baseline)
        _write(work / "metadata.json", trained.metadata)
        if card is not None:
            card(trained, work)
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return target


def check_out(target: Path) -> None:
    """Where a model may be written: a new or empty folder, or an earlier model folder
    (its ``metadata.json`` says so), never a file or someone else's folder."""
    if target.exists() and not target.is_dir():
        raise CreditError(f"{target} is a file; --out must be a folder")
    if not target.exists() or not any(target.iterdir()):
        return
    try:
        data = json.loads((target / "metadata.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CreditError(f"{target} exists and is not a model folder; choose another --out")


def _write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=_plain) + "\n", encoding="utf-8")


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    raise TypeError(f"not JSON: {type(value)}")


@dataclass
class Loaded:
    scorer: Scorer
    metadata: dict[str, Any]
    baseline: dict[str, Any]
    folder: Path


def load(folder: str | Path) -> Loaded:
    path = Path(folder)
    if not path.is_dir():
        raise CreditError(f"no model folder at {path}")
    metadata = _read(path, "metadata.json")
    if metadata.get("format") != FORMAT:
        raise CreditError(f"{path} is not a Tindahan credit model folder")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise CreditError(
            f"{path} holds a model of format version {version}; this Tindahan reads version "
            f"{FORMAT_VERSION}: retrain it with `tindahan credit train`"
        )
    state, base = _read(path, "model.json"), _read(path, "baseline.json")
    try:
        kind = metadata["kind"]
        columns = [
            Column(c["name"], c["kind"], tuple(c["categories"])) for c in metadata["columns"]
        ]
        learner: Scorecard | Gbm
        if kind == "scorecard":
            learner = Scorecard.from_state(state["learner"])
        elif kind == "gbm":
            _check_digest(path / state["learner"]["model_file"], state["learner"]["model_sha256"])
            learner = Gbm.from_state(state["learner"], path)
        else:
            raise CreditError(f"{path}: unknown model kind {kind!r}")
        calibration = state["calibration"]
        scorer = Scorer(
            kind,
            columns,
            learner,
            float(calibration["slope"]),
            float(calibration["intercept"]),
            dict(metadata.get("directions", {})),
        )
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, CreditError):
            raise
        raise CreditError(f"{path}: the model files are incomplete or damaged ({error})") from None
    except Exception as error:  # LightGBM raises its own error type for a bad model file
        raise CreditError(f"{path}: cannot read the model ({str(error)[:200]})") from None
    return Loaded(scorer, metadata, base, path)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_digest(path: Path, expected: str) -> None:
    """LightGBM aborts the whole process on some damaged model files, so a tree file is
    read only when it is byte for byte the one that was saved."""
    try:
        actual = _digest(path)
    except OSError:
        raise CreditError(f"{path} is missing: not a complete model folder") from None
    if actual != expected:
        raise CreditError(f"{path} has been changed or damaged since training: retrain")


def _read(path: Path, name: str) -> dict[str, Any]:
    try:
        data = json.loads((path / name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CreditError(f"{path} lacks {name}: not a complete model folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CreditError(f"{path / name} is unreadable: {error}") from None
    if not isinstance(data, dict):
        raise CreditError(f"{path / name} is not a JSON object")
    return data


def features_frame(loaded: Loaded, frame: pd.DataFrame) -> pd.DataFrame:
    return frame[[c.name for c in loaded.scorer.columns]]
