"""A TigerBeetle cluster that does not answer: the API says 503 after a bound, never waits.

The official client waits for ever while no quorum answers; the API's processes open the
ledger with ``limits.LEDGER_REQUEST_TIMEOUT_MS`` (``tigerbeetle.bounded``). Here the real
adapter and client point at a loopback port where nothing listens (no server binary
needed), with a bound of a fraction of a second.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from tests.api.conftest import World
from tindahan.api.app import create_app
from tindahan.ledger.port import LedgerUnavailableError
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
