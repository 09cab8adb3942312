"""``tindahan insights evaluate``: the contract (issue 26, item 7) and its bad inputs.

In-process through Typer's runner (stdout and stderr apart): ``--json`` prints one JSON
object; a refused file gives one ``error:`` line, exit 2, and no predictions file.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app
from tindahan.insights import simulate

runner = CliRunner()
HEADER = "merchant_id,product_id,day,units\n"


def insights(*args: object):
    return runner.invoke(app, ["insights", *map(str, args)])


def refused(result, *words: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stderr, result.stdout)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    assert "Traceback" not in result.output and result.stdout == ""
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sales") / "sales.csv"
    data = simulate.panel(30, 120, date(2025, 6, 1), seed=4)
    simulate.frame(data).to_csv(path, index=False)
    return path


def test_json_summary_and_a_prediction_for_every_held_out_day(sales: Path, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    result = insights("evaluate", "--sales", sales, "--horizon", 14, "--json", "--predictions", out)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["series"] == 30 and summary["horizon_days"] == 14
    assert summary["first_held_out_day"] == "2025-09-15"
    assert summary["last_held_out_day"] == "2025-09-28"
    assert 0 < summary["wape"] < summary["wape_seasonal_naive"]
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["merchant_id", "product_id", "day", "units_predicted"]
    assert len(rows) == summary["prediction_rows"] == 30 * 14
    assert {(r["product_id"], r["day"]) for r in rows} == {
        (f"p{i:06d}", f"2025-09-{d:02d}") for i in range(30) for d in range(15, 29)
    }
    assert all(float(r["units_predicted"]) >= 0 for r in rows)


def test_the_wape_figures_match_the_predictions_written(sales: Path, tmp_path: Path) -> None:
    """The WAPE reported is the one computed from the file written and the actual sales."""
    out = tmp_path / "p.csv"
    summary = json.loads(
        insights(
            "evaluate", "--sales", sales, "--horizon", 7, "--json", "--predictions", out
        ).stdout
    )
    actual: dict[tuple[str, str], float] = {}
    with sales.open(newline="") as handle:
        for row in csv.DictReader(handle):
            actual[(row["product_id"], row["day"])] = float(row["units"])
    error = total = 0.0
    with out.open(newline="") as handle:
        for row in csv.DictReader(handle):
            sold = actual.get((row["product_id"], row["day"]), 0.0)
            error += abs(sold - float(row["units_predicted"]))
            total += sold
    assert summary["wape"] == pytest.approx(error / total, abs=1e-3)


def test_text_output(sales: Path) -> None:
    result = insights("evaluate", "--sales", sales, "--horizon", 7)
    assert result.exit_code == 0, result.output
    assert "30 series, 7 days held out" in result.stdout and "seasonal-naive" in result.stdout


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("merchant_id,product_id,units\nm,p,1\n", ("lacks the column(s) day",)),
        ("merchant_id,product_id,day,units\n", ("no rows",)),
        ("", ("empty",)),
        (HEADER + "m,p,2025-01-01,3\nm,p,2025-01-02,-1\n", ("line 3", "negative")),
        (HEADER + "m,p,2025-01-01,x\n", ("line 2", "not a number")),
        (HEADER + "m,p,2025-13-01,1\n", ("line 2", "not YYYY-MM-DD")),
        (HEADER + "m,,2025-01-01,1\n", ("line 2", "product_id is empty")),
        (
            HEADER + "m,p,2025-01-01,1\nm,q,2025-01-01,1\nm,p,2025-01-01,2\n",
            ("line 4", "twice", "first on line 2"),
        ),
        (
            HEADER + "m,p,2025-01-02,1\nm,p,2025-01-01,2\n",
            ("line 3", "comes after 2025-01-02", "must increase"),
        ),
        (HEADER + "m,p,2025-01-01,1\nm,p,2025-01-05,1\n", ("covers 5 day(s)", "no history")),
    ],
)
def test_bad_files_are_refused_and_nothing_is_written(
    tmp_path: Path, text: str, words: tuple[str, ...]
) -> None:
    out = tmp_path / "out.csv"
    result = insights(
        "evaluate", "--sales", _write(tmp_path, text), "--horizon", 7, "--predictions", out
    )
    refused(result, *words)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]  # no temporary left either


def test_bad_options_are_refused(sales: Path, tmp_path: Path) -> None:
    refused(insights("evaluate", "--sales", sales, "--horizon", 0), "--horizon", "1 to 92")
    refused(insights("evaluate", "--sales", sales, "--horizon", 93), "--horizon")
    refused(insights("evaluate", "--sales", tmp_path / "none.csv", "--horizon", 7), "no such file")
    refused(
        insights("evaluate", "--sales", sales, "--horizon", 7, "--predictions", sales),
        "overwrite the sales file",
    )
    refused(
        insights(
            "evaluate", "--sales", sales, "--horizon", 7, "--predictions", tmp_path / "no" / "p.csv"
        ),
        "does not exist",
    )


def test_a_product_with_one_day_of_history_gets_the_fallback_and_a_note(tmp_path: Path) -> None:
    rows = [f"m,old,2025-01-{d:02d},{d % 3 + 1}" for d in range(1, 31)]
    rows.append("m,new,2025-01-23,5")  # one day before the 7 held out (24th to 30th)
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    result = insights("evaluate", "--sales", path, "--horizon", 7, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["fallback_series"] == 1
    assert "fewer than 14 days" in result.stderr
    assert summary["notes"] and "mean daily units" in summary["notes"][0]


def test_a_holdout_with_no_sale_has_no_wape_and_says_so(tmp_path: Path) -> None:
    rows = [f"m,p,2025-01-{d:02d},2" for d in range(1, 24)] + ["m,q,2025-01-30,0"]
    path = _write(tmp_path, HEADER + "\n".join(rows) + "\n")
    result = insights("evaluate", "--sales", path, "--horizon", 7, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["wape"] is None
    assert "undefined" in result.stderr
