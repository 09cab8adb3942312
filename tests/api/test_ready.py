"""`/health` says the process is alive; `/ready` says whether it can take payments:
database reachable and migrated, a background worker beating (issue 23, item 7)."""

from __future__ import annotations

import httpx
from sqlalchemy import text

from tindahan import limits
from tindahan.services.platform import health
from tindahan.worker import run as run_worker


def test_ready_waits_for_a_worker_then_says_ready(server, platform, clock):
    assert httpx.get(server + "/health").json() == {"status": "ok"}
    answer = httpx.get(server + "/ready")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not ready" and "no background worker" in body["reason"]
    assert body["checks"]["database"] == "ok" and body["checks"]["schema"] == "ok"

    health.beat(platform, "host:1", platform.now(), ok=True)
    answer = httpx.get(server + "/ready")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "worker": "ok"},
    }

    clock.advance(limits.WORKER_READY_S + 1)  # the worker went silent
    answer = httpx.get(server + "/ready")
    assert answer.status_code == 503 and "last worker round was" in answer.json()["reason"]


def test_a_schema_behind_the_code_is_not_ready(server, platform):
    health.beat(platform, "host:1", platform.now(), ok=True)
    platform.run(lambda u: u.conn.execute(text("UPDATE alembic_version SET version_num = '0001'")))
    answer = httpx.get(server + "/ready")
    assert answer.status_code == 503
    assert "run `tindahan db upgrade`" in answer.json()["reason"]
    platform.run(
        lambda u: u.conn.execute(
            text(f"UPDATE alembic_version SET version_num = '{health._head()}'")
        )
    )


def test_the_worker_beats_every_round_and_forgets_the_long_gone(platform, clock):
    health.beat(platform, "gone:7", platform.now(), ok=True)
    clock.advance(limits.WORKER_BEAT_FORGET_S + 1)

    class OneRound:
        calls = 0

        def is_set(self) -> bool:
            self.calls += 1
            return self.calls > 1

        def wait(self, _seconds: float) -> bool:
            return True

    run_worker(platform, OneRound())  # type: ignore[arg-type]
    rows = platform.run(
        lambda u: u.conn.execute(text("SELECT worker, rounds, last_ok FROM worker_beats")).all(),
        write=False,
    )
    assert [(w, r, ok) for w, r, ok in rows] == [(health.worker_name(), 1, True)]
    assert health.readiness(platform).ready
