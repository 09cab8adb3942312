"""Reconciliation (issue 19, item 7) on SQLite and PostgreSQL: the switch books and states
what it settled, Tindahan matches a day of its clearing accounts against that statement —
a clean day, each kind of break, a re-run replacing the day — and ``tindahan rails
reconcile`` says so with its exit code (0 clean, 1 breaks, 2 bad input)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.lending.conftest import DAY0, OPERATOR, wallet_of
from tests.rails.conftest import Sender
from tests.rails.test_inbound import pacs008
from tests.rails.test_outbound import send
from tindahan.cli.app import app
from tindahan.kernel.refusals import RefusalError
from tindahan.rails import Entry, MessageType
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference, new_uetr
from tindahan.services.ledger.verify import verify
from tindahan.services.rails import inbound, notifications, participants, reconciliation
from tindahan.services.unit import Platform
from tindahan.store.rails_tables import reconciliation_breaks
from tindahan.switch.app import create_app
from tindahan.switch.clearing import ClearingHouse
from tindahan.switch.settlement import DEFAULT_ACCOUNT
from tindahan.webhooks.signature import sign
from tindahan.worker.rails import HttpRail, rails_round

runner = CliRunner()
STATED = datetime(2026, 9, 2, tzinfo=UTC)
SECRET = "reconcile-test-secret"


class HousePort:
    """The clearing house in process, as the services' ``RailPort``."""

    def __init__(self, house: ClearingHouse) -> None:
        self.house = house

    def send(self, message: bytes) -> None:
        self.house.accept(message)

    def request_status(self, message: bytes) -> bytes | None:
        return self.house.status(message)

    def answers(self) -> list[bytes]:
        return self.house.collect()


@pytest.fixture
def house(clock) -> ClearingHouse:
    return ClearingHouse(participants.seed_rows(), "none", clock=lambda: 0, wall=clock)


def settle(platform: Platform, house: ClearingHouse, sender: Sender, *amounts: int) -> list[dict]:
    made = [send(platform, sender, sender.bdo, amount) for amount in amounts]
    rails_round(platform, HousePort(house))
    return made


def entries(house: ClearingHouse, day: date) -> list[Entry]:
    return [m.entry() for m in house.settlement.movements if m.day == day]


def statement(day: date, items: list[Entry], account: str = DEFAULT_ACCOUNT) -> bytes:
    return rails_xml.camt053(
        message_id=new_reference("STMT"),
        created_at=STATED,
        account=account,
        statement_id=f"S-{day.isoformat()}",
        opening_minor=0,
        closing_minor=0,
        currency="PHP",
        statement_date=day,
        entries=items,
    )


def reconcile(platform: Platform, day: date, data: bytes) -> dict:
    message = reconciliation.read_statement(data, day)
    return platform.run(lambda u: reconciliation.run(u, OPERATOR, day, message))


def stored_breaks(platform: Platform, day: date) -> int:
    query = select(func.count()).where(reconciliation_breaks.c.day == day.isoformat())
    return int(platform.run(lambda u: u.conn.execute(query).scalar_one(), write=False))


def test_a_clean_day_settled_and_returned_through_the_switch(platform, sender, house):
    settle(platform, house, sender, 1_500_00, 250_75)
    house.faults = "returned"
    settle(platform, house, sender, 300_00)  # settled, then returned: two movements
    data = house.statement(DAY0)
    read = rails_xml.read(data)
    assert read.message_type is MessageType.CAMT_053 and read.statement_date == DAY0
    # (transfers leave in the order of their random ids: compared as a set)
    assert sorted((t.credit_debit, t.amount_minor) for t in read.transactions) == [
        ("CRDT", 300_00),
        ("DBIT", 250_75),
        ("DBIT", 300_00),
        ("DBIT", 1_500_00),
    ]
    result = reconcile(platform, DAY0, data)
    assert (result["matched"], result["breaks"]) == (4, [])
    assert stored_breaks(platform, DAY0) == 0
    # the notifications of each movement, kept once however often they are received
    sent = house.notifications()
    assert len(sent) == 4
    for expected in (4, 0):  # kept once, however often received
        assert sum(platform.run(partial(notifications.receive, data=m)) for m in sent) == expected
    kept = platform.run(lambda u: notifications.recent(u, OPERATOR, 10), write=False)
    assert kept["total"] == 4 and kept["data"][0]["booking_date"] == DAY0.isoformat()
    assert verify(platform.db).ok


def test_each_kind_of_break_and_a_rerun_replaces_the_day(platform, sender, house, clock):
    clock.at_day(DAY0 - timedelta(days=1), 23)  # booked by us the day before, late at night
    (early,) = settle(platform, house, sender, 40_00)
    clock.at_day(DAY0, 10)
    kept, dropped, changed, later = settle(platform, house, sender, 100_00, 200_00, 300_00, 400_00)
    clean = entries(house, DAY0)
    by_uetr = {item.uetr: item for item in clean}
    stranger = Entry(77_00, "PHP", True, DAY0, new_uetr(), "E-NOT-OURS", reference="B9")
    moved = [m.entry() for m in house.settlement.movements if m.uetr == early["uetr"]]
    tampered = [
        by_uetr[kept["uetr"]],
        replace(by_uetr[changed["uetr"]], amount_minor=300_01),
        replace(by_uetr[later["uetr"]], booking_date=DAY0 + timedelta(days=1)),
        replace(moved[0], booking_date=DAY0),  # the switch booked our yesterday's today
        stranger,
    ]
    result = reconcile(platform, DAY0, statement(DAY0, tampered))
    kinds = {(b["kind"], b["uetr"]) for b in result["breaks"]}
    assert result["matched"] == 1
    assert kinds == {
        ("amount_mismatch", changed["uetr"]),
        ("date_mismatch", later["uetr"]),
        ("date_mismatch", early["uetr"]),
        ("missing_ours", stranger.uetr),
        ("missing_theirs", dropped["uetr"]),
    }
    amount = next(b for b in result["breaks"] if b["kind"] == "amount_mismatch")
    assert (amount["ours_amount"], amount["theirs_amount"]) == ("300.00", "300.01")
    assert (amount["end_to_end_id"], amount["direction"]) == (changed["end_to_end_id"], "debit")
    missing = next(b for b in result["breaks"] if b["kind"] == "missing_ours")
    assert (missing["ours_amount"], missing["theirs_amount"]) == (None, "77.00")
    yesterday = next(b for b in result["breaks"] if b["uetr"] == early["uetr"])
    assert (yesterday["ours_date"], yesterday["theirs_date"]) == ("2026-08-31", "2026-09-01")
    assert stored_breaks(platform, DAY0) == 5
    again = reconcile(platform, DAY0, statement(DAY0, tampered))
    assert len(again["breaks"]) == 5 and stored_breaks(platform, DAY0) == 5
    assert reconcile(platform, DAY0, statement(DAY0, clean))["breaks"] == []
    assert stored_breaks(platform, DAY0) == 0
    shown = platform.run(lambda u: reconciliation.recent(u, OPERATOR, 10), write=False)
    assert shown["days"][0]["date"] == DAY0.isoformat() and shown["days"][0]["breaks"] == 0


def test_an_entry_without_a_uetr_matches_by_end_to_end_id_and_amount(platform, sender, house):
    settle(platform, house, sender, 123_45)
    (item,) = entries(house, DAY0)
    plain = replace(item, uetr=None)
    assert reconcile(platform, DAY0, statement(DAY0, [plain]))["matched"] == 1
    other = replace(item, uetr=None, amount_minor=123_46)
    kinds = sorted(b["kind"] for b in reconcile(platform, DAY0, statement(DAY0, [other]))["breaks"])
    assert kinds == ["missing_ours", "missing_theirs"]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"this is not xml", "not XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d>&x;</d>',
            "entity declarations",
        ),
        (None, "must be a camt.053, not camt.054.001.08"),
    ],
)
def test_a_statement_that_is_not_one_is_refused_and_nothing_is_stored(platform, data, said):
    if data is None:
        data = rails_xml.camt054(
            message_id="N1",
            created_at=STATED,
            account=DEFAULT_ACCOUNT,
            notification_id="N1",
            entries=[Entry(1_00, "PHP", False, DAY0, new_uetr(), "E1")],
        )
    with pytest.raises(RefusalError, match=said):
        reconcile(platform, DAY0, data)
    with pytest.raises(RefusalError, match="not 2026-09-01"):
        reconcile(platform, DAY0, statement(DAY0 + timedelta(days=1), []))
    with pytest.raises(RefusalError, match="not ours"):
        reconcile(platform, DAY0, statement(DAY0, [], account="OTHRPHM1XXX"))
    shown = platform.run(lambda u: reconciliation.recent(u, OPERATOR, 10), write=False)
    assert shown == {"days": [], "breaks": []}


def test_the_cli_exit_codes(platform, sender, house, db_url, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    monkeypatch.delenv("TINDAHAN_RAILS_SWITCH_URL", raising=False)
    settle(platform, house, sender, 500_00)

    def cli(*args: str):
        return runner.invoke(app, ["rails", "reconcile", "--db", db_url, *args])

    clean = tmp_path / "clean.xml"
    clean.write_bytes(house.statement(DAY0))
    ok = cli("--date", "2026-09-01", "--statement", str(clean), "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) | {"ran": None} == {
        "date": "2026-09-01",
        "statement_id": f"{DEFAULT_ACCOUNT}-2026-09-01",
        "matched": 1,
        "breaks": [],
        "ran": None,
    }
    assert "clean" in cli("--date", "2026-09-01", "--statement", str(clean)).stdout
    broken = tmp_path / "broken.xml"
    broken.write_bytes(statement(DAY0, []))
    found = cli("--date", "2026-09-01", "--statement", str(broken), "--json")
    assert found.exit_code == 1
    (only,) = json.loads(found.stdout)["breaks"]
    assert (only["kind"], only["ours_amount"], only["theirs_amount"]) == (
        "missing_theirs",
        "500.00",
        None,
    )
    table = cli("--date", "2026-09-01", "--statement", str(broken))
    assert table.exit_code == 1 and "missing on theirs" in table.stdout
    doctype = tmp_path / "doctype.xml"
    doctype.write_bytes(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')
    for args, said in [
        (("--date", "2026-9-1", "--statement", str(clean)), "--date must be a date"),
        (("--date", "2026-02-30", "--statement", str(clean)), "--date must be a date"),
        (("--date", "2026-09-01", "--statement", str(tmp_path / "none.xml")), "cannot read"),
        (("--date", "2026-09-01", "--statement", str(doctype)), "entity declarations"),
        (("--date", "2026-09-02", "--statement", str(clean)), "not 2026-09-02"),
        (
            (
                "--date",
                "2026-09-01",
            ),
            "no --statement FILE and no switch",
        ),
    ]:
        refused = cli(*args)
        assert refused.exit_code == 2, (args, refused.output)
        assert said in refused.stderr and len(refused.stderr.strip().splitlines()) == 1


def test_the_switch_serves_notifications_and_the_statement_over_signed_http(
    platform, sender, house, shared_server, db_url, monkeypatch
):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)
    with shared_server.serving(create_app(house, SECRET)) as base_url:
        rail = HttpRail(base_url, SECRET)
        send(platform, sender, sender.bdo, 900_00)
        assert rails_round(platform, rail) == 1  # settled; its camt.054 kept on our side
        kept = platform.run(lambda u: notifications.recent(u, OPERATOR, 10), write=False)
        assert [(n["amount_minor"], n["direction"]) for n in kept["data"]] == [(900_00, "debit")]
        assert rail.notifications() == []  # collected once
        read = rails_xml.read(rail.statement(DAY0))
        assert (read.message_type, read.statement_date) == (MessageType.CAMT_053, DAY0)
        body = b'{"date": "yesterday"}'
        signed = {"Tindahan-Signature": sign(SECRET, int(datetime.now(UTC).timestamp()), body)}
        bad = httpx.post(base_url + "/statement", content=body, headers=signed)
        assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]["message"]
        assert httpx.post(base_url + "/statement", content=body).status_code == 401
        monkeypatch.setenv("TINDAHAN_RAILS_SWITCH_URL", base_url)
        monkeypatch.setenv("TINDAHAN_RAILS_SECRET", SECRET)
        fetched = runner.invoke(
            app, ["rails", "reconcile", "--date", "2026-09-01", "--db", db_url, "--json"]
        )
        assert fetched.exit_code == 0, fetched.output
        assert json.loads(fetched.stdout)["matched"] == 1


def test_an_inbound_credit_is_named_by_the_uetr_its_ledger_legs_carry(platform, sender, house):
    data = pacs008((wallet_of(platform, sender.party_id)["id"], 640_00, "PHP"))
    inbound.receive(platform, data)
    (item,) = rails_xml.read(data).transactions
    assert item.uetr is not None and item.end_to_end_id is not None
    came = Entry(640_00, "PHP", True, DAY0, item.uetr, item.end_to_end_id, reference="B1")
    assert reconcile(platform, DAY0, statement(DAY0, [came])) | {"ran": None} == {
        "date": "2026-09-01",
        "statement_id": "S-2026-09-01",
        "matched": 1,
        "breaks": [],
        "ran": None,
    }
    # the same entry read as money out is another movement: missing on both sides
    out = reconcile(platform, DAY0, statement(DAY0, [replace(came, credit=False)]))
    assert sorted(b["kind"] for b in out["breaks"]) == ["missing_ours", "missing_theirs"]
