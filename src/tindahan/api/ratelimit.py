"""Per-key rate limiting: shared through Redis when there is one, else per process.

Without ``TINDAHAN_REDIS_URL`` (the embedded default): a token bucket per API key, per
process, in integer arithmetic. Each process holds ``rate / processes`` of a key's budget
(``tindahan serve --workers N`` tells it N), so the total across processes stays the
configured figure without a shared store. Tokens are counted in millitokens and time in
nanoseconds: no floats anywhere.

With ``TINDAHAN_REDIS_URL`` (several processes, several machines): ``SharedRateLimiter``,
the ``limits`` library's moving window in Redis (exact: at most the budget in any window,
not an estimate), one atomic script a request,
so a key's budget is the configured figure whatever the number of servers. The token
bucket's "``rate`` a second with bursts up to ``burst``" becomes "``burst`` per
``burst / rate`` seconds", the same long-run rate and the same largest burst. If Redis stops
answering, each process falls back to its own bucket (logged at most once a minute) rather
than refusing every request: an outage of the limiter must not stop payments.

A refused request is told how long to wait (``Retry-After``, whole seconds, at least 1).
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

REDIS_ENV = "TINDAHAN_REDIS_URL"
#: A Redis that takes longer than this is treated as down for that request.
REDIS_TIMEOUT_S = 0.2
#: Keys in Redis are ``<namespace>/<api key id>``.
NAMESPACE = "tindahan-api-key"
log = logging.getLogger("tindahan.ratelimit")

_MILLI = 1000


@dataclass
class _Bucket:
    tokens_milli: int
    at_ns: int


class Limiter(Protocol):
    def take(self, key: str) -> int:
        """0 if the request may go ahead, else the seconds to wait."""
        ...


class RateLimiter:
    def __init__(self, per_second: int, burst: int, processes: int = 1) -> None:
        self.rate = max(1, per_second // max(1, processes))
        self.capacity_milli = max(1, burst // max(1, processes)) * _MILLI
        self.buckets: dict[str, _Bucket] = {}
        self.lock = threading.Lock()

    def take(self, key: str, now_ns: int | None = None) -> int:
        """0 if the request may go ahead, else the seconds to wait."""
        now = time.monotonic_ns() if now_ns is None else now_ns
        with self.lock:
            bucket = self.buckets.get(key)
            if bucket is None:
                bucket = self.buckets[key] = _Bucket(self.capacity_milli, now)
            refill = (now - bucket.at_ns) * self.rate * _MILLI // 10**9
            if refill > 0:
                # Advance the clock by exactly the time those millitokens took, keeping the
                # remainder; a full bucket wastes the time instead.
                if bucket.tokens_milli + refill >= self.capacity_milli:
                    bucket.tokens_milli, bucket.at_ns = self.capacity_milli, now
                else:
                    bucket.tokens_milli += refill
                    bucket.at_ns += refill * 10**9 // (self.rate * _MILLI)
            if bucket.tokens_milli >= _MILLI:
                bucket.tokens_milli -= _MILLI
                return 0
            missing = _MILLI - bucket.tokens_milli
            return max(1, -(-missing // (self.rate * _MILLI)))


class SharedRateLimiter:
    """A key's budget shared by every process using the same Redis (see the module)."""

    def __init__(self, url: str, per_second: int, burst: int, fallback: RateLimiter) -> None:
        from limits import RateLimitItemPerSecond
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        window_s = max(1, math.ceil(burst / max(1, per_second)))
        self.item = RateLimitItemPerSecond(max(1, burst), window_s)
        options = {"socket_timeout": REDIS_TIMEOUT_S, "socket_connect_timeout": REDIS_TIMEOUT_S}
        self.limiter: Any = MovingWindowRateLimiter(storage_from_string(url, **options))
        self.fallback = fallback
        self._warned_at = -math.inf

    def take(self, key: str) -> int:
        try:
            if self.limiter.hit(self.item, NAMESPACE, key):
                return 0
            stats = self.limiter.get_window_stats(self.item, NAMESPACE, key)
        except Exception as exc:  # Redis down or slow: this process's own bucket decides
            self._warn(exc)
            return self.fallback.take(key)
        reset_at: Any = stats.reset_time  # seconds since the epoch, as the library keeps it
        wait: int = math.ceil(reset_at - time.time())
        return max(1, wait)

    def _warn(self, exc: Exception) -> None:
        if time.monotonic() - self._warned_at >= 60:
            self._warned_at = time.monotonic()
            log.warning("shared rate limits unavailable, using this process's own: %s", exc)


def from_environment(per_second: int, burst: int, processes: int) -> Limiter:
    """Shared through Redis when ``TINDAHAN_REDIS_URL`` is set, else per process."""
    own = RateLimiter(per_second, burst, processes)
    url = os.environ.get(REDIS_ENV, "").strip()
    if not url:
        return own
    return SharedRateLimiter(url, per_second, burst, own)
