"""The simulated clearing switch: its rules and fault profiles, and a transfer's whole life
through it over signed HTTP (``HttpRail``, the worker's round) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from tests.rails.test_outbound import balances, send, state
from tindahan import limits
from tindahan.rails import ClearingSystem, CreditTransfer, Party, StatusQuery
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.services.rails import participants
from tindahan.switch.app import create_app
from tindahan.switch.clearing import LATE_NS, ClearingHouse
from tindahan.webhooks.signature import sign
from tindahan.worker.rails import HttpRail, rails_round

SECRET = "switch-test-secret"
NOW = datetime(2026, 9, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = 100 * 10**9

    def __call__(self) -> int:
        return self.now


def pacs008(amount: int, bic: str = "BNORPHMM", rail=ClearingSystem.INSTAPAY, uetr=None) -> bytes:
    item = CreditTransfer(
        uetr or new_uetr(),
        new_reference("E"),
        amount,
        "PHP",
        Party("Juan", "W1"),
        "TNDHPHM1XXX",
        Party("Nena", "0012"),
        bic,
    )
    return rails_xml.pacs008(
        message_id=new_reference("M"),
        created_at=NOW,
        settlement_date=date(2026, 9, 1),
        clearing_system=rail,
        instructing_agent="TNDHPHM1XXX",
        instructed_agent=bic,
        transfers=[item],
    )


def statuses(messages: list[bytes]) -> list[tuple[str, str | None, str | None]]:
    out = []
    for data in messages:
        message = rails_xml.read(data)
        for item in message.transactions:
            out.append((message.message_type.value[:8], item.status, item.reason))
    return out


def house(faults: str = "none", clock: Clock | None = None) -> ClearingHouse:
    return ClearingHouse(participants.seed_rows(), faults, clock or Clock())


def test_the_schemes_rules_come_first():
    switch = house()
    switch.accept(pacs008(limits.INSTAPAY_MAX_MINOR + 1))  # over InstaPay's cap
    switch.accept(pacs008(100, bic="CITIPHMX"))  # Citibank: not an InstaPay member
    switch.accept(pacs008(100, bic="CITIPHMX", rail=ClearingSystem.PESONET))
    uetr = new_uetr()
    switch.accept(pacs008(100, uetr=uetr))
    switch.accept(pacs008(100, uetr=uetr))  # the same UETR again
    assert statuses(switch.collect()) == [
        ("pacs.002", "RJCT", "AM02"),
        ("pacs.002", "RJCT", "CNOR"),
        ("pacs.002", "ACSC", None),
        ("pacs.002", "ACSC", None),
        ("pacs.002", "RJCT", "AM05"),
    ]
    assert switch.collect() == []


def test_each_fault_profile_answers_as_it_says():
    clock = Clock()
    late = house("late", clock)
    late.accept(pacs008(100))
    assert late.collect() == []
    clock.now += LATE_NS
    assert statuses(late.collect()) == [("pacs.002", "ACSC", None)]
    rejected = house("rejected")
    rejected.accept(pacs008(100))
    assert statuses(rejected.collect()) == [("pacs.002", "RJCT", "AC04")]
    duplicated = house("duplicated")
    duplicated.accept(pacs008(100))
    assert statuses(duplicated.collect()) == [("pacs.002", "ACSC", None)] * 2
    returned = house("returned")
    returned.accept(pacs008(100))
    assert statuses(returned.collect()) == [("pacs.002", "ACSC", None), ("pacs.004", None, "AC04")]
    lost = house("lost")
    uetr = new_uetr()
    lost.accept(pacs008(100, uetr=uetr))
    assert lost.collect() == []
    query = rails_xml.pacs028(message_id="Q", created_at=NOW, queries=[StatusQuery("M", uetr, "E")])
    answer = lost.status(query)
    assert answer is not None and statuses([answer]) == [("pacs.002", "ACSC", None)]
    unknown = rails_xml.pacs028(
        message_id="Q2", created_at=NOW, queries=[StatusQuery("M", new_uetr(), "E")]
    )
    assert lost.status(unknown) is None


@pytest.fixture
def switch_url(shared_server):
    def serve(faults: str):
        return shared_server.serving(create_app(house(faults), SECRET))

    return serve


def test_a_payout_through_the_switch_over_signed_http(platform, sender, switch_url, clock):
    with switch_url("none") as base_url:
        rail = HttpRail(base_url, SECRET)
        made = send(platform, sender, sender.bdo, 1_500_00)
        assert rails_round(platform, rail) == 1
        assert state(platform, made["id"], sender)["status"] == "settled"
        assert balances(platform, sender)[2] == 1_500_00
        unsigned = httpx.post(base_url + "/messages", content=b"<x/>")
        assert unsigned.status_code == 401
        body = b"<Document/>"
        signed = {"Tindahan-Signature": sign(SECRET, int(datetime.now(UTC).timestamp()), body)}
        bad = httpx.post(base_url + "/messages", content=body, headers=signed)
        assert bad.status_code == 400 and "unknown message" in bad.json()["error"]["message"]


def test_lost_then_returned_through_the_switch(platform, sender, switch_url, clock):
    with switch_url("lost") as base_url:
        rail = HttpRail(base_url, SECRET)
        made = send(platform, sender, sender.bdo, 700_00)
        assert rails_round(platform, rail) == 0  # sent, no answer
        clock.set(platform.now() + (limits.INSTAPAY_ANSWER_SECONDS + 1) * 10**9)
        assert rails_round(platform, rail) == 1  # found by the status request
        assert state(platform, made["id"], sender)["status"] == "settled"
    with switch_url("returned") as base_url:
        rail = HttpRail(base_url, SECRET)
        other = send(platform, sender, sender.bdo, 300_00)
        assert rails_round(platform, rail) == 2  # settled, then returned
        assert state(platform, other["id"], sender)["status"] == "returned"
    assert balances(platform, sender)[0] == 3_000_000 - 700_00


def test_the_switch_command_refuses_to_start_without_a_secret_or_with_an_unknown_profile(
    monkeypatch,
):
    from typer.testing import CliRunner

    from tindahan.cli.app import app

    runner = CliRunner()
    monkeypatch.delenv("TINDAHAN_RAILS_SECRET", raising=False)
    result = runner.invoke(app, ["rails", "switch"])
    assert result.exit_code == 2 and "TINDAHAN_RAILS_SECRET" in result.stderr
    monkeypatch.setenv("TINDAHAN_RAILS_SECRET", SECRET)
    result = runner.invoke(app, ["rails", "switch", "--faults", "chaos"])
    assert result.exit_code == 2 and "--faults is one of" in result.stderr
