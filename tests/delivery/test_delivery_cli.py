"""``tindahan delivery``: rate cards set from a file, shown, refused by field; the zone
between two barangays."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.delivery.test_checkout_couriers import JNT
from tindahan.cli.app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


def test_rate_cards_from_a_file(db, db_url: str, tmp_path: Path):
    card = tmp_path / "jnt.json"
    card.write_text(json.dumps(JNT), encoding="utf-8")
    made = runner.invoke(
        app, ["delivery", "rates", "set", "jnt", "--file", str(card), "--db", db_url]
    )
    assert made.exit_code == 0, made.output
    assert "metro_manila: 1-3 days" in made.output
    shown = runner.invoke(app, ["delivery", "rates", "show", "jnt", "--db", db_url, "--json"])
    assert json.loads(shown.output)["zones"]["metro_manila"]["tiers"][0]["fee_minor"] == 8_500

    card.write_text(json.dumps({**JNT, "cod_bps": -1}), encoding="utf-8")
    bad = runner.invoke(
        app, ["delivery", "rates", "set", "jnt", "--file", str(card), "--db", db_url]
    )
    assert bad.exit_code == 2 and "cod_bps" in bad.output
    card.write_text("{not json", encoding="utf-8")
    broken = runner.invoke(
        app, ["delivery", "rates", "set", "jnt", "--file", str(card), "--db", db_url]
    )
    assert broken.exit_code == 2 and "not JSON" in broken.output
    listed = runner.invoke(app, ["delivery", "rates", "list", "--db", db_url, "--json"])
    assert [c["cod_bps"] for c in json.loads(listed.output)] == [275]  # unchanged
    missing = runner.invoke(app, ["delivery", "rates", "show", "lbc", "--db", db_url])
    assert missing.exit_code == 2 and "no such courier" in missing.output


def test_zone_between_two_barangays():
    found = runner.invoke(app, ["delivery", "zone", "1381300001", "1380700005"])
    assert found.exit_code == 0, found.output
    assert found.output.startswith("metro_manila: Alicia, Quezon City")
    bad = runner.invoke(app, ["delivery", "zone", "1381300001", "0000000000"])
    assert bad.exit_code == 2 and "destination" in bad.output


def test_history_imported_from_a_file_once(db, db_url: str, tmp_path: Path):
    from tindahan.delivery import history, simulate

    events = tmp_path / "events.csv"
    with events.open("w", encoding="utf-8", newline="") as f:
        history.write_csv(simulate.simulate(60, seed=2).shipments, f)
    storms = tmp_path / "storms.csv"
    storms.write_text("area_psgc,day\n0500500000,2025-10-11\n", encoding="utf-8")
    args = ["delivery", "history", "import", "--events", str(events), "--db", db_url]
    made = runner.invoke(app, [*args, "--advisories", str(storms)])
    assert made.exit_code == 0, made.output
    assert "60 shipments added" in made.output
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "already in the history" in again.output


@pytest.mark.parametrize("command", [["evaluate"], ["history", "import"]])
def test_an_unreadable_shipments_file_is_refused_by_both_commands(tmp_path: Path, command):
    """`evaluate` and `history import` read the shipments' CSV through one helper: a missing
    file and one that is not UTF-8 are each a one-line refusal, exit 2."""
    missing = tmp_path / "no.csv"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("shipment_id\nPiñas\n".encode("latin-1"))
    for path, message in ((missing, "cannot read"), (latin, "is not UTF-8 text")):
        args = ["delivery", *command, "--events", str(path)]
        if command != ["evaluate"]:
            args += ["--db", f"sqlite:///{tmp_path / 'none.db'}"]
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.output
        assert "Traceback" not in result.output
