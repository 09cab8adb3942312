"""Inbound credit transfers on SQLite and PostgreSQL: another bank's pacs.008 credits a
wallet once (by wallet number or registered mobile number), is refused with the right ISO
reason for each kind of wrong account or limit, converts foreign money at the operator's
rate with the margin on the statement, and two racing deliveries credit once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select, update

from tests.lending.conftest import OPERATOR, make_party, wallet_of
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.rails import ClearingSystem, CreditTransfer, MessageError, MessageType, Party
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.services.ledger import transfers as ledger
from tindahan.services.ledger.verify import verify
from tindahan.services.payments import fx, wallets
from tindahan.services.rails import inbound
from tindahan.services.unit import Platform
from tindahan.store.payment_tables import events, parties
from tindahan.store.rails_tables import inbound_transfers

NOW = datetime(2026, 9, 1, 2, tzinfo=UTC)
BDO = "BNORPHMMXXX"


def pacs008(*items: tuple[str, int, str], uetr: str | None = None) -> bytes:
    """A pacs.008 from BDO: ``(creditor account, amount_minor, currency)`` per transfer."""
    transfers = [
        CreditTransfer(
            uetr=uetr or new_uetr(),
            end_to_end_id=new_reference("BDO"),
            amount_minor=amount,
            currency=currency,
            debtor=Party("Maria Santos", "001234567890"),
            debtor_agent=BDO,
            creditor=Party("Nena Reyes", account),
            creditor_agent="TNDHPHM1XXX",
        )
        for account, amount, currency in items
    ]
    return rails_xml.pacs008(
        message_id=new_reference("M"),
        created_at=NOW,
        settlement_date=date(2026, 9, 1),
        clearing_system=ClearingSystem.INSTAPAY,
        instructing_agent=BDO,
        instructed_agent="TNDHPHM1XXX",
        transfers=transfers,
    )


def answers(data: bytes) -> list[tuple[str | None, str | None]]:
    message = rails_xml.read(data)
    assert message.message_type is MessageType.PACS_002
    return [(item.status, item.reason) for item in message.transactions]


def posted(platform: Platform, account_id: str) -> int:
    found = ledger.lookup_accounts(platform.db, [account_id])[account_id]
    return found.credits_posted - found.debits_posted


def caller_of(party_id: str) -> Caller:
    return Caller(f"k_{party_id}", party_id, frozenset(SCOPES))


def test_credited_once_by_wallet_number_and_by_mobile_number(platform, nena):
    first = pacs008((nena["id"], 1234_50, "PHP"))
    answer = inbound.receive(platform, first)
    assert answers(answer) == [("ACSC", None)]
    assert inbound.receive(platform, first) == answer  # a duplicate: the same pacs.002
    assert answers(inbound.receive(platform, pacs008(("+639175550101", 100_00, "PHP")))) == [
        ("ACSC", None)
    ]
    assert posted(platform, nena["account_id"]) == 1334_50
    assert posted(platform, "op.rail.instapay") == -1334_50
    mine = platform.run(
        lambda u: inbound.list_transfers(u, caller_of(nena["party_id"]), 10), write=False
    )["data"]
    assert [(t["status"], t["credited_minor"]) for t in mine] in (
        [("credited", 1234_50), ("credited", 100_00)],
        [("credited", 100_00), ("credited", 1234_50)],
    )
    stranger = make_party(platform, kind="customer", name="Other")
    theirs = platform.run(lambda u: inbound.list_transfers(u, caller_of(stranger), 10), write=False)
    assert theirs["data"] == []
    with pytest.raises(RefusalError):
        platform.run(lambda u: inbound.get(u, caller_of(stranger), mine[0]["id"]), write=False)
    query = select(events.c.type).where(events.c.type.like("inbound_transfer.%"))
    found = platform.run(lambda u: u.conn.execute(query).scalars().all(), write=False)
    assert found == ["inbound_transfer.received"] * 2
    assert verify(platform.db).ok


def test_each_wrong_account_or_limit_is_rejected_with_its_reason_and_moves_nothing(platform, nena):
    frozen = make_party(platform, kind="customer", name="Frozen")
    closed = make_party(platform, kind="customer", name="Closed")
    merchant = make_party(
        platform, kind="merchant", name="Store", mcc="5411", city="Naga", province="Camarines Sur"
    )
    for party_id, status in ((frozen, "frozen"), (closed, "closed")):
        platform.run(
            lambda u, p=party_id, s=status: u.conn.execute(
                update(parties).where(parties.c.id == p).values(status=s)
            )
        )
    cases = [
        ("wal_nosuchwallet000000000000", 1_00, "AC01"),
        ("09990000000", 1_00, "AC01"),  # no one registered it
        ("1234", 1_00, "AC01"),  # neither a wallet nor a mobile number
        (wallet_of(platform, closed)["id"], 1_00, "AC04"),
        (wallet_of(platform, frozen)["id"], 1_00, "AC06"),
        (wallet_of(platform, merchant, "settlement")["id"], 1_00, "AG01"),
        (nena["id"], 1_000_000_00, "AM02"),  # over the basic tier's per-transaction maximum
    ]
    for account, amount, reason in cases:
        got = answers(inbound.receive(platform, pacs008((account, amount, "PHP"))))
        assert got == [("RJCT", reason)], account
    # the monthly incoming total: eleven transfers of ₱9,000 fit the basic tier's ₱100,000,
    # each delivered twice (a duplicate counts nothing against the month: the usage is
    # raised in the statement that inserts the row, only when it inserted one)
    statuses = []
    for _ in range(12):
        message = pacs008((nena["id"], 9_000_00, "PHP"))
        got = answers(inbound.receive(platform, message))
        assert answers(inbound.receive(platform, message)) == got
        statuses += got
    assert statuses == [("ACSC", None)] * 11 + [("RJCT", "AM14")]
    # a currency we take nothing in, and a foreign one with no rate today
    assert answers(inbound.receive(platform, pacs008((nena["id"], 1_00, "JPY")))) == [
        ("RJCT", "AM03")
    ]
    assert answers(inbound.receive(platform, pacs008((nena["id"], 1_00, "USD")))) == [
        ("RJCT", "AM03")
    ]
    rejected = platform.run(
        lambda u: (
            u.conn.execute(
                select(inbound_transfers.c.reason_code).where(
                    inbound_transfers.c.status == "rejected"
                )
            )
            .scalars()
            .all()
        ),
        write=False,
    )
    assert len(rejected) == len(cases) + 1 + 2
    assert posted(platform, nena["account_id"]) == 99_000_00
    assert verify(platform.db).ok


def test_bad_messages_are_refused_whole_and_credit_nothing(platform, nena):
    good = pacs008((nena["id"], 100_00, "PHP"))
    three_decimals = good.replace(b">100.00<", b">100.005<")
    unknown_currency = good.replace(b'Ccy="PHP"', b'Ccy="XPQ"')
    schema_invalid = good.replace(b"<ChrgBr>SLEV</ChrgBr>", b"<ChrgBr>NOPE</ChrgBr>")
    doctype = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]>' + good.split(b"?>", 1)[1]
    huge = b" " * (50 * 1024 * 1024)
    for bad in (three_decimals, unknown_currency, schema_invalid, doctype, huge, b"not xml"):
        with pytest.raises(MessageError):
            inbound.receive(platform, bad)
    status_report = rails_xml.read(inbound.receive(platform, good))
    assert status_report.transactions[0].status == "ACSC"
    with pytest.raises(RefusalError):  # a pacs.002 is no credit transfer
        inbound.receive(platform, inbound.receive(platform, good))
    assert posted(platform, nena["account_id"]) == 100_00


def test_dollars_from_abroad_convert_at_the_operator_rate_with_the_margin_shown(platform, nena):
    platform.run(lambda u: fx.put_rate(u, OPERATOR, "USD", "58.25", 150))
    got = answers(inbound.receive(platform, pacs008((nena["id"], 100_00, "USD"))))
    assert got == [("ACSC", None)]
    # 100.00 USD at 58.25 less 1.50 % = 57.37625 → ₱5,737.62 (DOWN); at mid ₱5,825.00
    assert posted(platform, nena["account_id"]) == 5737_62
    assert posted(platform, "op.rail.instapay.USD") == -100_00
    assert posted(platform, "op.fx.USD") == 100_00
    (made,) = platform.run(
        lambda u: inbound.list_transfers(u, caller_of(nena["party_id"]), 10), write=False
    )["data"]
    assert made["fx"] == {
        "mid_rate": "58.25",
        "customer_rate": "57.37625",
        "spread_bps": 150,
        "margin_minor": 87_38,
    }
    assert (made["credited_minor"], made["credited_currency"]) == (5737_62, "PHP")
    statement = platform.run(
        lambda u: wallets.statement(
            u, caller_of(nena["party_id"]), nena["id"], 10, None, None, None
        ),
        write=False,
    )
    (line,) = statement["data"]
    assert line["inbound_transfer_id"] == made["id"]
    assert line["fx"] == {
        "amount": "100.00 USD",
        "customer_rate": "57.37625",
        "mid_rate": "58.25",
        "margin_minor": 87_38,
    }
    assert verify(platform.db).ok


@pytest.mark.postgres
def test_two_deliveries_racing_credit_once(platform, nena, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the race needs PostgreSQL's concurrent writers")
    message = pacs008((nena["id"], 250_00, "PHP"))
    barrier = threading.Barrier(4)
    got: list[bytes] = []
    failures: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait()
            got.append(inbound.receive(platform, message))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert {answers(one)[0] for one in got} == {("ACSC", None)}
    assert posted(platform, nena["account_id"]) == 250_00
    count = platform.run(
        lambda u: len(u.conn.execute(select(inbound_transfers.c.id)).all()), write=False
    )
    assert count == 1
    assert verify(platform.db).ok
