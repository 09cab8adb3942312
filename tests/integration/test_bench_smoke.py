"""The benchmarks' short smoke runs: each ``python -m tindahan.bench.*`` still runs end to end.

The full runs (``make bench-*``) take minutes and stay out of the suite; these run each
engine on a toy size, so a change that breaks a benchmark (or the synthetic loan book it
seeds through ``services.seed.loan_book``) turns the suite red, not the next person's
measurement.
"""

from __future__ import annotations

import json

import pytest

from tindahan.bench import loans, qr, rails, reconcile, sms


def test_the_loan_close_benchmark_builds_a_book_closes_it_and_verifies_the_ledger(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert loans.main(["--loans", "30", "--runs", "1", "--check", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["loans"] == 30
    assert result["verify_ok"] is True
    assert result["last_run"]["loans"] == 30


def test_the_qr_benchmark_encodes_and_decodes(capsys: pytest.CaptureFixture[str]) -> None:
    assert qr.main(["--runs", "1", "--seconds", "0.05", "--size", "5", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)


def test_the_rails_benchmark_builds_and_reads_messages(capsys: pytest.CaptureFixture[str]) -> None:
    assert rails.main(["--runs", "1", "--seconds", "0.05", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result["modes"]) == {
        "build + validate pacs.008",
        "read pacs.008 (parse + validate + extract)",
    }
    assert all(mode["median_per_cpu_second"] > 0 for mode in result["modes"].values())


def test_the_reconcile_benchmark_finds_the_breaks_it_planted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert reconcile.main(["--entries", "300", "--runs", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["entries"], result["breaks"]) == (300, 6)  # 3 amounts changed, 3 missing
    assert reconcile.main(["--entries", "0"]) == 2


def test_the_sms_benchmark_sends_every_message_through_the_local_gateway(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert sms.main(["--messages", "30", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sent"] == 30 and result["all_one_part"] is True
    assert sms.main(["--messages", "0"]) == 2
