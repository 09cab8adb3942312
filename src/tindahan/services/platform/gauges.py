"""What the database says about the platform right now, for ``/metrics`` (issue 23).

Counts that must agree across every server process (payments by kind and outcome, loans by
status, transfers sealed or not, webhook deliveries waiting) are read from the database at
scrape time, not counted in one process's memory: a restart or a second machine would
otherwise make them wrong. Each read is one grouped query; a scrape every 15 s costs a few
index or table scans, cached for ``limits.METRICS_DB_CACHE_S`` so several scrapers (or a
scraper and a person) do not repeat them. Only counts and ages: nothing personal.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from tindahan import limits
from tindahan.services.platform import health
from tindahan.services.unit import Platform, Unit
from tindahan.store.lending_tables import loans
from tindahan.store.ops_tables import worker_beats
from tindahan.store.payment_tables import payments, webhook_deliveries
from tindahan.store.tables import seals

NS = 1_000_000_000


@dataclass(frozen=True)
class Figures:
    payments: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, status)
    loans: dict[str, int] = field(default_factory=dict)  # status
    transfers: int = 0
    unsealed: int = 0
    deliveries: dict[str, int] = field(default_factory=dict)  # status
    #: Nanoseconds the oldest pending delivery that is due has been waiting (0: none due).
    outbox_lag_ns: int = 0
    #: Nanoseconds since the last worker round anywhere (None: no worker ever beat).
    worker_silence_ns: int | None = None
    #: Nanoseconds a live worker has found the TigerBeetle cluster silent (0: it answers;
    #: None: no cluster configured).
    ledger_down_ns: int | None = None


def read(platform: Platform) -> Figures:
    def work(unit: Unit) -> Figures:
        conn, now = unit.conn, platform.now()
        paid = conn.execute(
            select(payments.c.kind, payments.c.status, func.count()).group_by(
                payments.c.kind, payments.c.status
            )
        )
        lent = conn.execute(select(loans.c.status, func.count()).group_by(loans.c.status))
        sealed = conn.execute(
            select(func.count(), func.count(seals.c.block_no))  # all, and those in a block
        ).one()
        queued = conn.execute(
            select(webhook_deliveries.c.status, func.count()).group_by(webhook_deliveries.c.status)
        )
        oldest_due = conn.execute(
            select(func.min(webhook_deliveries.c.created_at_ns)).where(
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at_ns <= now,
            )
        ).scalar()
        last_beat = conn.execute(select(func.max(worker_beats.c.beat_ns))).scalar()
        return Figures(
            payments={(kind, status): n for kind, status, n in paid},
            loans={status: n for status, n in lent},
            transfers=int(sealed[0]),
            unsealed=int(sealed[0]) - int(sealed[1]),
            deliveries={status: n for status, n in queued},
            outbox_lag_ns=max(0, now - oldest_due) if oldest_due is not None else 0,
            worker_silence_ns=max(0, now - last_beat) if last_beat is not None else None,
        )

    figures = platform.run(work, write=False)
    if platform.ledger is None:
        return figures
    since = health.ledger_down_since(platform)
    down = 0 if since is None else max(0, platform.now() - since)
    return replace(figures, ledger_down_ns=down)


class Cached:
    """``read``, at most once per ``limits.METRICS_DB_CACHE_S`` (monotonic time)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._lock = threading.Lock()
        self._at_ns: int | None = None  # never read yet
        self._figures = Figures()

    def get(self) -> Figures:
        with self._lock:
            now = time.monotonic_ns()
            if self._at_ns is None or now - self._at_ns >= limits.METRICS_DB_CACHE_S * NS:
                self._figures = read(self.platform)
                self._at_ns = time.monotonic_ns()
            return self._figures
