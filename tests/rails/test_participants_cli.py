"""``tindahan rails participants list|add|set``: the operator's directory on the command line."""

from __future__ import annotations

import base64
import json

from typer.testing import CliRunner

from tindahan.cli.app import app

runner = CliRunner()


def test_db_upgrade_seeds_the_directory_and_the_operator_edits_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    url = f"sqlite:///{tmp_path / 'rails.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0

    def cli(*args: str):
        return runner.invoke(app, ["rails", "participants", *args, "--db", url])

    listed = json.loads(cli("list", "--json").stdout)
    assert {row["code"]: row["bic"] for row in listed}["BDO"] == "BNORPHMM"
    result = cli("set", "GCASH", "--inactive", "--pesonet")
    assert result.exit_code == 0, result.output
    gcash = next(row for row in json.loads(cli("list", "--json").stdout) if row["code"] == "GCASH")
    assert (gcash["active"], gcash["pesonet"]) == (False, True)
    added = cli("add", "CARD", "--bic", "CARDPHM2", "--name", "CARD Bank", "--instapay")
    assert added.exit_code == 0 and "CARD" in added.stdout
    bad = cli("add", "BAD", "--bic", "X", "--name", "Bad Bank")
    assert bad.exit_code == 2 and "BIC is 8 or 11" in bad.stderr
    assert cli("set", "NOPE", "--active").exit_code == 2
    assert cli("set", "BDO").exit_code == 2
    # a second upgrade never re-seeds over the operator's edits
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    again = json.loads(cli("list", "--json").stdout)
    assert next(row for row in again if row["code"] == "GCASH")["active"] is False


def test_the_rail_fees_on_the_command_line(tmp_path, monkeypatch):
    """``tindahan rails fees``: shown, set by the operator, refused out of range (exit 2,
    nothing changed) — the same settings the API and the pages read (``rails.fees``)."""
    from tindahan.services.platform import fees

    monkeypatch.setenv("TINDAHAN_DATA_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    url = f"sqlite:///{tmp_path / 'fees.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0

    def cli(*args: str):
        fees.reset_settings_cache()  # each command is its own process in real life
        return runner.invoke(app, ["rails", "fees", *args, "--db", url])

    assert json.loads(cli("--json").stdout) == {
        "instapay_payout_fee_minor": 0,
        "instapay_send_fee_minor": 0,
        "pesonet_payout_fee_minor": 0,
        "pesonet_send_fee_minor": 0,
    }
    done = cli("--instapay-send", "1500", "--pesonet-payout", "2500")
    assert done.exit_code == 0, done.output
    assert "instapay  send    15.00 PHP" in done.stdout
    bad = cli("--instapay-payout", "50001")
    assert bad.exit_code == 2 and "instapay_payout_fee_minor" in bad.stderr
    shown = json.loads(cli("--json").stdout)
    assert (shown["instapay_send_fee_minor"], shown["pesonet_payout_fee_minor"]) == (1500, 2500)
    assert shown["instapay_payout_fee_minor"] == 0
