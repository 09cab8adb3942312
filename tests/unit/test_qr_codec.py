"""The EMVCo MPM / QR Ph codec: CRC, parsing, reject rules, warnings vs strict, QR Ph, encode.

Hand-built payloads get their CRC from ``crc_text``, which is first checked against the
CRC-16/CCITT-FALSE check value and against published payloads whose CRC is printed with them:
the EMVCo MPM 1.1 specification's example (with Chinese text in template 64) and two QR Ph
person-to-person examples from PayMongo's developer reference.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.profiles import examples
from tindahan.qr import (
    MAX_PAYLOAD_CHARS,
    AccountTemplate,
    AdditionalData,
    QrDescription,
    QrError,
    Template,
    crc16,
    crc_text,
    decode,
    describe,
    encode,
    serialize,
    summarize,
)
from tindahan.qr.crc import crc16_reference
from tindahan.qr.encode import TipIndicator
from tindahan.qr.validate import parse_amount

EMVCO_EXAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN"
    "5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.72530315655020162"
    "33030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A"
)
PAYMONGO_P2P_DYNAMIC = (
    "00020101021227770012com.p2pqrpay0111PAEYPHM2XXX02089996440304129858893861530514+63-9913729861"
    "5204601653036085406123.455802PH5913ENG-19818-ged6006Manila62980012com.p2pqrpay0103***0214"
    "+63-99137298620303***0408LOYALTY10506test120605cust10708123456780803***6304ED03"
)
PAYMONGO_P2P_STATIC = (
    "00020101021127580012com.p2pqrpay0111SRCPPHM2XXX0208999644030411092661440425204601653036085802"
    "PH5905Miaaa6006Laguna6104402862570008102320230203***0403***0508102320230708123456780803***"
    "6304C369"
)
PUBLISHED = [EMVCO_EXAMPLE, PAYMONGO_P2P_DYNAMIC, PAYMONGO_P2P_STATIC]


def tlv(object_id: str, value: str) -> str:
    return f"{object_id}{len(value):02d}{value}"


def with_crc(body: str) -> str:
    """Append a correct CRC object to ``body``."""
    return body + "6304" + crc_text(body + "6304")


P2M_ACCOUNT = tlv("00", "ph.ppmi.p2m") + tlv("01", "RCBCPHMMXXX") + tlv("03", "000600788000696")
BASE_OBJECTS: list[tuple[str, str]] = [
    ("00", "01"),
    ("01", "12"),
    ("28", P2M_ACCOUNT),
    ("52", "5411"),
    ("53", "608"),
    ("54", "12.50"),
    ("58", "PH"),
    ("59", "Aling Nena Store"),
    ("60", "Quezon City"),
    ("62", tlv("05", "INV-0001")),
]


def build(
    replace: dict[str, str | None] | None = None,
    extra: tuple[tuple[str, str], ...] | list[tuple[str, str]] = (),
) -> str:
    """The base P2M payload with objects replaced (None removes) or appended, CRC fixed."""
    replace = replace or {}
    objects = [(k, replace.get(k, v)) for k, v in BASE_OBJECTS]
    body = "".join(tlv(k, v) for k, v in [*objects, *extra] if v is not None)
    return with_crc(body)


VALID = build()


# --- CRC -------------------------------------------------------------------------------------


def test_crc_check_value() -> None:
    assert crc16(b"123456789") == 0x29B1
    assert crc16(b"") == 0xFFFF


@pytest.mark.parametrize("payload", PUBLISHED)
def test_crc_matches_published_payloads(payload: str) -> None:
    assert crc_text(payload[:-4]) == payload[-4:]


@settings(max_examples=examples(300), deadline=None)
@given(st.binary(max_size=600))
def test_crc_fast_path_matches_reference(data: bytes) -> None:
    assert crc16(data) == crc16_reference(data)


def test_crc_reference_check_value() -> None:
    assert crc16_reference(b"123456789") == 0x29B1


def test_crc_is_over_utf8_bytes_not_characters() -> None:
    assert crc_text("最佳6304") == f"{crc16('最佳6304'.encode()):04X}"


# --- decoding real payloads ------------------------------------------------------------------


def test_decodes_emvco_example_with_character_lengths() -> None:
    tree, warnings = decode(EMVCO_EXAMPLE, strict=True)
    assert warnings == []
    assert tree.objects["64"] == Template({"00": "ZH", "01": "最佳运输", "02": "北京"})
    assert tree.objects["29"] == Template({"00": "D15600000000", "05": "A93FO3230Q"})
    assert tree.objects["91"] == Template({"00": "A011223344998877", "07": "12345678"})
    assert tree.text("54") == "23.72"
    assert list(tree.objects)[-1] == "63"
    summary = summarize(tree)
    assert summary.kind == "other"
    assert summary.amount_minor == 2372
    assert summary.currency == "156"


def test_decodes_qr_ph_p2p_dynamic() -> None:
    tree, warnings = decode(PAYMONGO_P2P_DYNAMIC, strict=True)
    assert warnings == []
    summary = summarize(tree)
    assert summary.kind == "p2p"
    assert summary.template_id == "27"
    assert summary.guid == "com.p2pqrpay"
    assert summary.acquirer == "PAEYPHM2XXX"
    assert summary.account == "985889386153"
    assert summary.mobile == "+63-9913729861"
    assert summary.amount_minor == 12345
    assert (summary.currency, summary.name, summary.city) == ("608", "ENG-19818-ged", "Manila")
    assert summary.reference == "test12"


def test_decodes_qr_ph_p2p_static() -> None:
    tree, _ = decode(PAYMONGO_P2P_STATIC)
    summary = summarize(tree)
    assert (summary.kind, summary.account, summary.amount_minor) == ("p2p", "09266144042", None)
    assert tree.text("61") == "4028"


def test_decodes_qr_ph_p2m() -> None:
    tree, warnings = decode(VALID, strict=True)
    assert warnings == []
    summary = summarize(tree)
    assert summary.kind == "p2m"
    assert (summary.acquirer, summary.merchant_id) == ("RCBCPHMMXXX", "000600788000696")
    assert summary.amount_minor == 1250
    assert summary.reference == "INV-0001"


def test_p2micro_and_upper_case_guid_are_p2m() -> None:
    account = tlv("00", "PH.PPMI.P2MICRO") + tlv("01", "BNORPHMMXXX") + tlv("03", "M1")
    assert summarize(decode(build({"28": account}))[0]).kind == "p2m"


def test_routes_on_guid_not_on_template_id() -> None:
    moved = build({"28": None}, extra=[("45", P2M_ACCOUNT)])
    summary = summarize(decode(moved)[0])
    assert (summary.kind, summary.template_id) == ("p2m", "45")
    foreign = build({"28": tlv("00", "br.gov.bcb.pix") + tlv("01", "key@example.com")})
    summary = summarize(decode(foreign)[0])
    assert (summary.kind, summary.merchant_id, summary.acquirer) == ("other", None, None)


def test_p2m_preferred_over_p2p_when_both_present() -> None:
    p2p = tlv("00", "com.p2pqrpay") + tlv("01", "PAEYPHM2XXX") + tlv("04", "1234")
    payload = build(extra=[("27", p2p)])  # 27 after 62 is out of order but legal
    summary = summarize(decode(payload)[0])
    assert summary.kind == "p2m"


# --- always rejected -------------------------------------------------------------------------


def rejected(payload: str) -> QrError:
    with pytest.raises(QrError) as caught:
        decode(payload)
    return caught.value


def test_crc_mismatch_names_both_values() -> None:
    bad = VALID[:-4] + ("0000" if VALID[-4:] != "0000" else "1111")
    error = rejected(bad)
    assert error.tag == "63"
    assert bad[-4:] in error.message and VALID[-4:] in error.message
    assert error.offset == len(VALID) - 8


def test_crc_must_be_upper_case_hex() -> None:
    lowered = VALID[:-4] + VALID[-4:].lower()
    assert lowered != VALID  # the fixture's CRC has a letter in it
    assert rejected(lowered).tag == "63"
    assert rejected(VALID[:-4] + "12G4").tag == "63"


def test_tampered_value_fails_crc() -> None:
    assert "CRC mismatch" in rejected(VALID.replace("12.50", "92.50")).message


@pytest.mark.parametrize(
    ("payload", "tag", "words"),
    [
        ("", None, "empty"),
        ("0" * (MAX_PAYLOAD_CHARS + 1), None, "at most 512"),
        (with_crc("000201" + "5299" + "5411"), "52", "runs past the end"),
        (with_crc("000201" + "52A45411"), "52", "length must be two digits"),
        (with_crc("000201" + "5X045411"), None, "id must be two digits"),
        (with_crc("000201" + "52045411" + "52045411"), "52", "twice"),
        (with_crc("000201" + "28" + "16" + "0004abcd0004abcd"), "28.00", "twice"),
        (with_crc("000201" + "28" + "08" + "0010abcd"), "28.00", "runs past the end"),
        (with_crc("000201" + "28" + "05" + "00021"), "28.00", "runs past the end"),
        (with_crc("000201" + "28" + "03" + "000"), "28", "truncated"),
        (with_crc("52045411" + "000201"), "52", "00 must come first"),
        ("000201" + "6304ABCD" + "52045411", "52", "63 must come last"),
        ("000201" + "630", None, "truncated"),
        ("000201" + "6303ABC", "63", "4 upper-case hex"),
        ("0002", "00", "runs past the end"),
        ("00", None, "truncated"),
        ("00020163", None, "truncated"),
        ("０００２０１", None, "id must be two digits"),
        ("00²201", "00", "length must be two digits"),
    ],
)
def test_structural_rejects(payload: str, tag: str | None, words: str) -> None:
    error = rejected(payload)
    assert error.tag == tag
    assert words in error.message


def test_truncated_valid_payload_is_rejected() -> None:
    for cut in range(len(VALID)):
        rejected(VALID[:cut])


def test_huge_string_is_rejected_quickly() -> None:
    assert "at most" in rejected("0" * 10_000).message


def test_unencodable_text_is_qr_error() -> None:
    body = "000201" + tlv("59", "\ud800") + "6304"
    assert "UTF-8" in rejected(body + "0000").message


def test_error_text_is_one_line_with_tag_and_offset() -> None:
    error = rejected(with_crc("000201" + "5299" + "5411"))
    assert str(error) == f"tag 52 at offset 6: {error.message}"
    assert "\n" not in str(error)
    assert isinstance(error, ValueError)


# --- warnings vs strict ----------------------------------------------------------------------


def strict_error(payload: str) -> QrError:
    with pytest.raises(QrError) as caught:
        decode(payload, strict=True)
    return caught.value


@pytest.mark.parametrize(
    ("payload", "tag"),
    [
        (build({"00": "02"}), "00"),
        (build({"52": None}), "52"),
        (build({"59": None}), "59"),
        (build({"60": None}), "60"),
        (build({"54": "00.00"}), "54"),
        (build({"59": "N" * 26}), "59"),
        (build({"60": "C" * 16}), "60"),
        (build({"01": "13"}), "01"),
    ],
)
def test_tolerated_deviations_warn_and_strict_refuses(payload: str, tag: str) -> None:
    tree, warnings = decode(payload)
    assert tag in [w.tag for w in warnings]
    assert all(str(w) for w in warnings)
    assert strict_error(payload).tag == tag
    assert tree.text("53") == "608"


@pytest.mark.parametrize(
    ("payload", "tag", "words"),
    [
        (build({"53": None}), "53", "missing"),
        (build({"58": None}), "58", "missing"),
        (build({"28": None}), None, "merchant account information"),
        (build({"28": tlv("01", "RCBCPHMMXXX")}), "28.00", "globally unique identifier"),
        (build({"28": tlv("00", "x" * 33)}), "28.00", "at most 32"),
        (build({"59": "Tindahan ñi Aling"}), "59", "printable ASCII"),
        (build({"59": "Line\tbreak"}), "59", "printable ASCII"),
        (build({"59": ""}), "59", "empty"),
        (build(extra=[("61", "12345678901")]), "61", "at most 10"),
        (build({"54": "12345678901.50"}), "54", "at most 13"),
        (build({"54": "12.345"}), "54", "decimals"),
        (build({"54": "-5"}), "54", "digits"),
        (build({"54": "+5.00"}), "54", "digits"),
        (build({"54": "1.2.3"}), "54", "digits"),
        (build({"54": "1e3"}), "54", "digits"),
        (build({"54": "."}), "54", "digits"),
        (build({"54": "0"}), "54", "zero"),
        (build({"53": "60"}), "53", "3-digit"),
        (build({"53": "PHP"}), "53", "3-digit"),
        (build({"58": "ph"}), "58", "2-letter"),
        (build({"58": "PHL"}), "58", "2-letter"),
        (build({"52": "54A1"}), "52", "4-digit"),
        (build(extra=[("55", "04")]), "55", "'01', '02' or '03'"),
        (build(extra=[("55", "02")]), "56", "required"),
        (build(extra=[("55", "03")]), "57", "required"),
        (build(extra=[("55", "01"), ("56", "5.00")]), "56", "only with"),
        (build(extra=[("56", "5.00")]), "56", "only with"),
        (build(extra=[("55", "02"), ("56", "1.00"), ("57", "5")]), "57", "only with"),
        (build(extra=[("55", "02"), ("56", "0.00")]), "56", "zero"),
        (build(extra=[("55", "03"), ("57", "100")]), "57", "between"),
        (build(extra=[("55", "03"), ("57", "100.00")]), "57", "at most 5"),
        (build({"62": tlv("01", "B" * 26)}), "62.01", "at most 25"),
        (build({"62": ""}), "62", "must not be empty"),
        (build(extra=[("70", "x")]), "70", "reserved"),
        (build(extra=[("64", tlv("00", "ZH"))]), "64.01", "missing"),
        (build(extra=[("80", tlv("01", "x"))]), "80.00", "globally unique identifier"),
    ],
)
def test_strict_rejects(payload: str, tag: str | None, words: str) -> None:
    decode(payload)  # structurally fine: tolerant reading never raises for these
    error = strict_error(payload)
    assert error.tag == tag
    assert words in error.message


def test_strict_accepts_fees_and_language_template() -> None:
    lang = tlv("00", "TL") + tlv("01", "Tindahan ni Aling Ñena") + tlv("02", "Lungsod Quezon")
    fixed = build(extra=[("55", "02"), ("56", "5.00"), ("64", lang)])
    percentage = build(extra=[("55", "03"), ("57", "2.5")])
    prompted = build(extra=[("55", "01")])
    for payload in (fixed, percentage, prompted):
        assert decode(payload, strict=True)[1] == []


def test_strict_accepts_card_scheme_account_ids() -> None:
    visa_only = build({"28": None}, extra=[("02", "4000123412341234")])
    decode(visa_only, strict=True)


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "exponent", "minor"),
    [
        ("12.50", 2, 1250),
        ("12.5", 2, 1250),
        ("12", 2, 1200),
        ("12.", 2, 1200),
        (".5", 2, 50),
        ("0.01", 2, 1),
        ("1000", 0, 1000),
        ("1.234", 3, 1234),
        ("9999999999.99", 2, 999999999999),
    ],
)
def test_amounts_parse_exactly_to_minor_units(text: str, exponent: int, minor: int) -> None:
    assert parse_amount(text, exponent, tag="54", offset=None) == minor


@pytest.mark.parametrize("text", ["12.345", "-5", "1,000", " 5", "5 ", "1.2.3", "", ".", "1e2"])
def test_bad_amounts_are_qr_errors(text: str) -> None:
    with pytest.raises(QrError):
        parse_amount(text, 2, tag="54", offset=None)


# --- encoding --------------------------------------------------------------------------------

P2M = AccountTemplate("28", "ph.ppmi.p2m", {"01": "TNDHPHM2XXX", "03": "M-000123"})
STATIC = QrDescription(accounts=(P2M,), mcc="5411", name="Sari-Sari ni Nena", city="Iloilo")


def test_encode_static_p2m() -> None:
    text = encode(STATIC)
    tree, warnings = decode(text, strict=True)
    assert warnings == []
    assert tree.text("01") == "11"
    assert "54" not in tree.objects
    assert list(tree.objects) == ["00", "01", "28", "52", "53", "58", "59", "60", "63"]
    assert tree.template("28") == Template(
        {"00": "ph.ppmi.p2m", "01": "TNDHPHM2XXX", "03": "M-000123"}
    )
    assert describe(tree) == STATIC


def test_encode_dynamic_with_additional_data_is_canonical() -> None:
    description = QrDescription(
        accounts=(P2M,),
        mcc="5812",
        name="Carinderia",
        city="Cebu",
        amount_minor=1250,
        tip="02",
        fee_fixed_minor=500,
        postal_code="6000",
        additional=AdditionalData(
            guid="ph.ppmi.qrph",
            bill_number="B1",
            reference_label="REF-9",
            terminal_label="T1",
            purpose="lunch",
        ),
    )
    text = encode(description)
    tree, _ = decode(text, strict=True)
    assert tree.text("54") == "12.50"
    assert tree.text("56") == "5.00"
    assert tree.template("62") == Template(
        {"00": "ph.ppmi.qrph", "01": "B1", "05": "REF-9", "07": "T1", "08": "lunch"}
    )
    assert list(tree.objects) == sorted(tree.objects)
    assert describe(tree) == description
    assert summarize(tree).reference == "REF-9"


def test_serialize_is_inverse_of_parse_for_published_payloads() -> None:
    for payload in PUBLISHED:
        tree, _ = decode(payload)
        assert serialize(tree.objects) == payload


@pytest.mark.parametrize(
    "change",
    [
        {"name": "N" * 26},
        {"name": ""},
        {"name": "Ñena"},
        {"city": "C" * 16},
        {"mcc": "541"},
        {"currency": "999"},
        {"country": "Philippines"},
        {"amount_minor": 0},
        {"amount_minor": -5},
        {"amount_minor": 10**13},
        {"tip": "02"},
        {"tip": "03", "fee_fixed_minor": 100},
        {"fee_percentage_hundredths": 500},
        {"tip": "03", "fee_percentage_hundredths": 100_00},
        {"postal_code": "12345678901"},
        {"accounts": ()},
        {"accounts": (AccountTemplate("25", "ph.ppmi.p2m"),)},
        {"accounts": (P2M, P2M)},
        {"accounts": (AccountTemplate("28", "ph.ppmi.p2m", {"00": "x"}),)},
        {"accounts": (AccountTemplate("28", "ph.ppmi.p2m", {"1": "x"}),)},
        {"accounts": (AccountTemplate("28", "ph.ppmi.p2m", {"01": "x" * 100}),)},
        {"additional": AdditionalData()},
        {"additional": AdditionalData(reference_label="R" * 26)},
    ],
)
def test_encode_refuses_invalid_descriptions(change: dict[str, object]) -> None:
    with pytest.raises(QrError):
        encode(replace(STATIC, **change))  # type: ignore[arg-type]


# --- properties ------------------------------------------------------------------------------

ANS = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def ans(max_size: int) -> st.SearchStrategy[str]:
    return st.text(ANS, min_size=1, max_size=max_size)


@st.composite
def accounts(draw: st.DrawFn) -> tuple[AccountTemplate, ...]:
    ids = draw(st.lists(st.integers(26, 51), min_size=1, max_size=2, unique=True))
    made = []
    for n in sorted(ids):
        subs = draw(
            st.dictionaries(st.integers(1, 99).map(lambda i: f"{i:02d}"), ans(20), max_size=3)
        )
        guid = draw(st.sampled_from(["ph.ppmi.p2m", "ph.ppmi.p2micro", "com.p2pqrpay"]) | ans(32))
        made.append(AccountTemplate(f"{n:02d}", guid, dict(sorted(subs.items()))))
    return tuple(made)


@st.composite
def additional_data(draw: st.DrawFn) -> AdditionalData:
    names = [
        "guid",
        "bill_number",
        "mobile_number",
        "store_label",
        "loyalty_number",
        "reference_label",
        "customer_label",
        "terminal_label",
        "purpose",
    ]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True))
    return AdditionalData(**{name: draw(ans(25)) for name in chosen})


@st.composite
def descriptions(draw: st.DrawFn) -> QrDescription:
    tip: TipIndicator | None = draw(st.sampled_from([None, "01", "02", "03"]))
    currency = draw(st.sampled_from(["608", "608", "840", "392", "048"]))
    return QrDescription(
        accounts=draw(accounts()),
        mcc=draw(st.from_regex(r"\A[0-9]{4}\Z")),
        name=draw(ans(25)),
        city=draw(ans(15)),
        currency=currency,
        country=draw(st.sampled_from(["PH", "SG", "US", "JP"])),
        amount_minor=draw(st.none() | st.integers(1, 10**9)),
        tip=tip,
        fee_fixed_minor=draw(st.integers(1, 10**6)) if tip == "02" else None,
        fee_percentage_hundredths=draw(st.integers(1, 9999)) if tip == "03" else None,
        postal_code=draw(st.none() | ans(10)),
        additional=draw(st.none() | additional_data()),
    )


@settings(max_examples=examples(400), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(descriptions())
def test_round_trip_decode_encode(description: QrDescription) -> None:
    text = encode(description)
    tree, warnings = decode(text, strict=True)
    assert warnings == []
    assert describe(tree) == description
    assert decode(text)[1] == []


VALID_SAMPLES = [VALID, *PUBLISHED, encode(STATIC)]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(VALID_SAMPLES))
    kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "fix_crc"]))
    at = draw(st.integers(0, len(base)))
    char = draw(st.characters())
    if kind == "truncate":
        return base[:at]
    if kind == "flip":
        return base[:at] + char + base[at + 1 :]
    if kind == "insert":
        return base[:at] + draw(st.text(max_size=8)) + base[at:]
    if kind == "delete":
        return base[:at] + base[at + draw(st.integers(1, 8)) :]
    body = base[:-8]  # mutate, then repair the CRC so deeper checks run
    body = body[:at] + draw(st.text(st.characters(max_codepoint=0x7F), max_size=6)) + body[at:]
    return with_crc(body)


FUZZ = (
    st.text()
    | st.text(st.sampled_from("0123456789ABCDEF."), max_size=600)
    | st.text(min_size=400, max_size=4000)
    | mutated()
)


@pytest.mark.slow
@settings(max_examples=examples(3000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FUZZ, st.booleans())
def test_fuzz_only_qr_error_escapes(payload: str, strict: bool) -> None:
    try:
        tree, _ = decode(payload, strict=strict)
    except QrError as error:
        assert str(error)
        return
    try:
        summarize(tree)
        describe(tree)
    except QrError:
        pass
