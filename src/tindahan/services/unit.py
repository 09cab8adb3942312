"""What every payments use case runs with: the database, the data vault, one transaction.

A *unit* is one open transaction (``Database.begin``) plus the platform it belongs to; the
use cases in ``services.payments.payments``, ``services.platform.parties`` and the rest take
one and never commit themselves. ``Platform.run`` (and ``services.platform.idempotency.run``
for requests with an ``Idempotency-Key``) opens it, retries it whole after a deadlock, a
serialization failure or a lost race on a unique key, and commits only when the use case returned.
A refusal rolls it back whole; what the refusal carries as its ``aftermath`` (the risk
gate's record of a movement it refused) is committed after, in a transaction of its own.
What a use case must do only once its transaction has committed (forgetting a removed
photo's files: a rollback after deleting them would leave a row naming missing bytes) it
puts in ``unit.after_commit``; ``Platform.run`` calls those of the attempt that committed.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Connection

from tindahan.anchor.config import Anchor
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.port import LedgerPort
from tindahan.observe import traces
from tindahan.store.database import Database
from tindahan.store.ledger_names import StoredNames
from tindahan.store.media import MediaStore, default_media, default_private_media
from tindahan.store.vault import Vault

T = TypeVar("T")


@dataclass(frozen=True)
class Platform:
    db: Database
    vault: Vault
    #: Where sealed blocks' signed heads go (``services.ledger.anchoring``); None: nowhere.
    anchor: Anchor | None = None
    #: Where product photos' bytes go (``store.media``): ``./var/media`` unless replaced.
    media: MediaStore = field(default_factory=default_media)
    #: Where onboarding's ID images go, sealed (``store.media``): ``./var/private``.
    private_media: MediaStore = field(default_factory=default_private_media)
    #: Where the ledger lives: None is the SQL ledger in ``db`` (the default); a TigerBeetle
    #: port (``services.ledger.backend``, issue 22) takes merchant payments and P2P sends.
    ledger: LedgerPort | None = None

    def __post_init__(self) -> None:
        # A TigerBeetle ledger names the numbers it meets from this database's name table
        # (``store.ledger_names``), so any process shows what another booked.
        use_names = getattr(self.ledger, "use_names", None)
        if use_names is not None:
            use_names(StoredNames(self.db))

    def now(self) -> int:
        return self.db.clock()

    def run(self, work: Callable[[Unit], T], *, write: bool = True) -> T:
        if not traces.active():  # tracing off (the default): nothing in the way
            return self._run(work, write)
        name = f"{work.__module__}.{getattr(work, '__qualname__', 'work')}"
        with traces.tracer().start_as_current_span(name, attributes={"tindahan.write": write}):
            return self._run(work, write)

    def _run(self, work: Callable[[Unit], T], write: bool) -> T:
        committed: list[Callable[[], None]] = []

        def attempt(conn: Connection) -> T:
            unit = Unit(self, conn)
            result = work(unit)
            committed[:] = unit.after_commit  # a retried attempt replaces the last one's
            return result

        try:
            result = self.db.transact(attempt, write=write)
        except RefusalError as refusal:
            aftermath, refusal.aftermath = refusal.aftermath, None
            if aftermath is not None:  # kept although the work rolled back
                self.db.transact(lambda conn: aftermath(Unit(self, conn)))
            raise
        for step in committed:
            step()
        return result


@dataclass(frozen=True)
class Unit:
    platform: Platform
    conn: Connection
    #: Steps to take after this transaction commits (none if it rolls back).
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def db(self) -> Database:
        return self.platform.db

    @property
    def vault(self) -> Vault:
        return self.platform.vault

    def now(self) -> int:
        return self.platform.now()


class SettableClock:
    """The wall clock, unless a seeder (the demo, the simulator) has set it to a moment in
    the past: rows written then carry the simulated times."""

    def __init__(self) -> None:
        self.at: int | None = None

    def __call__(self) -> int:
        return self.at if self.at is not None else time.time_ns()

    def set(self, ns: int | None) -> None:
        self.at = ns


def new_id(prefix: str) -> str:
    """``pay_3kq…``: a type prefix and 24 random base32 characters (120 bits)."""
    return prefix + "_" + base64.b32encode(secrets.token_bytes(15)).decode().lower()


def ledger_id(object_id: str, *parts: str) -> str:
    """The ledger id for an object (``pay_abc`` → ``pay.abc``, ``pay.abc.fee``): ledger ids
    allow letters, digits and ``.:-`` only."""
    return ".".join([object_id.replace("_", "."), *parts])


def iso(ns: int | None) -> str | None:
    """ISO 8601 UTC with a ``Z``, to the microsecond, for the API."""
    if ns is None:
        return None
    moment = datetime.fromtimestamp(ns // 10**9, UTC).replace(microsecond=ns // 1000 % 10**6)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
