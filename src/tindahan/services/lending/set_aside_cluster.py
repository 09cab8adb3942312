"""Loans repaid from sales on a TigerBeetle ledger (issue 22): a sale's set-aside between
the two stores.

On the SQL ledger a sale's set-aside (``loans.set_aside``) raises the loan's reserve, writes
its entry and books its leg in the sale's one transaction, under the loan's row lock. On a
cluster the sale goes through the two-store order (``payments.two_store``: a merchant
payment, or an order's release from escrow: the buyer's confirmation, the worker's, or a
dispute decided for the merchant or split, ``escrow_cluster``), and the set-aside goes with
it:

* **A** (``reserve``): the SQL path's figure — the product's share of the sale (``DOWN``),
  never more than the loan needs by its next due date nor than the sale leaves in the
  settlement wallet — from the loan as it stands **plus the set-asides still under way**
  (this module's ``loan_moves`` rows), so two sales in flight at once set aside what the SQL
  path's one-after-the-other would. A writes none of the loan's rows: it keeps its figure
  in ``loan_moves`` (``kind`` ``set_aside``, the amount, the business day; its id the entry
  C will write) and marks the loan held by sales (``loans.ledger_hold`` = ``HOLD``).
  The leg (settlement → the loan's reserve, ``<sale>.loan``) names the move in its
  metadata and rides the **post chain**, after the sale's credit to the settlement wallet
  and its fee: a pending credit cannot fund a debit in the cluster, and in the chain the
  sale and its set-aside are booked together or not at all, as on SQL.
* **C** (``settled``, in the sale's C): the reserve raised by the move's amount, the SQL
  path's entry (``set_aside``, naming the leg, the payment or the order) with A's day, the
  move deleted, and the loan's hold cleared when no other set-aside is under way.
* **a failure** (``failed``: the buyer's wallet too low, the reservation's time over): the
  move deleted, the hold cleared likewise; the loan never changed.

**The hold** (decided): sales hold the loan *together* (any number of set-asides at once:
they only add to the reserve, in any order), but nothing else books on it meanwhile. A
repayment's A is refused ``409 loan_busy`` ("try again shortly": milliseconds, or until
recovery after a crash), and the daily close claims only loans nobody holds
(``close_cluster.claim``), so a day whose loans sales hold stays open (``blocked``) until
the next round. So between a set-aside's A and its C the loan's figures cannot move, its
figure at C is the one A decided, and the loan ends as on the SQL ledger for the same sales
and the same close: a close between a sale's A and C closes the loan after the sale, as the
SQL path's row lock would have made it. The rejected alternative, the reserve raised at C
by A's figure without a hold, is right with a close between (an increment), but leaves a
close's crashed chunk reading another reserve on its rerun, and a repayment deciding from a
reserve its C then finds changed.

The other way round (decided): **a sale while a close's chunk or a repayment holds the loan
sets nothing aside** — the buyer is never refused or kept waiting for the merchant's loan,
and a crashed close's chunk can hold hundreds of merchants' loans until its rerun. The SQL
path would have waited for the row lock and set aside; here the next sales set aside what
the loan then needs (each up to its share), and a payout still keeps that need back in the
settlement wallet (``loans.payout_hold``). Said in the README: for such a sale only, the
loan's figures differ from the SQL path's. ``ledger verify`` leaves out a held loan's
accounts (``verify.loan_violations_in_cluster``) and checks every settled set-aside leg
against its entry (``violations``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from tindahan.ledger.model import NewTransfer
from tindahan.lending import book as rules
from tindahan.money import Rounding, bps_of
from tindahan.payments.model import TransferCode
from tindahan.services.lending import loans as loan_service
from tindahan.services.unit import Unit, new_id
from tindahan.store.lending_tables import loan_moves, loan_transactions, loans

#: ``loans.ledger_hold`` while set-asides from sales are between the two stores.
HOLD = "sales"
KIND = "set_aside"
#: The set-aside leg's metadata key naming its move (and the entry C writes).
MOVE = "move"
_CODE = int(TransferCode.LOAN_SET_ASIDE)


def reserve(
    unit: Unit,
    merchant_id: str,
    settlement_account: str,
    sale_minor: int,
    *,
    most_minor: int,
    transfer_id: str,
    payment_id: str | None = None,
    order_id: str | None = None,
) -> list[NewTransfer]:
    """A sale's set-aside in its A (``loans.set_aside``'s figure and arguments): the leg to
    add after the sale's own, or nothing (no loan repaid from sales, nothing needed, or the
    loan held by its close or a repayment)."""
    query = select(loans).where(
        loans.c.merchant_id == merchant_id,
        loans.c.status == "active",
        loans.c.auto_deduct_bps > 0,
    )
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None or row["ledger_hold"] not in (None, HOLD):
        return []
    day = loan_service.today(unit)
    book = loan_service.book_of(row, loan_service.line_rows(unit, row["id"], row["version"]))
    if row["ledger_hold"] == HOLD:
        reserve_now = row["reserve_minor"] + _under_way(unit, row["id"])
        book = replace(book, totals=replace(book.totals, reserve=reserve_now))
    share = bps_of(sale_minor, row["auto_deduct_bps"], Rounding.DOWN)
    amount = min(share, rules.reserve_need(book, day), most_minor)
    if amount <= 0:
        return []
    move = new_id("ltx")
    unit.conn.execute(
        insert(loan_moves),
        {
            "id": move,
            "loan_id": row["id"],
            "kind": KIND,
            "amount_minor": amount,
            "source": "sale",
            "business_date": day.isoformat(),
            "created_at_ns": unit.now(),
        },
    )
    if row["ledger_hold"] is None:
        unit.conn.execute(update(loans).where(loans.c.id == row["id"]).values(ledger_hold=HOLD))
    sale = {"payment": payment_id} if payment_id else {"order": order_id or ""}
    return [
        NewTransfer(
            transfer_id,
            settlement_account,
            loan_service.account(row["id"], "reserve"),
            amount,
            loan_service.CURRENCY,
            _CODE,
            metadata={"loan": row["id"], **sale, MOVE: move},
        )
    ]


def _under_way(unit: Unit, loan_id: str) -> int:
    query = select(func.coalesce(func.sum(loan_moves.c.amount_minor), 0)).where(
        loan_moves.c.loan_id == loan_id, loan_moves.c.kind == KIND
    )
    return int(unit.conn.execute(query).scalar_one())


def legs_in(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The set-aside legs among a movement's (at most one)."""
    return [t for t in legs if t.code == _CODE and MOVE in t.metadata]


def settled(unit: Unit, legs: Sequence[NewTransfer]) -> None:
    """In the sale's C: each set-aside's reserve raised, its entry, its move gone."""
    for leg in legs_in(legs):
        move = _take(unit, leg)
        if move is None:
            continue
        unit.conn.execute(
            update(loans)
            .where(loans.c.id == move["loan_id"])
            .values(
                reserve_minor=loans.c.reserve_minor + move["amount_minor"],
                updated_at_ns=unit.now(),
            )
        )
        loan_service.record(
            unit,
            move["loan_id"],
            KIND,
            {},
            "sale",
            date.fromisoformat(move["business_date"]),
            [leg.id],
            amount=move["amount_minor"],
            payment_id=leg.metadata.get("payment") or None,
            order_id=leg.metadata.get("order") or None,
            txn_id=move["id"],
        )
        _unhold(unit, move["loan_id"])


def failed(unit: Unit, legs: Sequence[NewTransfer]) -> None:
    """In the sale's failure: its set-aside's move gone; the loan never changed."""
    for leg in legs_in(legs):
        move = _take(unit, leg)
        if move is not None:
            _unhold(unit, move["loan_id"])


def _take(unit: Unit, leg: NewTransfer) -> Any:
    """The leg's move, deleted, after taking its loan's row lock (so the count of moves
    left that ``_unhold`` reads is the committed one)."""
    loan_id = str(leg.metadata["loan"])
    lock = select(loans.c.id).where(loans.c.id == loan_id)
    if not unit.db.is_sqlite:
        unit.conn.execute(lock.with_for_update())
    move_id = str(leg.metadata[MOVE])
    found = unit.conn.execute(select(loan_moves).where(loan_moves.c.id == move_id))
    move = found.mappings().first()
    if move is not None:
        unit.conn.execute(delete(loan_moves).where(loan_moves.c.id == move_id))
    return move


def _unhold(unit: Unit, loan_id: str) -> None:
    if _under_way(unit, loan_id):
        return
    held = (loans.c.id == loan_id) & (loans.c.ledger_hold == HOLD)
    unit.conn.execute(update(loans).where(held).values(ledger_hold=None))


def violations(
    conn: Any, settled_legs: Sequence[NewTransfer], refused_legs: Sequence[NewTransfer]
) -> list[str]:
    """``ledger verify``: each settled sale's set-aside has its loan entry with its amount,
    and a refused one has none (nor a move left)."""
    mine = [*legs_in(settled_legs), *legs_in(refused_legs)]
    if not mine:
        return []
    ids = [str(t.metadata[MOVE]) for t in mine]
    entries: dict[str, int] = {}
    moves: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        found = conn.execute(
            select(loan_transactions.c.id, loan_transactions.c.amount_minor).where(
                loan_transactions.c.id.in_(part), loan_transactions.c.kind == KIND
            )
        )
        entries.update({str(i): int(a) for i, a in found})
        moves.update(
            conn.execute(select(loan_moves.c.id).where(loan_moves.c.id.in_(part))).scalars()
        )
    problems = []
    for leg in legs_in(settled_legs):
        got = entries.get(str(leg.metadata[MOVE]))
        if got != leg.amount:
            problems.append(
                f"set-aside {leg.id}: the loan's entry says {got}, the cluster {leg.amount}"
            )
    for leg in legs_in(refused_legs):
        move = str(leg.metadata[MOVE])
        if move in entries or move in moves:
            problems.append(f"set-aside {leg.id} was refused but its loan counts it")
    return problems
