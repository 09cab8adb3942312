"""The switch's banks' own transfers to Tindahan wallets (``switch.inbound``,
``ClearingHouse.hold_inbound``, ``switch.app.deliver_due``): InstaPay delivered when asked
for; PESONet held until the first cut-off on a banking day (weekends and the switch's
holidays skipped), then delivered once — the wait surviving a restart — and credited by the
real API over signed HTTP on SQLite and PostgreSQL, booked on the settlement account at the
cut-off. One test runs ``tindahan rails switch`` itself as its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.aio import run
from tests.rails.test_switch import Clock
from tests.rails.test_switch_store import Wall, ns
from tests.servers import free_port
from tindahan.lending.calendar import business_date
from tindahan.rails import ClearingSystem
from tindahan.services.rails import participants
from tindahan.switch.app import create_app, deliver_due
from tindahan.switch.clearing import ClearingHouse
from tindahan.switch.inbound import payment
from tindahan.switch.journal import Journal
from tindahan.webhooks.signature import sign

SECRET = "switch-inbound-test-secret"
SATURDAY = ns(2026, 9, 5, 11)  # a Saturday, 11:00 Manila
HOLIDAY = datetime(2026, 9, 7).date()  # the Monday after
TUESDAY_CUTOFF = ns(2026, 9, 8, 10)  # the first cut-off on a banking day after it


def bank(code: str):
    return next(p for p in participants.seed_rows() if p.code == code)


def house(wall: Wall, journal: Journal | None = None) -> ClearingHouse:
    return ClearingHouse(
        participants.seed_rows(),
        "none",
        Clock(),
        wall=wall,
        journal=journal,
        pesonet_cutoffs=True,
        holidays=frozenset({HOLIDAY}),
    )


def test_pesonet_waits_for_its_cutoff_across_a_weekend_a_holiday_and_a_restart(tmp_path):
    wall = Wall(SATURDAY)
    first = house(wall, Journal(tmp_path / "switch.sqlite3"))
    instapay, data = payment(bank("BDO"), "wal_x", 500_00)
    assert instapay.rail is ClearingSystem.INSTAPAY
    assert first.hold_inbound(instapay, data) is None  # InstaPay: delivered at once
    made, data = payment(bank("CITI"), "wal_x", 700_00)  # Citibank: PESONet only
    assert made.rail is ClearingSystem.PESONET
    assert first.hold_inbound(made, data) == TUESDAY_CUTOFF
    big, big_data = payment(bank("BDO"), "wal_x", 60_000_00)  # over InstaPay's cap
    assert big.rail is ClearingSystem.PESONET
    assert first.hold_inbound(big, big_data) == TUESDAY_CUTOFF
    first.close()
    wall.now = ns(2026, 9, 7, 10)  # Monday's cut-off: a holiday
    again = house(wall, Journal(tmp_path / "switch.sqlite3"))  # restarted
    assert again.due_inbound() == []
    wall.now = TUESDAY_CUTOFF - 1
    assert again.due_inbound() == []
    wall.now = TUESDAY_CUTOFF
    due = again.due_inbound()
    assert [(held.payment, held.data) for held in due] == [(made, data), (big, big_data)]
    again.inbound_delivered(made.uetr)
    again.inbound_delivered(made.uetr)  # twice changes nothing
    again.close()
    last = house(wall, Journal(tmp_path / "switch.sqlite3"))
    assert [held.payment for held in last.due_inbound()] == [big]  # delivered is gone
    last.close()
    at_a_cutoff = house(Wall(TUESDAY_CUTOFF))  # asked at the cut-off's moment: leaves now
    assert at_a_cutoff.hold_inbound(made, data) is None


@pytest.fixture
def rails_secret(monkeypatch):
    monkeypatch.setenv("TINDAHAN_RAILS_SECRET", SECRET)


def ask_switch(base_url: str, body: dict) -> httpx.Response:
    data = json.dumps(body).encode()
    signed = {"Tindahan-Signature": sign(SECRET, int(time.time()), data)}
    return httpx.post(base_url + "/inbound", content=data, headers=signed, timeout=30)


def ask_app(app, body: dict) -> httpx.Response:
    """The switch's app in process (the API has the test's HTTP server)."""
    data = json.dumps(body).encode()
    signed = {"Tindahan-Signature": sign(SECRET, int(time.time()), data)}

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://switch") as client:
            return await client.post("/inbound", content=data, headers=signed)

    return run(call())


def test_a_bank_s_pesonet_transfer_reaches_the_wallet_at_the_cutoff(world, rails_secret):
    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    wall = Wall(SATURDAY)
    switch = house(wall)
    tindahan = str(api.http.base_url)
    app = create_app(switch, SECRET, tindahan)
    now = ask_app(app, {"account": buyer.wallets["main"], "amount_minor": 500_00})
    assert now.status_code == 200, now.text
    assert now.json()["answers"] == [{"status": "ACSC", "reason": None}]
    assert now.json()["rail"] == "INSTAPAY" and now.json()["delivers_at"] is None
    assert world.balance(buyer) == before + 500_00  # InstaPay: at once, on a Saturday
    body = {"account": buyer.wallets["main"], "amount_minor": 700_00, "bank": "CITI"}
    later = ask_app(app, body)
    assert later.status_code == 202, later.text
    held = later.json()
    assert (held["rail"], held["answers"], held["delivers_at"]) == (
        "PESONET",
        [],
        "2026-09-08T02:00:00Z",  # Tuesday 10:00 Manila: Monday is a holiday
    )
    assert world.balance(buyer) == before + 500_00  # nothing yet
    wall.now = ns(2026, 9, 7, 15)  # the holiday's afternoon cut-off
    assert run(deliver_due(switch, SECRET, tindahan)) == []
    wall.now = TUESDAY_CUTOFF
    assert run(deliver_due(switch, SECRET, tindahan)) == [(held["uetr"], [("ACSC", None)])]
    assert world.balance(buyer) == before + 1_200_00
    assert run(deliver_due(switch, SECRET, tindahan)) == []  # delivered once
    booked = [(m.uetr, m.credit, m.at_ns) for m in switch.settlement.movements]
    assert booked[-1] == (held["uetr"], True, TUESDAY_CUTOFF)  # on Tuesday's statement
    (credited,) = [
        t
        for t in api.ok(api.get("/v1/inbound_transfers", buyer.key))["data"]
        if t["uetr"] == held["uetr"]
    ]
    assert (credited["status"], credited["rail"], credited["amount_minor"]) == (
        "credited",
        "pesonet",
        700_00,
    )


def test_an_unreachable_tindahan_keeps_the_transfer_held():
    wall = Wall(TUESDAY_CUTOFF - 10**9)
    switch = house(wall)
    made, data = payment(bank("CITI"), "wal_x", 700_00)
    assert switch.hold_inbound(made, data) is not None
    wall.now = ns(2026, 9, 8, 15)
    nobody = f"http://127.0.0.1:{free_port()}"
    assert run(deliver_due(switch, SECRET, nobody)) == []
    assert [held.payment for held in switch.due_inbound()] == [made]  # tried again later


@pytest.mark.slow
def test_the_switch_process_holds_pesonet_and_delivers_instapay(world, rails_secret, tmp_path):
    """``tindahan rails switch`` as its own process: a holiday given for today and the
    next days holds a bank's PESONet transfer; an InstaPay one is credited at once."""
    api, buyer = world.api, world.buyer
    before = world.balance(buyer)
    port = free_port()
    today = business_date(time.time_ns())
    days = [str(today + timedelta(days=n)) for n in range(5)]
    command = [sys.executable, "-c", "from tindahan.cli.rails import app; app()", "switch"]
    command += ["--port", str(port), "--tindahan", str(api.http.base_url)]
    command += ["--db", str(tmp_path / "switch.sqlite3")]
    for day in days:
        command += ["--holiday", day]
    env = {**os.environ, "TINDAHAN_RAILS_SECRET": SECRET}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                httpx.post(base_url + "/answers", timeout=2)
                break
            except httpx.HTTPError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)
        instapay = ask_switch(base_url, {"account": buyer.wallets["main"], "amount_minor": 300_00})
        assert instapay.status_code == 200 and instapay.json()["answers"][0]["status"] == "ACSC"
        body = {"account": buyer.wallets["main"], "amount_minor": 400_00, "bank": "CITI"}
        pesonet = ask_switch(base_url, body)
        assert pesonet.status_code == 202, pesonet.text
        leaves = datetime.fromisoformat(pesonet.json()["delivers_at"])
        assert business_date(int(leaves.timestamp()) * 10**9) > today + timedelta(days=4)
        assert leaves > datetime.now(UTC)
        assert world.balance(buyer) == before + 300_00  # the PESONet one waits
    finally:
        process.terminate()
        process.wait(10)
