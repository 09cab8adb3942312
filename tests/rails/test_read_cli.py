"""``tindahan rails read FILE [--json]``: the contract outside checks rely on (issue 19)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app
from tindahan.rails import ClearingSystem, CreditTransfer, Party
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_uetr

runner = CliRunner()
MESSAGES = Path(__file__).parent / "messages"
KEYS = {
    "uetr",
    "end_to_end_id",
    "amount",
    "currency",
    "debtor_name",
    "creditor_name",
    "status",
    "reason",
}


def read(*args: str | Path):
    return runner.invoke(app, ["rails", "read", *map(str, args)])


def test_json_of_a_message_our_builder_made(tmp_path: Path):
    uetr = new_uetr()
    document = rails_xml.pacs008(
        message_id="IPY-1",
        created_at=datetime(2026, 12, 7, tzinfo=UTC),
        settlement_date=date(2026, 12, 7),
        clearing_system=ClearingSystem.INSTAPAY,
        instructing_agent="TDHNPHM2",
        instructed_agent="PCHCPHM1",
        transfers=[
            CreditTransfer(
                uetr,
                "E2E-1",
                4999999,
                "PHP",
                Party("Aling Nena", "W-1"),
                "TDHNPHM2",
                Party("Nena Reyes", "0012"),
                "BNORPHMM",
            ),
        ],
    )
    path = tmp_path / "out.xml"
    path.write_bytes(document)
    result = read(path, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["message_type"] == "pacs.008.001.08" and body["message_id"] == "IPY-1"
    (row,) = body["transactions"]
    assert row.keys() >= KEYS
    assert row["uetr"] == uetr and row["end_to_end_id"] == "E2E-1"
    assert row["amount"] == "49999.99" and row["currency"] == "PHP"
    assert (row["debtor_name"], row["creditor_name"]) == ("Aling Nena", "Nena Reyes")
    assert row["status"] is None and row["reason"] is None


@pytest.mark.parametrize(
    ("name", "message_type", "expected"),
    [
        (
            "pacs008_pesonet_batch.xml",
            "pacs.008.001.08",
            [("E2E-PAYOUT-1", "75000.00", None, None), ("E2E-PAYOUT-2", "500.25", None, None)],
        ),
        (
            "pacs002_rejected.xml",
            "pacs.002.001.10",
            [("E2E-PAYOUT-1", None, "ACSC", None), ("E2E-PAYOUT-2", "500.25", "RJCT", "AC04")],
        ),
        ("pacs004_return.xml", "pacs.004.001.09", [("E2E-IPY-77", "1250.00", None, "AC01")]),
        ("pacs028_query.xml", "pacs.028.001.03", [("E2E-IPY-77", None, None, None)]),
        (
            "camt053_statement.xml",
            "camt.053.001.08",
            [("E2E-PAYOUT-1", "75000.00", "BOOK", None), (None, "500.00", "BOOK", None)],
        ),
        ("camt054_credit.xml", "camt.054.001.08", [("E2E-IN-5", "999.99", "BOOK", None)]),
    ],
)
def test_json_of_hand_written_messages(name, message_type, expected):
    result = read(MESSAGES / name, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["message_type"] == message_type
    rows = body["transactions"]
    assert all(row.keys() >= KEYS for row in rows)
    assert [(r["end_to_end_id"], r["amount"], r["status"], r["reason"]) for r in rows] == expected


def test_the_text_form_says_it_in_words():
    result = read(MESSAGES / "pacs002_rejected.xml")
    assert result.exit_code == 0, result.output
    assert "pacs.002.001.10" in result.stdout and "STS-20261207-9" in result.stdout
    assert "RJCT (rejected)" in result.stdout
    assert "AC04 (the account is closed)" in result.stdout
    assert "7a1e2b3c-5d6e-4f70-8a9b-0c1d2e3f4a5b" in result.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"not xml at all", "not XML"),
        (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>', "entity declarations"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"/>', "unknown message"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09">'
            b"<PmtRtr/></Document>",
            "schema-invalid",
        ),
    ],
)
def test_a_bad_file_exits_2_with_one_line_naming_the_problem(tmp_path: Path, content, problem):
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    result = read(path, "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {problem}:"), result.stderr


def test_a_missing_file_exits_2(tmp_path: Path):
    result = read(tmp_path / "nope.xml")
    assert result.exit_code == 2 and "cannot read" in result.stderr
