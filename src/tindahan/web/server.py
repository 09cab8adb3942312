"""The app as uvicorn's worker processes build it: everything from the environment
(``tindahan serve`` sets ``TINDAHAN_DATABASE_URL`` and ``TINDAHAN_SERVER_WORKERS``)."""

from __future__ import annotations

import os

from fastapi import FastAPI

from tindahan import limits
from tindahan.api.server import WORKERS_ENV
from tindahan.services.ledger.backend import LedgerSettings
from tindahan.services.platform.datakey import open_vault
from tindahan.services.unit import Platform
from tindahan.store.database import connect
from tindahan.web.app import create_app


def app_from_environment() -> FastAPI:
    database = connect(None, create=False)
    processes = int(os.environ.get(WORKERS_ENV, "1"))
    # TINDAHAN_LEDGER_URL (unset: SQL); a cluster that does not answer is a 503, not a wait
    ledger = LedgerSettings.from_environment().open(limits.LEDGER_REQUEST_TIMEOUT_MS)
    platform = Platform(database, open_vault(database), ledger=ledger)
    # Group commit in a server: TINDAHAN_GROUP_COMMIT, by default ``auto`` (on for SQLite,
    # off for PostgreSQL, as measured; README, "Group commit on the payment path").
    return create_app(platform, processes=processes, group_commit="auto")
