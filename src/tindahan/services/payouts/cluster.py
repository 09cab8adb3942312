"""Payouts on a TigerBeetle ledger (issue 22): the two-store order, as a payment's.

A payout's one transfer (settlement → main, ``PAYOUT``) goes through
``payments.two_store``'s order with the payout's own record (``record = "payout"``): in A
every check of the SQL path (``payouts.check``: the merchant, active, what refunds and the
loan keep back; the settlement wallet's SQL row locked, so payouts from one wallet take
turns through A) with the wallet's figures read from the cluster
(``two_store.debit_figures``: the holds of payouts whose A committed counted even before
they reach the cluster), the main wallet's monthly incoming total raised, its maximum
balance against the cluster, the live risk rules; the payout row ``pending`` with its place;
then the hold (``<payout>``, 60 s), B, the post (``<payout>.post``) and C: ``succeeded`` and
``payout.succeeded``. A refusal by the cluster, or a hold gone before its post, makes it
``failed`` with the reason, its incoming total given back, ``payout.failed`` (and, for the
daily payout, the day's run ``failed``). Recovery (``two_store.recover``, every worker
round) finishes what a crash left, as for payments. Importing this module registers the
payout ``Record`` (the worker imports it through the daily payout).

The daily payout (``daily``) books its A in its run's transaction (the run row ``paid``
with it), with no Idempotency-Key: the run row is what makes it once a day, and recovery
what finishes it after a crash. To a bank account it is one movement with the transfer
(``bank_cluster``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.payouts import payouts
from tindahan.services.platform import idempotency
from tindahan.services.platform.events import emit
from tindahan.services.unit import Platform, Unit, new_id
from tindahan.store.payout_tables import payout_runs
from tindahan.store.payout_tables import payouts as payout_rows

RECORD = "payout"


def create(
    platform: Platform,
    caller: Caller,
    new: payouts.NewPayout,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[dict[str, Any]], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/payouts`` on a TigerBeetle ledger: the same checks and answers as
    ``payouts.create``, booked through the two-store order."""
    work = reserving(caller, new)
    return two_store.run(
        platform, scope, key, fingerprint, work, render, render_refusal, record=RECORD
    )


def reserving(caller: Caller, new: payouts.NewPayout) -> two_store.Reserve[dict[str, Any]]:
    """A payout's A (``payouts.check``, then ``reserve``) as the two-store runner takes it:
    the API route and the web Withdraw form both run it (``record=RECORD``)."""

    def work(unit: Unit, ledger: LedgerPort) -> tuple[dict[str, Any], list[NewTransfer]]:
        c = payouts.check(unit, caller, new)
        return reserve(unit, ledger, c.merchant_id, c.wallets, c.amount_minor, False, c.description)

    return work


def reserve(
    unit: Unit,
    ledger: LedgerPort,
    merchant_id: str,
    found: payouts.Wallets,
    amount_minor: int,
    automatic: bool,
    description: str | None,
) -> tuple[dict[str, Any], list[NewTransfer]]:
    """The payout's own part of A (its availability already checked): the main wallet's
    incoming total and maximum balance, the risk rules, the row ``pending``."""
    payout_id = new_id("po")
    transfer = payouts.transfer_for(payout_id, found, amount_minor)
    movement.limit_incoming(unit, found.main, amount_minor, payouts.CURRENCY)
    two_store.require_no_risk_hold(unit, [transfer])
    two_store.check_balance(ledger, found.main, amount_minor, payouts.CURRENCY)
    row = payouts.new_row(
        unit,
        payout_id,
        merchant_id,
        found,
        amount_minor,
        transfer.id,
        status="pending",
        automatic=automatic,
        description=description,
    )
    return payouts.view(row), [transfer]


def begin_daily(
    unit: Unit, merchant_id: str, found: payouts.Wallets, amount_minor: int
) -> dict[str, Any]:
    """The daily payout's A, in its run's transaction: ``advance`` it after the commit."""
    ledger = unit.platform.ledger
    assert ledger is not None
    view, legs = reserve(unit, ledger, merchant_id, found, amount_minor, True, None)
    two_store.begin(unit, view["id"], legs, None, None, RECORD)
    return view


def finish(platform: Platform, payout_id: str, place: str | None = None) -> dict[str, Any]:
    """The rest of the order after A's commit; the payout as it ended (``place``: the
    movement's id when it is not the payout's, a payout to a bank account's)."""
    two_store.advance(platform, place or payout_id)
    return platform.run(lambda unit: view_of(unit, payout_id), write=False)


def _row(unit: Unit, payout_id: str) -> Any:
    found = unit.conn.execute(select(payout_rows).where(payout_rows.c.id == payout_id))
    return found.mappings().one()


def view_of(unit: Unit, payout_id: str) -> dict[str, Any]:
    return payouts.view(_row(unit, payout_id))


def settled(unit: Unit, payout_id: str, ids: list[str]) -> None:
    """C: ``succeeded`` (its ``transfer_id`` stays the hold's: the post is ``<id>.post``)."""
    unit.conn.execute(
        update(payout_rows).where(payout_rows.c.id == payout_id).values(status="succeeded")
    )
    row = _row(unit, payout_id)
    emit(unit, "payout.succeeded", payouts.view(row), (row["merchant_id"],))


def failed(
    unit: Unit, payout_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """``failed`` with the reason, the main wallet's incoming total given back,
    ``payout.failed``; a daily payout's run is ``failed`` too."""
    unit.conn.execute(
        update(payout_rows)
        .where(payout_rows.c.id == payout_id)
        .values(
            status="failed",
            failure_code=refusal.code[:64],
            failure_message=refusal.message[:200],
        )
    )
    row = _row(unit, payout_id)
    main = movement.holder_of(unit, row["destination_wallet_id"])
    if main is not None:
        movement.release_incoming(unit, main, row["amount_minor"], row["created_at_ns"])
    if row["automatic"]:
        unit.conn.execute(
            update(payout_runs).where(payout_runs.c.payout_id == payout_id).values(outcome="failed")
        )
    emit(unit, "payout.failed", payouts.view(row), (row["merchant_id"],))


two_store.RECORDS[RECORD] = two_store.Record(view_of, settled, failed)
