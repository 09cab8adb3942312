"""A loan held by a wallet's payment to it on a TigerBeetle ledger (issue 22): the pieces a
repayment (``repayment_cluster``) and a recovery (``recovery_cluster``) share.

Both keep what A decided in ``loan_moves`` under the movement's id and hold the loan by that
id (``loans.ledger_hold``) until C or the refusal; they differ only in the rows C writes.
One copy here so the two records cannot drift in how they find, lock and let go of a loan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import movement
from tindahan.services.lending import loans
from tindahan.services.lending.views import LoanView
from tindahan.services.unit import Unit
from tindahan.store.lending_tables import loan_moves
from tindahan.store.lending_tables import loans as loan_rows


def move(unit: Unit, txn: str) -> Any:
    """What A decided for the movement ``txn``."""
    return unit.conn.execute(select(loan_moves).where(loan_moves.c.id == txn)).mappings().one()


def locked(unit: Unit, loan_id: str) -> Any:
    """The loan's row, locked on PostgreSQL (SQLite's one writer is the lock)."""
    query = select(loan_rows).where(loan_rows.c.id == loan_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    return unit.conn.execute(query).mappings().one()


def view(unit: Unit, txn: str) -> LoanView:
    """The answer while under way and after: the loan as it stands."""
    found = select(loan_rows).where(loan_rows.c.id == move(unit, txn)["loan_id"])
    return loans.view(unit, unit.conn.execute(found).mappings().one())


def failed(
    unit: Unit, txn: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """Nothing moved: the wallet's outgoing total given back, the hold cleared."""
    m = move(unit, txn)
    row = locked(unit, m["loan_id"])
    merchant = row["merchant_id"]
    wallet = movement.holders(unit, (merchant,)).get((merchant, m["source"]))
    if wallet is not None:
        movement.release_outgoing(unit, wallet, m["amount_minor"], m["created_at_ns"])
    release(unit, row["id"], txn)


def release(unit: Unit, loan_id: str, txn: str) -> None:
    """The hold let go, only if ``txn`` still holds it."""
    held = (loan_rows.c.id == loan_id) & (loan_rows.c.ledger_hold == txn)
    unit.conn.execute(update(loan_rows).where(held).values(ledger_hold=None))
