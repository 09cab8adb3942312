"""Outbound bank transfers on a TigerBeetle ledger (issue 22): the two-store order, waiting
for the clearing house as a cash-out waits for its agent.

* **The request** (``create``; ``start`` for any outbound transfer, also paying another
  institution's QR Ph code, ``qr.interbank``): A makes the SQL path's checks (its checks
  and ``transfers.plan``: the account, the route, the wallet active, the tier's outgoing
  limits raised; the live risk rules), the transfer row ``pending`` and its place (``record``
  ``bank_transfer``); then the holds — the amount (wallet → the rail's clearing account)
  and the fee (wallet → fees), linked, **with no timeout** (``two_store.NEVER_EXPIRE``);
  then B: ``held``. Only a ``held`` transfer is sent (``transfers.dispatch``), so no
  pacs.008 leaves before its money is held in the cluster.
* **ACSC/ACCC** (``transfers.receive``): its transaction moves ``held`` → ``reserved``
  under the transfer's row lock (a duplicate finds it moved and changes nothing); then both
  holds are posted, linked, and C: ``settled``, ``bank_transfer.succeeded``.
* **RJCT**: ``held`` → ``voiding`` with the reason kept; then both holds voided, then
  ``rejected``, the tier's totals given back, the fee refunded, ``bank_transfer.failed``.
* **A pacs.004 after settlement** books its posted legs (the clearing account → the
  wallet, the fee back when due) in the cluster from inside its transaction
  (``two_store.book_within``).

**Why no timeout** (decided): the rail's time-outs (``limits.INSTAPAY_ANSWER_SECONDS``,
``PESONET_ANSWER_SECONDS``) say when to *ask* about a transfer (pacs.028), not that its
money stayed: once the pacs.008 left, the clearing house may settle it at any later moment
(a PESONet batch across a weekend, a switch that answers late), and a hold the cluster had
expired by then would have given the money back to the wallet while it left at the switch —
spent twice. So the hold is released only by the clearing house's rejection. The price:
before it is held, a crashed request cannot be given up at a deadline as a payment's is
(a late request could still book a hold that never expires); recovery books the hold itself
instead, which fixes that id's fate in the cluster (booked, or failed for ever).

A refusal by the cluster at the hold (not enough money) makes the transfer ``rejected``
(``AM04``, nothing sent, nothing announced; the client gets ``402 insufficient_funds``).
Importing this module registers the ``bank_transfer`` record (the worker imports it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.rails.fees import FeeKind, fee_refunded
from tindahan.rails.transfers import TransferStatus
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.platform import idempotency
from tindahan.services.rails import bank_accounts, transfers
from tindahan.services.unit import Platform, Unit
from tindahan.store.rails_tables import bank_transfers

RECORD = "bank_transfer"
#: The reason kept on a transfer the cluster refused at its hold (ISO: insufficient funds).
NO_FUNDS = "AM04"
#: What a transfer's checks give ``transfers.plan``: the wallet, where to, amount, currency, fee.
Checked = tuple[movement.Holder, bank_accounts.Destination, int, str, FeeKind]


def create(
    platform: Platform,
    caller: Caller,
    new: transfers.NewBankTransfer,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[dict[str, Any]], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/bank_transfers`` on a TigerBeetle ledger: answered ``pending`` once held."""

    def checked(unit: Unit) -> Checked:
        return transfers.check(unit, caller, new)

    return start(platform, checked, scope, key, fingerprint, render, render_refusal)


def start(
    platform: Platform,
    checked: Callable[[Unit], Checked],
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[dict[str, Any]], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """Any outbound transfer on a TigerBeetle ledger, from its checks (run in A): a transfer
    to a registered account (``create``) or a QR Ph code of another institution
    (``qr.interbank.checked``), the cluster's counterpart of ``transfers.start``."""
    work = reserve(checked)
    return two_store.run(
        platform, scope, key, fingerprint, work, render, render_refusal, record=RECORD
    )


def reserve(checked: Callable[[Unit], Checked]) -> two_store.Reserve[dict[str, Any]]:
    """A transfer's part of A (for ``start`` and for a web form's ``forms.submit`` with
    ``record=RECORD``): its checks, the plan, the risk rules, the row ``pending``."""

    def work(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], list[NewTransfer]]:
        row, legs = transfers.plan(unit, *checked(unit))
        two_store.require_no_risk_hold(unit, legs)
        movement.insert_row(unit, bank_transfers, row)
        return transfers.view(row), legs

    return work


def _row(unit: Unit, transfer_id: str) -> Any:
    query = select(bank_transfers).where(bank_transfers.c.id == transfer_id)
    return unit.conn.execute(query).mappings().one()


def view_of(unit: Unit, transfer_id: str) -> dict[str, Any]:
    return transfers.view(_row(unit, transfer_id))


def settled(unit: Unit, transfer_id: str, ids: list[str]) -> None:
    row = _row(unit, transfer_id)
    transfers.finish(unit, row, TransferStatus.SETTLED, "bank_transfer.succeeded")


def failed(
    unit: Unit, transfer_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """Rejected by the clearing house (its reason kept at the answer), or refused by the
    cluster at the hold (never sent, never announced): the tier's totals given back."""
    row = _row(unit, transfer_id)
    wallet = movement.holder_of(unit, row["wallet_id"])
    if wallet is not None:
        movement.release_outgoing(unit, wallet, row["amount_minor"], row["created_at_ns"])
    if refusal.code == "rejected":
        reason = row["reason_code"] or "NARR"
        refunded = fee_refunded(row["fee_minor"], returned=False, reason=reason)
        transfers.finish(
            unit,
            row,
            TransferStatus.REJECTED,
            "bank_transfer.failed",
            reason_code=reason,
            fee_refunded_minor=refunded,
        )
        return
    unit.conn.execute(
        update(bank_transfers)
        .where(bank_transfers.c.id == transfer_id)
        .values(
            status=TransferStatus.REJECTED.value,
            reason_code=NO_FUNDS,
            fee_refunded_minor=row["fee_minor"],
            finished_at_ns=unit.now(),
        )
    )


two_store.RECORDS[RECORD] = two_store.Record(view_of, settled, failed)
