"""``make bench-ussd``'s driver in a short smoke run: two phones walk two sessions each (the
balance, and a payment) through the HTTP callback with no think time, and every step is counted by
its kind (none as an error); and the think time's distribution."""

from __future__ import annotations

import random
import statistics
import time

from tests.aio import run
from tests.ussd.conftest import Barangay, make_login, make_party
from tindahan.bench import ussd as bench


def test_the_ussd_bench_counts_steps_by_kind_without_errors(
    server: str, barangay: Barangay
) -> None:
    for n in range(2):
        party = make_party(barangay.platform, "customer", f"Bench Buyer {n}", bench.phone_of(n))
        make_login(barangay.platform, party, bench.phone_of(n), bench.PIN)
        barangay.fund(party, 100_000)
    now = time.monotonic_ns()
    end = now + 120 * 10**9  # a bound; each phone stops after its two sessions
    found = run(bench.walk_phones(server, barangay.merchant_code, [0, 1], now, end, 0, 1, 2))
    assert found["errors"] == {}, found["errors"]
    samples = found["samples"]
    # Each phone walked the balance (2 steps) and a payment (5, the last with the PIN).
    assert len(samples[bench.MENU]) == 2 * 3
    assert len(samples[bench.LOOKUP]) == 2 * 3
    assert len(samples[bench.WITH_PIN]) == 2
    assert all(ns > 0 for kind in samples.values() for ns in kind)
    assert bench.rank(samples[bench.MENU], 0.99) >= bench.rank(samples[bench.MENU], 0.5)


def test_think_time_is_log_normal_around_its_median_and_bounded() -> None:
    rng = random.Random(7)
    waits = [bench.think_s(rng, 4.0) for _ in range(4000)]
    assert 3.7 < statistics.median(waits) < 4.3
    assert max(waits) <= bench.THINK_MAX_S and min(waits) > 0
    within = sum(4.0 * 0.44 <= w <= 4.0 * 2.28 for w in waits) / len(waits)
    assert 0.87 < within < 0.93  # ±1.645 σ of the logarithm: 90 %
    assert bench.think_s(rng, 0) == 0.0  # --think 0: the stress run, no waits
