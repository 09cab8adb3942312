"""A recall's money sent back on a TigerBeetle ledger (issue 22): the two-store order.

On the SQL ledger, accepting a recall (``recalls.decide``) books the send-back (the wallet →
the rail's clearing account) in the decision's transaction, under the wallet's ledger row
lock, only while the wallet still has what was credited. On the cluster the decision is a
movement of the two-store order with its own record (``record`` ``recall``; the place's id
is the recall's):

* **A** (the decision's transaction, under its Idempotency-Key): the SQL path's checks
  (``recalls.undecided``: the operator, the decision, the recall still ``pending``, its row
  locked) and the inbound transfer's row locked; a *reject*, or an *accept* the SQL rules
  refuse (``may_recall``, the balance read from the cluster: ``AM04``, ``ARDT``), is decided
  here and ends the order there (no legs). An accept that may go on leaves the recall
  ``pending`` (so nothing is sent to the bank) and writes its place with the one leg.
* **hold** (the wallet → the clearing account, 60 s), **B**, **post**: TigerBeetle refuses
  the hold when the wallet no longer has the money (``debits_must_not_exceed_credits``
  counts its other holds), which is the SQL path's "only while the wallet still has it",
  decided atomically by the cluster instead of a row lock.
* **C**: the inbound transfer ``returned``, the recall ``accepted`` (``recalls.returned``,
  the SQL path's own), ``inbound_transfer.returned``; ``recalls.dispatch`` then sends the
  pacs.004 and the camt.029 as on SQL.
* a **refusal** (the hold refused: ``AM04``; the reservation's time over after a crash:
  decided ``AM04`` too — the money was not sent back, and the bank may recall again) makes
  the recall ``rejected`` with that reason and ``inbound_transfer.recall_rejected``.

A second recall of the same transfer accepted while the first is being sent back is refused
``409 return_under_way`` in A (the first may still fail). A credit converted from another
currency goes back through the FX liquidity, as on SQL, both legs held in one chain and
posted together (``_send_back``): the pesos credited out of the wallet and the foreign
amount to the rail's clearing account in that currency, the figures the credit's own.
Importing this module registers the record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, conflict
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.rails.inbound import InboundStatus, may_recall
from tindahan.services.payments import two_store
from tindahan.services.platform import idempotency
from tindahan.services.rails import recalls
from tindahan.services.unit import Platform, Unit
from tindahan.store.payment_tables import two_store_payments
from tindahan.store.rails_tables import inbound_transfers

RECORD = "recall"
#: The reason a refused send-back is rejected with (ISO: the money is not there).
NO_FUNDS = "AM04"


def decide(
    platform: Platform,
    caller: Caller,
    recall_id: str,
    decision: object,
    reason: object,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[dict[str, Any]], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/inbound_recalls/{id}/decide`` on a TigerBeetle ledger."""
    work = reserving(caller, recall_id, decision, reason)
    return two_store.run(
        platform, scope, key, fingerprint, work, render, render_refusal, record=RECORD
    )


def reserving(
    caller: Caller, recall_id: str, decision: object, reason: object
) -> two_store.Reserve[dict[str, Any]]:
    def work(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], list[NewTransfer] | None]:
        row, transfer = recalls.undecided(unit, caller, recall_id, decision, reason)
        if decision == "reject":
            return recalls.finish(unit, row, transfer, str(reason or "CUST")), None
        transfer = _locked(unit, transfer["id"])
        if _under_way(unit, transfer["id"]):
            raise conflict(
                "return_under_way",
                "another recall of this transfer is being sent back: decide again shortly",
                "id",
            )
        account_id = recalls.wallet_of(unit, transfer).account_id
        found = ledger.lookup_accounts([account_id]).get(account_id)
        available = 0 if found is None else found.balance_posted - found.debits_pending
        credited = transfer["credited_minor"] or 0
        why_not = may_recall(InboundStatus(transfer["status"]), available, credited)
        if why_not is not None:
            return recalls.finish(unit, row, transfer, why_not), None
        return recalls.view(row, transfer), _send_back(unit, transfer, recall_id)

    return work


def _send_back(unit: Unit, transfer: Any, recall_id: str) -> list[NewTransfer]:
    """The SQL path's legs (``recalls.send_back_legs``): the wallet → the rail's clearing
    account; for a credit from abroad the wallet → the PHP liquidity (the pesos credited:
    the hold, first) and the foreign amount from that currency's liquidity → the rail's
    clearing account in it, held with it (``two_store.held_together``), so both ledgers
    move back together or neither does. Its figures are the credit's own, fixed when it
    arrived (no rate is read again)."""
    return two_store.held_together(
        two_store.unlinked(recalls.send_back_legs(unit, transfer, recall_id))
    )


def _locked(unit: Unit, transfer_id: str) -> Any:
    """The inbound transfer's row, locked (PostgreSQL): two recalls of it take turns in A."""
    query = select(inbound_transfers).where(inbound_transfers.c.id == transfer_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    return unit.conn.execute(query).mappings().one()


def _under_way(unit: Unit, transfer_id: str) -> bool:
    """Is a send-back of this transfer booked or being booked (a recall's place not refused)?"""
    query = select(two_store_payments.c.legs).where(
        two_store_payments.c.record == RECORD,
        two_store_payments.c.state != "refused",
        two_store_payments.c.legs.contains(transfer_id, autoescape=True),
    )
    return unit.conn.execute(query).first() is not None


def _view(unit: Unit, recall_id: str) -> dict[str, Any]:
    return recalls.view(*recalls.rows(unit, recall_id))


def _settled(unit: Unit, recall_id: str, ids: list[str]) -> None:
    row, transfer = recalls.rows(unit, recall_id)
    recalls.returned(unit, row, transfer)


def _failed(
    unit: Unit, recall_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    row, transfer = recalls.rows(unit, recall_id)
    recalls.finish(unit, row, transfer, NO_FUNDS)


two_store.RECORDS[RECORD] = two_store.Record(_view, _settled, _failed, failure_answers_view=True)
