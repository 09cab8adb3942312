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
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from tests.api.conftest import World
from tindahan import limits, worker
from tindahan.api.app import create_app
from tindahan.api.metrics import FromDatabase
from tindahan.bench import ledger as bench_ledger
from tindahan.bench import tigerbeetle_drill
from tindahan.cli.app import app as cli
from tindahan.ledger.port import LedgerUnavailableError
from tindahan.observe.metrics import _registry as metrics_registry
from tindahan.observe.metrics import render as metrics_render
from tindahan.services.payments import two_store
from tindahan.services.platform import gauges, health
from tindahan.store.ops_tables import worker_beats
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
        assert result.payments_recovered == 0 and result.ledger_unreachable
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


# -- the bench and the drill: bounded as the tools are --------------------------------------


def test_the_bench_stops_with_exit_2_when_the_cluster_does_not_answer(
    deaf: str, monkeypatch
) -> None:
    monkeypatch.setattr(limits, "LEDGER_TOOL_TIMEOUT_MS", BOUND_MS)
    args = ["ledger", "bench", "--ledger", deaf, "--transfers", "10", "--accounts", "10"]
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 2, result.output
    assert "did not answer within 300 ms" in result.output
    assert "quorum" in result.output and "Traceback" not in result.output


def test_a_bench_client_gives_up_too(deaf: str) -> None:
    """Past the set-up (a cluster that went quiet mid-run): a client gives up after the
    plan's bound (the bound travels in the plan to client processes; spawning them here
    would cost seconds, so the one-client path stands for them)."""
    plan = bench_ledger._Plan(deaf, "quiet", 2, 0, 1, timeout_ms=BOUND_MS)
    with pytest.raises(LedgerUnavailableError, match=r"did not answer within 300 ms"):
        bench_ledger._client(plan, 0, 1, None)


def test_the_drill_stops_with_exit_2_when_the_cluster_does_not_answer(
    deaf: str, monkeypatch, capsys
) -> None:
    """The drill's own look-up of the acknowledged payments' transfers is bounded; its
    command stops with exit 2, saying what to check."""
    monkeypatch.setattr(limits, "LEDGER_TOOL_TIMEOUT_MS", BOUND_MS)
    assert tigerbeetle_drill.in_cluster(deaf, []) == {}  # nothing asked, nothing waited

    def quiet_drill(_args: object) -> dict[str, object]:
        tigerbeetle_drill.in_cluster(deaf, ["pay.quiet.post"])
        raise AssertionError("the look-up should have given up")

    monkeypatch.setattr(tigerbeetle_drill, "drill", quiet_drill)
    started = time.monotonic()
    assert tigerbeetle_drill.main(["--phases", "replica"]) == 2
    assert time.monotonic() - started < 30  # bounded (generous: a loaded machine)
    said = capsys.readouterr().err
    assert "did not answer within 300 ms" in said and "quorum" in said


# -- a worker that cannot reach the cluster is seen (metrics, /ready) -----------------------


class _Rounds:
    """A stop event for ``worker.run``: ``rounds`` rounds, the clock moved on between them."""

    def __init__(self, rounds: int, clock: Any, step_s: int) -> None:
        self.rounds, self.clock, self.step_s, self.calls = rounds, clock, step_s, 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls > self.rounds

    def wait(self, _seconds: float) -> bool:
        self.clock.advance(self.step_s)
        return False


class _Answering:
    """A cluster that answers the worker's probe (and has nothing else to say)."""

    def lookup_accounts(self, _ids: list[str]) -> dict[str, object]:
        return {}


def _failed_rounds() -> float:
    found = metrics_registry().get_sample_value(
        "tindahan_worker_round_duration_seconds_count", {"outcome": "failed"}
    )
    return found or 0.0


def test_a_worker_that_cannot_reach_the_cluster_fails_its_rounds_and_says_since_when(
    platform, silent, clock
) -> None:
    """Nothing unfinished, so no job of its own asks the cluster: the round's probe finds it
    silent. Each such round counts as failed in ``/metrics``; ``/ready`` says the cluster has
    not answered since the first of them; ``tindahan_ledger_unreachable_seconds`` counts from
    it; a round that reaches the cluster again clears both."""
    on_cluster = replace(platform, ledger=silent)
    before = _failed_rounds()
    first = on_cluster.now()
    worker.run(on_cluster, _Rounds(2, clock, 30))  # type: ignore[arg-type]
    assert _failed_rounds() == before + 2
    beats = on_cluster.run(
        lambda u: u.conn.execute(
            select(worker_beats.c.last_ok, worker_beats.c.ledger_down_since_ns)
        ).all(),
        write=False,
    )
    assert [tuple(b) for b in beats] == [(False, first)]  # since the first silent round
    found = health.readiness(on_cluster)
    assert not found.ready and found.checks["worker"] == "ok"
    moment = datetime.fromtimestamp(first / 10**9, UTC).isoformat(timespec="seconds")
    assert found.checks["ledger"].startswith(
        f"the TigerBeetle cluster has not answered the worker since {moment} (60 s)"
    ), found.checks
    assert gauges.read(on_cluster).ledger_down_ns == 60 * 10**9
    assert gauges.read(platform).ledger_down_ns is None  # no cluster configured: no figure
    page = metrics_render([FromDatabase(on_cluster)])[0].decode()
    assert "tindahan_ledger_unreachable_seconds 60.0" in page

    back = replace(platform, ledger=_Answering())
    worker.run(back, _Rounds(1, clock, 1))  # type: ignore[arg-type]
    assert _failed_rounds() == before + 2  # that round was ok
    assert health.readiness(back).checks["ledger"] == "ok"
    assert gauges.read(back).ledger_down_ns == 0


def test_a_round_that_fails_otherwise_keeps_the_cluster_s_state(platform, clock) -> None:
    """A round that raised before it could tell neither clears nor restarts "since when"."""
    health.beat(platform, "host:9", platform.now(), ok=False, ledger_down=True)
    since = platform.now()
    clock.advance(5)
    health.beat(platform, "host:9", platform.now(), ok=False, ledger_down=None)
    clock.advance(5)
    health.beat(platform, "host:9", platform.now(), ok=False, ledger_down=True)
    assert health.ledger_down_since(platform) == since
    health.beat(platform, "host:9", platform.now(), ok=True, ledger_down=False)
    assert health.ledger_down_since(platform) is None
