"""``tindahan payouts run`` and the worker: the due daily payouts, once per merchant and day
however many times they run; a bad ``--at`` is one line and exit 2, and pays nobody."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from tests.api.conftest import TEST_DATA_KEY
from tests.lending.conftest import DAY0, BusinessClock, Shop
from tests.payouts.helpers import balances, sell
from tests.payouts.test_payouts_service import turn_on, verified
from tindahan import worker
from tindahan.cli.app import app
from tindahan.services.unit import Platform

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_key(monkeypatch):
    monkeypatch.setenv("TINDAHAN_DATA_KEY", TEST_DATA_KEY)


def test_the_cli_pays_the_due_payouts_once(platform: Platform, shop: Shop, db_url: str):
    turn_on(platform, shop.merchant, time_of_day="09:00")
    sell(platform, shop, 150_000)  # months before the wall clock the CLI runs on: not held
    early = runner.invoke(app, ["payouts", "run", "--db", db_url, "--at", "2026-12-06T08:59"])
    assert early.exit_code == 0, early.output
    assert "0 paid out" in early.output
    assert balances(platform, shop.merchant_id) == (148_500, 0)
    args = ["payouts", "run", "--db", db_url, "--at", "2026-12-06T09:00+08:00", "--json"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert (report["day"], report["paid"], report["paid_minor"]) == ("2026-12-06", 1, 148_500)
    again = json.loads(runner.invoke(app, args).stdout.strip().splitlines()[-1])
    assert (again["paid"], again["nothing"], again["failed"]) == (0, 0, 0)
    assert balances(platform, shop.merchant_id) == (0, 148_500)
    for bad in ("tomorrow", "2026-13-01T09:00", "9999-01-01T00:00"):
        result = runner.invoke(app, ["payouts", "run", "--db", db_url, "--at", bad])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error:") and len(result.output.splitlines()) == 1
    verified(platform)


def test_the_worker_pays_out_in_its_round(platform: Platform, shop: Shop, clock: BusinessClock):
    turn_on(platform, shop.merchant, time_of_day="00:00", keep_minor=8_500)
    sell(platform, shop, 150_000)
    clock.at_day(DAY0 + timedelta(days=8), 10)
    assert worker.tick(platform).payouts == 1
    assert worker.tick(platform).payouts == 0
    assert balances(platform, shop.merchant_id) == (8_500, 140_000)
    verified(platform)
