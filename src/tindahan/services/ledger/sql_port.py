"""The SQL ledger behind the ledger port (``ledger.port.LedgerPort``): the main database.

A thin wrapper over the existing use cases (``services.ledger.transfers``): nothing here
changes how the SQL ledger books, locks or seals; it only gives the services and the
contract tests one interface for both stores (issue 22).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Connection, func, or_, select

from tindahan.ledger import audit
from tindahan.ledger.model import (
    Account,
    AccountOutcome,
    NewAccount,
    NewTransfer,
    Transfer,
    TransferOutcome,
)
from tindahan.ledger.port import Balance
from tindahan.services.ledger import transfers as service
from tindahan.store import ledger as repo
from tindahan.store.database import Database
from tindahan.store.tables import transfers


class SqlLedger:
    kind = "sql"

    def __init__(self, db: Database) -> None:
        self.db = db

    def create_accounts(self, batch: Sequence[NewAccount]) -> list[AccountOutcome]:
        return service.create_accounts(self.db, batch)

    def create_transfers(self, batch: Sequence[NewTransfer]) -> list[TransferOutcome]:
        return service.create_transfers(self.db, batch)

    def lookup_accounts(self, ids: Sequence[str]) -> dict[str, Account]:
        return service.lookup_accounts(self.db, ids)

    def lookup_transfers(self, ids: Sequence[str]) -> dict[str, Transfer]:
        return service.lookup_transfers(self.db, ids)

    def account_transfers(
        self, account_id: str, *, limit: int, before_timestamp: int | None = None
    ) -> list[Transfer]:
        def read(conn: Connection) -> list[Transfer]:
            query = repo.TRANSFER_SELECT.where(_touches(account_id))
            if before_timestamp is not None:
                query = query.where(transfers.c.timestamp < before_timestamp)
            query = query.order_by(transfers.c.timestamp.desc()).limit(limit)
            return [repo.transfer_from_row(r) for r in conn.execute(query)]

        return self.db.transact(read, write=False)

    def balance_at(self, account_id: str, timestamp: int) -> Balance | None:
        def read(conn: Connection) -> Balance | None:
            query = (
                repo.TRANSFER_SELECT.where(_touches(account_id))
                .where(transfers.c.timestamp <= timestamp)
                .order_by(transfers.c.timestamp)
            )
            history = [repo.transfer_from_row(r) for r in conn.execute(query)]
            if not history:
                return None
            b = audit.recompute(history).get(account_id, audit.ZERO)
            return Balance(account_id, history[-1].timestamp, b[0], b[1], b[2], b[3])

        return self.db.transact(read, write=False)

    def totals(self) -> list[audit.LedgerTotals]:
        def read(conn: Connection) -> list[audit.LedgerTotals]:
            rows = conn.execute(select(*repo._ACCOUNT_COLUMNS))
            return audit.totals(repo.account_from_row(r) for r in rows)

        return self.db.transact(read, write=False)

    def transfer_count(self) -> int:
        return int(
            self.db.transact(
                lambda conn: conn.scalar(select(func.count()).select_from(transfers)),
                write=False,
            )
            or 0
        )

    def expire_pending(self) -> int:
        return service.expire_pending(self.db)

    def close(self) -> None:
        """The database belongs to the caller: nothing to release here."""


def _touches(account_id: str) -> ColumnElement[bool]:
    return or_(
        transfers.c.debit_account_id == account_id, transfers.c.credit_account_id == account_id
    )
