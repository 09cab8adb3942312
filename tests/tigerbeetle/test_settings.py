"""``TINDAHAN_LEDGER_URL`` / ``--ledger`` (issue 22): parsed once, unset means the SQL ledger;
movements not ported to TigerBeetle are refused, not booked on the SQL ledger. No cluster."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from typer.testing import CliRunner

from tindahan.cli.app import app
from tindahan.kernel.refusals import Category, RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.payments.model import TransferCode
from tindahan.services.ledger import movement
from tindahan.services.ledger.backend import LEDGER_URL_ENV, LedgerSettings
from tindahan.tigerbeetle.address import LedgerUrlError

URL = "tigerbeetle://0@127.0.0.1:3000,127.0.0.1:3001,127.0.0.1:3002"


def test_unset_or_empty_is_the_sql_ledger(monkeypatch):
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    assert LedgerSettings.from_environment().url is None
    assert LedgerSettings.from_environment().open() is None
    monkeypatch.setenv(LEDGER_URL_ENV, "  ")
    assert LedgerSettings.from_environment().url is None


def test_the_option_wins_over_the_variable_and_both_are_checked(monkeypatch):
    monkeypatch.setenv(LEDGER_URL_ENV, URL)
    assert LedgerSettings.from_environment().url == URL
    assert LedgerSettings.from_environment("tigerbeetle://7@3000").url == "tigerbeetle://7@3000"
    monkeypatch.setenv(LEDGER_URL_ENV, "postgresql://db")
    with pytest.raises(LedgerUrlError, match="starts with tigerbeetle://"):
        LedgerSettings.from_environment()


@pytest.mark.parametrize("command", [["worker", "--once"], ["serve", "--port", "1"]])
def test_serve_and_worker_refuse_a_bad_ledger_url_before_starting(command, monkeypatch):
    monkeypatch.delenv(LEDGER_URL_ENV, raising=False)
    result = CliRunner().invoke(app, [*command, "--ledger", "tigerbeetle://x@3000"])
    assert result.exit_code == 2, result.output
    assert "cluster id" in result.output


def test_a_movement_not_ported_is_refused_on_a_tigerbeetle_deployment():
    on_cluster: Any = SimpleNamespace(platform=SimpleNamespace(ledger=object()))
    cash_out = NewTransfer("co.x", "w", "op.cash", 100, "PHP", TransferCode.CASH_OUT)
    with pytest.raises(RefusalError) as refused:
        movement.sql_ledger_only(on_cluster, [cash_out])
    assert refused.value.category is Category.CONFLICT
    assert refused.value.code == "ledger_not_supported"
    assert "cash_out" in refused.value.message
    on_sql: Any = SimpleNamespace(platform=SimpleNamespace(ledger=None))
    movement.sql_ledger_only(on_sql, [cash_out])  # the SQL ledger: unchanged, nothing raised
