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

from sqlalchemy import insert, update

from tindahan.services.ledger import movement
from tindahan.services.lending import loans
from tindahan.services.payments import loan_hold, two_store
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


def _settled(unit: Unit, txn: str, ids: list[str]) -> None:
    """C: the SQL path's rows from A's decision; the hold cleared."""
    move = loan_hold.move(unit, txn)
    row = loan_hold.locked(unit, move["loan_id"])
    if row["ledger_hold"] != txn:
        raise RuntimeError(f"loan {row['id']} is not held by its recovery {txn}")
    day = date.fromisoformat(move["business_date"])
    loans.apply_recovery(unit, row, move["amount_minor"], move["source"], day, txn, ids)
    loan_hold.release(unit, row["id"], txn)


two_store.RECORDS[RECORD] = two_store.Record(loan_hold.view, _settled, loan_hold.failed)
