"""Loan repayments from a wallet on a TigerBeetle ledger (issue 22): the two-store order.

**A** (database) runs the SQL path's checks (``loans.repayable``: the loan, the wallet, the
amount; ``loans.plan_repayment``: the figures, ``overpayment``), raises the wallet's outgoing
total, and *holds the loan* (``loans.ledger_hold`` = the repayment's id) with what it decided
(``loan_moves``: amount, wallet, business day) and its place (``record`` ``loan_repayment``,
keyed by the repayment's id). It writes none of the loan's rows. A loan already held — the
daily close's chunk between its claim and its commit, another repayment before its C — is
refused ``409 loan_busy`` ("try again shortly"). A payment on a written-off loan is a
recovery: its A is ``recovery_cluster.reserve``.

The **hold** (cluster) is one pending transfer of the wallet's part, wallet → the loan's
reserve (``<txn>.wallet``, 60 s). Decision: the wallet pays through the loan's reserve on the
cluster, where the SQL ledger books wallet → each receivable. The order holds the payer's
leg and books the rest with the post; a receivable's credit held as pending would be checked
against its *posted* debits, before the same repayment's accrual of the day's interest is
posted, and refused. Through the reserve, the post chain is the SQL path's batch with the
wallet's legs paid from the reserve the hold filled: the same receivables, components and
amounts, the reserve back where it was (or emptied to the wallet, as on SQL, when the
repayment closes the loan). The wallet's statement shows one debit to the loan's reserve.

**C** (database) writes the loan's rows from what A decided: ``plan_repayment`` again, on the
same loan (held: nothing else booked on it) with A's day and id, must give A's legs exactly
(else it raises: a bug, and the place stays for an operator); then the SQL path's rows, entry
and event (``loans.apply_repayment``), and the hold cleared. A failure (the wallet too low in
the cluster, ``402 insufficient_funds``; the reservation's time over) gives back the
outgoing total and clears the hold; the loan never changed. Crash points, recovery and the
resend with the same key are the order's (``two_store``). The answer: the loan as it stands
(the SQL path's); ``pending`` names the repayment (``object`` ``loan_repayment``) until C.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import insert, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import TransferCode
from tindahan.services.ledger import movement
from tindahan.services.lending import loans
from tindahan.services.payments import loan_hold, recovery_cluster, two_store
from tindahan.services.platform import idempotency
from tindahan.services.unit import Platform, Unit, ledger_id, new_id
from tindahan.store.lending_tables import loan_moves
from tindahan.store.lending_tables import loans as loan_rows

RECORD = "loan_repayment"


def repay(
    platform: Platform,
    caller: Caller,
    loan_id: str,
    amount_minor: object,
    source: str,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[Any], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/loans/{id}/repayments`` on a TigerBeetle ledger (the module's order)."""
    reserve = reserving(caller, loan_id, amount_minor, source)
    return two_store.run(
        platform, scope, key, fingerprint, reserve, render, render_refusal, record=RECORD
    )


def reserving(
    caller: Caller, loan_id: str, amount_minor: object, source: str = "main"
) -> two_store.Reserve[dict[str, Any]]:
    """A repayment's A (the API route's, the web loan page's and the USSD menu's, with
    ``RECORD``)."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], list[NewTransfer] | None]:
        row, wallet, amount = loans.repayable(unit, caller, loan_id, amount_minor, source)
        if row["status"] == "written_off":  # a recovery, placed under its own record
            return recovery_cluster.reserve(unit, row, wallet, amount, source)
        loans.require_unheld(row)
        txn = new_id("ltx")
        r = loans.plan_repayment(unit, row, wallet, amount, source, loans.today(unit), txn)
        legs = cluster_legs(r)
        movement.limit_outgoing(unit, wallet, amount, loans.CURRENCY)
        two_store.require_no_risk_hold(unit, legs)
        now = unit.now()
        unit.conn.execute(
            insert(loan_moves),
            {
                "id": txn,
                "loan_id": row["id"],
                "kind": "repayment",
                "amount_minor": amount,
                "source": source,
                "business_date": r.day.isoformat(),
                "created_at_ns": now,
            },
        )
        unit.conn.execute(
            update(loan_rows).where(loan_rows.c.id == row["id"]).values(ledger_hold=txn)
        )
        pending = {
            "object": RECORD,
            "id": txn,
            "loan_id": row["id"],
            "amount_minor": amount,
            "status": "pending",
        }
        return pending, legs

    return reserve


def cluster_legs(r: loans.Repayment) -> list[NewTransfer]:
    """The hold (wallet → the loan's reserve, the wallet's part) then the SQL path's batch
    with the wallet's legs paid from the reserve (the module's decision)."""
    reserve = loans.account(r.row["id"], "reserve")
    wallet = r.wallet.account_id
    hold = NewTransfer(
        f"{ledger_id(r.txn)}.wallet",
        wallet,
        reserve,
        r.amount,
        loans.CURRENCY,
        int(TransferCode.LOAN_REPAYMENT),
        metadata={"loan": r.row["id"]},
    )
    rest = [
        replace(t, debit_account_id=reserve) if t.debit_account_id == wallet else t for t in r.batch
    ]
    return two_store.unlinked([hold, *rest])


def _figures(legs: list[NewTransfer]) -> list[tuple[Any, ...]]:
    return [
        (t.id, t.debit_account_id, t.credit_account_id, t.amount, int(t.code or 0)) for t in legs
    ]


def _settled(unit: Unit, txn: str, ids: list[str]) -> None:
    """C: the loan's rows from A's decision, checked against the legs booked; hold cleared."""
    move = loan_hold.move(unit, txn)
    row = loan_hold.locked(unit, move["loan_id"])
    if row["ledger_hold"] != txn:
        raise RuntimeError(f"loan {row['id']} is not held by its repayment {txn}")
    wallet = movement.holders(unit, (row["merchant_id"],))[(row["merchant_id"], move["source"])]
    day = date.fromisoformat(move["business_date"])
    r = loans.plan_repayment(unit, row, wallet, move["amount_minor"], move["source"], day, txn)
    if _figures(cluster_legs(r)) != _figures(two_store.legs_of(unit, txn)):
        raise RuntimeError(f"repayment {txn}: the loan's figures differ from the legs booked")
    loans.apply_repayment(unit, r, ids)
    loan_hold.release(unit, row["id"], txn)


two_store.RECORDS[RECORD] = two_store.Record(loan_hold.view, _settled, loan_hold.failed)
