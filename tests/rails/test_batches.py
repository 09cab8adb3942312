"""PESONet batches: cut-offs on banking days (weekends and the operator's holidays skipped),
one pacs.008 per batch, each transaction answered alone — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.lending.conftest import OPERATOR
from tests.rails.test_outbound import balances, send, state
from tindahan.rails import xml as rails_xml
from tindahan.rails.batches import PH_TIME, cutoff_after
from tindahan.services.lending.holidays import put_holiday
from tindahan.services.rails import transfers


def ns(day: date, hour: int, minute: int = 0) -> int:
    return (
        int(datetime(day.year, day.month, day.day, hour, minute, tzinfo=PH_TIME).timestamp())
        * 10**9
    )


MONDAY = date(2026, 9, 7)


@pytest.mark.parametrize(
    ("made", "leaves"),
    [
        (ns(MONDAY, 9), ns(MONDAY, 10)),
        (ns(MONDAY, 10), ns(MONDAY, 10)),
        (ns(MONDAY, 10, 1), ns(MONDAY, 15)),
        (ns(MONDAY + timedelta(days=4), 15, 1), ns(MONDAY + timedelta(days=7), 10)),  # Friday
        (ns(MONDAY + timedelta(days=5), 9), ns(MONDAY + timedelta(days=7), 10)),  # Saturday
        (ns(MONDAY + timedelta(days=1), 16), ns(MONDAY + timedelta(days=3), 10)),  # Wed holiday
    ],
)
def test_a_transfer_leaves_at_the_first_cut_off_on_a_banking_day(made, leaves):
    holidays = {MONDAY + timedelta(days=2)}  # a Wednesday
    assert cutoff_after(made, holidays) == leaves


def test_a_pesonet_batch_waits_for_its_cut_off_and_a_holiday(platform, sender, rail, clock):
    day = clock.day  # Tuesday 1 September 2026
    clock.at_day(day, 11)
    made = [send(platform, sender, sender.citi, amount) for amount in (100_00, 200_00, 300_00)]
    assert {item["rail"] for item in made} == {"pesonet"}
    clock.at_day(day, 14)
    assert transfers.dispatch(platform, rail) == 0 and rail.sent == []
    clock.at_day(day, 15)
    assert transfers.dispatch(platform, rail) == 3
    (batch,) = rail.sent
    message = rails_xml.read(batch)
    assert message.clearing_system == "PESONET"
    sent = sorted(t.uetr or "" for t in message.transactions)
    assert sent == sorted(item["uetr"] for item in made)
    for item, status in zip(made, ("ACSC", "RJCT", "ACCC"), strict=True):
        transfers.receive(
            platform, rail.status(item["uetr"], status, "AC01" if status == "RJCT" else None)
        )
    assert [state(platform, item["id"], sender)["status"] for item in made] == [
        "settled",
        "rejected",
        "settled",
    ]
    assert balances(platform, sender, "pesonet")[2] == 400_00
    # made after the day's last cut-off, with tomorrow a holiday: leaves the day after
    platform.run(lambda u: put_holiday(u, OPERATOR, (day + timedelta(days=1)).isoformat(), "Test"))
    clock.at_day(day, 16)
    late = send(platform, sender, sender.citi, 50_00)
    clock.at_day(day + timedelta(days=1), 15)
    assert transfers.dispatch(platform, rail) == 0
    clock.at_day(day + timedelta(days=2), 10)
    assert transfers.dispatch(platform, rail) == 1
    assert rails_xml.read(rail.sent[-1]).transactions[0].uetr == late["uetr"]
