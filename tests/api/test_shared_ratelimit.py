"""Shared rate limits (issue 23, item 3): with TINDAHAN_REDIS_URL, a key's budget is one
budget across server processes; without Redis answering, each process falls back to its own."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest

from tindahan.api import ratelimit

REDIS_URL = os.environ.get("TINDAHAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Each process takes this many times at once; together they may have BURST.
BURST, TRIES = 10, 30
TAKE = """
import json, sys
from tindahan.api import ratelimit
own = ratelimit.RateLimiter(1, {burst}, 1)
shared = ratelimit.SharedRateLimiter({url!r}, 1, {burst}, own)
print(json.dumps([shared.take({key!r}) for _ in range({tries})]))
"""


def _redis_answers() -> str | None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1).ping()
    except Exception as exc:  # no server here: say so
        return f"no Redis answers at {REDIS_URL} ({exc})"
    return None


def test_two_processes_share_one_budget():
    if (reason := _redis_answers()) is not None:
        pytest.skip(reason)
    key = f"key_test_{secrets.token_hex(6)}"
    code = TAKE.format(burst=BURST, url=REDIS_URL, key=key, tries=TRIES)
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    waits = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        waits.extend(json.loads(out))
    allowed = waits.count(0)
    assert allowed == BURST  # one budget, not one per process (per process would be 20)
    assert all(1 <= wait <= BURST for wait in waits if wait)  # Retry-After within the window


def test_without_redis_each_process_keeps_its_own_bucket(caplog):
    own = ratelimit.RateLimiter(1, 3, 1)
    shared = ratelimit.SharedRateLimiter("redis://127.0.0.1:1/0", 1, 3, own)
    waits = [shared.take("key_down") for _ in range(5)]
    assert waits[:3] == [0, 0, 0] and all(w >= 1 for w in waits[3:])
    assert sum("shared rate limits unavailable" in r.getMessage() for r in caplog.records) == 1


def test_the_app_shares_when_configured(monkeypatch):
    monkeypatch.setenv(ratelimit.REDIS_ENV, REDIS_URL)
    assert isinstance(ratelimit.from_environment(200, 400, 2), ratelimit.SharedRateLimiter)
    monkeypatch.delenv(ratelimit.REDIS_ENV)
    assert isinstance(ratelimit.from_environment(200, 400, 2), ratelimit.RateLimiter)
