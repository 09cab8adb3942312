"""The model card: what a credit officer, an auditor or a merchant's advocate reads first.

Markdown with two plots (matplotlib, drawn off-screen with the Agg backend): the ROC curve
and the calibration curve on the validation holdout. It states the data (rows, events,
SHA-256), the protected attributes left out, the columns dropped and why, the validation
metrics, the score scaling, and — for the scorecard — the points of every bin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sklearn.metrics import roc_curve

from tindahan.credit.metrics import calibration_curve
from tindahan.credit.model import FACTOR
from tindahan.credit.scorecard import Scorecard


def write(trained: Any, folder: Path) -> None:
    _roc(trained.holdout_y, trained.holdout_p, folder / "roc.png")
    _calibration(trained.holdout_y, trained.holdout_p, folder / "calibration.png")
    (folder / "card.md").write_text(_markdown(trained), encoding="utf-8")


def _roc(y: Any, p: Any, path: Path) -> None:
    fpr, tpr, _ = roc_curve(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    ax.plot(fpr, tpr, label="model")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate")
    ax.set_title("ROC (validation holdout)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _calibration(y: Any, p: Any, path: Path) -> None:
    predicted, observed, _ = calibration_curve(y, p)
    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    top = max([*predicted, *observed, 0.05]) * 1.1
    ax.plot([0, top], [0, top], linestyle="--", color="grey", label="perfect")
    ax.plot(predicted, observed, marker="o", label="model (deciles)")
    ax.set_xlabel("Predicted probability of default")
    ax.set_ylabel("Observed default rate")
    ax.set_title("Calibration (validation holdout)")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _markdown(trained: Any) -> str:
    m = trained.metadata
    v = m["validation"]
    lines = [
        f"# Model card: {m['version']}",
        "",
        f"- Model: **{m['kind']}**; trained {m['trained_at']} from `{m['source'] or 'a table'}`.",
        f"- Data: {m['rows']} rows, {m['events']} events ({m['target']} = {m['positive']!r}); "
        f"SHA-256 `{m['data_sha256'] or 'n/a'}`.",
        f"- Features used: {len(m['used_features'])} of {len(m['columns'])}: "
        + ", ".join(f"`{f}`" for f in m["used_features"]),
        "- Protected attributes excluded: "
        + (", ".join(f"`{c}`" for c in m["excluded_protected"]) or "none found"),
        "- Dropped: " + (", ".join(f"`{c}`" for c in m["dropped"]) or "none"),
        "",
        "## Validation (stratified 25% holdout; the saved model is refitted on all rows)",
        "",
        "| AUC | KS | Gini | Brier | n | events |",
        "|---|---|---|---|---|---|",
        f"| {v['auc']} | {v['ks']} | {v['gini']} | {v['brier']} | {v['n']} | {v['events']} |",
        "",
        "![ROC](roc.png) ![Calibration](calibration.png)",
        "",
        "## Score scaling",
        "",
        f"{m['scaling']['base_points']} points at {m['scaling']['base_odds']}:1 odds of "
        f"good to bad; {m['scaling']['points_to_double_odds']} points double the odds. "
        "Probabilities are Platt-calibrated on out-of-fold training scores.",
        "",
        "## Notes",
        "",
        *(f"- {note}" for note in m["notes"] or ["none"]),
        "",
    ]
    scorer = trained.scorer
    if isinstance(scorer.model, Scorecard):
        lines += ["## Points by bin", "", "| feature | bin | WoE | points |", "|---|---|---|---|"]
        for row in scorer.model.table(FACTOR, scorer.slope):
            lines.append(
                f"| `{row['feature']}` | {row['bin']} | {row['woe']:.3f} | {row['points']:.1f} |"
            )
        lines.append("")
    return "\n".join(lines)
