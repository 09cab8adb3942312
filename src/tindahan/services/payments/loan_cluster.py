"""Loan disbursements on a TigerBeetle ledger (issue 22): the two-store order, as a payment's.

An acceptance's A is the SQL path's (``offers.accepted``: every check, the loan, its lines
and its five accounts stored, the offer ``accepted``, the wallet's monthly incoming total
raised) plus the maximum balance read from the cluster, the live risk rules (``judged``, as
a payment's: a disbursement they hold for review — a bank-in, so a rule that judges bank-ins,
such as structuring or a new payee's, never velocity — gets the review's hold on the
merchant's wallet in the post chain; the analyst's release voids it, a return pays the net
proceeds back to the loan's principal, as on SQL) and the loan's place in the order
(``record = "loan"``, keyed by the loan's id). Then the hold (the net proceeds,
``loan.x.disburse``: principal → the merchant's main wallet, 60 s), B, the post chain
(``loan.x.disburse.post`` and, with a fee, ``loan.x.fee``: principal, or the fee receivable
for an added fee, → ``op.loan.fees``) and C: the loan's disbursement entry names the
transfers booked and ``loan.disbursed`` goes out — at C, not in A, so nobody hears of money
that has not reached the wallet. The loan's five accounts are opened in the cluster by
the order itself (``two_store``: an account the cluster lacks is opened from its SQL row).

The request's first answer is the loan with ``status`` ``pending`` (what ``two_store.run``
waits on); the final one, stored in its place under the key, is the loan as it stands.

Decision (nothing in the cluster can refuse the legs: a receivable's debit and a wallet's
credit have no limit, so only time can): a disbursement that fails — a crash left it past
its reservation's deadline with nothing booked, or its hold expired before its post — is
undone in the database as a refused payment is: the loan, its lines and its disbursement
entry deleted, the offer ``open`` again (the merchant may accept it while it is valid), the
wallet's incoming total given back; the answer is ``402 reservation_expired``. Its five SQL
accounts stay, empty. Importing this module registers the loan ``Record`` (the worker
imports it, as it runs recovery). It sits with the payments, not the loans, because the
order it goes through is ``payments.two_store`` and the loans are below the payments
(``services.payments.settlement`` sets aside repayments from sales).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete, select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger import movement
from tindahan.services.lending import loans, offers
from tindahan.services.lending.views import LoanView
from tindahan.services.payments import two_store
from tindahan.services.platform import idempotency
from tindahan.services.platform.events import emit
from tindahan.services.unit import Platform, Unit
from tindahan.store.lending_tables import loan_installments, loan_offers, loan_transactions
from tindahan.store.lending_tables import loans as loan_rows

RECORD = "loan"


def accept(
    platform: Platform,
    caller: Caller,
    offer_id: str,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[LoanView], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/loan_offers/{id}/accept`` on a TigerBeetle ledger: the SQL path's checks
    and answers, the disbursement booked through the two-store order."""
    reserve = reserving(caller, offer_id)
    return two_store.run(
        platform, scope, key, fingerprint, reserve, render, render_refusal, record=RECORD
    )


def reserving(caller: Caller, offer_id: str) -> two_store.Reserve[LoanView]:
    """An acceptance's A (the API route's and the web Loans page's, with ``RECORD``)."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[LoanView, list[NewTransfer]]:
        loan = offers.accepted(unit, caller, offer_id)
        net = loan.batch[0].amount or 0
        legs = two_store.judged(unit, loan.batch)
        two_store.check_balance(ledger, loan.wallet, net, loans.CURRENCY)
        pending: LoanView = {**loan.view, "status": "pending"}
        return pending, legs

    return reserve


def _row(unit: Unit, loan_id: str) -> Any:
    found = unit.conn.execute(select(loan_rows).where(loan_rows.c.id == loan_id))
    return found.mappings().one()


def _view(unit: Unit, loan_id: str) -> LoanView:
    return loans.view(unit, _row(unit, loan_id))


def _disbursement(loan_id: str) -> Any:
    return (loan_transactions.c.loan_id == loan_id) & (loan_transactions.c.kind == "disbursement")


def _settled(unit: Unit, loan_id: str, ids: list[str]) -> None:
    """C: the disbursement entry names every transfer booked; ``loan.disbursed``."""
    unit.conn.execute(
        update(loan_transactions)
        .where(_disbursement(loan_id))
        .values(transfer_ids=movement.encode_ids(ids))
    )
    row = _row(unit, loan_id)
    emit(unit, "loan.disbursed", loans.view(unit, row), (row["merchant_id"],))


def _failed(
    unit: Unit, loan_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """Nothing reached the wallet: A's records undone (the module's decision), the offer
    open again, the wallet's incoming total given back."""
    row = _row(unit, loan_id)
    entry = unit.conn.execute(
        select(loan_transactions.c.amount_minor).where(_disbursement(loan_id))
    ).scalar_one()
    wallet = movement.holders(unit, (row["merchant_id"],)).get((row["merchant_id"], "main"))
    if wallet is not None:
        movement.release_incoming(unit, wallet, entry, row["disbursed_at_ns"])
    unit.conn.execute(
        update(loan_offers)
        .where(loan_offers.c.id == row["offer_id"])
        .values(status="open", loan_id=None, accepted_at_ns=None)
    )
    unit.conn.execute(delete(loan_transactions).where(loan_transactions.c.loan_id == loan_id))
    unit.conn.execute(delete(loan_installments).where(loan_installments.c.loan_id == loan_id))
    unit.conn.execute(delete(loan_rows).where(loan_rows.c.id == loan_id))


two_store.RECORDS[RECORD] = two_store.Record(_view, _settled, _failed)
