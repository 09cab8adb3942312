"""A TigerBeetle cluster that does not answer: the API says 503 after a bound, never waits.

The official client waits for ever while no quorum answers; the API's processes open the
ledger with ``limits.LEDGER_REQUEST_TIMEOUT_MS`` (``tigerbeetle.bounded``). Here the real
adapter and client point at a loopback port where nothing listens (no server binary
needed), with a bound of a fraction of a second.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from tests.api.conftest import World
from tindahan import limits, worker
from tindahan.api.app import create_app
from tindahan.cli.app import app as cli
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.services.payments import two_store
from tindahan.store.payment_tables import two_store_payments
from tindahan.tigerbeetle.address import parse
from tindahan.tigerbeetle.ledger import TigerBeetleLedger

BOUND_MS = 300


def _nowhere() -> str:
    """A loopback address nothing listens on (the port was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"tigerbeetle://0@127.0.0.1:{port}"


@pytest.fixture
def silent() -> Iterator[TigerBeetleLedger]:
    ledger = TigerBeetleLedger(parse(_nowhere()), probe=False, timeout_ms=BOUND_MS)
    yield ledger
    ledger.close()


def test_a_request_to_a_silent_cluster_gives_up_after_the_bound(silent) -> None:
    for _ in range(2):  # the client stays usable after a request it gave up on
        started = time.monotonic()
        with pytest.raises(LedgerUnavailableError, match=r"did not answer within 300 ms"):
            silent.lookup_accounts(["wallet.nobody"])
        waited = time.monotonic() - started
        assert BOUND_MS <= waited * 1000 < BOUND_MS + 30_000  # bounded (generous: a loaded machine)


def test_a_payment_meets_503_ledger_unavailable_and_its_retry_too(
    world: World, platform, shared_server, silent
) -> None:
    shared_server.app = create_app(replace(platform, ledger=silent))
    body = {"payee_id": world.merchant.id, "amount_minor": 10_000, "currency": "PHP"}
    for _ in range(2):  # the retry under the same key: the same answer, not a 409 or a 500
        answer = world.api.post("/v1/payments", world.buyer.key, body, idem="silent-1")
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "2"
        error = answer.json()["error"]
        assert error["code"] == "ledger_unavailable"
        assert "same Idempotency-Key" in error["message"]


# -- the worker and the tools: bounded too (README, "A cluster that does not answer") -------


@pytest.fixture
def deaf() -> Iterator[str]:
    """A loopback port that accepts connections and never answers: a replica up without a
    quorum, as the client meets it (the tools' probe finds it listening, then it waits)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"tigerbeetle://0@127.0.0.1:{s.getsockname()[1]}"


def test_the_worker_round_logs_a_silent_cluster_and_tries_again_next_round(
    world: World, platform, shared_server, silent, caplog
) -> None:
    """A payment whose A committed before the cluster went quiet stays unfinished; each
    worker round gives up on the cluster after its bound, says so, goes on with the rest,
    and leaves the payment for the next round."""
    on_cluster = replace(platform, ledger=silent)
    shared_server.app = create_app(on_cluster)
    body = {"payee_id": world.merchant.id, "amount_minor": 5_000, "currency": "PHP"}
    answer = world.api.post("/v1/payments", world.buyer.key, body, idem="silent-worker")
    assert answer.status_code == 503, answer.text
    # older than recovery's grace, as a payment left by a crash a while ago
    on_cluster.run(lambda u: u.conn.execute(update(two_store_payments).values(created_at_ns=0)))
    for _ in range(2):
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="tindahan.worker"):
            result = worker.tick(on_cluster)
        assert result.payments_recovered == 0
        said = [r.getMessage() for r in caplog.records]
        assert any("did not answer within 300 ms" in m and "recover" in m for m in said), said
        assert two_store.unfinished(on_cluster) == 1  # still there for the next round


def test_ledger_verify_stops_with_exit_2_when_the_cluster_does_not_answer(
    deaf: str, monkeypatch
) -> None:
    monkeypatch.setattr(limits, "LEDGER_TOOL_TIMEOUT_MS", BOUND_MS)
    result = CliRunner().invoke(cli, ["ledger", "verify", "--ledger", deaf])
    assert result.exit_code == 2, result.output
    assert "did not answer within 300 ms" in result.output
    assert "quorum" in result.output and "Traceback" not in result.output


def test_the_migration_stops_with_exit_2_when_the_cluster_does_not_answer(
    platform, deaf: str, monkeypatch
) -> None:
    monkeypatch.setattr(limits, "LEDGER_TOOL_TIMEOUT_MS", BOUND_MS)
    url = platform.db.url.render_as_string(hide_password=False)
    args = ["ledger", "migrate-to-tigerbeetle", "--db", url, "--ledger", deaf]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "did not answer within 300 ms" in result.output
