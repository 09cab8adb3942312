"""ISO 20022 messages: what we build validates and reads back; hostile input is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from tindahan.rails import (
    ClearingSystem,
    CreditTransfer,
    Entry,
    MessageError,
    MessageType,
    Party,
    PaymentReturn,
    Problem,
    RecallAnswer,
    RecallRequest,
    StatusAnswer,
    StatusQuery,
)
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import is_uetr, new_reference, new_uetr
from tindahan.rails.reasons import REASONS, reason_words, status_words
from tindahan.rails.xml import schemas

MESSAGES = Path(__file__).parent / "messages"
SHARED = Path(__file__).resolve().parents[3] / "shared" / "iso20022"
NOW = datetime(2026, 12, 7, 1, 2, 3, 456000, tzinfo=UTC)
TODAY = date(2026, 12, 7)


def transfer(amount_minor: int = 123450, **changes: object) -> CreditTransfer:
    fields: dict[str, object] = {
        "uetr": new_uetr(),
        "end_to_end_id": new_reference("E"),
        "amount_minor": amount_minor,
        "currency": "PHP",
        "debtor": Party("Aling Nena Store", "W-100200"),
        "debtor_agent": "TDHNPHM2XXX",
        "creditor": Party("Nena Reyes", "001234567890"),
        "creditor_agent": "BNORPHMM",
        "remittance": "payout",
    }
    fields.update(changes)
    return CreditTransfer(**fields)  # type: ignore[arg-type]


def pacs008(*transfers: CreditTransfer, system: ClearingSystem = ClearingSystem.INSTAPAY) -> bytes:
    return rails_xml.pacs008(
        message_id="M-1",
        created_at=NOW,
        settlement_date=TODAY,
        clearing_system=system,
        instructing_agent="TDHNPHM2",
        instructed_agent="PCHCPHM1",
        transfers=list(transfers),
    )


def test_a_built_pacs008_holds_the_rules_and_validates_against_the_schema():
    item = transfer(123450)
    document = pacs008(item)
    root = etree.fromstring(document)
    ns = {"d": MessageType.PACS_008.namespace}
    assert root.findtext("d:FIToFICstmrCdtTrf/d:CdtTrfTxInf/d:ChrgBr", namespaces=ns) == "SLEV"
    amount = root.find("d:FIToFICstmrCdtTrf/d:CdtTrfTxInf/d:IntrBkSttlmAmt", namespaces=ns)
    assert amount is not None and amount.text == "1234.50" and amount.get("Ccy") == "PHP"
    group = "d:FIToFICstmrCdtTrf/d:GrpHdr/d:SttlmInf/"
    assert root.findtext(group + "d:SttlmMtd", namespaces=ns) == "CLRG"
    assert root.findtext(group + "d:ClrSys/d:Prtry", namespaces=ns) == "INSTAPAY"
    assert is_uetr(item.uetr) and item.uetr == item.uetr.lower()
    assert schemas.schema(MessageType.PACS_008).validate(root)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared ISO 20022 schemas are not beside")
def test_the_shipped_schemas_are_the_shared_ones_unmodified():
    shipped = Path(schemas.__file__).parent / "schemas"
    for source in SHARED.glob("*.xsd"):
        assert (shipped / source.name).read_bytes() == source.read_bytes(), source.name


amounts = st.integers(min_value=1, max_value=10**15)
names = st.text(
    alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs")), min_size=1, max_size=40
).filter(lambda text: text.strip() == text)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(amounts, names, names), min_size=1, max_size=5))
def test_any_batch_we_build_reads_back_to_the_same_transfers(rows):
    transfers = [
        transfer(minor, debtor=Party(debtor), creditor=Party(creditor, "123"))
        for minor, debtor, creditor in rows
    ]
    message = rails_xml.read(pacs008(*transfers, system=ClearingSystem.PESONET))
    assert message.message_type is MessageType.PACS_008
    assert message.clearing_system == "PESONET"
    assert [
        (t.uetr, t.end_to_end_id, t.amount_minor, t.debtor, t.creditor)
        for t in message.transactions
    ] == [(t.uetr, t.end_to_end_id, t.amount_minor, t.debtor, t.creditor) for t in transfers]


def test_the_answers_and_reports_we_build_read_back():
    item = transfer(5000_00)
    answer = StatusAnswer("M-1", item.uetr, item.end_to_end_id, "RJCT", "AC01", "no such account")
    status = rails_xml.read(rails_xml.pacs002(message_id="S", created_at=NOW, answers=[answer]))
    row = status.transactions[0]
    assert (row.uetr, row.status, row.reason, row.note, row.original_message_id) == (
        item.uetr,
        "RJCT",
        "AC01",
        "no such account",
        "M-1",
    )
    query = StatusQuery("M-1", item.uetr, item.end_to_end_id)
    asked = rails_xml.read(rails_xml.pacs028(message_id="Q", created_at=NOW, queries=[query]))
    assert asked.message_type is MessageType.PACS_028 and asked.transactions[0].uetr == item.uetr
    back = PaymentReturn("M-1", item.uetr, item.end_to_end_id, 5000_00, "PHP", "AC04")
    returned = rails_xml.read(
        rails_xml.pacs004(
            message_id="R",
            created_at=NOW,
            settlement_date=TODAY,
            clearing_system=ClearingSystem.INSTAPAY,
            returns=[back],
        )
    )
    assert (returned.transactions[0].amount_minor, returned.transactions[0].reason) == (
        5000_00,
        "AC04",
    )
    entry = Entry(5000_00, "PHP", False, TODAY, item.uetr, item.end_to_end_id, item.debtor)
    statement = rails_xml.read(
        rails_xml.camt053(
            message_id="ST",
            created_at=NOW,
            account="SETTLE",
            statement_id="S1",
            opening_minor=10000_00,
            closing_minor=5000_00,
            currency="PHP",
            statement_date=TODAY,
            entries=[entry],
        )
    )
    assert statement.account == "SETTLE"
    assert statement.transactions[0].credit_debit == "DBIT"
    note = rails_xml.read(
        rails_xml.camt054(
            message_id="NT",
            created_at=NOW,
            account="SETTLE",
            notification_id="N1",
            entries=[entry],
        )
    )
    assert note.message_type is MessageType.CAMT_054
    assert note.transactions[0].booking_date == TODAY


def test_the_builder_refuses_what_the_schema_or_our_rules_refuse():
    with pytest.raises(MessageError) as caught:
        pacs008(transfer(uetr="8FE6BCA2-9D82-4AC7-958F-109E1DC779D7"))
    assert caught.value.problem is Problem.SCHEMA_INVALID and "UETR" in str(caught.value)
    with pytest.raises(MessageError, match="positive"):
        pacs008(transfer(0))
    same = transfer()
    with pytest.raises(MessageError, match="UETR appears twice"):
        pacs008(same, same)
    with pytest.raises(MessageError, match="time zone"):
        rails_xml.pacs028(
            message_id="Q",
            created_at=NOW.replace(tzinfo=None),
            queries=[StatusQuery("M", same.uetr, same.end_to_end_id)],
        )


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10">&lol2;</Document>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10">&xxe;</Document>"""


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (BILLION_LAUGHS, Problem.ENTITIES),
        (XXE, Problem.ENTITIES),
        (
            XXE.decode().replace('"1.0"?', '"1.0" encoding="UTF-16"?').encode("utf-16"),
            Problem.ENTITIES,
        ),
        (b"", Problem.NOT_XML),
        (b"payout 100 PHP", Problem.NOT_XML),
        (b"<Document><unclosed></Document>", Problem.NOT_XML),
        (b"<a/>" + b" " * (16 * 1024 * 1024), Problem.TOO_LARGE),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.09"/>',
            Problem.UNKNOWN_MESSAGE,
        ),
        (b'<Document xmlns="urn:example"/>', Problem.UNKNOWN_MESSAGE),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"/>',
            Problem.UNKNOWN_MESSAGE,
        ),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"/>',
            Problem.SCHEMA_INVALID,
        ),
    ],
    ids=[
        "billion-laughs",
        "xxe",
        "xxe-utf16",
        "empty",
        "text",
        "malformed",
        "50mb-ish",
        "wrong-version",
        "wrong-namespace",
        "known-schema-not-read",
        "empty-document",
    ],
)
def test_hostile_or_broken_input_is_refused_with_its_problem(data: bytes, problem: Problem):
    with pytest.raises(MessageError) as caught:
        rails_xml.read(data)
    assert caught.value.problem is problem


def _fixture_with(old: str, new: str) -> bytes:
    text = (MESSAGES / "pacs008_pesonet_batch.xml").read_text()
    assert old in text
    return text.replace(old, new, 1).encode()


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ('Ccy="PHP">500.25<', 'Ccy="PHP">500.255<', "more decimal places"),
        ('Ccy="PHP">500.25<', 'Ccy="XYZ">500.25<', "XYZ"),
        ("<NbOfTxs>2<", "<NbOfTxs>3<", "NbOfTxs says 3"),
        (
            "7a1e2b3c-5d6e-4f70-8a9b-0c1d2e3f4a5b",
            "3f2b8c1e-4d5a-4e6f-9a7b-1c2d3e4f5a6b",
            "UETR appears twice",
        ),
    ],
)
def test_domain_rules_beyond_the_schema_refuse_a_valid_document(old, new, words):
    with pytest.raises(MessageError) as caught:
        rails_xml.read(_fixture_with(old, new))
    assert caught.value.problem is Problem.INVALID and words in str(caught.value)


def test_reason_codes_read_in_english_and_filipino():
    for code in (
        "AC01",
        "AC04",
        "AC06",
        "AM04",
        "AM05",
        "BE01",
        "RC01",
        "FF01",
        "MS03",
        "NARR",
        "DUPL",
    ):
        english, filipino = REASONS[code]
        assert reason_words(code) == english and reason_words(code, "fil") == filipino
        assert english != filipino
    assert reason_words("AC04") == "the account is closed"
    assert reason_words("AC04", "fil") == "sarado na ang account"
    assert reason_words("ZZ99") == "reason ZZ99"
    assert status_words("RJCT", "fil") == "tinanggihan"


def test_a_recall_and_its_answer_build_valid_and_read_back():
    uetr = new_uetr()
    recall = rails_xml.camt056(
        message_id="RCL1",
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
        assigner="BNORPHMMXXX",
        assignee="TNDHPHM1XXX",
        case_id="CASE-1",
        recalls=[RecallRequest("M1", uetr, "E2E1", 1234_50, "PHP", "DUPL")],
    )
    read_recall = rails_xml.read(recall)
    assert (read_recall.message_type, read_recall.message_id) == (MessageType.CAMT_056, "RCL1")
    (item,) = read_recall.transactions
    assert (item.uetr, item.end_to_end_id, item.amount_minor, item.reason) == (
        uetr,
        "E2E1",
        1234_50,
        "DUPL",
    )
    assert (item.debtor_agent, item.reference, item.original_message_id) == (
        "BNORPHMMXXX",
        "CASE-1",
        "M1",
    )
    answer = rails_xml.camt029(
        message_id="ANS1",
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
        assigner="TNDHPHM1XXX",
        assignee="BNORPHMMXXX",
        case_id="CASE-1",
        answers=[RecallAnswer("M1", uetr, "E2E1", False, "AM04")],
    )
    (resolved,) = rails_xml.read(answer).transactions
    assert (resolved.uetr, resolved.status, resolved.reason) == (uetr, "RJCR", "AM04")
