"""``tindahan loan close``: closes a named past day (once), or every ended day due, and
refuses a day that has not ended or is not a date — exit 2, one line, nothing closed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.lending.conftest import BusinessClock, Shop
from tests.lending.test_loans_service import offer
from tindahan.cli.app import app
from tindahan.services.lending import offers as loan_offers
from tindahan.services.unit import Platform
from tindahan.store.lending_tables import loan_closes

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


def closes(platform: Platform) -> int:
    query = select(func.count()).select_from(loan_closes)
    return platform.run(lambda u: u.conn.execute(query).scalar(), write=False)


def test_close_a_named_day_once_then_refuse_bad_days(
    platform: Platform, shop: Shop, clock: BusinessClock, db_url: str
):
    made = offer(platform, shop, term=8)
    platform.run(lambda u: loan_offers.accept(u, shop.merchant, made["id"]))
    day = clock.day.isoformat()  # the CLI runs on the wall clock: 2026-09-01 has ended
    first = runner.invoke(app, ["loan", "close", "--db", db_url, "--date", day, "--json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["business_date"] == day and report["loans"] == 1
    assert report["interest_minor"] > 0
    again = runner.invoke(app, ["loan", "close", "--db", db_url, "--date", day])
    assert again.exit_code == 0 and "already closed" in again.output
    assert closes(platform) == 1
    future = (clock.day + timedelta(days=3650)).isoformat()
    for bad in ("2026-02-30", "yesterday", future):
        result = runner.invoke(app, ["loan", "close", "--db", db_url, "--date", bad])
        assert result.exit_code == 2, (bad, result.output)
        assert "error" in result.output and "Traceback" not in result.output
    assert closes(platform) == 1
