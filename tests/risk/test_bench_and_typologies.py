"""The risk benchmark's smoke run, and the labelled traffic it measures on."""

from __future__ import annotations

import json

import pytest

from tindahan.bench import risk as bench
from tindahan.risk import typologies


def test_the_generator_is_deterministic_and_labels_every_typology() -> None:
    first = typologies.generate(customers=30, days=150, instances=2, seed=7)
    again = typologies.generate(customers=30, days=150, instances=2, seed=7)
    assert first == again
    assert {d.typology for d in first} == {"", *typologies.TYPOLOGIES}
    assert [d.movement.at for d in first] == sorted(d.movement.at for d in first)


def test_the_benchmark_runs_and_the_rules_find_the_injected_typologies(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--customers", "30", "--days", "150", "--instances", "3", "--runs", "1", "--json"]
    assert bench.main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["evaluate"]["median_cpu"] > 0
    for typology in typologies.TYPOLOGIES:
        assert result["quality"][typology]["recall"] == 1.0, typology


def test_the_gate_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    from tindahan.bench import risk_gate

    assert risk_gate.main(["--buyers", "3", "--merchants", "2", "--payments", "8", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["payments_each"] == 4 and result["on_p99_ms"] > 0
    # the gate itself was timed on each gate-on payment, and only there
    assert 0 < result["gate_p50_ms"] <= result["gate_p99_ms"] <= result["on_p99_ms"]
    assert 0 <= result["gate_cpu_p50_ms"] <= result["gate_cpu_p99_ms"]
    # and its statements counted (SQLite: the owners and switches, the pair, the buckets and
    # last seen, at least, on each gate-on payment)
    assert 4 <= result["gate_statements_mean"] <= result["gate_statements_max"]
    # the runs' spread of each p99 around its median
    assert len(result["runs"]) == 5
    for name in ("added_p99", "gate_p99", "off_p99", "on_p99"):
        each = sorted(run[f"{name}_ms"] for run in result["runs"])
        assert result[f"{name}_min_ms"] == each[0] and result[f"{name}_max_ms"] == each[-1]
        assert result[f"{name}_ms"] == each[2]  # the median of five
