"""verify's second half: every business record that names ledger transfers says what they do.

The chain and the anchor prove the *transfers* are the ones that were written; the records
people read — a payment's amount, an order's escrow, a loan repayment's parts — are plain
rows beside them, and ``UPDATE payments SET amount_minor = amount_minor * 100`` would change
what a merchant's statement says without touching a transfer. So each record is checked
against the transfers it lists in ``transfer_ids``, by transfer code:

* the money moved: the posted amount of each code equals the record's field for it (a
  payment's amount and fee or commission, a refund's amount — the merchant's part and the
  fee returned — an order's paid-in, released, fee and refunded escrow and its FX legs, a
  loan event's parts, a payout's amount, a bank transfer's hold and return, a risk
  alert's hold and what became of it);
* the accounts: the payment's legs leave its source wallet and reach its destination
  wallet, a refund's go back the other way, escrow legs move through the order's own escrow
  account, loan legs through the loan's own accounts;
* the currency: every leg is in the record's currency (an order's FX legs in the buyer's);
* the status: a succeeded payment's money is posted, a pending one only held, a failed one
  never posted; a payment's refunded amounts are its refunds'; a paid request's payment is
  the merchant's, for the request's amount.

"Posted" means single-phase or post-pending (the amount that settled); a pending leg moves
nothing until posted. Records are read in pages of ``PAGE`` so memory stays bounded.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, func, select

from tindahan.ledger.model import TransferFlags
from tindahan.lending.allocation import COMPONENTS
from tindahan.payments.model import PaymentKind, PaymentStatus, TransferCode
from tindahan.services.unit import ledger_id
from tindahan.store.commerce_tables import orders
from tindahan.store.lending_tables import loan_installments, loan_transactions, loans
from tindahan.store.payment_tables import payment_requests, payments, refunds, wallets
from tindahan.store.payout_tables import payouts
from tindahan.store.rails_tables import bank_transfers
from tindahan.store.risk_tables import risk_alerts
from tindahan.store.tables import transfers

PAGE = 1000
C = TransferCode
MAIN_CODE = {
    PaymentKind.P2P: C.P2P,
    PaymentKind.MERCHANT: C.MERCHANT_PAYMENT,
    PaymentKind.CASH_IN: C.CASH_IN,
    PaymentKind.CASH_OUT: C.CASH_OUT,
    PaymentKind.FUNDING: C.FUNDING,
}
SETTLED = {PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED}


@dataclass(frozen=True, slots=True)
class Leg:
    id: str
    code: int
    debit: str
    credit: str
    amount: int
    ledger: str
    flags: int

    @property
    def posted(self) -> bool:
        return not self.flags & (TransferFlags.PENDING | TransferFlags.VOID_PENDING)

    @property
    def pending(self) -> bool:
        return bool(self.flags & TransferFlags.PENDING)


class Record:
    """One business record and the legs it names, with the comparisons verify makes."""

    def __init__(self, label: str, legs: list[Leg], missing: list[str]) -> None:
        self.label = label
        self.legs = legs
        self.problems = [f"{label} names transfer {tid!r}, which does not exist" for tid in missing]

    def moved(self, *codes: int, debit: str | None = None, credit: str | None = None) -> int:
        return sum(
            leg.amount
            for leg in self.legs
            if leg.code in codes
            and leg.posted
            and (debit is None or leg.debit == debit)
            and (credit is None or leg.credit == credit)
        )

    def held(self, code: int) -> int:
        return sum(leg.amount for leg in self.legs if leg.code == code and leg.pending)

    def expect(self, what: str, said: int, moved: int) -> None:
        if said != moved:
            self.problems.append(
                f"{self.label}: {what} is {said} on the record but its transfers move {moved}"
            )

    def settled(self, status: str, settled: bool, amount: int, moved: int) -> None:
        """A settled record's amount is posted; an unsettled one's is not (yet)."""
        if settled:
            self.expect("amount_minor", amount, moved)
        elif moved:
            self.problems.append(f"{self.label} is {status} but its transfers posted {moved}")

    def accounts(self, codes: AbstractSet[int], debit: str | None, credit: str | None) -> None:
        for leg in self.legs:
            if leg.code not in codes:
                continue
            if (debit is not None and leg.debit != debit) or (
                credit is not None and leg.credit != credit
            ):
                self.problems.append(
                    f"{self.label}: transfer {leg.id!r} moves {leg.debit} → {leg.credit}, "
                    f"not {debit or 'its source'} → {credit or 'its destination'}"
                )

    def currency(self, currency: str, codes: AbstractSet[int] | None = None) -> None:
        for leg in self.legs:
            if (codes is None or leg.code in codes) and leg.ledger != currency:
                self.problems.append(
                    f"{self.label}: transfer {leg.id!r} is in {leg.ledger}, the record in "
                    f"{currency}"
                )


def record_violations(conn: Connection) -> tuple[int, list[str]]:
    """How many records were checked, and every mismatch between a business record and the
    transfers it names."""
    if not conn.dialect.has_table(conn, "payments"):
        return 0, []  # a ledger-only database (the ledger benchmark's)
    accounts = {
        wallet_id: (account_id, currency)
        for wallet_id, account_id, currency in conn.execute(
            select(wallets.c.id, wallets.c.account_id, wallets.c.currency)
        )
    }
    problems: list[str] = []
    checked = 0
    refunded: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row, record in _records(conn, refunds, "refund"):
        if row["status"] == "succeeded":
            refunded[row["payment_id"]][0] += row["amount_minor"]
            refunded[row["payment_id"]][1] += row["fee_returned_minor"]
        _refund(conn, row, record, accounts)
        problems += record.problems
        checked += 1
    for row, record in _records(conn, payments, "payment"):
        _payment(row, record, accounts, refunded.get(row["id"], [0, 0]))
        problems += record.problems
        checked += 1
    requests, found = _requests(conn)
    checked += requests
    problems += found
    for row, record in _records(conn, orders, "order"):
        _order(row, record)
        problems += record.problems
        checked += 1
    if conn.dialect.has_table(conn, "payouts"):
        for row, record in _payout_records(conn):
            source = accounts.get(row["source_wallet_id"], (None, None))[0]
            destination = accounts.get(row["destination_wallet_id"], (None, None))[0]
            record.accounts({C.PAYOUT}, source, destination)
            record.currency(row["currency"])
            settled = row["status"] == "succeeded"
            record.settled(row["status"], settled, row["amount_minor"], record.moved(C.PAYOUT))
            problems += record.problems
            checked += 1
    if conn.dialect.has_table(conn, "bank_transfers"):
        for record in _bank_transfer_records(conn, accounts):
            problems += record.problems
            checked += 1
    if conn.dialect.has_table(conn, "risk_alerts"):
        found, held = _risk_holds(conn)
        checked += held
        problems += found
    if conn.dialect.has_table(conn, "loan_installments"):
        problems += _loan_lines(conn)
    if conn.dialect.has_table(conn, "loan_transactions"):
        query = select(loans.c.id, loans.c.principal_minor)
        principal = {loan_id: amount for loan_id, amount in conn.execute(query)}
        for row, record in _records(conn, loan_transactions, "loan transaction"):
            _loan_event(row, record, principal.get(row["loan_id"]))
            problems += record.problems
            checked += 1
    return checked, problems


def _records(conn: Connection, table: Table, noun: str) -> Iterator[tuple[Any, Record]]:
    """Each row of ``table`` with its legs, a page at a time."""
    last = ""
    while True:
        rows = list(
            conn.execute(
                select(table).where(table.c.id > last).order_by(table.c.id).limit(PAGE)
            ).mappings()
        )
        if not rows:
            return
        named = {row["id"]: json.loads(row["transfer_ids"]) for row in rows}
        found = _legs([tid for ids in named.values() for tid in ids], conn)
        for row in rows:
            ids = named[row["id"]]
            label = f"{noun} {row['id']}"
            yield row, Record(label, [found[t] for t in ids if t in found], _absent(ids, found))
        last = rows[-1]["id"]


def _payout_records(conn: Connection) -> Iterator[tuple[Any, Record]]:
    """Payouts name one transfer (``transfer_id``), once they succeeded."""
    last = ""
    while True:
        query = select(payouts).where(payouts.c.id > last).order_by(payouts.c.id).limit(PAGE)
        rows = list(conn.execute(query).mappings())
        if not rows:
            return
        found = _legs([row["transfer_id"] for row in rows if row["transfer_id"]], conn)
        for row in rows:
            ids = [row["transfer_id"]] if row["transfer_id"] else []
            label = f"payout {row['id']}"
            yield row, Record(label, [found[t] for t in ids if t in found], _absent(ids, found))
        last = rows[-1]["id"]


def _bank_transfer_records(
    conn: Connection, accounts: dict[str, tuple[str, str]]
) -> Iterator[Record]:
    """A bank transfer names its hold (``hold_id``); its post, void and return have ids made
    from its own (``<id>.post`` …). The hold leaves its wallet for the whole amount; settled
    means posted, rejected voided, returned posted and then the return credited back. Its
    fee (``<id>.fee``, when ``fee_minor`` > 0) is held, posted and voided with it
    (``<id>.fee.post`` …), and what came back of it after a return is ``<id>.fee.back``."""
    last = ""
    while True:
        query = (
            select(bank_transfers)
            .where(bank_transfers.c.id > last)
            .order_by(bank_transfers.c.id)
            .limit(PAGE)
        )
        rows = list(conn.execute(query).mappings())
        if not rows:
            return
        ends = ("post", "void", "return", "fee", "fee.post", "fee.void", "fee.back")
        wanted = [row["hold_id"] for row in rows]
        wanted += [ledger_id(row["id"], end) for row in rows for end in ends]
        found = _legs(wanted, conn)
        for row in rows:
            ids = [row["hold_id"], *(ledger_id(row["id"], end) for end in ends)]
            legs = [found[t] for t in ids if t in found]
            named = ids[:1] + ([ledger_id(row["id"], "fee")] if row["fee_minor"] else [])
            record = Record(f"bank transfer {row['id']}", legs, _absent(named, found))
            _bank_transfer(row, record, {end: ledger_id(row["id"], end) in found for end in ends})
            wallet = accounts.get(row["wallet_id"], ("", ""))[0]
            record.accounts({C.BANK_TRANSFER, C.BANK_TRANSFER_FEE}, wallet, None)
            record.accounts({C.BANK_FEE_REFUND}, None, wallet)
            yield record
        last = rows[-1]["id"]


def _bank_transfer(row: Any, record: Record, has: dict[str, bool]) -> None:
    record.currency(row["currency"])
    record.expect("amount_minor (the hold)", row["amount_minor"], record.held(C.BANK_TRANSFER))
    status = row["status"]
    posted = {"pending": False, "settled": True, "rejected": False, "returned": True}[status]
    if has["post"] != posted or has["void"] != (status == "rejected"):
        record.problems.append(
            f"{record.label} is {status} but its hold was "
            + (
                "posted"
                if has["post"]
                else "voided"
                if has["void"]
                else "neither posted nor voided"
            )
        )
    record.expect("returned_minor", row["returned_minor"], record.moved(C.BANK_RETURN))
    record.expect("fee_minor (its hold)", row["fee_minor"], record.held(C.BANK_TRANSFER_FEE))
    if row["fee_minor"] and (has["fee.post"], has["fee.void"]) != (has["post"], has["void"]):
        record.problems.append(f"{record.label}: its fee was not posted or voided with it")
    refunded = record.moved(C.BANK_FEE_REFUND)
    if status == "rejected":
        refunded = row["fee_minor"] if has["fee.void"] else 0
    record.expect("fee_refunded_minor", row["fee_refunded_minor"], refunded)


def _risk_holds(conn: Connection) -> tuple[list[str], int]:
    """An alert under review names its hold (``services.risk.holds``): the hold exists, in
    the alert's currency, pending while the alert is open, voided once released, posted and
    paid back in full to the sender once returned."""
    problems: list[str] = []
    query = select(risk_alerts).where(risk_alerts.c.hold_id.is_not(None))
    rows = list(conn.execute(query.order_by(risk_alerts.c.id)).mappings())
    ends = ("post", "void", "back")
    wanted = [f"{row['hold_id']}.{end}"[:80] for row in rows for end in ends]
    found = _legs([row["hold_id"] for row in rows] + wanted, conn)
    for row in rows:
        label = f"risk alert {row['id']}"
        hold = found.get(row["hold_id"])
        if hold is None or not hold.pending:
            problems.append(f"{label} names hold {row['hold_id']!r}, which is not a hold")
            continue
        has = {end: found.get(f"{row['hold_id']}.{end}"[:80]) for end in ends}
        if hold.ledger != row["currency"]:
            problems.append(
                f"{label}: its hold is in {hold.ledger}, the alert in {row['currency']}"
            )
        want = {"released": ("void",), "returned": ("post", "back")}.get(row["status"], ())
        if {end for end, leg in has.items() if leg is not None} != set(want):
            done = [end for end, leg in has.items() if leg is not None] or ["nothing"]
            problems.append(f"{label} is {row['status']} but its hold shows {', '.join(done)}")
        back = has["back"]
        if back is not None and (
            back.credit != row["sender_account_id"] or back.amount != hold.amount
        ):
            problems.append(
                f"{label}: {back.amount} went back to {back.credit}, not {hold.amount} to the "
                f"sender {row['sender_account_id']}"
            )
    return problems, len(rows)


def _loan_lines(conn: Connection) -> list[str]:
    """A loan's schedule lines, over every version (a restructure ends one version and
    starts the next), were paid what the loan says was paid of each part; the loan's row is
    in turn checked against its ledger accounts (``verify._loan_violations``)."""
    i = loan_installments.c
    parts = ("principal", "interest", "fee", "penalty")
    sums = select(i.loan_id, *(func.sum(i[f"{p}_paid_minor"]) for p in parts)).group_by(i.loan_id)
    paid = {row[0]: row[1:] for row in conn.execute(sums)}
    problems = []
    for row in conn.execute(select(loans)).mappings():
        lines = paid.get(row["id"], (0, 0, 0, 0))
        for part, on_lines in zip(parts, lines, strict=True):
            if int(on_lines or 0) != row[f"{part}_paid_minor"]:
                problems.append(
                    f"loan {row['id']}: its lines were paid {int(on_lines or 0)} of {part}, "
                    f"the loan says {row[f'{part}_paid_minor']}"
                )
    return problems


def _absent(ids: list[str], found: dict[str, Leg]) -> list[str]:
    return [tid for tid in ids if tid not in found]


def _legs(ids: list[str], conn: Connection) -> dict[str, Leg]:
    t = transfers.c
    columns = (t.id, t.code, t.debit_account_id, t.credit_account_id, t.amount, t.ledger, t.flags)
    out: dict[str, Leg] = {}
    for start in range(0, len(ids), PAGE):
        chunk = ids[start : start + PAGE]
        for row in conn.execute(select(*columns).where(t.id.in_(chunk))):
            out[row[0]] = Leg(row[0], row[1], row[2], row[3], row[4], row[5], row[6])
    return out


def _payment(
    row: Any, record: Record, accounts: dict[str, tuple[str, str]], refunded: list[int]
) -> None:
    kind, status = PaymentKind(row["kind"]), PaymentStatus(row["status"])
    main = MAIN_CODE[kind]
    source = accounts.get(row["source_wallet_id"], (None, None))[0]
    destination = accounts.get(row["destination_wallet_id"], (None, None))[0]
    record.accounts({main}, source, destination)
    record.currency(row["currency"])
    settled = status in SETTLED
    record.settled(status, settled, row["amount_minor"], record.moved(main))
    if status == PaymentStatus.PENDING:
        record.expect("the amount held", row["amount_minor"], record.held(main))
    record.expect("fee_minor", row["fee_minor"], record.moved(C.MERCHANT_DISCOUNT))
    record.expect("commission_minor", row["commission_minor"], record.moved(C.AGENT_COMMISSION))
    record.expect("refunded_minor (the sum of its refunds)", row["refunded_minor"], refunded[0])
    record.expect("fee_returned_minor (its refunds')", row["fee_returned_minor"], refunded[1])
    whole = row["refunded_minor"] == row["amount_minor"]
    some = 0 < row["refunded_minor"] < row["amount_minor"]
    if settled and (status == PaymentStatus.REFUNDED) != whole:
        record.problems.append(f"{record.label} is {status} but refunded {row['refunded_minor']}")
    if settled and (status == PaymentStatus.PARTIALLY_REFUNDED) != some:
        record.problems.append(f"{record.label} is {status} but refunded {row['refunded_minor']}")


def _refund(
    conn: Connection, row: Any, record: Record, accounts: dict[str, tuple[str, str]]
) -> None:
    paid = conn.execute(select(payments).where(payments.c.id == row["payment_id"])).mappings()
    payment = paid.first()
    if payment is None:
        record.problems.append(f"{record.label} refunds {row['payment_id']}, which is gone")
        return
    payer = accounts.get(payment["source_wallet_id"], (None, None))[0]
    payee = accounts.get(payment["destination_wallet_id"], (None, None))[0]
    record.accounts({C.REFUND}, payee, payer)
    record.currency(row["currency"])
    if row["currency"] != payment["currency"]:
        record.problems.append(f"{record.label} is in {row['currency']}, its payment is not")
    settled = row["status"] == "succeeded"
    record.accounts({C.REFUND_FEE_RETURN}, None, payer)
    whole = record.moved(C.REFUND, C.REFUND_FEE_RETURN)  # the fee returned is part of it
    record.settled(row["status"], settled, row["amount_minor"], whole)
    returned = row["fee_returned_minor"] if settled else 0
    record.expect("fee_returned_minor", returned, record.moved(C.REFUND_FEE_RETURN))


def _requests(conn: Connection) -> tuple[int, list[str]]:
    """A paid request names its payment: the merchant's, for the request's amount."""
    problems = []
    checked = 0
    query = (
        select(payment_requests, payments.c.payee_id, payments.c.status.label("paid_status"))
        .add_columns(payments.c.amount_minor.label("paid"), payments.c.currency.label("paid_in"))
        .outerjoin(payments, payments.c.id == payment_requests.c.payment_id)
        .where(payment_requests.c.payment_id.is_not(None))
    )
    for row in conn.execute(query).mappings():
        checked += 1
        label = f"payment request {row['id']}"
        if row["paid_status"] is None:
            problems.append(f"{label} names payment {row['payment_id']}, which does not exist")
            continue
        if (row["paid"], row["paid_in"]) != (row["amount_minor"], row["currency"]):
            problems.append(
                f"{label} asks {row['amount_minor']} {row['currency']} but its payment "
                f"{row['payment_id']} is {row['paid']} {row['paid_in']}"
            )
        if row["payee_id"] != row["merchant_id"] or row["paid_status"] not in SETTLED:
            problems.append(
                f"{label}: its payment {row['payment_id']} is {row['paid_status']} "
                "or not to the request's merchant"
            )
    return checked, problems


def _order(row: Any, record: Record) -> None:
    escrow = row["escrow_account_id"]
    record.accounts({C.ESCROW_IN}, None, escrow)
    record.accounts({C.ESCROW_RELEASE, C.MARKETPLACE_FEE, C.ESCROW_REFUND}, escrow, None)
    escrow_codes = {C.ESCROW_IN, C.ESCROW_RELEASE, C.MARKETPLACE_FEE, C.ESCROW_REFUND}
    record.currency(row["currency"], escrow_codes)
    record.currency(row["buyer_currency"], {C.FX_IN, C.FX_OUT})
    record.expect("paid_in_minor", row["paid_in_minor"], record.moved(C.ESCROW_IN))
    released = record.moved(C.ESCROW_RELEASE, C.MARKETPLACE_FEE)
    record.expect("released_minor", row["released_minor"], released)
    record.expect("fee_minor", row["fee_minor"], record.moved(C.MARKETPLACE_FEE))
    record.expect("refunded_minor", row["refunded_minor"], record.moved(C.ESCROW_REFUND))
    if row["buyer_currency"] != row["currency"]:
        record.expect("buyer_paid_minor", row["buyer_paid_minor"], record.moved(C.FX_IN))
        record.expect("buyer_refunded_minor", row["buyer_refunded_minor"], record.moved(C.FX_OUT))


def _loan_event(row: Any, record: Record, principal: int | None) -> None:
    """A loan event's legs move through the loan's own accounts; its parts are what the
    repayment legs credit to each receivable; a disbursement pays out the principal less a
    fee deducted from it."""
    loan_id = row["loan_id"]
    own = ledger_id(loan_id) + "."
    record.currency("PHP")
    for leg in record.legs:  # a recovery goes from the wallet to income: the loan is gone
        if leg.code == C.LOAN_RECOVERY:
            continue
        if not (leg.debit.startswith(own) or leg.credit.startswith(own)):
            record.problems.append(f"{record.label}: transfer {leg.id!r} is not loan {loan_id}'s")
    for part in COMPONENTS:
        to_part = record.moved(C.LOAN_REPAYMENT, credit=ledger_id(loan_id, part))
        record.expect(f"{part}_minor", row[f"{part}_minor"], to_part)
    simple: dict[str, Callable[[], int]] = {
        "set_aside": lambda: record.moved(C.LOAN_SET_ASIDE),
        "recovery": lambda: record.moved(C.LOAN_RECOVERY),
        "disbursement": lambda: record.moved(C.LOAN_DISBURSEMENT),
    }
    if row["kind"] in simple:
        record.expect("amount_minor", row["amount_minor"], simple[row["kind"]]())
    if row["kind"] == "disbursement":
        deducted = record.moved(C.LOAN_FEE, debit=ledger_id(loan_id, "principal"))
        paid_out = record.moved(C.LOAN_DISBURSEMENT) + deducted
        record.expect(f"loan {loan_id}'s principal_minor", principal or 0, paid_out)
