"""What operations needs to see of the running processes (issue 23).

``worker_beats``: one row per worker process (``tindahan worker`` or the worker thread of
``tindahan serve``), named ``host:pid``, moved on after every round whether it succeeded or
not (``last_ok`` says which). ``/ready`` asks for one beat newer than a few rounds; rows of
processes gone for a day are deleted by the worker itself. On a TigerBeetle deployment,
``ledger_down_since_ns`` is when the worker's rounds began to find the cluster silent (NULL
while it answers): ``/ready`` and ``/metrics`` say "unreachable since" from it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, String, Table

from tindahan.store.tables import metadata

worker_beats = Table(
    "worker_beats",
    metadata,
    Column("worker", String(200), primary_key=True),
    Column("started_ns", BigInteger, nullable=False),
    Column("beat_ns", BigInteger, nullable=False),
    Column("rounds", BigInteger, nullable=False),
    Column("last_ok", Boolean, nullable=False),
    Column("ledger_down_since_ns", BigInteger, nullable=True),
    CheckConstraint("rounds >= 0", name="ck_worker_beats_rounds"),
)
