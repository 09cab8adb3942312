"""Is this deployment ready to take payments? The answer ``/ready`` gives (issue 23, item 7).

Ready means: the database answers, its schema is at this code's newest migration (a server
started against an old schema would fail on its first write), and a background worker beat
within ``limits.WORKER_READY_S`` (without one, holds never expire, webhooks never go and
nothing is sealed). The ledger lives in the same database, so "database reachable" covers it.
A load balancer or the failover drill sends traffic only to a ready server; ``/health`` only
says the process is alive, and never touches the database.

Each worker process (``tindahan worker``, or ``tindahan serve``'s worker thread) records
its beat after every round in ``worker_beats`` (``host:pid``), good or failed.

On a TigerBeetle deployment the ledger is not in that database, so "database reachable" no
longer covers it: each beat also says since when the cluster has not answered that worker
(``ledger_down_since_ns``, kept from the first silent round until one finds it answering),
and ``/ready`` is not ready while a live worker says so ("ledger": unreachable since when).
Decision: the worker's view, not a request to the cluster per probe — a probe would wait the
API's bound (10 s) on a silent cluster, longer than a load balancer waits, and every server
would ask the same cluster the same question; the worker asks every round anyway.
"""

from __future__ import annotations

import functools
import os
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime

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


def beat(
    platform: Platform,
    worker: str,
    started_ns: int,
    *,
    ok: bool,
    ledger_down: bool | None = False,
) -> None:
    """Record one finished round of ``worker`` (and forget workers silent for a day);
    ``ledger_down``: the round found the TigerBeetle cluster silent (the first such round's
    time is kept until a round finds it answering; None: not known, a round that failed
    before it could tell, so what was recorded stays)."""

    def work(unit: Unit) -> None:
        now = platform.now()
        unit.conn.execute(
            text(
                "INSERT INTO worker_beats "
                "(worker, started_ns, beat_ns, rounds, last_ok, ledger_down_since_ns) "
                "VALUES (:w, :s, :now, 1, :ok, CASE WHEN :down THEN :now END) "
                "ON CONFLICT (worker) DO UPDATE SET "
                "beat_ns = :now, rounds = worker_beats.rounds + 1, last_ok = :ok, "
                "ledger_down_since_ns = CASE WHEN :keep THEN worker_beats.ledger_down_since_ns "
                "WHEN :down THEN COALESCE(worker_beats.ledger_down_since_ns, :now) END"
            ),
            {
                "w": worker,
                "s": started_ns,
                "now": now,
                "ok": ok,
                "down": bool(ledger_down),
                "keep": ledger_down is None,
            },
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
    if platform.ledger is not None:
        checks["ledger"] = _ledger(platform)
    return Readiness(all(said == "ok" for said in checks.values()), checks)


def ledger_down_since(platform: Platform) -> int | None:
    """Since when (ns) a worker that beat within ``limits.WORKER_READY_S`` has found the
    TigerBeetle cluster silent, the earliest such; None when every live worker reached it."""

    def read(unit: Unit) -> int | None:
        live = platform.now() - limits.WORKER_READY_S * NS
        found = unit.conn.execute(
            select(func.min(worker_beats.c.ledger_down_since_ns)).where(
                worker_beats.c.beat_ns >= live
            )
        ).scalar()
        return None if found is None else int(found)

    return platform.run(read, write=False)


def _ledger(platform: Platform) -> str:
    since = ledger_down_since(platform)
    if since is None:
        return "ok"
    moment = datetime.fromtimestamp(since / NS, UTC).isoformat(timespec="seconds")
    age_s = max(0, platform.now() - since) // NS
    return (
        f"the TigerBeetle cluster has not answered the worker since {moment} ({age_s} s): "
        "check that a quorum of its replicas runs"
    )


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
