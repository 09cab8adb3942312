"""`tindahan serve --workers 2 --metrics-port P` (issue 23, items 4 and 7): the metrics of
both server processes and of the worker thread are summed on the private port (no key),
the API's `/metrics` still wants the operator's key, and `/ready` turns 200 once the worker
has beaten."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import TEST_DATA_KEY
from tests.servers import free_port

pytestmark = pytest.mark.xdist_group("integration-serve-metrics")
TINDAHAN = str(Path(sys.executable).with_name("tindahan"))


def _wait(url: str, seconds: float = 120) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _health_requests(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "tindahan_http_requests"
        for sample in family.samples
        if sample.labels.get("route") == "/health"
    )


def test_two_workers_metrics_are_summed_on_the_private_port(tmp_path):
    port, scrape = free_port(), free_port()
    env = {
        **os.environ,
        "TINDAHAN_DATABASE_URL": f"sqlite:///{tmp_path / 'metrics.db'}",
        "TINDAHAN_DATA_KEY": TEST_DATA_KEY,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    command = [TINDAHAN, "serve", "--workers", "2", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--metrics-port", str(scrape)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait(base + "/health").status_code == 200
        for _ in range(30):  # new connections: uvicorn's two processes share them
            assert httpx.get(base + "/health", timeout=5).status_code == 200
        deadline = time.monotonic() + 60
        while httpx.get(base + "/ready", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, httpx.get(base + "/ready").text
            time.sleep(0.5)
        assert httpx.get(base + "/metrics", timeout=5).status_code == 401  # the API's wants a key

        private = _wait(f"http://127.0.0.1:{scrape}/metrics")
        assert private.status_code == 200
        assert _health_requests(private.text) >= 31  # every process's, summed
        rounds = [
            sample.value
            for family in text_string_to_metric_families(private.text)
            if family.name == "tindahan_worker_round_duration_seconds"
            for sample in family.samples
            if sample.name.endswith("_count")
        ]
        assert sum(rounds) >= 1  # the worker thread's rounds, from its process's files
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
