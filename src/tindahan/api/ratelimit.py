"""Per-key rate limiting: a token bucket per API key, per process, in integer arithmetic.

Each process holds ``rate / processes`` of a key's budget (``tindahan serve --workers N``
tells it N), so the total across processes stays the configured figure without a shared
store. Tokens are counted in millitokens and time in nanoseconds: no floats anywhere.
A refused request is told how long to wait (``Retry-After``, whole seconds, at least 1).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

_MILLI = 1000


@dataclass
class _Bucket:
    tokens_milli: int
    at_ns: int


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
