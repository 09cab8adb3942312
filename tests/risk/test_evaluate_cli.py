"""``tindahan risk evaluate``: the contract outside tools check, and bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app

HEADER = "id,occurred_at,kind,sender,receiver,amount_minor,currency\n"
ROWS = (
    "e1,2026-03-02T09:00:00+08:00,cash_in,agent1,ana,4900000,PHP\n"
    "e2,2026-03-02T13:00:00+08:00,cash_in,agent2,ana,4850000,PHP\n"
    "e3,2026-03-02T17:30:00+08:00,cash_in,agent1,ana,4990000,PHP\n"
    "e4,2026-03-02T18:00:00Z,merchant,ben,shop,2500,PHP\n"
    "e5,2026-03-03T01:00:00Z,p2p,ana,cy,60000000,PHP\n"
)
runner = CliRunner()


def _write(tmp_path: Path, text: str, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_contract(tmp_path: Path) -> None:
    events = _write(tmp_path, HEADER + ROWS)
    result = runner.invoke(app, ["risk", "evaluate", "--events", str(events), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"id": "e3", "rule": "structuring", "decision": "review"} in report["alerts"]
    assert {"id": "e5", "rule": "new_payee", "decision": "review"} in report["alerts"]
    assert {"id": "e5", "rule": "velocity", "decision": "review"} in report["alerts"]
    assert report["flagged_ids"] == ["e3", "e5"]
    assert all(set(a) == {"id", "rule", "decision"} for a in report["alerts"])


def test_columns_in_any_order_with_extras_and_rows_out_of_order(tmp_path: Path) -> None:
    lines = (HEADER + ROWS).splitlines()
    reordered = ["label," + ",".join(reversed(line.split(","))) for line in lines]
    text = "\n".join([reordered[0], *reversed(reordered[1:])]) + "\n"
    events = _write(tmp_path, text)
    result = runner.invoke(app, ["risk", "evaluate", "--events", str(events), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["flagged_ids"] == ["e3", "e5"]


def test_the_summary_without_json(tmp_path: Path) -> None:
    events = _write(tmp_path, HEADER + ROWS)
    result = runner.invoke(app, ["risk", "evaluate", "--events", str(events)])
    assert result.exit_code == 0, result.output
    assert "structuring" in result.stdout and "review: 2" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("id,occurred_at,kind,sender,receiver,currency\n", "line 1: missing column 'amount_minor'"),
        (HEADER + "e1,2026-03-02T09:00:00Z,p2p,a,b,12.50,PHP\n", "line 2: amount_minor: '12.50'"),
        (HEADER + "e1,2026-03-02T09:00:00Z,p2p,a,b,-5,PHP\n", "line 2: amount_minor:"),
        (
            HEADER + "e1,2026-03-02T09:00:00Z,p2p,a,b,0,PHP\n",
            "line 2: amount_minor: must be positive",
        ),
        (HEADER + "e1,2026-03-02T09:00:00Z,p2p,a,b,,PHP\n", "line 2: amount_minor"),
        (HEADER + ROWS + "e6,yesterday,p2p,a,b,5,PHP\n", "line 7: occurred_at: 'yesterday'"),
        (HEADER + ROWS + "e6,2026-03-02T09:00:00Z,cheque,a,b,5,PHP\n", "line 7: kind: 'cheque'"),
        (HEADER + ROWS + "e6,2026-03-02T09:00:00Z,p2p,a,b,5,XXX\n", "line 7: currency: 'XXX'"),
        (
            HEADER + ROWS + "e1,2026-03-02T09:00:00Z,p2p,a,b,5,PHP\n",
            "line 7: id: 'e1' appears twice",
        ),
        (HEADER + ROWS + "e6,2026-03-02T09:00:00Z,p2p,,b,5,PHP\n", "line 7: sender: empty"),
        (HEADER + ROWS + "e6,2026-03-02T09:00:00Z,p2p\n", "line 7: 3 fields"),
    ],
)
def test_bad_csv_one_line_exit_2_nothing_on_stdout(tmp_path: Path, text: str, message: str) -> None:
    events = _write(tmp_path, text)
    result = runner.invoke(app, ["risk", "evaluate", "--events", str(events), "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_and_a_bad_rules_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["risk", "evaluate", "--events", str(tmp_path / "no.csv")])
    assert result.exit_code == 2 and "cannot read" in result.stderr
    events = _write(tmp_path, HEADER + ROWS)
    rules = _write(tmp_path, '[[rule]]\nid = "nope"\n', "rules.toml")
    result = runner.invoke(
        app, ["risk", "evaluate", "--events", str(events), "--rules", str(rules)]
    )
    assert result.exit_code == 2 and "line 1: id: unknown rule 'nope'" in result.stderr


def test_backtest_refuses_a_bad_date_before_touching_the_database(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["risk", "backtest", "--from", "2026-13-01", "--to", "2026-12-01", "--json"]
    )
    assert result.exit_code == 2
    assert "--from must be a date YYYY-MM-DD" in result.stderr and result.stdout == ""


def test_backtest_on_a_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'risk.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    result = runner.invoke(
        app,
        ["risk", "backtest", "--from", "2026-12-01", "--to", "2026-12-06", "--json", "--db", url],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["movements"] == 0 and report["alerts_per_rule"]["velocity"] == 0
    backwards = runner.invoke(
        app, ["risk", "backtest", "--from", "2026-12-06", "--to", "2026-12-01", "--db", url]
    )
    assert backwards.exit_code == 2 and "--to is before --from" in backwards.stderr


def test_report_csv_on_a_migrated_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'risk.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    args = ["risk", "report", "--from", "2026-12-01", "--to", "2026-12-06", "--db", url]
    result = runner.invoke(app, [*args, "--type", "ctr"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "report_type,transaction_ref,transaction_date,transaction_time_utc,transaction_kind,"
        "amount,currency,subject_ref,counterparty_ref,rule,rule_version,reason,deadline"
    ]
    wrong = runner.invoke(app, [*args, "--type", "sar"])
    assert wrong.exit_code == 2 and "ctr or str" in wrong.stderr
