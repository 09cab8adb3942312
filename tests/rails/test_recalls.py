"""Recalls of inbound transfers on SQLite and PostgreSQL: a camt.056 becomes one pending
recall (however often delivered), the operator accepts (the money goes back, pacs.004 and
camt.029 sent) only while the wallet still has it, or rejects with a reason; a recall of a
transfer we never credited is answered at once; ``ledger verify`` after each."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from typer.testing import CliRunner

from tests.lending.conftest import OPERATOR, make_party, wallet_of
from tests.rails.test_inbound import BDO, answers, caller_of, pacs008, posted
from tindahan.cli.app import app
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.rails import MessageType, RecallRequest
from tindahan.rails import xml as rails_xml
from tindahan.services.ledger import transfers as ledger_service
from tindahan.services.ledger.verify import verify
from tindahan.services.payments import fx
from tindahan.services.platform.datakey import open_vault
from tindahan.services.rails import inbound, incoming, recalls
from tindahan.services.unit import Platform
from tindahan.store.database import connect

runner = CliRunner()


class Port:
    """What the clearing house was handed."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def send(self, message: bytes) -> None:
        self.sent.append(message)

    def request_status(self, message: bytes) -> bytes | None:
        return None

    def answers(self) -> list[bytes]:
        return []


def credit(platform: Platform, wallet_id: str, amount: int, currency: str = "PHP") -> dict:
    message = rails_xml.read(pacs008((wallet_id, amount, currency)))
    assert answers(inbound.answer(platform, message)) == [("ACSC", None)]
    (item,) = message.transactions
    return {"message_id": message.message_id, "item": item}


def camt056(sent: dict, case_id: str = "CASE-1", reason: str = "DUPL") -> bytes:
    item = sent["item"]
    return rails_xml.camt056(
        message_id=f"RCL-{case_id}",
        created_at=datetime(2026, 9, 1, tzinfo=UTC),
        assigner=BDO,
        assignee="TNDHPHM1XXX",
        case_id=case_id,
        recalls=[
            RecallRequest(
                sent["message_id"],
                item.uetr,
                item.end_to_end_id,
                item.amount_minor,
                item.currency,
                reason,
            )
        ],
    )


def pending(platform: Platform) -> list[dict]:
    found = platform.run(
        lambda u: recalls.list_recalls(u, OPERATOR, 10, status="pending"), write=False
    )
    return found["data"]


def test_an_accepted_recall_sends_the_money_back_once_with_a_pacs004_and_camt029(platform, nena):
    sent = credit(platform, nena["id"], 700_00)
    assert incoming.receive(platform, camt056(sent)) is None  # waits for the operator
    assert incoming.receive(platform, camt056(sent)) is None  # delivered twice: one recall
    (recall,) = pending(platform)
    assert (recall["reason"]["code"], recall["bank"], recall["amount_minor"]) == (
        "DUPL",
        BDO,
        700_00,
    )
    decided = platform.run(lambda u: recalls.decide(u, OPERATOR, recall["id"], "accept"))
    assert (decided["status"], decided["rejection"]) == ("accepted", None)
    assert posted(platform, nena["account_id"]) == 0
    assert posted(platform, "op.rail.instapay") == 0
    with pytest.raises(RefusalError) as twice:
        platform.run(lambda u: recalls.decide(u, OPERATOR, recall["id"], "accept"))
    assert twice.value.code == "recall_decided"
    (transfer,) = platform.run(
        lambda u: inbound.list_transfers(u, caller_of(nena["party_id"]), 10), write=False
    )["data"]
    assert transfer["status"] == "returned"
    port = Port()
    assert recalls.dispatch(platform, port) == 1
    assert recalls.dispatch(platform, port) == 0  # sent once
    returned, resolved = (rails_xml.read(data) for data in port.sent)
    assert returned.message_type is MessageType.PACS_004
    assert [(t.uetr, t.amount_minor, t.reason) for t in returned.transactions] == [
        (sent["item"].uetr, 700_00, "FOCR")
    ]
    assert resolved.message_type is MessageType.CAMT_029
    assert [(t.status, t.reason) for t in resolved.transactions] == [("ACCR", None)]
    assert verify(platform.db).ok


def test_a_recall_is_refused_when_the_money_is_gone_or_the_operator_says_no(platform, nena):
    spent = credit(platform, nena["id"], 300_00)
    kept = credit(platform, nena["id"], 200_00)
    incoming.receive(platform, camt056(spent, "CASE-A"))
    incoming.receive(platform, camt056(kept, "CASE-B"))
    by_amount = {row["amount_minor"]: row for row in pending(platform)}
    first, second = by_amount[300_00], by_amount[200_00]  # ids are random: by amount
    stranger = caller_of(nena["party_id"])
    with pytest.raises(RefusalError):  # only the operator decides
        platform.run(lambda u: recalls.decide(u, stranger, first["id"], "accept"))
    with pytest.raises(RefusalError) as bad:
        platform.run(lambda u: recalls.decide(u, OPERATOR, first["id"], "reject", "WHY"))
    assert bad.value.code == "reason_invalid"
    # spent down to less than the first's amount: ₱500 − ₱250 = ₱250
    (spent_result,) = ledger_service.create_transfers(
        platform.db, [NewTransfer("spend.1", nena["account_id"], "op.bank", 250_00, "PHP", 10)]
    )
    assert spent_result.result == "ok", spent_result
    gone = platform.run(lambda u: recalls.decide(u, OPERATOR, first["id"], "accept"))
    assert (gone["status"], gone["rejection"]["code"]) == ("rejected", "AM04")
    no = platform.run(lambda u: recalls.decide(u, OPERATOR, second["id"], "reject", "CUST"))
    assert (no["status"], no["rejection"]["code"]) == ("rejected", "CUST")
    assert posted(platform, nena["account_id"]) == 250_00  # nothing went back
    port = Port()
    assert recalls.dispatch(platform, port) == 2
    assert [rails_xml.read(data).message_type for data in port.sent] == [MessageType.CAMT_029] * 2
    reasons = [rails_xml.read(data).transactions[0].reason for data in port.sent]
    assert sorted(str(reason) for reason in reasons) == ["AM04", "CUST"]
    assert verify(platform.db).ok


def test_a_recall_of_a_transfer_never_credited_is_answered_at_once(platform, nena):
    sent = credit(platform, nena["id"], 100_00)
    other = replace(sent["item"], uetr="0b9c8d7e-6f5a-4b3c-a2d1-e0f9a8b7c6d5")
    stranger = dict(sent, item=other)
    answer = incoming.receive(platform, camt056(stranger))
    assert answer is not None
    resolved = rails_xml.read(answer)
    assert [(t.status, t.reason) for t in resolved.transactions] == [("RJCR", "NOOR")]
    assert pending(platform) == []


def test_a_recalled_transfer_from_abroad_goes_back_in_its_currency(platform, nena):
    platform.run(lambda u: fx.put_rate(u, OPERATOR, "USD", "58.25", 150))
    sent = credit(platform, nena["id"], 100_00, "USD")
    incoming.receive(platform, camt056(sent))
    (recall,) = pending(platform)
    platform.run(lambda u: recalls.decide(u, OPERATOR, recall["id"], "accept"))
    assert posted(platform, nena["account_id"]) == 0
    assert posted(platform, "op.rail.instapay.USD") == 0
    assert (posted(platform, "op.fx.USD"), posted(platform, "op.fx.PHP")) == (0, 0)
    assert verify(platform.db).ok


def test_the_operator_lists_and_decides_recalls_on_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", base64.urlsafe_b64encode(b"k" * 32).decode())
    url = f"sqlite:///{tmp_path / 'recalls.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", url]).exit_code == 0
    with connect(url, create=False) as database:
        platform = Platform(database, open_vault(database))
        party_id = make_party(platform, kind="customer", name="Nena Reyes", tier="basic")
        wallet = wallet_of(platform, party_id)
        first = credit(platform, wallet["id"], 150_00)
        second = credit(platform, wallet["id"], 50_00)
        incoming.receive(platform, camt056(first, "CASE-1"))
        incoming.receive(platform, camt056(second, "CASE-2"))

    def cli(*args: str):
        return runner.invoke(app, ["rails", "recalls", *args, "--db", url])

    waiting = json.loads(cli("list", "--status", "pending", "--json").stdout)
    assert [row["amount_minor"] for row in waiting] in ([150_00, 50_00], [50_00, 150_00])
    by_amount = {row["amount_minor"]: row["id"] for row in waiting}
    accepted = cli("decide", by_amount[150_00], "--accept")
    assert accepted.exit_code == 0, accepted.output
    assert "accepted" in accepted.stdout
    rejected = cli("decide", by_amount[50_00], "--reject", "--reason", "LEGL")
    assert rejected.exit_code == 0 and "LEGL" in rejected.stdout
    assert cli("decide", by_amount[50_00], "--accept").exit_code == 2  # decided already
    assert cli("decide", "rcl_nosuch", "--accept").exit_code == 2
    assert json.loads(cli("list", "--status", "pending", "--json").stdout) == []
