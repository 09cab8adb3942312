"""Background jobs: seal committed transfers into the hash chain, void expired holds."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from tindahan import limits
from tindahan.services.ledger import expire_pending
from tindahan.services.seal import seal
from tindahan.store.database import Database


@dataclass(frozen=True)
class Tick:
    sealed: int
    expired: int


def tick(db: Database) -> Tick:
    """One round of every job. Expiry first, so its voids are sealed in the same round."""
    expired = expire_pending(db)
    report = seal(db)
    return Tick(report.transfers, expired)


def run(db: Database, stop: threading.Event, on_tick: object = None) -> None:
    """Run rounds until ``stop`` is set."""
    while not stop.is_set():
        result = tick(db)
        if callable(on_tick):
            on_tick(result)
        stop.wait(limits.WORKER_INTERVAL_S)
