"""``make bench-ussd``'s driver in a short smoke run: two phones walk the menu, the balance
and a payment through the HTTP callback, and every step is counted (none as an error)."""

from __future__ import annotations

import asyncio
from argparse import Namespace

from tests.ussd.conftest import Barangay, make_login, make_party
from tindahan.bench import ussd as bench


def test_the_ussd_bench_counts_steps_without_errors(server: str, barangay: Barangay) -> None:
    for n in range(2):
        party = make_party(barangay.platform, "customer", f"Bench Buyer {n}", bench.phone_of(n))
        make_login(barangay.platform, party, bench.phone_of(n), bench.PIN)
        barangay.fund(party, 100_000)
    args = Namespace(warmup=0.0, duration=3.0, sessions=2)
    found = asyncio.run(bench.drive(server, barangay.merchant_code, args))
    assert found["errors"] == {}, found["errors"]
    assert found["steps"] >= 2 and found["p99_ms"] >= found["p50_ms"] > 0
