"""``tindahan credit train|evaluate|score|drift``: the contract outside checks rely on (issue 6).

In-process through Typer's runner (stdout and stderr apart, so ``--json`` output is checked
to be exactly one JSON object), except where only a real process shows the failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app
from tindahan.credit import artifact, dataset

#: One worker runs this module: its module-scoped fixtures are built once (make test, xdist).
pytestmark = pytest.mark.xdist_group("credit-credit-cli")

runner = CliRunner()
GERMAN = Path(__file__).resolve().parents[1] / "data" / "germancredit.csv.gz"
GERMAN_ARGS = ("--data", str(GERMAN), "--target", "creditability", "--positive", "bad")
KEYS = {"auc", "ks", "gini", "brier", "n"}
PNG = b"\x89PNG\r\n\x1a\n"
TINDAHAN = Path(sys.executable).with_name("tindahan")


def credit(*args: object):
    return runner.invoke(app, ["credit", *map(str, args)])


def ok_json(result) -> dict:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.stdout)
    assert "Traceback" not in result.output
    return json.loads(result.stdout)  # the whole of stdout is one JSON object


def refused(result, *words: str) -> str:
    """Exit 2, one line on stderr starting with ``error:``, nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


# --- German Credit ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def german() -> dict[str, dict]:
    return {
        kind: ok_json(credit("evaluate", *GERMAN_ARGS, "--model", kind, "--json"))
        for kind in ("scorecard", "gbm")
    }


def test_german_credit_reaches_the_issues_auc(german):
    assert max(report["auc"] for report in german.values()) >= 0.79, german
    for kind, report in german.items():
        assert set(report) >= KEYS
        assert report["model"] == kind and report["folds"] == 5 and report["seed"] == 0
        assert report["n"] == 1000 and report["events"] == 300
        assert report["auc"] >= 0.77
        assert report["gini"] == pytest.approx(2 * report["auc"] - 1, abs=2e-4)
        assert 0.3 < report["ks"] < 0.7 and 0.1 < report["brier"] < 0.2
        assert len(report["auc_folds"]) == 5
        assert report["excluded"] == ["personal_status_and_sex"]
        assert report["features"] == 19 and report["positive"] == "bad"


# --- any CSV ----------------------------------------------------------------------------

SALES = "Monthly Sales (₱)"
PLACE = "Barangay / Lungsod"
YEARS = "Taon sa negosyo"
GCASH = "Uses GCash?"
GENDER = "Owner Gender"
COLOR = "Kulay ñ"
USED = [SALES, PLACE, YEARS, GCASH, COLOR]


def merchants(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Mixed numeric and categorical columns with odd names, missing values, a protected
    column, and a 0/1 outcome that depends on sales, place and years."""
    rng = np.random.default_rng(seed)
    sales = np.round(rng.lognormal(10, 0.6, n), 2)
    place = rng.choice(["Tondo", "Quiapo", "Malate", "Sampaloc", "Pandacan"], n)
    years = rng.integers(0, 20, n).astype(float)
    risk = {"Tondo": 0.9, "Quiapo": 0.5, "Malate": 0.0, "Sampaloc": -0.3, "Pandacan": -0.6}
    logit = 0.2 - 1.5 * (np.log(sales) - 10) / 0.6 + pd.Series(place).map(risk) - 0.12 * years
    y = (rng.random(n) < 1 / (1 + np.exp(-logit.to_numpy()))).astype(int)
    frame = pd.DataFrame(
        {
            SALES: sales,
            PLACE: place,
            YEARS: years,
            GCASH: rng.choice(["Y", "N"], n),
            GENDER: rng.choice(["F", "M"], n),
            COLOR: rng.choice(["pula", "asul", "berde"], n),
            "defaulted": y,
        }
    ).astype(object)
    frame.loc[rng.random(n) < 0.1, YEARS] = None
    frame.loc[rng.random(n) < 0.1, GCASH] = None
    frame.loc[rng.random(n) < 0.05, SALES] = None
    return frame


@pytest.fixture(scope="module")
def csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "mga tindahan.csv"
    merchants().to_csv(path, index=False)
    return path


FOLDS = {"scorecard": "3", "gbm": "5"}  # the scorecard's binning is the slow part


def evaluate_csv(csv: Path, kind: str) -> dict:
    args = ("--data", csv, "--target", "defaulted", "--model", kind, "--folds", FOLDS[kind])
    return ok_json(credit("evaluate", *args, "--json"))


@pytest.fixture(scope="module")
def generic(csv) -> dict[str, dict]:
    return {kind: evaluate_csv(csv, kind) for kind in ("scorecard", "gbm")}


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_evaluate_works_on_any_csv_with_a_binary_target(generic, kind):
    report = generic[kind]
    assert set(report) >= KEYS
    assert report["n"] == 300 and report["positive"] == "1"
    assert report["folds"] == int(FOLDS[kind])
    assert report["excluded"] == [GENDER] and report["dropped"] == []
    assert report["features"] == len(USED)
    assert report["auc"] > 0.7  # the outcome does depend on the columns


@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_the_same_seed_gives_the_same_numbers(german, generic, csv, kind):
    """German Credit for the trees (threads, subsampling); the scorecard's binning solver
    is single-threaded with a fixed seed, so a smaller table shows it as well."""
    if kind == "gbm":
        first = german[kind]
        again = ok_json(credit("evaluate", *GERMAN_ARGS, "--model", kind, "--json"))
    else:
        first, again = generic[kind], evaluate_csv(csv, kind)
    assert {k: v for k, v in again.items() if k != "seconds"} == {
        k: v for k, v in first.items() if k != "seconds"
    }


def test_evaluate_takes_yes_as_the_event_of_a_yes_no_target(tmp_path):
    frame = merchants(seed=1)
    frame["Nag-default?"] = frame.pop("defaulted").map({1: "yes", 0: "no"})
    path = tmp_path / "yes-no.csv"
    frame.to_csv(path, index=False)
    result = credit("evaluate", "--data", path, "--target", "Nag-default?", "--folds", 3, "--json")
    report = ok_json(result)
    assert report["positive"] == "yes" and report["n"] == 300
    assert report["events"] == int((frame["Nag-default?"] == "yes").sum())
    assert report["auc"] > 0.7
    assert "event: Nag-default? = 'yes'" in result.stderr


def test_human_output_is_one_line_of_figures(csv):
    result = credit("evaluate", "--data", csv, "--target", "defaulted", "--model", "gbm")
    assert result.exit_code == 0, result.stderr
    assert "AUC" in result.stdout and "n=300" in result.stdout


# --- train, score, drift ---------------------------------------------------------------


@pytest.fixture(scope="module")
def models(csv, tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Each kind trained twice into the same folder: the second run replaces the first."""
    out = {}
    for kind in ("scorecard", "gbm"):
        folder = tmp_path_factory.mktemp("models") / f"{kind} model"
        args = ("train", "--data", csv, "--target", "defaulted", "--model", kind, "--out", folder)
        first = credit(*args)
        assert first.exit_code == 0, first.stderr
        assert str(folder / "card.md") in first.stdout and "holdout AUC" in first.stdout
        out[kind] = (folder, ok_json(credit(*args, "--json")))
    return out


@pytest.fixture(params=["scorecard", "gbm"])
def model(request, models) -> tuple[Path, dict]:
    return models[request.param]


def test_train_writes_the_model_folder_with_card_and_plots(model):
    folder, summary = model
    names = {p.name for p in folder.iterdir()}
    wanted = {"metadata.json", "model.json", "baseline.json", "card.md"}
    assert wanted | {"roc.png", "calibration.png"} <= names
    for plot in ("roc.png", "calibration.png"):
        assert (folder / plot).read_bytes()[:8] == PNG
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["format"] == artifact.FORMAT and meta["format_version"] == artifact.FORMAT_VERSION
    assert meta["excluded_protected"] == [GENDER]
    assert [c["name"] for c in meta["columns"]] == USED
    assert summary["model"] == str(folder) and set(summary) >= KEYS
    card = (folder / "card.md").read_text()
    assert f"`{GENDER}`" in card and "Protected attributes excluded" in card
    assert "AUC" in card and str(meta["validation"]["auc"]) in card
    assert "![ROC](roc.png)" in card and "calibration.png" in card


def scoring_rows(tmp_path: Path, rows: int = 6) -> Path:
    path = tmp_path / "to score.csv"
    merchants(seed=5).drop(columns=["defaulted", GENDER]).head(rows).to_csv(path, index=False)
    return path


def test_score_prints_probability_points_and_reasons(model, tmp_path):
    folder, _ = model
    path = scoring_rows(tmp_path)
    result = ok_json(credit("score", "--model", folder, "--data", path, "--json"))
    assert result["n"] == 6 and len(result["decisions"]) == 6
    meta = json.loads((folder / "metadata.json").read_text())
    assert result["model_version"] == meta["version"]
    for row, decision in enumerate(result["decisions"], start=1):
        assert decision["row"] == row
        assert 0 < decision["probability_of_default"] < 1
        assert isinstance(decision["score"], int)
        assert len(decision["reasons"]) <= 4
        for reason in decision["reasons"]:
            assert set(reason) == {"code", "points_lost", "text"}
            assert reason["code"] in meta["used_features"]
            assert isinstance(reason["points_lost"], int) and reason["points_lost"] >= 1
            assert reason["code"] in reason["text"]
    assert any(d["reasons"] for d in result["decisions"])
    # The same numbers as the library's, from the same folder.
    loaded = artifact.load(folder)
    frame, _ = dataset.read_csv(path)
    expected = loaded.scorer.decide(dataset.for_scoring(frame, loaded.scorer.columns)[0])
    assert [d["score"] for d in result["decisions"]] == [d.points for d in expected]
    assert [d["probability_of_default"] for d in result["decisions"]] == [
        round(d.probability, 6) for d in expected
    ]


def test_score_without_json_prints_a_table(models, tmp_path):
    folder, _ = models["scorecard"]
    result = credit("score", "--model", folder, "--data", scoring_rows(tmp_path, 2))
    assert result.exit_code == 0, result.stderr
    assert "P(default)" in result.stdout


def test_score_refuses_rows_without_a_model_column(model, tmp_path):
    folder, _ = model
    path = tmp_path / "short.csv"
    merchants(seed=6).drop(columns=[PLACE]).head(3).to_csv(path, index=False)
    refused(credit("score", "--model", folder, "--data", path, "--json"), PLACE)


def test_score_refuses_text_in_a_numeric_column(models, tmp_path):
    folder, _ = models["gbm"]
    frame = merchants(seed=7).head(5)
    frame.loc[3, YEARS] = "many"
    path = tmp_path / "text.csv"
    frame.to_csv(path, index=False)
    refused(credit("score", "--model", folder, "--data", path), YEARS, "line 5", "'many'")


def test_score_needs_exactly_one_of_merchant_or_data(models, tmp_path):
    folder, _ = models["scorecard"]
    refused(credit("score", "--model", folder), "--merchant", "--data")
    both = ("score", "--model", folder, "--merchant", "m1", "--data", scoring_rows(tmp_path))
    refused(credit(*both))


def test_drift_compares_later_rows_with_the_training_population(model, csv, tmp_path):
    folder, _ = model
    same = ok_json(credit("drift", "--model", folder, "--data", csv, "--json"))
    assert same["n"] == 300
    assert same["score"]["psi"] < 0.01 and same["score"]["flag"] == "stable"
    assert set(same["features"]) == set(USED)
    assert all(row["flag"] == "stable" for row in same["features"].values())
    assert same["thresholds"] == {"stable_below": 0.1, "significant_above": 0.25}
    later = merchants(seed=8)
    later[SALES] = later[SALES].map(lambda v: None if v is None else v * 4)
    path = tmp_path / "later.csv"
    later.to_csv(path, index=False)
    moved = ok_json(credit("drift", "--model", folder, "--data", path, "--json"))
    assert moved["features"][SALES]["flag"] == "significant shift"
    assert next(iter(moved["features"])) == SALES  # largest first
    assert moved["score"]["psi"] > same["score"]["psi"]
    text = credit("drift", "--model", folder, "--data", path)
    assert text.exit_code == 0 and "score PSI" in text.stdout


# --- bad input: one line on stderr, exit 2, nothing written ----------------------------


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> Path:
    """A CSV that loads without a single note (0/1 target, nothing dropped or excluded)."""
    rng = np.random.default_rng(3)
    n = 120
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "x": x.round(3),
            "k": rng.choice(["a", "b", "c"], n),
            "y": (rng.random(n) < 1 / (1 + np.exp(-(x - 1)))).astype(int),
        }
    )
    path = tmp_path_factory.mktemp("plain") / "plain.csv"
    frame.to_csv(path, index=False)
    return path


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def rows(header: str, make, n: int = 40) -> str:
    return header + "\n" + "".join(make(i) + "\n" for i in range(n))


BAD_DATA = {
    "no target column": (
        lambda: rows("x,z", lambda i: f"{i},{i % 2}"),
        (),
        ("no target column 'y'", "x, z"),
    ),
    "three values without --positive": (
        lambda: rows("x,y", lambda i: f"{i},{'abc'[i % 3]}"),
        (),
        ("3 values", "--positive"),
    ),
    "a --positive that is not a value": (
        lambda: rows("x,y", lambda i: f"{i},{'ab'[i % 2]}"),
        ("--positive", "c"),
        ("'c' is not a value of 'y'",),
    ),
    "one value only": (lambda: rows("x,y", lambda i: f"{i},good"), (), ("only one value",)),
    "text in a numeric column": (
        lambda: rows("x,y", lambda i: f"{'twelve' if i == 33 else i},{i % 2}"),
        (),
        ("'x'", "line 35", "'twelve'"),
    ),
    "only constant and empty columns": (
        lambda: rows("k,e,y", lambda i: f"7,,{i % 2}"),
        (),
        ("no usable feature columns", "one value only", "all values are missing"),
    ),
    "a non-CSV file": (
        lambda: PNG + b"\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xfe\x00",
        (),
        ("not a readable CSV file",),
    ),
    "an empty file": (lambda: b"", (), ("not a readable CSV file",)),
    "too few rows": (lambda: rows("x,y", lambda i: f"{i},{i % 2}", n=8), (), ("too few rows",)),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_bad_data_is_refused_in_one_line(tmp_path, case, command):
    make, extra, words = BAD_DATA[case]
    path = write(tmp_path, "data.csv", make())
    out = tmp_path / "model"
    args = ["--data", path, "--target", "y", *extra]
    if command == "train":
        args += ["--out", out]
    refused(credit(command, *args, "--json"), *words)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


@pytest.mark.parametrize("text", ["x,y\n", "x,y\n" + "1,\n" * 30])
def test_a_csv_without_any_target_value_is_refused(tmp_path, text):
    path = write(tmp_path, "data.csv", text)
    refused(credit("evaluate", "--data", path, "--target", "y", "--json"), "y")


def test_a_missing_data_file_is_refused(tmp_path):
    out = tmp_path / "model"
    absent = tmp_path / "absent.csv"
    refused(credit("train", "--data", absent, "--target", "y", "--out", out), "absent.csv")
    assert not out.exists()


@pytest.mark.parametrize(
    ("fill", "note"),
    [("same", "c: dropped, one value only ('same')"), (None, "c: dropped, all values are missing")],
)
def test_constant_and_empty_columns_are_dropped_with_a_note_not_refused(
    tmp_path, plain, fill, note
):
    frame = pd.read_csv(plain)
    frame.insert(2, "c", fill)
    path = tmp_path / "with c.csv"
    frame.to_csv(path, index=False)
    result = credit("evaluate", "--data", path, "--target", "y", "--folds", 2, "--json")
    report = ok_json(result)
    assert report["dropped"] == ["c"] and report["features"] == 2
    assert f"note: {note}" in result.stderr


@pytest.mark.parametrize("folds", [0, 1, 21, -3])
def test_folds_out_of_range_are_refused(plain, folds):
    args = ("evaluate", "--data", plain, "--target", "y", "--folds", folds, "--json")
    refused(credit(*args), "--folds", "between 2 and 20")


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_an_unknown_model_is_refused(plain, tmp_path, command):
    out = tmp_path / "model"
    args = ["--data", plain, "--target", "y", "--model", "forest"]
    if command == "train":
        args += ["--out", out]
    refused(credit(command, *args), "--model", "scorecard or gbm", "'forest'")
    assert not out.exists()


def test_an_out_folder_that_is_not_a_model_folder_is_refused(plain, tmp_path):
    out = tmp_path / "papers"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    args = ("train", "--data", plain, "--target", "y", "--model", "gbm", "--out", out)
    refused(credit(*args), str(out), "not a model folder")
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["papers"]


def test_an_out_folder_with_someone_elses_metadata_json_is_refused(plain, tmp_path):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "metadata.json").write_text('{"title": "barangay survey"}')
    (out / "survey.csv").write_text("years of work")
    result = credit("train", "--data", plain, "--target", "y", "--model", "gbm", "--out", out)
    assert (out / "survey.csv").exists(), "train deleted a folder that was not a model's"
    refused(result, "not a model folder")


def test_an_out_that_is_a_file_is_refused(plain, tmp_path):
    out = write(tmp_path, "model", "a file")
    result = credit("train", "--data", plain, "--target", "y", "--model", "gbm", "--out", out)
    refused(result, str(out))
    assert out.read_text() == "a file"


@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_option_errors_are_one_line_even_when_the_data_has_notes(tmp_path, command):
    if command == "evaluate":
        result = credit("evaluate", *GERMAN_ARGS, "--folds", 1, "--json")
    else:
        out = tmp_path / "papers"
        out.mkdir()
        (out / "thesis.tex").write_text("years of work")
        data = tmp_path / "data.csv"
        merchants(n=120).to_csv(data, index=False)  # its Owner Gender column gets a note
        result = credit(
            "train", "--data", data, "--target", "defaulted", "--model", "gbm", "--out", out
        )
    refused(result)


@pytest.mark.parametrize("command", ["score", "drift"])
def test_a_model_folder_of_another_format_version_is_refused(models, tmp_path, csv, command):
    folder = tmp_path / "old model"
    shutil.copytree(models["scorecard"][0], folder)
    meta = json.loads((folder / "metadata.json").read_text())
    meta["format_version"] = 0
    (folder / "metadata.json").write_text(json.dumps(meta))
    refused(credit(command, "--model", folder, "--data", csv, "--json"), "version 0", "retrain")


@pytest.mark.parametrize("command", ["score", "drift"])
def test_a_folder_that_is_no_model_is_refused(tmp_path, csv, command):
    refused(credit(command, "--model", tmp_path / "nothing", "--data", csv), "no model folder")
    refused(credit(command, "--model", tmp_path, "--data", csv), "lacks metadata.json")


def test_a_damaged_tree_file_is_a_one_line_error(models, tmp_path, csv):
    folder = tmp_path / "damaged"
    shutil.copytree(models["gbm"][0], folder)
    text = (folder / "gbm.txt").read_text()
    (folder / "gbm.txt").write_text(text[: len(text) // 2])
    child = subprocess.run(
        [str(TINDAHAN), "credit", "score", "--model", str(folder), "--data", str(csv)],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert child.returncode == 2, (child.returncode, child.stderr[-500:])
    lines = child.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), lines[-3:]
