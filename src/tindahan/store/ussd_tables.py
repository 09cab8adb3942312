"""USSD sessions (issue 24): one row per aggregator session, for its timeout and its kind.

The menus' state is the session text itself (every input so far, sent at each step); the row
holds only what the text cannot: when the session began (it ends ``limits.USSD_SESSION_TIMEOUT_S``
later), which phone it belongs to (a session id sent from another phone is refused), and
whether it began as a sign-up (the phone had no account then; a resent last sign-up step
still reads as one). The aggregator's id is kept only as its SHA-256, the phone only as the
vault's blind index. The row is written once, at the first step (``last_step_ns`` and
``steps`` are those of that step): later steps only read it, so they write nothing. Rows are
deleted ``limits.USSD_SESSION_KEEP_S`` after they begin.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table

from tindahan.store.tables import metadata

ussd_sessions = Table(
    "ussd_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 of the aggregator's sessionId
    Column("phone_index", String(64), nullable=False),
    Column("signup", Boolean, nullable=False),
    Column("started_at_ns", BigInteger, nullable=False),
    Column("last_step_ns", BigInteger, nullable=False),
    Column("steps", Integer, nullable=False),
    Index("ix_ussd_sessions_started", "started_at_ns"),
)
