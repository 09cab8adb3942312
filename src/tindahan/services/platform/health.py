"""Is this deployment ready to take payments? The answer ``/ready`` gives (issue 23, item 7).

Ready means: the database answers, its schema is at this code's newest migration (a server
started against an old schema would fail on its first write), and a background worker beat
within ``limits.WORKER_READY_S`` (without one, holds never expire, webhooks never go and
nothing is sealed). The ledger lives in the same database, so "database reachable" covers it.
A load balancer or the failover drill sends traffic only to a ready server; ``/health`` only
says the process is alive, and never touches the database.

Each worker process (``tindahan worker``, or ``tindahan serve``'s worker thread) records
its beat after every round in ``worker_beats`` (``host:pid``), good or failed.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, text

from tindahan import limits
from tindahan.services.unit import Platform, Unit
from tindahan.store import migrate
from tindahan.store.ops_tables import worker_beats

NS = 1_000_000_000


@dataclass(frozen=True)
class Readiness:
    ready: bool
    #: check name -> "ok" or what is wrong with it, in words an operator acts on.
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return "; ".join(f"{name}: {said}" for name, said in self.checks.items() if said != "ok")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(platform: Platform, worker: str, started_ns: int, *, ok: bool) -> None:
    """Record one finished round of ``worker`` (and forget workers silent for a day)."""

    def work(unit: Unit) -> None:
        now = platform.now()
        unit.conn.execute(
            text(
                "INSERT INTO worker_beats (worker, started_ns, beat_ns, rounds, last_ok) "
                "VALUES (:w, :s, :now, 1, :ok) ON CONFLICT (worker) DO UPDATE SET "
                "beat_ns = :now, rounds = worker_beats.rounds + 1, last_ok = :ok"
            ),
            {"w": worker, "s": started_ns, "now": now, "ok": ok},
        )
        forget = now - limits.WORKER_BEAT_FORGET_S * NS
        unit.conn.execute(delete(worker_beats).where(worker_beats.c.beat_ns < forget))

    platform.run(work)


@functools.cache
def _head() -> str:
    return migrate.head()


def readiness(platform: Platform) -> Readiness:
    """Every check, each answered even when another failed."""
    try:
        revision = migrate.current(platform.db)
    except Exception as exc:  # unreachable, refused, timed out: all mean "not ready"
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return Readiness(False, {"database": f"unreachable: {first[:200]}"})
    checks = {"database": "ok"}
    if revision != _head():
        checks["schema"] = (
            f"at {revision or 'nothing'}, this code needs {_head()}: run `tindahan db upgrade`"
        )
        return Readiness(False, checks)
    checks["schema"] = "ok"
    checks["worker"] = _worker(platform)
    return Readiness(all(said == "ok" for said in checks.values()), checks)


def _worker(platform: Platform) -> str:
    def read(unit: Unit) -> int | None:
        return unit.conn.execute(select(func.max(worker_beats.c.beat_ns))).scalar()

    last = platform.run(read, write=False)
    if last is None:
        return "no background worker has run (start `tindahan worker` or serve with --worker)"
    age_s = (platform.now() - last) // NS
    if age_s > limits.WORKER_READY_S:
        return f"the last worker round was {age_s} s ago (more than {limits.WORKER_READY_S} s)"
    return "ok"
