"""A payment on a written-off loan (a recovery) on a TigerBeetle ledger (issue 22).

The merchant's ``POST /v1/loans/{id}/repayments`` on a loan the operator wrote off is a
recovery: income (wallet → ``op.loan.recoveries``), never more than what was written off
and not yet recovered. On the cluster it is a payment with one leg, through the two-store
order (``two_store``), as a repayment is (``repayment_cluster``, whose A hands a
written-off loan to ``reserve`` here):

**A** (database): the SQL path's checks (``loans.repayable``: the loan, the wallet, the
amount; ``loans.require_recoverable``: ``overpayment``), ``loan_busy`` if the loan is held,
the wallet's outgoing total raised, the live risk rules; the loan *held* by the recovery's
id (``ltx_``) with what A decided (``loan_moves`` kind ``recovery``: amount, wallet, day)
and its place (``record`` ``loan_recovery``). Then the hold (the leg pending, 60 s), B, its
post, and **C**: the SQL path's rows (``loans.apply_recovery``: ``recovered_minor``, the
entry naming the hold and its post, ``loan.recovered``), the hold cleared. A failure (the
wallet too low in the cluster: ``402 insufficient_funds``; time over) gives back the
outgoing total and clears the hold; the loan never changed.

Decision: the loan is held from A to C, as for a repayment, because C raises
``recovered_minor`` from A's decision: two recoveries at once could each pass A's
"no more than is left" and together recover more than was written off (the row's CHECK
would then fail C for ever). The second is refused ``loan_busy`` ("try again shortly")
instead. The answer: the loan as it stands (the SQL path's); ``pending`` names the
recovery (``object`` ``loan_repayment``, what the merchant asked for) until C.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update

from tindahan.kernel.refusals import RefusalError
from tindahan.services.ledger import movement
from tindahan.services.lending import loans
from tindahan.services.lending.views import LoanView
from tindahan.services.payments import two_store
from tindahan.services.unit import Unit, new_id
from tindahan.store.lending_tables import loan_moves
from tindahan.store.lending_tables import loans as loan_rows

RECORD = "loan_recovery"


def reserve(
    unit: Unit, row: Any, wallet: movement.Holder, amount: int, source: str
) -> tuple[dict[str, Any], None]:
    """A recovery's A, after ``loans.repayable`` found the loan written off: its place in
    the order begun here, under its own record (the repayment's ``two_store.run`` names the
    repayment's), so the run goes on from A as for a movement already placed."""
    loans.require_recoverable(row, amount)
    loans.require_unheld(row)
    txn = new_id("ltx")
    legs = [loans.recovery_leg(row["id"], txn, wallet.account_id, amount)]
    movement.limit_outgoing(unit, wallet, amount, loans.CURRENCY)
    two_store.require_no_risk_hold(unit, legs)
    unit.conn.execute(
        insert(loan_moves),
        {
            "id": txn,
            "loan_id": row["id"],
            "kind": "recovery",
            "amount_minor": amount,
            "source": source,
            "business_date": loans.today(unit).isoformat(),
            "created_at_ns": unit.now(),
        },
    )
    unit.conn.execute(update(loan_rows).where(loan_rows.c.id == row["id"]).values(ledger_hold=txn))
    pending = {
        "object": "loan_repayment",
        "id": txn,
        "loan_id": row["id"],
        "amount_minor": amount,
        "status": "pending",
    }
    two_store.begin(unit, txn, two_store.unlinked(legs), None, None, RECORD)
    return pending, None


def _move(unit: Unit, txn: str) -> Any:
    return unit.conn.execute(select(loan_moves).where(loan_moves.c.id == txn)).mappings().one()


def _loan(unit: Unit, loan_id: str) -> Any:
    query = select(loan_rows).where(loan_rows.c.id == loan_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    return unit.conn.execute(query).mappings().one()


def _view(unit: Unit, txn: str) -> LoanView:
    found = select(loan_rows).where(loan_rows.c.id == _move(unit, txn)["loan_id"])
    return loans.view(unit, unit.conn.execute(found).mappings().one())


def _settled(unit: Unit, txn: str, ids: list[str]) -> None:
    """C: the SQL path's rows from A's decision; the hold cleared."""
    move = _move(unit, txn)
    row = _loan(unit, move["loan_id"])
    if row["ledger_hold"] != txn:
        raise RuntimeError(f"loan {row['id']} is not held by its recovery {txn}")
    day = date.fromisoformat(move["business_date"])
    loans.apply_recovery(unit, row, move["amount_minor"], move["source"], day, txn, ids)
    _release(unit, row["id"], txn)


def _failed(
    unit: Unit, txn: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """Nothing moved: the wallet's outgoing total given back, the hold cleared."""
    move = _move(unit, txn)
    row = _loan(unit, move["loan_id"])
    wallet = movement.holders(unit, (row["merchant_id"],)).get((row["merchant_id"], move["source"]))
    if wallet is not None:
        movement.release_outgoing(unit, wallet, move["amount_minor"], move["created_at_ns"])
    _release(unit, row["id"], txn)


def _release(unit: Unit, loan_id: str, txn: str) -> None:
    held = (loan_rows.c.id == loan_id) & (loan_rows.c.ledger_hold == txn)
    unit.conn.execute(update(loan_rows).where(held).values(ledger_hold=None))


two_store.RECORDS[RECORD] = two_store.Record(_view, _settled, _failed)
