"""The switch's own database and its PESONet cut-offs (``switch.journal``,
``rails.batches.settles_at``): a restarted switch still knows every UETR, still answers a
status request, still delivers what was not collected (and nothing twice), still states the
days before; a PESONet transaction arriving outside a session's window waits for the next
cut-off on a banking day (weekends and the given holidays skipped), answered ``ACSP`` until
then — and the wait survives a restart too. The house runs in process; no database of
Tindahan's is involved (the switch has none of ours)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime

import pytest

from tests.rails.test_switch import Clock, pacs008, statuses
from tindahan.rails import ClearingSystem, StatusQuery
from tindahan.rails import xml as rails_xml
from tindahan.rails.batches import PH_TIME, settles_at
from tindahan.rails.identifiers import new_uetr
from tindahan.rails.reconciliation import manila_day
from tindahan.services.rails import participants
from tindahan.switch.clearing import ClearingHouse
from tindahan.switch.journal import Journal

NOW = datetime(2026, 9, 1, tzinfo=UTC)


def ns(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    """A Manila moment in ns since the epoch."""
    return int(datetime(year, month, day, hour, minute, tzinfo=PH_TIME).timestamp()) * 10**9


class Wall:
    def __init__(self, at: int) -> None:
        self.now = at

    def __call__(self) -> int:
        return self.now


def open_house(path, faults: str = "none", wall: Wall | None = None, **options) -> ClearingHouse:
    return ClearingHouse(
        participants.seed_rows(),
        faults,
        Clock(),
        wall=wall or Wall(ns(2026, 9, 1, 11)),
        journal=Journal(path),
        **options,
    )


def ask(house: ClearingHouse, uetr: str) -> list:
    query = rails_xml.pacs028(message_id="Q", created_at=NOW, queries=[StatusQuery("M", uetr, "E")])
    answer = house.status(query)
    return [] if answer is None else statuses([answer])


def test_settles_at_the_session_or_the_next_cutoff():
    holidays = {date(2026, 9, 7)}  # a Monday
    assert settles_at(ns(2026, 9, 2, 10, 5), holidays) == ns(2026, 9, 2, 10, 5)  # in the window
    assert settles_at(ns(2026, 9, 2, 10, 30), holidays) == ns(2026, 9, 2, 10, 30)  # its last moment
    assert settles_at(ns(2026, 9, 2, 10, 31), holidays) == ns(2026, 9, 2, 15)
    assert settles_at(ns(2026, 9, 2, 9), holidays) == ns(2026, 9, 2, 10)
    assert settles_at(ns(2026, 9, 4, 16), holidays) == ns(2026, 9, 8, 10)  # Friday → Tuesday
    assert settles_at(ns(2026, 9, 5, 10, 5), holidays) == ns(2026, 9, 8, 10)  # a Saturday


def test_a_restarted_switch_keeps_what_it_knows(tmp_path):
    path = tmp_path / "switch.sqlite3"
    wall = Wall(ns(2026, 9, 1, 11))
    first = open_house(path, "lost", wall)
    lost = new_uetr()
    first.accept(pacs008(100_00, uetr=lost))
    first.close()

    wall.now = ns(2026, 9, 1, 12)
    again = open_house(path, "none", wall)
    assert ask(again, lost) == [("pacs.002", "ACSC", None)]  # still known
    again.accept(pacs008(100_00, uetr=lost))  # sent again: still a duplicate
    kept = new_uetr()
    again.accept(pacs008(250_00, uetr=kept))
    assert len(again.notifications()) == 2  # the first life's and this one's, collected
    again.close()

    third = open_house(path, "none", wall)  # the answers were never collected: still due
    assert statuses(third.collect()) == [("pacs.002", "RJCT", "AM05"), ("pacs.002", "ACSC", None)]
    assert third.collect() == [] and third.notifications() == []  # and nothing twice
    third.close()

    fourth = open_house(path, "none", wall)
    assert fourth.collect() == [] and fourth.notifications() == []
    statement = rails_xml.read(fourth.statement(manila_day(wall.now)))
    assert sorted(item.amount_minor or 0 for item in statement.transactions) == [100_00, 250_00]
    assert {m.uetr for m in fourth.settlement.movements} == {lost, kept}
    fourth.close()


def test_a_file_of_another_version_is_refused(tmp_path):
    path = tmp_path / "switch.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(ValueError, match="version 99"):
        Journal(path)


def test_pesonet_waits_for_its_cutoff_and_the_wait_survives_a_restart(tmp_path):
    path = tmp_path / "switch.sqlite3"
    wall = Wall(ns(2026, 9, 4, 16))  # a Friday, after the last cut-off
    holidays = frozenset({date(2026, 9, 7)})  # and Monday is a holiday
    house = open_house(path, "none", wall, pesonet_cutoffs=True, holidays=holidays)
    uetr = new_uetr()
    house.accept(pacs008(75_000_00, bic="CITIPHMX", rail=ClearingSystem.PESONET, uetr=uetr))
    instant = new_uetr()
    house.accept(pacs008(100_00, uetr=instant))  # InstaPay: at once, cut-offs or not
    assert statuses(house.collect()) == [("pacs.002", "ACSC", None)]
    assert ask(house, uetr) == [("pacs.002", "ACSP", None)]  # in process
    assert [m.uetr for m in house.settlement.movements] == [instant]  # not booked yet
    house.close()

    wall.now = ns(2026, 9, 8, 9, 59)  # Tuesday, a minute before
    house = open_house(path, "none", wall, pesonet_cutoffs=True, holidays=holidays)
    assert house.collect() == []
    wall.now = ns(2026, 9, 8, 10, 2)
    assert statuses(house.collect()) == [("pacs.002", "ACSC", None)]
    assert ask(house, uetr) == [("pacs.002", "ACSC", None)]
    (moved,) = [m for m in house.settlement.movements if m.uetr == uetr]
    assert moved.at_ns == ns(2026, 9, 8, 10)  # booked at the cut-off: Tuesday's statement
    house.close()
    house = open_house(path, "none", wall, pesonet_cutoffs=True, holidays=holidays)
    assert house.collect() == [] and ask(house, uetr) == [("pacs.002", "ACSC", None)]
    assert len([m for m in house.settlement.movements if m.uetr == uetr]) == 1  # once
    house.close()


def test_a_rejection_is_not_held_for_the_cutoff(tmp_path):
    wall = Wall(ns(2026, 9, 5, 12))  # a Saturday
    house = open_house(tmp_path / "s.sqlite3", "none", wall, pesonet_cutoffs=True)
    house.accept(pacs008(100_00, bic="GXCHPHM2", rail=ClearingSystem.PESONET))  # not a member
    assert statuses(house.collect()) == [("pacs.002", "RJCT", "CNOR")]
    house.close()


def test_the_switch_command_refuses_a_bad_file_or_holiday(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tindahan.cli.app import app

    monkeypatch.setenv("TINDAHAN_RAILS_SECRET", "switch-test-secret")
    path = tmp_path / "other.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    runner = CliRunner()
    result = runner.invoke(app, ["rails", "switch", "--db", str(path)])
    assert result.exit_code == 2 and "version 7" in result.stderr
    result = runner.invoke(app, ["rails", "switch", "--holiday", "2026-13-01"])
    assert result.exit_code == 2 and "--holiday must be a date" in result.stderr
