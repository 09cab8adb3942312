"""Which store holds the ledger: ``TINDAHAN_LEDGER_URL`` (or ``--ledger URL`` on ``serve``,
``worker`` and ``ledger verify``), parsed once into ``LedgerSettings`` when a process starts.

Unset (or empty) means the SQL ledger in the main database, exactly as before issue 22: the
platform's ``ledger`` is None and every movement books through ``services.ledger.movement``
inside its own transaction. A ``tigerbeetle://CLUSTER@ADDR,…`` URL puts merchant payments,
P2P sends and cash-ins on that TigerBeetle cluster (``services.payments.two_store``); movements not
yet ported are refused there rather than booked on the SQL ledger (``movement.book``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tindahan.ledger.port import LedgerPort
from tindahan.tigerbeetle.address import parse

LEDGER_URL_ENV = "TINDAHAN_LEDGER_URL"


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    #: None: the SQL ledger in the main database; else a checked ``tigerbeetle://`` URL.
    url: str | None = None

    @classmethod
    def from_environment(cls, given: str | None = None) -> LedgerSettings:
        """``given`` (an option's value) wins over ``$TINDAHAN_LEDGER_URL``; a malformed URL
        raises ``LedgerUrlError`` (a ``ValueError`` naming the fault) before anything
        connects."""
        url = given if given is not None else os.environ.get(LEDGER_URL_ENV)
        url = (url or "").strip() or None
        if url is not None:
            parse(url)
        return cls(url)

    def open(self, timeout_ms: int | None = None) -> LedgerPort | None:
        """The TigerBeetle ledger port, or None for the SQL ledger. ``timeout_ms``: each
        request to the cluster gives up after it with ``LedgerUnavailableError`` (the API's
        processes, the worker and the tools, each with its bound in ``limits``; None waits as
        long as it takes)."""
        if self.url is None:
            return None
        from tindahan.tigerbeetle.connect import connect

        return connect(self.url, timeout_ms)

    def export(self) -> None:
        """Hand the choice to child processes (uvicorn's workers build their app from the
        environment)."""
        if self.url is None:
            os.environ.pop(LEDGER_URL_ENV, None)
        else:
            os.environ[LEDGER_URL_ENV] = self.url
