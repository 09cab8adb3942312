"""``tindahan qr decode`` / ``encode``: the contract outside checks rely on (issue 4)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tindahan import qr
from tindahan.cli.app import app

runner = CliRunner()
STATIC = (
    "00020101021128400011ph.ppmi.p2m0111TINDPHM1XXX0306mer1235204541153036085802PH"
    "5916Aling Nena Store6008Marikina6304368E"
)


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_decode_prints_the_tree_and_exits_0():
    result = invoke("qr", "decode", STATIC)
    assert result.exit_code == 0, result.output
    assert "59 Merchant Name: Aling Nena Store" in result.stdout
    assert "   00 ph.ppmi.p2m" in result.stdout


def test_decode_json_keys_are_ids_and_templates_are_objects():
    result = invoke("qr", "decode", "--json", STATIC)
    assert result.exit_code == 0, result.output
    tree = json.loads(result.stdout)
    assert tree["00"] == "01" and tree["59"] == "Aling Nena Store" and tree["63"] == "368E"
    assert tree["28"] == {"00": "ph.ppmi.p2m", "01": "TINDPHM1XXX", "03": "mer123"}


def test_a_crc_mismatch_exits_2_with_one_line_naming_both_values():
    result = invoke("qr", "decode", STATIC[:-4] + "FFFF")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "63" in lines[0] and "FFFF" in lines[0] and "368E" in lines[0]
    assert result.stdout == ""


@pytest.mark.parametrize(
    "payload",
    ["", "0002", "000201" + "x" * 10_000, "ÄÖÜ garbage ✓", STATIC[:40], "[bold]x"],
)
def test_garbage_is_a_one_line_error_never_a_traceback(payload):
    result = invoke("qr", "decode", payload)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_warnings_go_to_stderr_and_strict_makes_them_errors():
    lenient = qr.serialize(
        {
            "00": "02",
            "01": "11",
            "28": qr.Template({"00": "ph.ppmi.p2m", "01": "TINDPHM1XXX"}),
            "52": "5411",
            "53": "608",
            "58": "PH",
            "59": "Aling Nena",
            "60": "Marikina",
        }
    )
    result = invoke("qr", "decode", lenient)
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr and "00" in result.stderr
    strict = invoke("qr", "decode", "--strict", lenient)
    assert strict.exit_code == 2
    assert len(strict.stderr.strip().splitlines()) == 1


def test_encode_writes_a_code_that_decodes_strictly(tmp_path):
    result = invoke(
        "qr", "encode", "--name", "Kusina ni Lola", "--city", "Marikina", "--mcc", "5812",
        "--acquirer", "TINDPHM1XXX", "--merchant-id", "m42", "--amount", "125.50",
        "--reference", "ORDER-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = result.stdout.strip()
    tree, warnings = qr.decode(payload, strict=True)
    assert warnings == []
    assert tree.objects["54"] == "125.50" and tree.objects["01"] == "12"
    assert qr.summarize(tree).reference == "ORDER-1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amount", "12.345"], "decimal places"),
        (["--amount", "-5"], "54"),
        (["--currency", "999"], "53"),
        (["--format", "gif"], "--format"),
        (["--format", "png"], "--out"),
    ],
)
def test_encode_refuses_bad_input(args, message):
    result = invoke("qr", "encode", "--name", "N", "--city", "C", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_encode_renders_svg_poster_and_png(tmp_path):
    svg = tmp_path / "poster.svg"
    png = tmp_path / "code.png"
    base = ["qr", "encode", "--name", "Aling Nena", "--city", "Marikina"]
    assert invoke(*base, "--format", "svg", "--out", str(svg)).exit_code == 0
    assert invoke(*base, "--format", "png", "--out", str(png)).exit_code == 0
    assert svg.read_text().startswith("<svg") and "Aling Nena</text>" in svg.read_text()
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tip", "01"], {"55": "01"}),
        (["--tip", "02", "--fee-fixed", "5.00"], {"55": "02", "56": "5.00"}),
        (["--tip", "03", "--fee-percent", "2.5"], {"55": "03", "57": "2.50"}),
    ],
)
def test_encode_writes_tip_and_convenience_fees(args, expected):
    result = invoke("qr", "encode", "--name", "N", "--city", "C", *args)
    assert result.exit_code == 0, result.output
    tree, _ = qr.decode(result.stdout.strip(), strict=True)
    assert {k: tree.objects[k] for k in expected} == expected


@pytest.mark.parametrize(
    "args",
    [
        ["--tip", "07"],
        ["--tip", "03", "--fee-percent", "2.555"],
        ["--tip", "01", "--fee-fixed", "5"],
    ],
)
def test_encode_refuses_bad_tips(args):
    result = invoke("qr", "encode", "--name", "N", "--city", "C", *args)
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
