"""Name screening: the Filipino name normaliser, the UN list and watch list readers (and
what they refuse), and fuzzy matching with the score and the matched entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tindahan.risk import lists
from tindahan.risk.errors import RiskInputError
from tindahan.risk.names import key
from tindahan.risk.screening import Index

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "variants",
    [
        ("Juan dela Cruz", "Juan De La Cruz", "JUAN DELA CRUZ", "Dela Cruz, Juan", "Juan Delacruz"),
        ("Juan P. dela Cruz Jr.", "Juan dela Cruz", "Juan dela Cruz III", "Cruz, Juan de la"),
        ("Ma. Cristina Peña", "Maria Cristina Pena", "MARÍA CRISTINA PEÑA", "Peña, Ma. Cristina"),
        ("Jose Sto. Tomas", "José Santo Tomas", "Sto Tomas, Jose"),
        ("Ana de los Santos", "Ana Delos Santos", "Santos, Ana De Los"),
        ("Luz del Rosario-Reyes", "Luz Del Rosario Reyes"),
    ],
)
def test_variants_of_one_name_normalise_alike(variants: tuple[str, ...]) -> None:
    assert len({key(v) for v in variants}) == 1, [key(v) for v in variants]


def test_different_names_stay_different() -> None:
    assert key("Juan dela Cruz") != key("Juan Cruz")
    assert key("Ana Santos") != key("Ana delos Santos")
    assert key("Ma. Santos") == key("Maria Santos") != key("Mario Santos")


def test_the_un_list_reads_individuals_entities_and_aliases() -> None:
    entries = lists.load_un(DATA / "consolidated.xml")
    assert [(e.ref, e.kind) for e in entries] == [
        ("QDi.900", "individual"),
        ("QDi.901", "individual"),
        ("KPe.900", "entity"),
    ]
    assert entries[0].names == ("JUAN SANTOS DELA CRUZ", "Abu Juan", "Johnny Delacruz")
    assert entries[1].names == ("MOHAMAD ALI",)  # an empty alias is no name


@pytest.fixture(scope="module")
def index() -> Index:
    watch = lists.parse_watchlist(
        ["id,name,aliases,kind", "w1,Pedro Penduko,Pedring Penduko;P. Penduko,individual"],
        "watch.csv",
    )
    return Index([*lists.load_un(DATA / "consolidated.xml"), *watch])


@pytest.mark.parametrize(
    ("name", "ref", "at_least"),
    [
        ("Juan Santos De La Cruz", "QDi.900", 100),  # particles and case
        ("Cruz, Juan Santos dela", "QDi.900", 100),  # order
        ("Juan dela Cruz", "QDi.900", 100),  # a middle name omitted
        ("Johnny De La Cruz", "QDi.900", 100),  # an alias
        ("Muhammad Ali", "QDi.901", 85),  # transliteration
        ("Santo Niño Trading Corp", "KPe.900", 85),  # Sto./Santo, ñ, an entity
        ("Pedro Penduko Jr.", "w1", 100),  # the watch list, a suffix
    ],
)
def test_screening_finds_the_entry_with_a_score(
    index: Index, name: str, ref: str, at_least: int
) -> None:
    matches = index.screen(name)
    assert matches, name
    assert matches[0].entry.ref == ref
    assert matches[0].score >= at_least
    assert matches[0].name in matches[0].entry.names


@pytest.mark.parametrize("name", ["Pedro dela Cruz", "Maria Santos", "Juan", "Ali", ""])
def test_other_people_are_not_hits(index: Index, name: str) -> None:
    assert index.screen(name) == []


HEADER = '<?xml version="1.0"?>\n'


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (
            HEADER + '<!DOCTYPE x [<!ENTITY a "aaaa">]><CONSOLIDATED_LIST>&a;</CONSOLIDATED_LIST>',
            "refused: DTDForbidden",
        ),
        (
            HEADER + '<!DOCTYPE x SYSTEM "file:///etc/passwd"><CONSOLIDATED_LIST/>',
            "refused: DTDForbidden",
        ),
        (HEADER + "<CONSOLIDATED_LIST><INDIVIDUALS>", "not well-formed XML"),
        (HEADER + "<SDN_LIST/>", "the root element is <SDN_LIST>"),
        (
            HEADER + "<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>A</FIRST_NAME>"
            "</INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>",
            "<INDIVIDUAL> #1: no <DATAID>",
        ),
        (
            HEADER + "<CONSOLIDATED_LIST><ENTITIES><ENTITY><DATAID>7</DATAID></ENTITY>"
            "</ENTITIES></CONSOLIDATED_LIST>",
            "<ENTITY> #1 (DATAID 7): no <FIRST_NAME>",
        ),
    ],
)
def test_a_bad_un_file_is_refused_whole(xml: str, message: str) -> None:
    with pytest.raises(RiskInputError) as caught:
        lists.parse_un(xml.encode(), "consolidated.xml")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "empty file"),
        (["id,fullname", "1,A"], "line 1: missing column 'name'"),
        (["id,name", "1,Ana", "1,Ben"], "line 3: id: '1' appears twice"),
        (["id,name", "1,"], "line 2: name: empty"),
        (["id,name,kind", "1,Ana,robot"], "line 2: kind: 'robot'"),
    ],
)
def test_a_bad_watch_list_is_refused_whole(lines: list[str], message: str) -> None:
    with pytest.raises(RiskInputError) as caught:
        lists.parse_watchlist(lines, "watch.csv")
    assert message in str(caught.value)


def test_a_missing_list_file(tmp_path: Path) -> None:
    with pytest.raises(RiskInputError, match="cannot read"):
        lists.load_un(tmp_path / "none.xml")


def test_the_screen_command(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from tindahan.cli.app import app

    runner = CliRunner()
    watch = tmp_path / "watch.csv"
    watch.write_text("id,name\nw9,Pedro Penduko\n")
    un = str(DATA / "consolidated.xml")
    result = runner.invoke(
        app, ["risk", "screen", "Dela Cruz, Juan", "--un", un, "--watchlist", str(watch), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["matches"][0] == {
        "source": "un",
        "ref": "QDi.900",
        "kind": "individual",
        "matched": "JUAN SANTOS DELA CRUZ",
        "score": 100,
    }
    bad = tmp_path / "bad.xml"
    bad.write_text('<!DOCTYPE x [<!ENTITY a "b">]><CONSOLIDATED_LIST/>')
    refused = runner.invoke(app, ["risk", "screen", "Juan", "--un", str(bad)])
    assert refused.exit_code == 2 and "DTDForbidden" in refused.stderr and refused.stdout == ""
    assert runner.invoke(app, ["risk", "screen", "Juan"]).exit_code == 2


def test_the_screening_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from tindahan.bench import screening

    assert screening.main(["--entries", "200", "--queries", "20", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["entries"] == 200 and result["with_a_hit"] >= 10
