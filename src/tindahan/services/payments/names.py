"""The name table filled for what a TigerBeetle deployment booked before it existed.

Migration 0047 added ``tigerbeetle_names``; from then on every name is written before the
cluster holds what it names. A deployment switched earlier has numbers without names (shown
as ``tb:<hex>``), but every one of them is derivable from what the database keeps: the
accounts, their owners and the migration's opening transfers from the SQL ledger's accounts
(the plan of ``ledger migrate-to-tigerbeetle``, whose ids depend only on the accounts), and
each payment's, send's, cash-in's and funding's ids, accounts and metadata from its legs in
``two_store_payments``. ``backfill`` writes them all (rows already there are left alone), so
it can run at any time, any number of times: ``tindahan ledger backfill-names``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from tindahan.services.ledger import migration
from tindahan.services.payments import two_store
from tindahan.store import ledger_names
from tindahan.store.database import Database
from tindahan.store.payment_tables import two_store_payments
from tindahan.tigerbeetle.ids import names_of

#: Payments read and named per transaction.
PAGE = 2_000


def backfill(db: Database) -> int:
    """Name every account, opening transfer and two-store movement; how many movements."""
    migration.record_names(db, migration.plan(db))
    after, count = "", 0
    while True:

        def page(conn: Connection, start: str = after) -> list[Any]:
            query = (
                select(two_store_payments.c.payment_id, two_store_payments.c.legs)
                .where(two_store_payments.c.payment_id > start)
                .order_by(two_store_payments.c.payment_id)
                .limit(PAGE)
            )
            rows = list(conn.execute(query))
            named = []
            for _, text in rows:
                legs = two_store.decode_legs(text)
                named += [*two_store.holds(legs), *two_store.posts(legs), *two_store.voids(legs)]
            ledger_names.record(conn, names_of(named))
            return rows

        rows = db.transact(page)
        count += len(rows)
        if len(rows) < PAGE:
            return count
        after = rows[-1][0]
