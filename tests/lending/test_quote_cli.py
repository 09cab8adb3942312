"""``tindahan loan quote``: the contract outside checks rely on (issue 7).

    tindahan loan quote --principal MINOR --term N --frequency daily|weekly|biweekly|monthly
        --method declining-equal-installment|declining-equal-principal|flat
        --rate PERCENT_PER_PERIOD [--fee MINOR] [--fee-mode deducted|added]
        [--start YYYY-MM-DD] --json

prints one JSON object (``schedule`` with ``due_date``, ``principal_minor``,
``interest_minor``, ``fee_minor``, ``total_minor`` per installment;
``amount_financed_minor``, ``finance_charge_minor``, ``total_of_payments_minor``;
``eir_per_period`` and ``eir_annual`` as decimal strings, annual = (1 + per period)^(periods
per year) − 1). No database. Bad input: one line on stderr, exit 2, no traceback.

In-process through Typer's runner (stdout and stderr apart), and once as a real process with
a database URL that cannot work, to show none is touched.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app

runner = CliRunner()
TINDAHAN = Path(sys.executable).with_name("tindahan")
SCHEDULE_KEYS = {"due_date", "principal_minor", "interest_minor", "fee_minor", "total_minor"}
TOP_KEYS = {
    "schedule",
    "amount_financed_minor",
    "finance_charge_minor",
    "total_of_payments_minor",
    "eir_per_period",
    "eir_annual",
}
PERIODS_PER_YEAR = {"daily": 365, "weekly": 52, "biweekly": 26, "monthly": 12}
BSP = (
    *("--principal", "1000000", "--term", "4", "--frequency", "monthly"),
    *("--method", "declining-equal-installment", "--rate", "6", "--fee", "30000"),
    *("--start", "2026-01-15", "--json"),
)


def quote(*args: str):
    return runner.invoke(app, ["loan", "quote", *map(str, args)])


def ok_json(result) -> dict:
    assert result.exit_code == 0, (result.exit_code, result.stderr, result.stdout)
    assert "Traceback" not in result.output
    assert result.stderr == ""
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


def args(**changes: str | None) -> list[str]:
    """The BSP example's options with some changed (None drops one)."""
    options = {
        "--principal": "1000000",
        "--term": "4",
        "--frequency": "monthly",
        "--method": "declining-equal-installment",
        "--rate": "6",
        "--fee": "30000",
        "--start": "2026-01-15",
    }
    for key, value in changes.items():
        name = "--" + key.replace("_", "-")
        if value is None:
            options.pop(name, None)
        else:
            options[name] = value
    return [*(x for pair in options.items() for x in pair), "--json"]


# --- the contract ---------------------------------------------------------------------------


def test_the_bsp_example_as_json():
    # ₱10,000, ₱300 deducted, 4 × monthly at 6% on the declining balance (test_eir works it).
    found = ok_json(quote(*BSP))
    assert set(found) >= TOP_KEYS
    assert [set(i) >= SCHEDULE_KEYS for i in found["schedule"]] == [True] * 4
    assert [i["due_date"] for i in found["schedule"]] == [
        "2026-02-15",
        "2026-03-15",
        "2026-04-15",
        "2026-05-15",
    ]
    assert [i["total_minor"] for i in found["schedule"]] == [288_591, 288_591, 288_591, 288_593]
    assert [i["interest_minor"] for i in found["schedule"]] == [60_000, 46_285, 31_746, 16_335]
    assert [i["fee_minor"] for i in found["schedule"]] == [0] * 4
    assert found["amount_financed_minor"] == 970_000
    assert found["finance_charge_minor"] == 184_366
    assert found["total_of_payments_minor"] == 1_154_366
    assert found["eir_per_period"] == "0.07342928"
    assert found["eir_annual"] == "1.34035241"
    # within the ceilings (7.34% < 12% a month from April… and 15% in January)
    assert found["small_loan_ceilings_apply"] is True
    assert found["ceilings_broken"] == []


def test_the_json_types():
    found = ok_json(quote(*BSP))
    for key in ("amount_financed_minor", "finance_charge_minor", "total_of_payments_minor"):
        assert type(found[key]) is int
    for row in found["schedule"]:
        for key in SCHEDULE_KEYS - {"due_date"}:
            assert type(row[key]) is int
        assert (
            row["total_minor"] == row["principal_minor"] + row["interest_minor"] + row["fee_minor"]
        )
    for key in ("eir_per_period", "eir_annual"):
        assert isinstance(found[key], str)
        assert D(found[key]) == D(found[key])  # a plain decimal string: no exponent, no NaN
        assert "E" not in found[key].upper() and not found[key].startswith("-")


@pytest.mark.parametrize("frequency", ["daily", "weekly", "biweekly", "monthly"])
@pytest.mark.parametrize(
    "method", ["declining-equal-installment", "declining-equal-principal", "flat"]
)
@pytest.mark.parametrize("fee_mode", ["deducted", "added"])
def test_every_quote_adds_up(frequency, method, fee_mode):
    found = ok_json(
        quote(*args(frequency=frequency, method=method, fee_mode=fee_mode, term="10", rate="1.5"))
    )
    rows = found["schedule"]
    assert len(rows) == 10
    assert sum(r["principal_minor"] for r in rows) == 1_000_000
    assert sum(r["fee_minor"] for r in rows) == (30_000 if fee_mode == "added" else 0)
    total = sum(r["total_minor"] for r in rows)
    assert found["total_of_payments_minor"] == total
    assert found["amount_financed_minor"] + found["finance_charge_minor"] == total
    assert found["amount_financed_minor"] == (970_000 if fee_mode == "deducted" else 1_000_000)
    assert [r["due_date"] for r in rows] == sorted({r["due_date"] for r in rows})
    # annual = (1 + per period)^(periods per year) − 1, from the 8-place per-period figure
    per = D(found["eir_per_period"])
    n = PERIODS_PER_YEAR[frequency]
    annual = (1 + per) ** n - 1
    # rounding the per-period rate to 8 places moves the annual by at most n(1+r)^(n−1)·5e−9
    slack = n * (1 + per) ** (n - 1) * D("5e-9") + D("1e-8")
    assert abs(D(found["eir_annual"]) - annual) <= slack
    # a fee makes the EIR exceed the 1.5% a period
    assert per > D("0.015")


def test_the_defaults_no_fee_deducted_and_today():
    found = ok_json(
        quote(
            *("--principal", "1000000", "--term", "6", "--frequency", "monthly"),
            *("--method", "declining-equal-installment", "--rate", "2", "--json"),
        )
    )
    assert found["fee_minor"] == 0 and found["fee_mode"] == "deducted"
    assert found["amount_financed_minor"] == 1_000_000
    assert found["finance_charge_minor"] == 71_154
    assert [r["total_minor"] for r in found["schedule"]] == [178_526] * 5 + [178_524]
    assert found["start"]  # the Philippine business day of the run


def test_a_flat_quote_breaks_no_law_to_quote_but_shows_its_cost():
    found = ok_json(quote(*args(method="flat", fee="0", rate="2", term="6")))
    assert found["interest_minor"] == 120_000
    assert D(found["eir_per_period"]) > D("0.033")


def test_a_quote_above_the_ceilings_names_them():
    found = ok_json(quote(*args(rate="10", fee="100000", start="2026-04-01")))
    assert {b["cap"] for b in found["ceilings_broken"]} == {"nominal_rate", "eir"}
    assert all(b["message"] and b["source"] for b in found["ceilings_broken"])
    beyond = ok_json(quote(*args(principal="1000001")))
    assert beyond["small_loan_ceilings_apply"] is False and beyond["ceilings_broken"] == []


def test_a_daily_rate_of_30_percent_compounds_past_40_digits_and_still_prints():
    # (1.3…)^365 − 1 ≈ 10^41: more digits than the solver's 40-digit context.
    found = ok_json(quote(*args(frequency="daily", method="flat", rate="30", term="10", fee="0")))
    assert D(found["eir_annual"]) > D(10) ** 40
    assert "." in found["eir_annual"] and len(found["eir_annual"].split(".")[1]) == 8


def test_the_text_output_for_people():
    plain = [a for a in args(frequency="daily", rate="30", term="10", fee="0") if a != "--json"]
    result = quote(*plain)
    assert result.exit_code == 0, (result.stderr, result.stdout)
    assert "EIR:" in result.stdout and "a year" in result.stdout
    assert "total of payments" in result.stdout


def test_a_zero_rate_loan_has_a_zero_eir_not_a_negative_zero():
    found = ok_json(quote(*args(rate="0", fee="0", principal="10", term="3")))
    assert found["eir_per_period"] == "0.00000000"
    assert found["eir_annual"] == "0.00000000"


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"principal": None}, ["--principal"]),
        ({"term": None}, ["--term"]),
        ({"frequency": None}, ["--frequency"]),
        ({"method": None}, ["--method"]),
        ({"rate": None}, ["--rate"]),
        ({"term": "0"}, ["--term"]),
        ({"term": "1001"}, ["--term"]),
        ({"term": "three"}, ["--term"]),
        ({"principal": "-5"}, ["--principal"]),
        ({"principal": "0"}, ["--principal"]),
        ({"principal": "12.50"}, ["--principal"]),
        ({"principal": "1000000000001"}, ["--principal"]),
        ({"rate": "abc"}, ["--rate"]),
        ({"rate": "5e1"}, ["--rate"]),
        ({"rate": "-1"}, ["--rate"]),
        ({"rate": "101"}, ["--rate"]),
        ({"rate": "1.23456"}, ["--rate"]),
        ({"rate": "６"}, ["--rate"]),
        ({"start": "2026-13-01"}, ["--start", "YYYY-MM-DD"]),
        ({"start": "2026-02-30"}, ["--start"]),
        ({"start": "20260115"}, ["--start"]),
        ({"start": "2026-W03-4"}, ["--start"]),
        ({"start": "tomorrow"}, ["--start"]),
        ({"fee": "1000000"}, ["--fee"]),  # the whole principal, deducted
        ({"fee": "2000000"}, ["--fee"]),
        ({"fee": "-1"}, ["--fee"]),
        ({"fee": "-1", "fee_mode": "added"}, ["--fee"]),
        ({"method": "flat-rate"}, ["--method"]),
        ({"method": "DECLINING"}, ["--method"]),
        ({"frequency": "yearly"}, ["--frequency"]),
        ({"fee_mode": "waived"}, ["--fee-mode"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(changes, words):
    refused(quote(*args(**changes)), *words)


def test_an_unknown_option_is_one_line_and_exit_2():
    refused(quote(*args(), "--collateral", "carabao"), "--collateral")


def test_no_options_at_all_is_one_line():
    refused(quote(), "Missing option")


def test_a_fee_as_large_as_the_principal_may_be_added():
    found = ok_json(quote(*args(fee="1000000", fee_mode="added")))
    assert found["amount_financed_minor"] == 1_000_000
    assert sum(r["fee_minor"] for r in found["schedule"]) == 1_000_000


def test_an_absurd_but_covered_quote_is_quoted_not_crashed():
    result = quote(*args(frequency="daily", term="1", rate="1", fee="999999"))
    found = ok_json(result)
    assert {b["cap"] for b in found["ceilings_broken"]} >= {"eir"}


# --- no database; a real process ----------------------------------------------------------


def test_no_database_is_touched(tmp_path, monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATABASE_URL", f"sqlite:///{tmp_path}/missing/dir/no.db")
    assert ok_json(quote(*BSP))["eir_per_period"] == "0.07342928"
    assert list(tmp_path.iterdir()) == []


def test_a_real_process_in_a_narrow_terminal_fails_in_one_line(tmp_path):
    # One process only: starting the whole CLI takes seconds.
    env = {
        **os.environ,
        "TINDAHAN_DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/no.db",
        "COLUMNS": "40",  # a narrow terminal must not wrap the error into two lines
    }
    bad = subprocess.run(
        [str(TINDAHAN), "loan", "quote", *BSP[:-1], "--method", "balloon"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 2, bad.stderr
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "--method" in lines[0] and "balloon" in lines[0]
    assert "Traceback" not in bad.stderr and bad.stdout == ""
    assert list(tmp_path.iterdir()) == []
