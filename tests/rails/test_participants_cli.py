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
