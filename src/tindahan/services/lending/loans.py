"""Loans on the ledger: disbursement, repayment, the reserve filled from sales,
restructuring, write-off and recovery — each one transaction and one linked batch.

Each loan has five ledger accounts (PHP):

* ``loan.<id>.principal``, ``.interest``, ``.fee``, ``.penalty``: receivables, flagged so
  their credits never exceed their debits — the ledger itself refuses to collect more of a
  component than was lent or booked;
* ``loan.<id>.reserve``: what auto-deduction set aside from sales for the next installment
  (the merchant's money, held), flagged like a wallet.

Bookings (debit → credit):

* disbursement: principal → merchant main wallet (net proceeds) and principal →
  ``op.loan.fees`` (a deducted fee); an added fee: fee → ``op.loan.fees``;
* interest earned: interest → ``op.loan.interest``; a penalty: penalty → ``op.loan.penalty``;
  a penalty forgiven: ``op.loan.penalty`` → penalty;
* repayment: the paying wallet (or the reserve) → each receivable, in the allocation order;
* set-aside: merchant settlement → reserve, in the sale's own linked batch (a merchant
  payment or an order's release from escrow: ``services.payments.settlement``);
* write-off: ``op.loan.losses`` → each receivable; recovery: wallet → ``op.loan.recoveries``;
* cancellation (the disbursement returned after a risk review, ``cancel_returned``): the
  review's return pays the net proceeds back to the principal; ``op.loan.fees`` → the
  receivable the fee leg debited, ``op.loan.interest`` → interest, ``op.loan.penalty`` →
  penalty (what was booked), and the reserve → the merchant's settlement wallet.

The loan row mirrors those balances (``lending.book.Totals``) and ``tindahan ledger verify``
checks each loan's accounts against it. Every figure comes from ``lending.book``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, insert, select, update

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, conflict, invalid, not_found
from tindahan.ledger.model import AccountCode, AccountFlags, NewAccount, NewTransfer
from tindahan.lending import book as rules
from tindahan.lending import disbursement
from tindahan.lending.allocation import COMPONENTS, parse_order
from tindahan.lending.calendar import business_date
from tindahan.lending.terms import DayCount, Frequency, Method, periodic_rate
from tindahan.money import Rounding, bps_of
from tindahan.payments.model import TransferCode, WalletKind
from tindahan.services.ledger import movement
from tindahan.services.lending.holidays import holiday_set
from tindahan.services.lending.views import (
    InstallmentView,
    LoanTransactionView,
    LoanView,
    NextDue,
)
from tindahan.services.platform.events import emit
from tindahan.services.unit import Unit, iso, ledger_id, new_id
from tindahan.store.lending_tables import loan_installments, loan_transactions, loans

CURRENCY = "PHP"
OP_INTEREST = "op.loan.interest"
OP_PENALTY = "op.loan.penalty"
OP_FEES = "op.loan.fees"
OP_RECOVERIES = "op.loan.recoveries"
OP_LOSSES = "op.loan.losses"
RECEIVABLE = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
_CODES = {
    "principal": AccountCode.LOAN_RECEIVABLE,
    "interest": AccountCode.LOAN_INTEREST_RECEIVABLE,
    "fee": AccountCode.LOAN_FEE_RECEIVABLE,
    "penalty": AccountCode.LOAN_PENALTY_RECEIVABLE,
}


def account(loan_id: str, role: str) -> str:
    """``loan.abc.principal`` …: the ledger account of one part of a loan."""
    return ledger_id(loan_id, role)


def new_accounts(loan_id: str, merchant_id: str) -> list[NewAccount]:
    made = [
        NewAccount(account(loan_id, role), CURRENCY, code, merchant_id, RECEIVABLE)
        for role, code in _CODES.items()
    ]
    made.append(
        NewAccount(
            account(loan_id, "reserve"),
            CURRENCY,
            AccountCode.LOAN_RESERVE,
            merchant_id,
            AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
        )
    )
    return made


# --- loading and saving ----------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def _pricing(
    rate: str, frequency: str, day_count: str, penalty: str, order: str
) -> tuple[Decimal, Decimal, tuple[str, ...]]:
    """The parsed price of a loan (few distinct ones across a book: parsed once each)."""
    periodic = periodic_rate(Decimal(rate), Frequency(frequency), DayCount(day_count))
    return periodic, Decimal(penalty), parse_order(order)


def terms_of(row: Any) -> rules.Terms:
    rate, penalty, order = _pricing(
        row["rate"],
        row["frequency"],
        row["day_count"],
        row["penalty_rate"],
        row["allocation_order"],
    )
    return rules.Terms(
        principal=row["principal_minor"],
        rate_per_period=rate,
        method=Method(row["method"]),
        accrue_daily=row["accrual"] == "daily",
        penalty_rate=penalty,
        grace_days=row["grace_days"],
        order=order,
        covered=bool(row["covered"]),
        fee=row["fee_minor"],
    )


def totals_of(row: Any) -> rules.Totals:
    return rules.Totals(
        principal_paid=row["principal_paid_minor"],
        interest_accrued=row["interest_accrued_minor"],
        interest_paid=row["interest_paid_minor"],
        fee_booked=row["fee_booked_minor"],
        fee_paid=row["fee_paid_minor"],
        penalty=row["penalty_minor"],
        penalty_paid=row["penalty_paid_minor"],
        waived=row["waived_minor"],
        reserve=row["reserve_minor"],
        accrual_base=row["accrual_base_minor"],
    )


@functools.lru_cache(maxsize=8192)
def day_of(text: str) -> date:
    """A stored ISO date, parsed once per distinct day (the close reads a million lines)."""
    return date.fromisoformat(text)


def line_of(row: Any) -> rules.Line:
    return rules.Line(
        seq=row["seq"],
        start_date=day_of(row["start_date"]),
        due_date=day_of(row["due_date"]),
        principal=row["principal_minor"],
        interest=row["interest_minor"],
        fee=row["fee_minor"],
        penalty=row["penalty_minor"],
        preaccrued=row["preaccrued_minor"],
        principal_paid=row["principal_paid_minor"],
        interest_paid=row["interest_paid_minor"],
        fee_paid=row["fee_paid_minor"],
        penalty_paid=row["penalty_paid_minor"],
        status=row["status"],
        paid_date=day_of(row["paid_date"]) if row["paid_date"] else None,
    )


def book_of(row: Any, lines: Sequence[Any]) -> rules.Book:
    return book_with(row, tuple(line_of(r) for r in lines))


def book_with(row: Any, lines: tuple[rules.Line, ...]) -> rules.Book:
    """The book of the loan ``row`` with its current lines already made."""
    return rules.Book(terms_of(row), lines, totals_of(row), row["version"])


#: The installment columns ``line_from_tuple`` reads, in ``rules.Line``'s field order.
LINE_TUPLE_COLUMNS = (
    "seq",
    "start_date",
    "due_date",
    "principal_minor",
    "interest_minor",
    "fee_minor",
    "penalty_minor",
    "preaccrued_minor",
    "principal_paid_minor",
    "interest_paid_minor",
    "fee_paid_minor",
    "penalty_paid_minor",
    "status",
    "paid_date",
)


def line_from_tuple(record: Sequence[Any], at: int = 0) -> rules.Line:
    """``line_of`` for a plain row of ``LINE_TUPLE_COLUMNS`` starting at ``record[at]`` (the
    close reads a million lines: no mapping per row)."""
    paid = record[at + 13]
    return rules.Line(
        record[at],
        day_of(record[at + 1]),
        day_of(record[at + 2]),
        record[at + 3],
        record[at + 4],
        record[at + 5],
        record[at + 6],
        record[at + 7],
        record[at + 8],
        record[at + 9],
        record[at + 10],
        record[at + 11],
        record[at + 12],
        day_of(paid) if paid else None,
    )


def line_rows(unit: Unit, loan_id: str, version: int) -> list[Any]:
    query = (
        select(loan_installments)
        .where(loan_installments.c.loan_id == loan_id, loan_installments.c.version == version)
        .order_by(loan_installments.c.seq)
    )
    return list(unit.conn.execute(query).mappings())


def schedule_rows(loan_id: str, schedule: Sequence[Any]) -> list[dict[str, Any]]:
    """A new loan's first-version lines from its schedule (``lending.schedule``)."""
    return [
        line_values(
            loan_id,
            1,
            rules.Line(
                i.seq, i.start_date, i.due_date, i.principal_minor, i.interest_minor, i.fee_minor
            ),
        )
        for i in schedule
    ]


def line_values(loan_id: str, version: int, line: rules.Line) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "version": version,
        "seq": line.seq,
        "start_date": line.start_date.isoformat(),
        "due_date": line.due_date.isoformat(),
        "principal_minor": line.principal,
        "interest_minor": line.interest,
        "preaccrued_minor": line.preaccrued,
        "fee_minor": line.fee,
        "penalty_minor": line.penalty,
        "principal_paid_minor": line.principal_paid,
        "interest_paid_minor": line.interest_paid,
        "fee_paid_minor": line.fee_paid,
        "penalty_paid_minor": line.penalty_paid,
        "status": line.status,
        "paid_date": line.paid_date.isoformat() if line.paid_date else None,
    }


def totals_values(t: rules.Totals) -> dict[str, int]:
    return {
        "principal_paid_minor": t.principal_paid,
        "interest_accrued_minor": t.interest_accrued,
        "interest_paid_minor": t.interest_paid,
        "fee_booked_minor": t.fee_booked,
        "fee_paid_minor": t.fee_paid,
        "penalty_minor": t.penalty,
        "penalty_paid_minor": t.penalty_paid,
        "waived_minor": t.waived,
        "reserve_minor": t.reserve,
        "accrual_base_minor": t.accrual_base,
    }


def save_lines(unit: Unit, loan_id: str, before: rules.Book, plan: rules.Plan) -> None:
    """Write what changed: the lines of the version that was current (updated in place),
    and the lines of a new version when the event made one."""
    old = {line.seq: line for line in before.lines}
    final = plan.ended if plan.new_version else plan.book.lines
    for line in final:
        if old.get(line.seq) == line:
            continue
        values = line_values(loan_id, before.version, line)
        for key in ("loan_id", "version", "seq"):
            del values[key]
        unit.conn.execute(
            update(loan_installments)
            .where(
                loan_installments.c.loan_id == loan_id,
                loan_installments.c.version == before.version,
                loan_installments.c.seq == line.seq,
            )
            .values(**values)
        )
    if plan.new_version and plan.book.lines:
        rows = [line_values(loan_id, plan.book.version, line) for line in plan.book.lines]
        unit.conn.execute(insert(loan_installments), rows)


def save(unit: Unit, row: Any, before: rules.Book, plan: rules.Plan, **values: Any) -> None:
    save_lines(unit, row["id"], before, plan)
    dpd_values = {}
    if plan.closed:
        values.setdefault("status", "closed")
        values.setdefault("closed_at_ns", unit.now())
        dpd_values = {"dpd": 0, "bucket": "current"}
    unit.conn.execute(
        update(loans)
        .where(loans.c.id == row["id"])
        .values(
            **totals_values(plan.book.totals),
            version=plan.book.version,
            updated_at_ns=unit.now(),
            **dpd_values,
            **values,
        )
    )


# --- ledger legs --------------------------------------------------------------------------
def legs(
    loan_id: str,
    tag: str,
    move: rules.Movement,
    payers: Sequence[tuple[str, dict[str, int]]] = (),
) -> list[NewTransfer]:
    """The transfers of one event, not yet linked: bookings first (a receivable gets its
    debit before it is credited), then each payer's part, component by component."""
    meta = {"loan": loan_id}
    out: list[NewTransfer] = []

    def leg(suffix: str, debit: str, credit: str, amount: int, code: int) -> None:
        if amount > 0:
            tid = f"{tag}.{suffix}"  # tag: the event's own ledger id (short enough)
            out.append(NewTransfer(tid, debit, credit, amount, CURRENCY, code, metadata=meta))

    interest, penalty = account(loan_id, "interest"), account(loan_id, "penalty")
    leg("accrue", interest, OP_INTEREST, move.accrue_interest, TransferCode.LOAN_INTEREST)
    leg("penalty", penalty, OP_PENALTY, move.penalty, TransferCode.LOAN_PENALTY)
    leg("waive", OP_PENALTY, penalty, move.waive_penalty, TransferCode.LOAN_WAIVER)
    for n, (source, paid) in enumerate(payers):
        for component in COMPONENTS:
            target = account(loan_id, component)
            code = TransferCode.LOAN_REPAYMENT
            leg(f"{component}{n}", source, target, paid.get(component, 0), code)
    return out


def split_paid(
    paid: dict[str, int], first: int, order: Sequence[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """``paid`` in two: the first ``first`` centavos (in ``order``) and the rest — which
    part of a repayment the reserve pays and which the wallet does."""
    head, tail, left = {}, {}, first
    for component in order:
        take = min(left, paid.get(component, 0))
        head[component], tail[component] = take, paid.get(component, 0) - take
        left -= take
    return head, tail


def record(
    unit: Unit,
    loan_id: str,
    kind: str,
    paid: dict[str, int],
    source: str,
    day: date,
    transfer_ids: Sequence[str],
    *,
    amount: int | None = None,
    payment_id: str | None = None,
    order_id: str | None = None,
    note: str | None = None,
    txn_id: str | None = None,
) -> str:
    txn = txn_id or new_id("ltx")
    unit.conn.execute(
        insert(loan_transactions),
        {
            "id": txn,
            "loan_id": loan_id,
            "kind": kind,
            "amount_minor": sum(paid.values()) if amount is None else amount,
            "principal_minor": paid.get("principal", 0),
            "interest_minor": paid.get("interest", 0),
            "fee_minor": paid.get("fee", 0),
            "penalty_minor": paid.get("penalty", 0),
            "source": source,
            "payment_id": payment_id,
            "order_id": order_id,
            "business_date": day.isoformat(),
            "transfer_ids": movement.encode_ids(list(transfer_ids)),
            "note": note,
            "created_at_ns": unit.now(),
        },
    )
    return txn


# --- reading -------------------------------------------------------------------------------
def merchant_row(
    unit: Unit, caller: Caller, table: Any, object_id: str, what: str, *, lock: bool = False
) -> Any:
    """A loan's (or an offer's) row if the caller is its merchant or the operator, locked
    on PostgreSQL when asked; anyone else gets 404, as if it did not exist."""
    query = select(table).where(table.c.id == object_id)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None or not caller.reaches(row["merchant_id"]):
        raise not_found(what, "id")
    return row


def loan_row(unit: Unit, caller: Caller, loan_id: str, *, lock: bool = False) -> Any:
    return merchant_row(unit, caller, loans, loan_id, "loan", lock=lock)


def today(unit: Unit) -> date:
    return business_date(unit.now())


def view(unit: Unit, row: Any, lines: Sequence[Any] | None = None) -> LoanView:
    found = line_rows(unit, row["id"], row["version"]) if lines is None else lines
    loan = book_of(row, found)
    day = today(unit)
    active = row["status"] == "active"
    payoff = rules.payoff(loan, day) if active else 0
    t = loan.totals
    # a cancelled loan (its disbursement returned) owes nothing and has nothing due
    cancelled = row["status"] == "cancelled"
    return {
        "id": row["id"],
        "object": "loan",
        "merchant_id": row["merchant_id"],
        "product_id": row["product_id"],
        "offer_id": row["offer_id"],
        "status": row["status"],
        "currency": row["currency"],
        "principal_minor": row["principal_minor"],
        "term": row["term"],
        "frequency": row["frequency"],
        "method": row["method"],
        "rate_monthly": row["rate"],
        "fee_minor": row["fee_minor"],
        "fee_mode": row["fee_mode"],
        "auto_deduct_bps": row["auto_deduct_bps"],
        "start_date": row["start_date"],
        "balance": {
            "principal_minor": 0
            if row["status"] in ("written_off", "cancelled")
            else loan.principal_outstanding,
            "interest_minor": 0 if cancelled else t.interest_accrued - t.interest_paid,
            "fee_minor": 0 if cancelled else t.fee_booked - t.fee_paid,
            "penalty_minor": 0 if cancelled else t.penalty - t.penalty_paid,
            "receivable_minor": loan.receivable() if row["status"] == "active" else 0,
            "reserve_minor": t.reserve,
            "due_today_minor": rules.dues_total(loan, day) if active else 0,
            "payoff_minor": max(0, payoff - t.reserve),
        },
        "paid": {
            "principal_minor": t.principal_paid,
            "interest_minor": t.interest_paid,
            "fee_minor": t.fee_paid,
            "penalty_minor": t.penalty_paid,
        },
        "waived_minor": t.waived,
        "written_off_minor": row["written_off_minor"],
        "recovered_minor": row["recovered_minor"],
        "days_past_due": row["dpd"],
        "bucket": row["bucket"],
        "next_due": None if cancelled else _next_due(loan),
        "created": iso(row["disbursed_at_ns"]),
        "closed": iso(row["closed_at_ns"]),
    }


def _next_due(loan: rules.Book) -> NextDue | None:
    for line in loan.open_lines:
        return {"due_date": line.due_date.isoformat(), "amount_minor": line.owed().total}
    return None


def line_view(row: Any) -> InstallmentView:
    owed = line_of(row).owed()
    return {
        "seq": row["seq"],
        "version": row["version"],
        "start_date": row["start_date"],
        "due_date": row["due_date"],
        "principal_minor": row["principal_minor"],
        "interest_minor": row["interest_minor"],
        "fee_minor": row["fee_minor"],
        "penalty_minor": row["penalty_minor"],
        "total_minor": row["principal_minor"]
        + row["interest_minor"]
        + row["fee_minor"]
        + row["penalty_minor"],
        "paid_minor": row["principal_paid_minor"]
        + row["interest_paid_minor"]
        + row["fee_paid_minor"]
        + row["penalty_paid_minor"],
        "unpaid_minor": owed.total if row["status"] == "open" else 0,
        "status": row["status"],
        "paid_date": row["paid_date"],
    }


def get(unit: Unit, caller: Caller, loan_id: str) -> LoanView:
    caller.require("loans:read")
    return view(unit, loan_row(unit, caller, loan_id))


def schedule(unit: Unit, caller: Caller, loan_id: str) -> dict[str, Any]:
    """Every installment line, every version (restructured lines kept), in order."""
    caller.require("loans:read")
    row = loan_row(unit, caller, loan_id)
    query = (
        select(loan_installments)
        .where(loan_installments.c.loan_id == row["id"])
        .order_by(loan_installments.c.version, loan_installments.c.seq)
    )
    lines = [line_view(r) for r in unit.conn.execute(query).mappings()]
    return {"object": "list", "data": lines, "has_more": False}


def transactions(unit: Unit, caller: Caller, loan_id: str) -> dict[str, Any]:
    caller.require("loans:read")
    row = loan_row(unit, caller, loan_id)
    query = (
        select(loan_transactions)
        .where(loan_transactions.c.loan_id == row["id"])
        .order_by(loan_transactions.c.created_at_ns, loan_transactions.c.id)
    )
    data = [transaction_view(r) for r in unit.conn.execute(query).mappings()]
    return {"object": "list", "data": data, "has_more": False}


def transaction_view(row: Any) -> LoanTransactionView:
    return {
        "id": row["id"],
        "object": "loan_transaction",
        "loan_id": row["loan_id"],
        "kind": row["kind"],
        "amount_minor": row["amount_minor"],
        "principal_minor": row["principal_minor"],
        "interest_minor": row["interest_minor"],
        "fee_minor": row["fee_minor"],
        "penalty_minor": row["penalty_minor"],
        "source": row["source"],
        "payment_id": row["payment_id"],
        "order_id": row["order_id"],
        "business_date": row["business_date"],
        "transfer_ids": movement.decode_ids(row["transfer_ids"]),
        "note": row["note"],
        "created": iso(row["created_at_ns"]),
    }


def list_loans(unit: Unit, caller: Caller, merchant_id: str | None = None) -> dict[str, Any]:
    caller.require("loans:read")
    query = select(loans).order_by(loans.c.disbursed_at_ns.desc(), loans.c.id)
    who = caller.party_id or merchant_id
    if merchant_id is not None and not caller.reaches(merchant_id):
        raise not_found("party", "merchant_id")
    if who:
        query = query.where(loans.c.merchant_id == who)
    rows = list(unit.conn.execute(query.limit(200)).mappings())
    return {"object": "list", "data": [view(unit, r) for r in rows], "has_more": False}


# --- repayment -----------------------------------------------------------------------------
def _wallet(unit: Unit, merchant_id: str, kind: str) -> movement.Holder:
    found = movement.holders(unit, (merchant_id,)).get((merchant_id, kind))
    if found is None:
        raise not_found("wallet", "source")
    movement.require_active(found, "merchant")
    return found


def repayable(
    unit: Unit, caller: Caller, loan_id: str, amount_minor: object, source: str
) -> tuple[Any, movement.Holder, int]:
    """A repayment's checks before its figures, on either ledger: the loan's row (locked),
    the paying wallet and the amount."""
    caller.require("loans:write")
    amount, _ = movement.amount(amount_minor, CURRENCY)
    if source not in (WalletKind.MAIN, WalletKind.SETTLEMENT):
        raise invalid("source_invalid", "source is main or settlement", "source")
    row = loan_row(unit, caller, loan_id, lock=True)
    if caller.operator:
        raise conflict("merchant_only", "only the merchant repays from their wallet", "id")
    if row["status"] == "closed":
        raise conflict("loan_closed", "this loan is repaid and closed", "id")
    if row["status"] == "cancelled":
        message = "this loan was cancelled (its money was returned): nothing is owed"
        raise conflict("loan_cancelled", message, "id")
    wallet = _wallet(unit, row["merchant_id"], source)
    movement.require_currency(wallet, CURRENCY)
    return row, wallet, amount


def require_unheld(row: Any) -> None:
    """Nothing books on a loan another movement holds between the two stores of a
    TigerBeetle deployment (``loans.ledger_hold``: the daily close's chunk, a repayment)."""
    if row["ledger_hold"] is not None:
        raise conflict(
            "loan_busy",
            "this loan's daily close or last repayment is still being booked; try again shortly",
            "id",
        )


@dataclass(frozen=True)
class Repayment:
    """What a repayment decides (``plan_repayment``): the loan before and after, the
    transfers (not linked) and the parts the reserve and the wallet pay."""

    row: Any
    wallet: movement.Holder
    amount: int
    source: str
    day: date
    txn: str
    before: rules.Book
    plan: rules.Plan
    final: rules.Plan
    batch: list[NewTransfer]


def plan_repayment(
    unit: Unit, row: Any, wallet: movement.Holder, amount: int, source: str, day: date, txn: str
) -> Repayment:
    """A repayment's figures from the loan as it stands: the reserve is used first, so a
    merchant never pays from the wallet what sales already set aside. The same inputs give
    the same repayment (the TigerBeetle path decides in A and books the rows in C)."""
    before = book_of(row, line_rows(unit, row["id"], row["version"]))
    reserve = before.totals.reserve
    owed = rules.payoff(before, day)
    used = min(reserve, owed)
    if amount > owed - used:
        message = f"at most {owed - used} centavos is owed today; pay that to close the loan"
        raise invalid("overpayment", message, "amount_minor")
    plan = rules.pay(before, used + amount, day)
    left = reserve - used
    tag = ledger_id(txn)
    from_reserve, from_wallet = split_paid(plan.movement.paid, used, before.terms.order)
    payers = [(account(row["id"], "reserve"), from_reserve), (wallet.account_id, from_wallet)]
    batch = legs(row["id"], tag, plan.movement, payers)
    if plan.closed and left > 0:
        batch.append(_return_reserve(row["id"], tag, wallet.account_id, left))
        left = 0
    final = replace(plan, book=replace(plan.book, totals=replace(plan.book.totals, reserve=left)))
    return Repayment(row, wallet, amount, source, day, txn, before, plan, final, batch)


def apply_repayment(unit: Unit, r: Repayment, transfer_ids: Sequence[str]) -> LoanView:
    """A repayment's rows: the loan and its lines, its entry (naming ``transfer_ids``) and
    its event (``loan.repaid``, or ``loan.closed`` when it paid the loan off)."""
    row = r.row
    save(unit, row, r.before, r.final)
    paid = r.plan.movement.paid
    record(unit, row["id"], "repayment", paid, r.source, r.day, transfer_ids, txn_id=r.txn)
    fresh = view(unit, _reload(unit, row["id"]))
    kind = "loan.closed" if fresh["status"] == "closed" else "loan.repaid"
    emit(unit, kind, fresh, (row["merchant_id"],))
    return fresh


def repay(
    unit: Unit, caller: Caller, loan_id: str, amount_minor: object, source: str = "main"
) -> LoanView:
    """The merchant repays from a wallet (``plan_repayment``), one transaction and one
    linked batch on the SQL ledger."""
    row, wallet, amount = repayable(unit, caller, loan_id, amount_minor, source)
    if row["status"] == "written_off":
        return _recover(unit, row, wallet, amount)
    r = plan_repayment(unit, row, wallet, amount, source, today(unit), new_id("ltx"))
    movement.limit_outgoing(unit, wallet, amount, CURRENCY)
    fresh = apply_repayment(unit, r, [t.id for t in r.batch])
    movement.book(unit, movement.linked(r.batch))
    return fresh


def _return_reserve(loan_id: str, tag: str, wallet_account: str, amount: int) -> NewTransfer:
    return NewTransfer(
        f"{tag}.return",
        account(loan_id, "reserve"),
        wallet_account,
        amount,
        CURRENCY,
        TransferCode.LOAN_RESERVE_RETURN,
        metadata={"loan": loan_id},
    )


def _reload(unit: Unit, loan_id: str) -> Any:
    return unit.conn.execute(select(loans).where(loans.c.id == loan_id)).mappings().one()


def _recover(unit: Unit, row: Any, wallet: movement.Holder, amount: int) -> LoanView:
    """A payment on a written-off loan: income, up to what was written off."""
    require_recoverable(row, amount)
    movement.limit_outgoing(unit, wallet, amount, CURRENCY)
    txn = new_id("ltx")
    transfer = recovery_leg(row["id"], txn, wallet.account_id, amount)
    fresh = apply_recovery(unit, row, amount, wallet.kind, today(unit), txn, [transfer.id])
    movement.book(unit, [transfer])
    return fresh


def require_recoverable(row: Any, amount: int) -> None:
    """A recovery's own check: no more than what was written off and not yet recovered."""
    left = row["written_off_minor"] - row["recovered_minor"]
    if amount > left:
        message = f"at most {left} centavos of this written-off loan is still owed"
        raise invalid("overpayment", message, "amount_minor")


def recovery_leg(loan_id: str, txn: str, wallet_account: str, amount: int) -> NewTransfer:
    """A recovery's one transfer: the paying wallet → ``op.loan.recoveries``."""
    return NewTransfer(
        ledger_id(txn, "recovery"),
        wallet_account,
        OP_RECOVERIES,
        amount,
        CURRENCY,
        TransferCode.LOAN_RECOVERY,
        metadata={"loan": loan_id},
    )


def apply_recovery(
    unit: Unit,
    row: Any,
    amount: int,
    source: str,
    day: date,
    txn: str,
    transfer_ids: Sequence[str],
) -> LoanView:
    """A recovery's rows: the loan's ``recovered_minor``, its entry (naming
    ``transfer_ids``) and ``loan.recovered``."""
    unit.conn.execute(
        update(loans)
        .where(loans.c.id == row["id"])
        .values(recovered_minor=row["recovered_minor"] + amount, updated_at_ns=unit.now())
    )
    record(unit, row["id"], "recovery", {}, source, day, transfer_ids, amount=amount, txn_id=txn)
    fresh = view(unit, _reload(unit, row["id"]))
    emit(unit, "loan.recovered", fresh, (row["merchant_id"],))
    return fresh


# --- set-aside from sales --------------------------------------------------------------------
_AUTO = select(loans).where(and_(loans.c.status == "active", loans.c.auto_deduct_bps > 0))


def set_aside(
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
    """The share of a sale that goes to the merchant's loan reserve: the product's share of
    the sale (rounded ``DOWN``, in the merchant's favour), never more than the loan needs by
    its next due date (``lending.book.reserve_need``) nor than the sale leaves in the
    settlement wallet (``most_minor``). The sale is a payment or an order's release
    (``services.payments.settlement``). Returns the transfer to add to the sale's linked batch
    (after the sale's own credit to the settlement wallet, so it can never overdraw it), or
    nothing."""
    query = _AUTO.where(loans.c.merchant_id == merchant_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None:
        return []
    day = today(unit)
    need = rules.reserve_need(book_of(row, line_rows(unit, row["id"], row["version"])), day)
    share = bps_of(sale_minor, row["auto_deduct_bps"], Rounding.DOWN)
    amount = min(share, need, most_minor)
    if amount <= 0:
        return []
    unit.conn.execute(
        update(loans)
        .where(loans.c.id == row["id"])
        .values(reserve_minor=row["reserve_minor"] + amount, updated_at_ns=unit.now())
    )
    record(
        unit,
        row["id"],
        "set_aside",
        {},
        "sale",
        day,
        [transfer_id],
        amount=amount,
        payment_id=payment_id,
        order_id=order_id,
    )
    sale = {"payment": payment_id} if payment_id else {"order": order_id or ""}
    return [
        NewTransfer(
            transfer_id,
            settlement_account,
            account(row["id"], "reserve"),
            amount,
            CURRENCY,
            TransferCode.LOAN_SET_ASIDE,
            metadata={"loan": row["id"], **sale},
        )
    ]


def payout_hold(unit: Unit, merchant_id: str) -> int:
    """What a payout from the merchant's settlement wallet must leave there for its
    auto-deducting loan (``lending.book.reserve_need``); 0 without one. A loan repaid by hand
    (no auto-deduction) holds nothing back: its merchant repays from any wallet."""
    row = unit.conn.execute(_AUTO.where(loans.c.merchant_id == merchant_id)).mappings().first()
    if row is None:
        return 0
    loan = book_of(row, line_rows(unit, row["id"], row["version"]))
    return rules.reserve_need(loan, today(unit))


# --- the operator's actions ------------------------------------------------------------------
def restructure(
    unit: Unit,
    caller: Caller,
    loan_id: str,
    term: object,
    rate_monthly: str | None = None,
    waive_penalties: bool = False,
    note: str | None = None,
) -> LoanView:
    """A new schedule for what is owed, from today (the old lines kept, as history). The
    rate may only fall; a covered loan stays within its total-cost ceiling."""
    r = decide_restructure(unit, caller, loan_id, term, rate_monthly, waive_penalties, note)
    fresh = apply_restructure(unit, r)
    if r.batch:
        movement.book(unit, movement.linked(r.batch))
    return fresh


@dataclass(frozen=True)
class Restructuring:
    """What a restructuring decides (``plan_restructure``): its inputs, kept so the same
    inputs on the same loan give the same plan (the TigerBeetle path decides once, commits
    the inputs and books from them), and the loan before and after, with its transfers."""

    row: Any
    term: int
    monthly: Decimal
    waive: bool
    note: str | None
    day: date
    dates: tuple[date, ...]
    tag: str
    before: rules.Book
    plan: rules.Plan
    batch: list[NewTransfer]


def decide_restructure(
    unit: Unit,
    caller: Caller,
    loan_id: str,
    term: object,
    rate_monthly: str | None,
    waive_penalties: bool,
    note: str | None,
) -> Restructuring:
    """A restructuring's checks and figures (every refusal of the SQL path), on either
    ledger: the loan's row locked, the schedule's dates from today."""
    from tindahan.lending import calendar as holidays
    from tindahan.lending.terms import due_dates, parse_percent

    caller.require_operator()
    row = loan_row(unit, caller, loan_id, lock=True)
    if row["status"] != "active":
        raise conflict("loan_not_active", f"this loan is {row['status']}", "id")
    frequency = Frequency(row["frequency"])
    longest = limits.LOAN_MAX_TERM[frequency.value]
    if isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= longest:
        raise invalid("term_out_of_range", f"term is from 1 to {longest} installments", "term")
    monthly = Decimal(row["rate"])
    if rate_monthly is not None:
        monthly = parse_percent(rate_monthly, "rate_monthly", Decimal(row["rate"]) * 100)
    day = today(unit)
    dates = holidays.shifted(due_dates(day, frequency, term), holiday_set(unit))
    r = plan_restructure(
        unit, row, term, monthly, waive_penalties, day, tuple(dates), new_id("ltx"), None
    )
    text = (
        note
        if note is None
        else movement.optional_text(note, "note", limits.DESCRIPTION_MAX_LENGTH)
    )
    return replace(r, note=text)


def plan_restructure(
    unit: Unit,
    row: Any,
    term: int,
    monthly: Decimal,
    waive: bool,
    day: date,
    dates: tuple[date, ...],
    tag: str,
    note: str | None,
) -> Restructuring:
    """The restructuring's figures from its inputs and the loan as it stands."""
    before = book_of(row, line_rows(unit, row["id"], row["version"]))
    rate = periodic_rate(monthly, Frequency(row["frequency"]), DayCount(row["day_count"]))
    try:
        plan = rules.restructure(before, day, rate, dates, waive_penalties=waive)
    except RefusalError as exc:
        raise conflict(exc.code, exc.message, exc.param) from None
    if not rules.restructured_total_cost_ok(plan.book):
        message = "the new schedule would cost more than the principal (BSP Circular 1133)"
        raise invalid("legal_cap_exceeded", message, "term")
    batch = legs(row["id"], ledger_id(tag), plan.movement)
    return Restructuring(row, term, monthly, waive, note, day, dates, tag, before, plan, batch)


def apply_restructure(unit: Unit, r: Restructuring) -> LoanView:
    """A restructuring's rows: the loan, its old lines ended and its new ones, its entry
    (naming its transfers) and ``loan.restructured``."""
    row = r.row
    # The new schedule starts today: nothing of it is late, so the loan is current again
    # (``max_dpd`` keeps how late it was).
    rate = f"{r.monthly.normalize():f}"
    values = {"term": r.term, "rate": rate, "dpd": 0, "bucket": "current"}
    save(unit, row, r.before, r.plan, **values)
    record(
        unit,
        row["id"],
        "restructure",
        {},
        "operator",
        r.day,
        [t.id for t in r.batch],
        amount=r.plan.movement.waive_penalty,
        note=r.note,
        txn_id=r.tag,
    )
    fresh = view(unit, _reload(unit, row["id"]))
    emit(unit, "loan.restructured", fresh, (row["merchant_id"],))
    return fresh


def write_off(unit: Unit, caller: Caller, loan_id: str, note: str | None = None) -> LoanView:
    """Take a loan off the books as a loss: every receivable against loan losses; what the
    reserve held goes back to the merchant's settlement wallet. Later payments are
    recoveries."""
    w = decide_write_off(unit, caller, loan_id, note)
    fresh = apply_write_off(unit, w)
    if w.batch:
        movement.book(unit, movement.linked(w.batch))
    return fresh


@dataclass(frozen=True)
class WriteOff:
    """What a write-off decides (``plan_write_off``): what is written off of each part, its
    transfers (not linked) and its day, id and note."""

    row: Any
    parts: dict[str, int]
    batch: list[NewTransfer]
    day: date
    tag: str
    note: str | None


def decide_write_off(unit: Unit, caller: Caller, loan_id: str, note: str | None) -> WriteOff:
    """A write-off's checks and figures (every refusal of the SQL path), on either ledger."""
    caller.require_operator()
    row = loan_row(unit, caller, loan_id, lock=True)
    if row["status"] != "active":
        raise conflict("loan_not_active", f"this loan is {row['status']}", "id")
    w = plan_write_off(unit, row, today(unit), new_id("ltx"), None)
    text = movement.optional_text(note, "note", limits.DESCRIPTION_MAX_LENGTH)
    return replace(w, note=text)


def plan_write_off(unit: Unit, row: Any, day: date, tag: str, note: str | None) -> WriteOff:
    """The write-off's figures from the loan as it stands."""
    loan = book_of(row, line_rows(unit, row["id"], row["version"]))
    t = loan.totals
    parts = {
        "principal": loan.principal_outstanding,
        "interest": t.interest_accrued - t.interest_paid,
        "fee": t.fee_booked - t.fee_paid,
        "penalty": t.penalty - t.penalty_paid,
    }
    batch = legs(row["id"], ledger_id(tag), rules.Movement(), [(OP_LOSSES, parts)])
    if t.reserve:
        settlement = _wallet(unit, row["merchant_id"], WalletKind.SETTLEMENT)
        batch.append(_return_reserve(row["id"], ledger_id(tag), settlement.account_id, t.reserve))
    return WriteOff(row, parts, batch, day, tag, note)


def apply_write_off(unit: Unit, w: WriteOff) -> LoanView:
    """A write-off's rows: the loan ``written_off``, its entry and ``loan.written_off``."""
    row = w.row
    unit.conn.execute(
        update(loans)
        .where(loans.c.id == row["id"])
        .values(
            status="written_off",
            written_off_minor=sum(w.parts.values()),
            reserve_minor=0,
            closed_at_ns=unit.now(),
            updated_at_ns=unit.now(),
        )
    )
    ids = [b.id for b in w.batch]
    record(unit, row["id"], "write_off", w.parts, "operator", w.day, ids, note=w.note, txn_id=w.tag)
    fresh = view(unit, _reload(unit, row["id"]))
    emit(unit, "loan.written_off", fresh, (row["merchant_id"],))
    return fresh


# --- a disbursement returned after a risk review ----------------------------------------------
def disbursed_loan(transfer_id: str) -> str | None:
    """The loan whose disbursement leg this ledger transfer is (``loan.<x>.disburse``)."""
    head, _, tail = transfer_id.rpartition(".")
    if tail != "disburse" or not head.startswith("loan."):
        return None
    loan_id = head.replace(".", "_", 1)
    return loan_id if ledger_id(loan_id, "disburse") == transfer_id else None


#: A cancellation's reserve goes back as any reserve does; every other leg is ``LOAN_CANCEL``.
_CANCEL_CODES = {disbursement.Party.RESERVE: TransferCode.LOAN_RESERVE_RETURN}


def cancel_returned(
    unit: Unit, caller: Caller, transfer_id: str, returned_ids: Sequence[str]
) -> list[NewTransfer]:
    """An analyst returns a loan's disbursement held for review (``services.risk.holds``):
    the merchant never had the money, so the loan is ``cancelled`` and owes nothing. In the
    return's own transaction: the loan's row (nothing owed or set aside, ``closed_at_ns``),
    an entry (``cancellation``, naming ``returned_ids`` — the return's leg to the principal —
    and the legs below) and ``loan.cancelled``. Returns the legs for the return to book in
    its linked batch, on either ledger (``disbursement.cancellation``): the fee leg
    reversed, the interest and penalties booked by daily closes meanwhile reversed, the
    reserve filled by sales meanwhile back to the merchant's settlement wallet. Their ids
    derive from the loan, so a decision retried after a crash books them once. Not a loan's
    disbursement: nothing, ``[]``.

    A loan of which anything was paid (the reserve paid a due, the merchant repaid), or that
    was restructured, written off or closed, is not cancelled: giving payments back is not
    built — the return is refused ``loan_moved`` (409), nothing changed, the money held."""
    loan_id = disbursed_loan(transfer_id)
    if loan_id is None:
        return []
    row = unit.conn.execute(select(loans).where(loans.c.id == loan_id)).mappings().first()
    if row is None:
        return []
    row = loan_row(unit, caller, loan_id, lock=True)
    require_unheld(row)
    added = row["fee_mode"] == "added"
    paid = (
        "principal_paid_minor",
        "interest_paid_minor",
        "fee_paid_minor",
        "penalty_paid_minor",
        "waived_minor",
        "written_off_minor",
    )
    untouched = (
        row["status"] == "active"
        and row["version"] == 1
        and row["fee_booked_minor"] == (row["fee_minor"] if added else 0)
        and not any(row[name] for name in paid)
    )
    if not untouched:
        message = (
            f"loan {loan_id} is {row['status']} and has been repaid or changed since its "
            "disbursement: returning it cannot cancel the loan"
        )
        raise conflict("loan_moved", message, "decision")
    legs = disbursement.cancellation(
        row["fee_minor"],
        added,
        row["interest_accrued_minor"],
        row["penalty_minor"],
        row["reserve_minor"],
    )
    party = disbursement.Party
    accounts = {
        party.PRINCIPAL: account(loan_id, "principal"),
        party.FEE: account(loan_id, "fee"),
        party.INTEREST: account(loan_id, "interest"),
        party.PENALTY: account(loan_id, "penalty"),
        party.RESERVE: account(loan_id, "reserve"),
        party.OP_FEES: OP_FEES,
        party.OP_INTEREST: OP_INTEREST,
        party.OP_PENALTY: OP_PENALTY,
    }
    if row["reserve_minor"]:
        settlement = _wallet(unit, row["merchant_id"], WalletKind.SETTLEMENT)
        accounts[party.SETTLEMENT] = settlement.account_id
    reversal = [
        NewTransfer(
            ledger_id(loan_id, *leg.name.split(".")),
            accounts[leg.debit],
            accounts[leg.credit],
            leg.amount_minor,
            CURRENCY,
            _CANCEL_CODES.get(leg.debit, TransferCode.LOAN_CANCEL),
            metadata={"loan": loan_id},
        )
        for leg in legs
    ]
    now = unit.now()
    unit.conn.execute(
        update(loans)
        .where(loans.c.id == loan_id)
        .values(
            status="cancelled",
            reserve_minor=0,
            dpd=0,
            bucket="current",
            closed_at_ns=now,
            updated_at_ns=now,
        )
    )
    ids = [*returned_ids, *(t.id for t in reversal)]
    net = row["principal_minor"] - (0 if added else row["fee_minor"])
    record(unit, loan_id, "cancellation", {}, "operator", today(unit), ids, amount=net)
    fresh = view(unit, _reload(unit, loan_id))
    emit(unit, "loan.cancelled", fresh, (row["merchant_id"],))
    return reversal
