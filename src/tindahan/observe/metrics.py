"""The process-wide Prometheus metrics, and their exposition across server processes.

``tindahan serve --workers N`` runs N processes (plus the worker thread in the first):
prometheus-client's multiprocess mode keeps each process's counters and histograms in
files under ``PROMETHEUS_MULTIPROC_DIR`` and sums them at exposition. That mode is chosen
when the library is imported, so nothing here imports it before ``serve`` has set the
folder (``use_folder``): the metrics are made on first use (``metrics()``), never at import.
Without the folder (tests, one process) they live in the process's own registry.

Labels are bounded on purpose: a route is its template (``/v1/payments/{payment_id}``,
never the id), a request that matched no route is ``unmatched``, and nothing personal (no
phone, no key, no party id) is ever a label.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
#: Request latency buckets, seconds: a payment is a few milliseconds, a page a few tens.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: A worker round: usually milliseconds, a loans' close or slow endpoints much longer.
ROUND_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)
#: Payments in one group commit (README, "Group commit"): 1 when requests arrive alone, up
#: to ``limits.GROUP_COMMIT_MAX`` in a rush.
GROUP_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


@dataclass(frozen=True)
class Metrics:
    requests: Any  # Counter: method, route, status
    latency: Any  # Histogram: method, route
    worker_rounds: Any  # Histogram: outcome (ok, failed)
    worker_jobs: Any  # Counter: job (what each round did, by kind)
    group_commits: Any  # Histogram of payments per group: outcome (together, split)


def use_folder(folder: Path) -> None:
    """Multiprocess mode in ``folder`` (emptied first): call before the first ``metrics()``."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(folder)


@functools.cache
def _registry() -> Any:
    from prometheus_client import CollectorRegistry

    return CollectorRegistry()


@functools.cache
def metrics() -> Metrics:
    from prometheus_client import Counter, Histogram

    own = _registry()
    return Metrics(
        requests=Counter(
            "tindahan_http_requests",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=own,
        ),
        latency=Histogram(
            "tindahan_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        ),
        worker_rounds=Histogram(
            "tindahan_worker_round_duration_seconds",
            "Time a background worker round took, by outcome.",
            ["outcome"],
            buckets=ROUND_BUCKETS,
            registry=own,
        ),
        worker_jobs=Counter(
            "tindahan_worker_jobs",
            "Work done by background rounds, by job (transfers sealed, holds expired, "
            "webhooks delivered, loan days closed, payouts, bank transfers, SMS sent...).",
            ["job"],
            registry=own,
        ),
        group_commits=Histogram(
            "tindahan_group_commit_size",
            "Payments per group commit, by outcome: committed together in one transaction, "
            "or split (the group failed as a whole and each ran alone).",
            ["outcome"],
            buckets=GROUP_BUCKETS,
            registry=own,
        ),
    )


@dataclass(frozen=True)
class _Together:
    """Several collectors exposed as one (``generate_latest`` only calls ``collect``)."""

    parts: tuple[Any, ...]

    def collect(self) -> Iterable[Any]:
        for part in self.parts:
            yield from part.collect()


def render(extra: Iterable[Any] = ()) -> tuple[bytes, str]:
    """The text exposition of every process's metrics plus ``extra`` collectors (read at
    this moment, in this process: e.g. figures from the database)."""
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        generate_latest,
        multiprocess,
    )

    metrics()  # the families exist (at zero) before anything was counted
    base = _registry()
    if os.environ.get(MULTIPROC_ENV):
        base = CollectorRegistry()
        collector: Any = multiprocess.MultiProcessCollector  # untyped in some releases
        collector(base)
    return generate_latest(_Together((base, *extra))), CONTENT_TYPE_LATEST
