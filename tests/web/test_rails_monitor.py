"""The operator's rails monitor (``/op/rails``): bank transfers in flight, rejected with the
reason in words, returned, a PESONet batch, inbound transfers credited and rejected, a
recall waiting for a decision, and a reconciled day's break — through HTTP on
SQLite and PostgreSQL, in English and Filipino, staff only; and once in Chromium at 360 px."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date

from sqlalchemy import insert

from tests.rails.test_inbound import pacs008
from tests.rails.test_reconcile import HousePort, statement
from tests.web.conftest import OPERATOR, Browser, Site
from tindahan.kernel.callers import SCOPES, Caller
from tindahan.services.rails import (
    bank_accounts,
    inbound,
    participants,
    reconciliation,
    transfers,
)
from tindahan.store.rails_tables import inbound_recalls
from tindahan.switch.clearing import ClearingHouse
from tindahan.worker.rails import rails_round

HOUR = 3600 * 10**9


def _send(site: Site, caller: Caller, account: str, amount: int) -> dict:
    new = transfers.NewBankTransfer(account, amount, "PHP")
    return site.platform.run(lambda u: transfers.create(u, caller, new))


def seed_rails(site: Site, clock) -> dict[str, object]:
    """Through the clearing house in process: settled, rejected, returned, a PESONet batch
    (to Citibank, PESONet only), one still in flight, and the day reconciled with a break."""
    platform = site.platform
    participants.ensure_seeded(platform)
    caller = Caller("test", site.buyer.party_id, frozenset(SCOPES))

    def register(bank: str, number: str) -> str:
        new = bank_accounts.NewBankAccount(bank, number, "Juan dela Cruz")
        return platform.run(lambda u: bank_accounts.register(u, caller, new))["id"]

    bdo, citi = register("BDO", "0012-3456-7890"), register("CITI", "5550001112")
    house = ClearingHouse(participants.seed_rows(), "none", clock=lambda: 0, wall=clock)
    port = HousePort(house)
    settled = _send(site, caller, bdo, 120_00)
    rails_round(platform, port)
    house.faults = "rejected"
    rejected = _send(site, caller, bdo, 130_00)
    rails_round(platform, port)
    house.faults = "returned"
    returned = _send(site, caller, bdo, 140_00)
    rails_round(platform, port)
    house.faults = "none"
    batch = [_send(site, caller, citi, amount) for amount in (150_00, 160_00)]
    clock.advance(24 * 3600)  # past a PESONet cut-off on a banking day
    rails_round(platform, port)
    flying = _send(site, caller, bdo, 170_00)
    inbound.receive(platform, pacs008((site.merchant.wallets["main"], 180_00, "PHP")))
    inbound.receive(platform, pacs008(("0000000000", 190_00, "PHP")))  # no such wallet
    came = platform.run(lambda u: inbound.list_transfers(u, OPERATOR, 10), write=False)["data"]
    credited = next(t for t in came if t["status"] == "credited")
    # a camt.056 recall as the recalls' service will record it (not on main yet)
    recall = {
        "id": "rcl_monitortest",
        "inbound_transfer_id": credited["id"],
        "case_id": "CASE-BDO-1",
        "message_id": "C1",
        "assigner_agent": "BNORPHMM",
        "reason_code": "DUPL",
        "status": "pending",
        "received_at_ns": clock(),
    }
    platform.run(lambda u: u.conn.execute(insert(inbound_recalls).values(**recall)))
    day = house.settlement.movements[0].day  # the first day's statement, one amount changed
    entries = [m.entry() for m in house.settlement.movements if m.day == day]
    entries[0] = replace(entries[0], amount_minor=entries[0].amount_minor + 1)
    read = reconciliation.read_statement(statement(day, entries), day)
    platform.run(lambda u: reconciliation.run(u, OPERATOR, day, read))
    return {
        "settled": settled,
        "rejected": rejected,
        "returned": returned,
        "batch": batch,
        "flying": flying,
        "day": day,
        "inbound": credited,
    }


def _section(page: str, heading_id: str) -> str:
    match = re.search(rf'aria-labelledby="{heading_id}">(.*?)</section>', page, re.S)
    assert match, heading_id
    return match.group(1)


def test_the_rails_monitor_shows_every_state_in_english_and_filipino(
    browser: Browser, site: Site, clock
):
    seeded = seed_rails(site, clock)
    browser.sign_in(site.merchant)
    assert browser.get("/op/rails").status_code == 404  # staff only
    browser.sign_in(site.operator)
    page = browser.get("/op/rails").text
    assert 'aria-current="page"' in page and "Bank rails" in page
    flying = _section(page, "flight-h")
    assert seeded["flying"]["uetr"] in flying and "Not sent yet" in flying  # type: ignore[index]
    rejected = _section(page, "rejected-h")
    assert seeded["rejected"]["uetr"] in rejected  # type: ignore[index]
    assert "AC04" in rejected and "closed" in rejected.lower()
    assert seeded["returned"]["uetr"] in _section(page, "returned-h")  # type: ignore[index]
    came = _section(page, "inbound-h")
    assert seeded["inbound"]["uetr"] in came and "Credited" in came  # type: ignore[index]
    assert "₱180.00" in came and "AC01" in came and "BNORPHMM" in came
    recalled = _section(page, "recalled-h")
    assert "CASE-BDO-1" in recalled and "Waiting for a decision" in recalled
    batches = _section(page, "batches-h")
    assert "2 arrived, 0 on the way, 0 failed" in batches and "₱310.00" in batches
    breaks = _section(page, "recon-h")
    day = seeded["day"]
    assert isinstance(day, date) and day.isoformat() in breaks
    assert "Amount mismatch" in breaks and "1 break" in breaks
    assert browser.post("/lang", {"lang": "fil", "next": "/op/rails"}).status_code == 303
    filipino = browser.get("/op/rails").text
    assert "Tinanggihan" in filipino and "Hindi tugma ang halaga" in filipino
    assert "Mga batch ng PESONet" in filipino and "Naghihintay ng pasya" in filipino
