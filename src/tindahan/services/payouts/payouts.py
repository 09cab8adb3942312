"""Payouts: a merchant's sales from its settlement wallet to its main wallet, at once.

One payout is one transaction and one ledger transfer (settlement → main, code
``PAYOUT``). Before it, the settlement wallet's ledger account is locked (PostgreSQL ``FOR
UPDATE``; SQLite writers take turns anyway), so two payouts at once cannot both fit under the
same available figure; then the available amount is computed (``payments.payouts``: the
balance less pending debits, less what the refunds of recent sales and the loan's next
installment need) and a payout above it is refused with the figure. The main wallet's KYC
tier applies to the money arriving there, as to any other (monthly incoming, maximum
balance): a merchant's main wallet is e-money like anyone's.

Tenancy: a merchant's own key (or its staff's sign-in) reaches its payouts only; the operator
names the merchant. Idempotency is the faces' (``Idempotency-Key`` on the API, the form's
key on the page): a retried request books nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, invalid, not_found
from tindahan.ledger.model import NewTransfer
from tindahan.payments import payouts as rules
from tindahan.payments.model import PartyKind, PaymentKind, TransferCode, WalletKind
from tindahan.services.ledger import movement
from tindahan.services.lending.loans import payout_hold
from tindahan.services.payments import two_store
from tindahan.services.payments.refunds import REFUNDABLE
from tindahan.services.platform.events import emit
from tindahan.services.platform.listing import page
from tindahan.services.unit import Unit, iso, ledger_id, new_id
from tindahan.store.payment_tables import parties, payments
from tindahan.store.payout_tables import payouts
from tindahan.store.tables import accounts

CURRENCY = "PHP"
DAY_NS = 24 * 3600 * 10**9


@dataclass(frozen=True)
class NewPayout:
    amount_minor: object
    currency: object = CURRENCY
    merchant_id: str | None = None  # the operator names the merchant
    destination: str = "wallet"
    description: str | None = None


@dataclass(frozen=True)
class Wallets:
    settlement: movement.Holder
    main: movement.Holder


def merchant_of(unit: Unit, caller: Caller, merchant_id: str | None) -> str:
    """Whose payout: the caller's own party, or the merchant an operator key names — which
    must be a merchant (anyone else's id answers 404, as if it did not exist)."""
    if caller.operator:
        if not merchant_id:
            raise invalid(
                "parameter_missing", "an operator key must give merchant_id", "merchant_id"
            )
        wanted = merchant_id
    elif merchant_id not in (None, caller.party_id):
        raise not_found("merchant", "merchant_id")
    else:
        assert caller.party_id is not None
        wanted = caller.party_id
    kind = unit.conn.execute(
        select(parties.c.kind).where(parties.c.id == wanted)
    ).scalar_one_or_none()
    if kind is None:
        raise not_found("merchant", "merchant_id")
    if kind != PartyKind.MERCHANT:
        message = "only a merchant has a settlement wallet to pay out from"
        raise RefusalError(Category.PERMISSION, "merchant_only", message, "merchant_id")
    return wanted


def wallets_of(unit: Unit, merchant_id: str) -> Wallets:
    found = movement.holders(unit, (merchant_id,))
    return Wallets(
        found[(merchant_id, WalletKind.SETTLEMENT)], found[(merchant_id, WalletKind.MAIN)]
    )


def refund_hold(unit: Unit, merchant_id: str) -> int:
    """What refunding the rest of the merchant's sales of the refund window would take from
    the settlement wallet (``payments.payouts.refund_exposure``, summed in the database)."""
    since = unit.now() - limits.PAYOUT_REFUND_WINDOW_DAYS * DAY_NS
    exposure = (payments.c.amount_minor - payments.c.refunded_minor) - (
        payments.c.fee_minor - payments.c.fee_returned_minor
    )
    total = unit.conn.execute(
        select(func.coalesce(func.sum(exposure), 0)).where(
            payments.c.payee_id == merchant_id,
            payments.c.created_at_ns >= since,
            payments.c.kind == PaymentKind.MERCHANT,
            payments.c.status.in_([s.value for s in REFUNDABLE]),
        )
    ).scalar_one()
    return int(total)


def availability(
    unit: Unit, merchant_id: str, settlement: str, *, lock: bool
) -> rules.Availability:
    """The settlement wallet's figures and what stays behind; ``lock`` takes the wallet's
    ledger row first (PostgreSQL), so nothing else pays out of it until the commit. On a
    TigerBeetle ledger the figures are the cluster's (``two_store.debit_figures``: holds not
    booked yet counted as pending), and the SQL row, still locked, is what payouts from one
    wallet take turns on (its balances are those of the switch, not read)."""
    query = select(
        accounts.c.credits_posted, accounts.c.debits_posted, accounts.c.debits_pending
    ).where(accounts.c.id == settlement)
    if lock and not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).one()
    balance, pending = row.credits_posted - row.debits_posted, row.debits_pending
    if unit.platform.ledger is not None:
        balance, pending = two_store.debit_figures(unit, unit.platform.ledger, settlement)
    return rules.Availability(
        balance_minor=balance,
        pending_out_minor=pending,
        refund_hold_minor=refund_hold(unit, merchant_id),
        loan_hold_minor=payout_hold(unit, merchant_id),
    )


def availability_view(merchant_id: str, figures: rules.Availability) -> dict[str, Any]:
    return {
        "object": "payout_availability",
        "merchant_id": merchant_id,
        "currency": CURRENCY,
        "available_minor": figures.available_minor,
        "settlement_balance_minor": figures.balance_minor,
        "pending_out_minor": figures.pending_out_minor,
        "refund_hold_minor": figures.refund_hold_minor,
        "loan_hold_minor": figures.loan_hold_minor,
        "refund_window_days": limits.PAYOUT_REFUND_WINDOW_DAYS,
    }


def available(unit: Unit, caller: Caller, merchant_id: str | None = None) -> dict[str, Any]:
    """How much may be paid out now, and why not more (shown before the merchant confirms)."""
    caller.require("payments:read")
    who = merchant_of(unit, caller, merchant_id)
    settlement = wallets_of(unit, who).settlement
    return availability_view(who, availability(unit, who, settlement.account_id, lock=False))


@dataclass(frozen=True)
class Checked:
    """A payout asked for, past every check before booking (``check``)."""

    merchant_id: str
    wallets: Wallets
    amount_minor: int
    description: str | None


def check(unit: Unit, caller: Caller, new: NewPayout) -> Checked:
    """The request's checks, the settlement wallet locked and what is available: the same on
    either ledger (``create`` books on the SQL one, ``cluster.create`` on TigerBeetle)."""
    caller.require("payments:write")
    amount_minor, _ = movement.amount(new.amount_minor, new.currency)
    if new.destination != "wallet":
        message = "a payout goes to the main wallet ('wallet'); bank accounts come later"
        raise invalid("destination_invalid", message, "destination")
    description = movement.optional_text(
        new.description, "description", limits.DESCRIPTION_MAX_LENGTH
    )
    who = merchant_of(unit, caller, new.merchant_id)
    found = wallets_of(unit, who)
    movement.require_active(found.settlement, "merchant")
    figures = availability(unit, who, found.settlement.account_id, lock=True)
    rules.check_amount(amount_minor, figures)
    return Checked(who, found, amount_minor, description)


def create(unit: Unit, caller: Caller, new: NewPayout) -> dict[str, Any]:
    c = check(unit, caller, new)
    return book(
        unit, c.merchant_id, c.wallets, c.amount_minor, automatic=False, description=c.description
    )


def transfer_for(payout_id: str, found: Wallets, amount_minor: int) -> NewTransfer:
    """The payout's one ledger transfer: settlement → main, ``PAYOUT``."""
    return NewTransfer(
        ledger_id(payout_id),
        found.settlement.account_id,
        found.main.account_id,
        amount_minor,
        CURRENCY,
        TransferCode.PAYOUT,
        metadata={"payout": payout_id},
    )


def new_row(
    unit: Unit,
    payout_id: str,
    merchant_id: str,
    found: Wallets,
    amount_minor: int,
    transfer_id: str,
    *,
    status: str,
    automatic: bool,
    description: str | None,
) -> dict[str, Any]:
    """The payout's row as it is inserted (a failure's is ``record_failure``'s)."""
    row = {
        "id": payout_id,
        "merchant_id": merchant_id,
        "amount_minor": amount_minor,
        "currency": CURRENCY,
        "destination": "wallet",
        "source_wallet_id": found.settlement.wallet_id,
        "destination_wallet_id": found.main.wallet_id,
        "status": status,
        "automatic": automatic,
        "transfer_id": transfer_id,
        "failure_code": None,
        "failure_message": None,
        "description": description,
        "created_at_ns": unit.now(),
    }
    movement.insert_row(unit, payouts, row)
    return row


def book(
    unit: Unit,
    merchant_id: str,
    found: Wallets,
    amount_minor: int,
    *,
    automatic: bool,
    description: str | None = None,
) -> dict[str, Any]:
    """Record the payout, announce it and book its one transfer (last: see
    ``services.ledger.movement``); any refusal rolls all of it back."""
    payout_id = new_id("po")
    transfer = transfer_for(payout_id, found, amount_minor)
    movement.limit_incoming(unit, found.main, amount_minor, CURRENCY)
    row = new_row(
        unit,
        payout_id,
        merchant_id,
        found,
        amount_minor,
        transfer.id,
        status="succeeded",
        automatic=automatic,
        description=description,
    )
    shown = view(row)
    emit(unit, "payout.succeeded", shown, (merchant_id,))
    low = RefusalError(
        Category.REFUSED,
        "insufficient_funds",
        "the settlement wallet's balance is too low",
        "amount_minor",
    )
    applied = movement.book(unit, [transfer], {"exceeds_credits": low})
    movement.check_balance(found.main, applied, CURRENCY)
    return shown


def record_failure(
    unit: Unit, merchant_id: str, found: Wallets, amount_minor: int, refusal: RefusalError
) -> dict[str, Any]:
    """An automatic payout that could not be made (a frozen wallet, a tier limit): kept with
    its reason, announced as ``payout.failed``; nothing moved."""
    row = {
        "id": new_id("po"),
        "merchant_id": merchant_id,
        "amount_minor": amount_minor,
        "currency": CURRENCY,
        "destination": "wallet",
        "source_wallet_id": found.settlement.wallet_id,
        "destination_wallet_id": found.main.wallet_id,
        "status": "failed",
        "automatic": True,
        "transfer_id": None,
        "failure_code": refusal.code[:64],
        "failure_message": refusal.message[: limits.DESCRIPTION_MAX_LENGTH],
        "description": None,
        "created_at_ns": unit.now(),
    }
    movement.insert_row(unit, payouts, row)
    shown = view(row)
    emit(unit, "payout.failed", shown, (merchant_id,))
    return shown


def view(row: Any) -> dict[str, Any]:
    failure = None
    if row["failure_code"] is not None:
        failure = {"code": row["failure_code"], "message": row["failure_message"]}
    return {
        "id": row["id"],
        "object": "payout",
        "merchant_id": row["merchant_id"],
        "amount_minor": row["amount_minor"],
        "currency": row["currency"],
        "destination": row["destination"],
        "source_wallet_id": row["source_wallet_id"],
        "destination_wallet_id": row["destination_wallet_id"],
        "status": row["status"],
        "automatic": bool(row["automatic"]),
        "transfer_id": row["transfer_id"],
        "failure": failure,
        "description": row["description"],
        "created": iso(row["created_at_ns"]),
    }


def get(unit: Unit, caller: Caller, payout_id: str) -> dict[str, Any]:
    caller.require("payments:read")
    row = unit.conn.execute(select(payouts).where(payouts.c.id == payout_id)).mappings().first()
    if row is None or not caller.reaches(row["merchant_id"]):
        raise not_found("payout", "id")
    return view(row)


def list_payouts(
    unit: Unit,
    caller: Caller,
    limit: int,
    starting_after: str | None,
    merchant_id: str | None = None,
) -> dict[str, Any]:
    """Newest first (ids are random, so by time, then id); a party sees its own only."""
    caller.require("payments:read")
    if merchant_id is not None and not caller.reaches(merchant_id):
        raise not_found("merchant", "merchant_id")
    query = select(payouts).order_by(payouts.c.created_at_ns.desc(), payouts.c.id.desc())
    who = caller.party_id or merchant_id
    if who:
        query = query.where(payouts.c.merchant_id == who)
    if starting_after:
        cursor = unit.conn.execute(
            select(payouts.c.created_at_ns, payouts.c.merchant_id).where(
                payouts.c.id == starting_after
            )
        ).first()
        if cursor is None or cursor.merchant_id != (who or cursor.merchant_id):
            raise invalid(
                "cursor_invalid", "starting_after is not a payout of this list", "starting_after"
            )
        query = query.where(
            (payouts.c.created_at_ns < cursor.created_at_ns)
            | ((payouts.c.created_at_ns == cursor.created_at_ns) & (payouts.c.id < starting_after))
        )
    found = list(unit.conn.execute(query.limit(limit + 1)).mappings())
    return page([view(r) for r in found[:limit]], len(found) > limit)
