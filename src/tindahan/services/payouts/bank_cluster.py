"""Payouts to a bank account on a TigerBeetle ledger (issue 22): one two-store movement.

On the SQL ledger a payout to a bank account is two bookings in one database transaction
(``banks``: the payout settlement → main, then the outbound transfer's holds from the main
wallet). On the cluster no transaction spans both stores, so the two become **one** movement
of the two-store order with its own record (``record`` ``bank_payout``; the place's id is
the bank transfer's, so the rails' sending and answers find it as they find any transfer):

* **A** (database, one transaction): every check of both SQL steps (``payouts.check``: what
  refunds and the loan keep back, the settlement wallet's row locked; ``transfers.check`` /
  ``bank_accounts.payable`` and ``transfers.plan``: the account, the route, the fee, the
  main wallet's outgoing limits raised), the payout's own part (``cluster.reserve``: the
  main wallet's incoming total, its maximum balance, the risk rules), the payout row and the
  bank transfer row, both ``pending``, and the movement's place (``reserving``).
* **holds** (cluster, one linked batch): the payout's leg *posted* (settlement → main,
  ``two_store.UPFRONT``) and then the transfer's holds (main → the rail's clearing account,
  the fee), pending with no timeout. TigerBeetle applies a linked chain in order and all or
  nothing: the payout's credit funds the holds, and either the payout is booked *and* the
  transfer held, or nothing moved.
* **B** (database): ``held``, the payout ``succeeded`` and ``payout.succeeded`` in the same
  transaction (the record's ``held``). Only now may the transfer be sent.
* the clearing house's **ACSC** posts the holds and C settles the transfer
  (``bank_transfer.succeeded``); an **RJCT** voids them and the transfer is ``rejected``
  with its totals and fee back (``bank_transfer.failed``); a **pacs.004** credits the main
  wallet back. In all three the payout stays ``succeeded``: as on the SQL ledger, a rejected
  or returned transfer leaves the money in the main wallet.
* a refusal of the batch (not enough money: another movement raced A) fails **both**: the
  transfer ``rejected`` (``AM04``, never sent), the payout ``failed`` with its incoming
  total back and ``payout.failed`` (a daily payout's run ``failed`` too).

Crash points (``two_store.CASH_OUT_STEPS``' request and answers, as a bank transfer's): a
crash inside A leaves nothing; after A, recovery books the batch itself (no deadline: the
holds never expire, so the id's fate is fixed by booking it); after the batch, B; after B,
it waits for the clearing house. The request's answer is the transfer ``pending``, with its
payout as A wrote it (``pending``); ``GET`` on either shows them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, invalid, not_found
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.rails.fees import FeeKind
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.payouts import banks, cluster, payouts
from tindahan.services.platform import idempotency
from tindahan.services.rails import bank_accounts, transfers
from tindahan.services.rails import cluster as rails_cluster
from tindahan.services.unit import Platform, Unit
from tindahan.store.rails_tables import bank_transfers

RECORD = "bank_payout"


def create(
    platform: Platform,
    caller: Caller,
    new: banks.NewBankPayout,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[dict[str, Any]], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """A withdrawal to a bank account on a TigerBeetle ledger (the web Withdraw page's "to a
    bank account" form runs ``reserving`` through ``forms.submit``, the same thing)."""
    return two_store.run(
        platform, scope, key, fingerprint, reserving(caller, new), render, render_refusal, RECORD
    )


def reserving(caller: Caller, new: banks.NewBankPayout) -> two_store.Reserve[dict[str, Any]]:
    """A withdrawal's A: ``banks.create``'s checks (the amount plus the fee out of the
    sales; the account the merchant's own), the payout and the transfer ``pending``."""

    def work(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], list[NewTransfer]]:
        caller.require("payments:write")
        if not isinstance(new.bank_account_id, str):
            raise invalid("parameter_invalid", "bank_account_id is an id", "bank_account_id")
        amount_minor, currency = movement.amount(new.amount_minor, new.currency)
        target = bank_accounts.destination(unit, caller, new.bank_account_id)
        fee = transfers.fee_for(unit, amount_minor, target, FeeKind.PAYOUT)
        wanted = payouts.NewPayout(
            amount_minor + fee, currency, merchant_id=new.merchant_id, description=banks.DESCRIPTION
        )
        c = payouts.check(unit, caller, wanted)
        if target.party_id != c.merchant_id:  # as ``transfers.check``: not the merchant's
            raise not_found("bank_account", "bank_account_id")
        made, legs = cluster.reserve(
            unit, ledger, c.merchant_id, c.wallets, c.amount_minor, False, c.description
        )
        return _reserve(unit, c.wallets, made, legs[0], target, amount_minor)

    return work


def begin_daily(
    unit: Unit, merchant_id: str, found: payouts.Wallets, total: int, bank_account_id: str
) -> tuple[dict[str, Any], str]:
    """The daily payout to a bank account's A, in its run's transaction: the payout of
    ``total`` and the transfer of ``total`` less the fee (``banks.sent_amount``); returns
    the payout's view and the movement's id (the transfer's), to ``advance`` after the
    commit."""
    ledger = unit.platform.ledger
    assert ledger is not None
    target = bank_accounts.payable(unit, bank_account_id)
    amount = banks.sent_amount(unit, target, total)
    made, legs = cluster.reserve(unit, ledger, merchant_id, found, total, True, banks.DESCRIPTION)
    view, all_legs = _reserve(unit, found, made, legs[0], target, amount)
    two_store.begin(unit, view["id"], all_legs, None, None, RECORD)
    return made, str(view["id"])


def _reserve(
    unit: Unit,
    found: payouts.Wallets,
    payout: dict[str, Any],
    payout_leg: NewTransfer,
    target: bank_accounts.Destination,
    amount_minor: int,
) -> tuple[dict[str, Any], list[NewTransfer]]:
    """The transfer's part of A, after the payout's: planned from the main wallet, the risk
    rules, its row ``pending``; the legs its holds, then the payout's leg marked upfront."""
    row, legs = transfers.plan(
        unit, found.main, target, amount_minor, payouts.CURRENCY, FeeKind.PAYOUT
    )
    two_store.require_no_risk_hold(unit, legs)
    movement.insert_row(unit, bank_transfers, row)
    upfront = replace(payout_leg, metadata={**payout_leg.metadata, two_store.UPFRONT: "1"})
    view = transfers.view(row) | {"payout": payout}
    return view, [*legs, upfront]


def payout_of(unit: Unit, transfer_id: str) -> str:
    """The payout a movement carries (its upfront leg's ``payout``)."""
    (leg,) = two_store.upfront(two_store.legs_of(unit, transfer_id))
    return str(leg.metadata["payout"])


def _view(unit: Unit, transfer_id: str) -> dict[str, Any]:
    view: dict[str, Any] = rails_cluster.view_of(unit, transfer_id)
    return view | {"payout": cluster.view_of(unit, payout_of(unit, transfer_id))}


def _held(unit: Unit, transfer_id: str) -> None:
    """B: the payout's leg is posted in the cluster now, so the payout has ``succeeded``."""
    cluster.settled(unit, payout_of(unit, transfer_id), [])


def _settled(unit: Unit, transfer_id: str, ids: list[str]) -> None:
    rails_cluster.settled(unit, transfer_id, ids)


def _failed(
    unit: Unit, transfer_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """The transfer as any transfer fails; the payout fails with it only when the batch was
    refused (a rejection comes after B, when the payout had been made)."""
    rails_cluster.failed(unit, transfer_id, refusal, more_ids, event)
    if refusal.code not in two_store.ENDED:
        cluster.failed(unit, payout_of(unit, transfer_id), refusal, more_ids, event)


two_store.RECORDS[RECORD] = two_store.Record(_view, _settled, _failed, _held)
