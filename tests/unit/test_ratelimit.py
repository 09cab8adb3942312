"""Unit tests of the per-key token bucket (``tindahan.api.ratelimit``), on a fake clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tindahan import limits
from tindahan.api.ratelimit import RateLimiter

SECOND = 10**9
T0 = 1_000 * SECOND


def _granted(limiter: RateLimiter, key: str, now_ns: int, tries: int) -> int:
    return sum(limiter.take(key, now_ns) == 0 for _ in range(tries))


def test_burst_then_refusal_with_a_positive_retry_after() -> None:
    limiter = RateLimiter(per_second=10, burst=5)
    assert [limiter.take("key", T0) for _ in range(5)] == [0] * 5
    wait = limiter.take("key", T0)
    assert wait >= 1
    assert limiter.take("key", T0) >= 1  # refusals take nothing and stay refused


def test_refusal_does_not_spend_tokens() -> None:
    limiter = RateLimiter(per_second=10, burst=5)
    assert _granted(limiter, "key", T0, 5) == 5
    for _ in range(100):
        assert limiter.take("key", T0) > 0
    assert limiter.take("key", T0 + SECOND // 10) == 0  # one token after 100 ms, not less


def test_refill_over_time() -> None:
    limiter = RateLimiter(per_second=10, burst=5)
    assert _granted(limiter, "key", T0, 5) == 5
    assert limiter.take("key", T0 + SECOND // 20) > 0  # half a token
    assert limiter.take("key", T0 + SECOND // 10) == 0  # one token per 100 ms
    assert limiter.take("key", T0 + SECOND // 10) > 0
    assert _granted(limiter, "key", T0 + SECOND // 10 + 3 * SECOND // 10, 10) == 3


def test_refill_stops_at_the_burst() -> None:
    limiter = RateLimiter(per_second=10, burst=5)
    assert _granted(limiter, "key", T0, 5) == 5
    assert _granted(limiter, "key", T0 + 3_600 * SECOND, 20) == 5


def test_retry_after_is_enough() -> None:
    limiter = RateLimiter(per_second=1, burst=1)
    assert limiter.take("key", T0) == 0
    assert limiter.take("key", T0) == 1
    assert limiter.take("key", T0 + SECOND // 2) == 1  # still half a token short
    assert limiter.take("key", T0 + SECOND) == 0


def test_keys_are_independent() -> None:
    limiter = RateLimiter(per_second=10, burst=3)
    assert _granted(limiter, "key_a", T0, 10) == 3
    assert limiter.take("key_a", T0) > 0
    assert _granted(limiter, "key_b", T0, 10) == 3
    assert limiter.take("key_a", T0) > 0


def test_processes_split_the_budget() -> None:
    per_process = [RateLimiter(per_second=200, burst=400, processes=4) for _ in range(4)]
    granted = [_granted(limiter, "key", T0, 1_000) for limiter in per_process]
    assert granted == [100, 100, 100, 100]
    assert sum(granted) == 400
    # Each process refills at 200 / 4 = 50 a second: one token per 20 ms.
    one = per_process[0]
    assert one.take("key", T0 + 10 * 10**6) > 0
    assert one.take("key", T0 + 20 * 10**6) == 0
    assert _granted(one, "key", T0 + 20 * 10**6 + SECOND, 1_000) == 50


def test_one_process_is_the_whole_budget() -> None:
    limiter = RateLimiter(limits.RATE_LIMIT_PER_SECOND, limits.RATE_LIMIT_BURST)
    assert _granted(limiter, "key", T0, 10_000) == limits.RATE_LIMIT_BURST
    assert _granted(limiter, "key", T0 + SECOND, 10_000) == limits.RATE_LIMIT_PER_SECOND


@pytest.mark.parametrize("processes", [0, 1])
def test_at_least_one_process(processes: int) -> None:
    limiter = RateLimiter(per_second=10, burst=4, processes=processes)
    assert _granted(limiter, "key", T0, 100) == 4


def test_real_clock_by_default() -> None:
    limiter = RateLimiter(per_second=1, burst=2)
    assert limiter.take("key") == 0
    assert limiter.take("key") == 0
    assert limiter.take("key") >= 1


@given(
    per_second=st.integers(1, 500),
    burst=st.integers(1, 500),
    gaps_ns=st.lists(st.integers(0, SECOND // 2), min_size=1, max_size=200),
)
def test_never_grants_more_than_burst_plus_rate_times_time(
    per_second: int, burst: int, gaps_ns: list[int]
) -> None:
    limiter = RateLimiter(per_second, burst)
    now = T0
    granted = 0
    for gap in gaps_ns:
        now += gap
        granted += limiter.take("key", now) == 0
        # tokens ≤ burst + rate × elapsed, compared in integers (nanoseconds).
        assert granted * SECOND <= burst * SECOND + per_second * (now - T0)


@given(
    per_second=st.integers(1, 500),
    burst=st.integers(1, 50),
    gaps_ns=st.lists(st.integers(0, SECOND), max_size=60),
)
def test_waiting_the_retry_after_is_always_enough(
    per_second: int, burst: int, gaps_ns: list[int]
) -> None:
    limiter = RateLimiter(per_second, burst)
    now = T0
    for gap in [0, *gaps_ns]:
        now += gap
        wait = limiter.take("key", now)
        assert wait >= 0
        if wait:
            assert limiter.take("key", now + wait * SECOND) == 0
            now += wait * SECOND


def test_a_refused_request_does_not_delay_the_next_token() -> None:
    limiter = RateLimiter(per_second=10, burst=5)
    assert _granted(limiter, "key", T0, 5) == 5
    assert limiter.take("key", T0 + SECOND // 10 - 1) > 0  # 1 ns short of one token
    assert limiter.take("key", T0 + SECOND // 10) == 0  # the token is due at 100 ms


def test_frequent_requests_get_the_full_rate() -> None:
    limiter = RateLimiter(per_second=10, burst=1)
    assert limiter.take("key", T0) == 0
    step = 150_000  # ns: 1.5 millitokens at 10 a second
    granted = sum(limiter.take("key", T0 + i * step) == 0 for i in range(1, 20_001))
    # 20,000 × 150 µs = 3 s at 10 a second: 30 tokens (less one for rounding at the edge).
    assert granted >= 29
