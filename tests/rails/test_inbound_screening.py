"""The sender's name on an inbound bank transfer (issue 20, item 2): kept sealed with the
transfer, screened before the credit lands; a candidate holds the credit for review with an
alert until an analyst decides — with the rules off or on, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.lending.conftest import OPERATOR
from tests.rails.test_inbound import BDO, NOW, answers
from tindahan.kernel.callers import Caller
from tindahan.rails import ClearingSystem, CreditTransfer, MessageType, Party, RecallRequest
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.services.ledger import risk_gate
from tindahan.services.ledger import transfers as ledger
from tindahan.services.ledger.verify import verify
from tindahan.services.platform import screening
from tindahan.services.rails import inbound, incoming, participants, recalls
from tindahan.services.risk import holds
from tindahan.services.unit import Platform
from tindahan.store.rails_tables import inbound_transfers
from tindahan.store.risk_tables import risk_alerts
from tindahan.switch.app import create_app
from tindahan.switch.clearing import ClearingHouse
from tindahan.worker.rails import HttpRail, rails_round

SECOND = Caller("op2", None, OPERATOR.scopes)
SWITCH_SECRET = "inbound-screening-switch-secret"


def pacs008(account: str, amount: int, debtor: str | None) -> bytes:
    transfer = CreditTransfer(
        uetr=new_uetr(),
        end_to_end_id=new_reference("BDO"),
        amount_minor=amount,
        currency="PHP",
        debtor=Party(debtor, "001234567890"),
        debtor_agent=BDO,
        creditor=Party("Nena Reyes", account),
        creditor_agent="TNDHPHM1XXX",
    )
    return rails_xml.pacs008(
        message_id=new_reference("M"),
        created_at=NOW,
        settlement_date=date(2026, 9, 1),
        clearing_system=ClearingSystem.INSTAPAY,
        instructing_agent=BDO,
        instructed_agent="TNDHPHM1XXX",
        transfers=[transfer],
    )


@pytest.fixture
def watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    watch = tmp_path / "watch.csv"
    watch.write_text("id,name,aliases\nw7,Maria Santos,Marias\nw8,Pedro Penduko,\n")
    monkeypatch.setenv(screening.LISTS_ENV, str(watch))
    monkeypatch.delenv(risk_gate.RULES_ENV, raising=False)  # the rules off: screening alone


def balance(platform: Platform, account_id: str) -> tuple[int, int]:
    """(posted, spendable: pending debits off)."""
    found = ledger.lookup_accounts(platform.db, [account_id])[account_id]
    posted = found.credits_posted - found.debits_posted
    return posted, posted - found.debits_pending


def rows(platform: Platform) -> list[dict]:
    query = select(inbound_transfers).order_by(inbound_transfers.c.received_at_ns)
    return [
        dict(r) for r in platform.run(lambda u: u.conn.execute(query).mappings().all(), write=False)
    ]


def alerts(platform: Platform) -> list[dict]:
    query = select(risk_alerts).order_by(risk_alerts.c.created_at_ns)
    return [
        dict(r) for r in platform.run(lambda u: u.conn.execute(query).mappings().all(), write=False)
    ]


@pytest.mark.usefixtures("watched")
def test_a_listed_sender_is_credited_but_held_until_released(platform, nena) -> None:
    answer = inbound.receive(platform, pacs008(nena["id"], 2_000_00, "SANTOS, MA."))
    assert answers(answer) == [("ACSC", None)]  # accepted: the money is held on our side
    assert balance(platform, nena["account_id"]) == (2_000_00, 0)
    (alert,) = alerts(platform)
    assert (alert["rule"], alert["version"], alert["decision"], alert["status"]) == (
        "name_screening",
        1,
        "review",
        "open",
    )
    assert alert["party_id"] == nena["party_id"] and alert["hold_id"] and alert["case_id"]
    assert '"entry_ref": "w7"' in alert["evidence"] and '"score": 100' in alert["evidence"]
    assert "SANTOS, MA." not in alert["evidence"] + alert["explanation"]  # never the sender
    assert alert["explanation"].startswith("the sender's name scored 100 against ")
    (row,) = rows(platform)
    assert row["status"] == "credited" and row["debtor_name_cipher"]
    assert "SANTOS" not in row["debtor_name_cipher"]  # sealed
    assert platform.run(lambda u: inbound.debtor_name(u, row), write=False) == "SANTOS, MA."

    platform.run(lambda u: holds.decide(u, OPERATOR, alert["id"], "release", "a namesake"))
    assert balance(platform, nena["account_id"]) == (2_000_00, 2_000_00)
    assert verify(platform.db).ok


@pytest.mark.usefixtures("watched")
def test_other_names_and_no_name_are_credited_as_before(platform, nena) -> None:
    inbound.receive(platform, pacs008(nena["id"], 100_00, "Juan dela Cruz"))
    inbound.receive(platform, pacs008(nena["id"], 200_00, None))
    assert balance(platform, nena["account_id"]) == (300_00, 300_00)
    assert alerts(platform) == []
    named, nameless = rows(platform)
    assert platform.run(lambda u: inbound.debtor_name(u, named), write=False) == "Juan dela Cruz"
    assert nameless["debtor_name_cipher"] is None


def test_without_lists_nothing_is_screened(platform, nena, monkeypatch) -> None:
    monkeypatch.delenv(screening.LISTS_ENV, raising=False)
    inbound.receive(platform, pacs008(nena["id"], 100_00, "Maria Santos"))
    assert balance(platform, nena["account_id"]) == (100_00, 100_00)
    assert alerts(platform) == []


@pytest.mark.usefixtures("watched")
def test_with_the_rules_on_the_hit_joins_their_alerts_and_a_return_goes_to_the_senders_bank(
    platform, nena, monkeypatch, shared_server
) -> None:
    """Returned after the review: the money leaves the wallet for the rail's clearing account,
    the transfer is returned, and the worker's round hands the pacs.004 (reason ``MS03``) to
    the clearing switch over signed HTTP, once; a later recall finds it already returned."""
    monkeypatch.setenv(risk_gate.RULES_ENV, "default")
    message = pacs008(nena["id"], 3_000_00, "Pedro Penduko")
    inbound.receive(platform, message)
    found = [(a["rule"], a["decision"]) for a in alerts(platform)]
    assert ("name_screening", "review") in found
    assert balance(platform, nena["account_id"]) == (3_000_00, 0)
    clearing = balance(platform, "op.rail.instapay")
    held = next(a for a in alerts(platform) if a["rule"] == "name_screening")
    platform.run(lambda u: holds.decide(u, SECOND, held["id"], "return", "confirmed"))
    assert balance(platform, nena["account_id"]) == (0, 0)
    assert balance(platform, "op.rail.instapay")[0] == clearing[0] + 3_000_00
    (row,) = rows(platform)
    assert row["status"] == "returned" and row["returned_at_ns"] is not None
    assert verify(platform.db).ok

    house = ClearingHouse(participants.seed_rows(), "none")
    with shared_server.serving(create_app(house, SWITCH_SECRET)) as base_url:
        rail = HttpRail(base_url, SWITCH_SECRET)
        assert rails_round(platform, rail) == 1
        assert rails_round(platform, rail) == 0  # sent once
    (returned,) = house.resolutions  # the switch read and validated it (the XSD)
    assert returned.message_type is MessageType.PACS_004
    sent = rails_xml.read(message)
    (item,) = sent.transactions
    assert [(t.uetr, t.end_to_end_id, t.amount_minor, t.reason) for t in returned.transactions] == [
        (item.uetr, item.end_to_end_id, 3_000_00, "MS03")
    ]
    assert [(m.amount_minor, m.credit) for m in house.settlement.movements] == [(3_000_00, False)]
    late = rails_xml.camt056(
        message_id="RCL-LATE",
        created_at=NOW,
        assigner=BDO,
        assignee="TNDHPHM1XXX",
        case_id="CASE-LATE",
        recalls=[
            RecallRequest(
                sent.message_id, item.uetr or "", item.end_to_end_id or "", 3_000_00, "PHP", "DUPL"
            )
        ],
    )
    incoming.receive(platform, late)
    (recall,) = platform.run(lambda u: recalls.list_recalls(u, OPERATOR, 10), write=False)["data"]
    decided = platform.run(lambda u: recalls.decide(u, OPERATOR, recall["id"], "accept"))
    assert (decided["status"], decided["rejection"]["code"]) == ("rejected", "ARDT")
    assert balance(platform, nena["account_id"]) == (0, 0)
    assert verify(platform.db).ok


@pytest.mark.usefixtures("watched")
def test_a_duplicate_delivery_is_not_held_twice(platform, nena) -> None:
    message = pacs008(nena["id"], 500_00, "Maria Santos")
    first = inbound.receive(platform, message)
    assert inbound.receive(platform, message) == first
    assert len(alerts(platform)) == 1
    assert balance(platform, nena["account_id"]) == (500_00, 0)
