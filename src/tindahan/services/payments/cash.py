"""Cash-in and cash-out at an agent, and operator funding of a wallet from the bank.

* **Cash-in** (the agent takes cash, the customer gets e-money): the agent's float wallet
  pays the customer's main wallet; the operator pays the agent a commission from
  ``op.commissions`` into the agent's main wallet. One linked batch; done at once. On a
  TigerBeetle ledger, through the two-store order instead (``cash_in_on_cluster``).
* **Cash-out** is two-phase, because the cash changes hands after the request. The customer
  asks (``pending``): the ledger *holds* the amount in their wallet (a pending transfer to
  the agent's float). The agent hands over the cash and confirms: the hold is posted and
  the commission paid (``succeeded``). If nobody confirms within
  ``limits.CASH_OUT_CONFIRM_SECONDS``, or either side cancels, the hold is voided and the
  cash-out ``failed``; what it counted against the customer's daily and monthly limits is
  given back.
* **Funding** (operator only): money that reached the operator's bank account for a wallet
  (an agent topping up float, a merchant's bank transfer) is booked from ``op.bank``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from sqlalchemy import select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, invalid, not_found, refused
from tindahan.ledger.model import NewTransfer, TransferFlags
from tindahan.ledger.port import LedgerPort
from tindahan.money import Money
from tindahan.payments.fees import agent_commission
from tindahan.payments.model import PartyKind, PaymentKind, PaymentStatus, TransferCode, WalletKind
from tindahan.services.ledger import movement
from tindahan.services.payments import fx, two_store
from tindahan.services.payments.payments import (
    payer_of,
    payment_row,
    payment_view,
    record,
    reviewed,
    set_status,
)
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import groupcommit, idempotency
from tindahan.services.platform.chart import bank_account, commission_account
from tindahan.services.platform.events import emit
from tindahan.services.platform.fees import fee_settings
from tindahan.services.unit import Platform, Unit, ledger_id, new_id
from tindahan.store.payment_tables import payments, wallets

LINKED = TransferFlags.LINKED


def _agent_and_customer(
    unit: Unit, agent_id: str, customer_id: str
) -> tuple[movement.Holder, movement.Holder, movement.Holder]:
    """The agent's float and main wallets and the customer's main wallet."""
    if agent_id == customer_id:
        raise invalid("payee_is_payer", "an agent cannot cash in or out for itself", "customer_id")
    found = movement.holders(unit, (agent_id, customer_id))
    float_wallet = found.get((agent_id, WalletKind.FLOAT))
    if float_wallet is None or float_wallet.party_kind != PartyKind.AGENT:
        raise not_found("agent", "agent_id")
    customer = found.get((customer_id, WalletKind.MAIN))
    if customer is None or customer.party_kind == PartyKind.AGENT:
        raise not_found("customer", "customer_id")
    movement.require_active(float_wallet, "agent")
    movement.require_active(customer, "customer")
    return float_wallet, found[(agent_id, WalletKind.MAIN)], customer


def _commission(unit: Unit, amount_minor: int, currency: str) -> int:
    bps = fee_settings(unit)["agent_commission_bps"]
    return agent_commission(Money(amount_minor, currency), bps).amount_minor


def _commission_transfer(
    payment_id: str, agent_main: movement.Holder, amount: int, currency: str
) -> NewTransfer:
    return NewTransfer(
        ledger_id(payment_id, "commission"),
        commission_account(payment_id),
        agent_main.account_id,
        amount,
        currency,
        TransferCode.AGENT_COMMISSION,
        metadata=movement.metadata(payment_id),
    )


@dataclass(frozen=True, slots=True)
class _CashIn:
    """A cash-in as decided before anything is written (both ledgers book these legs)."""

    payment_id: str
    float_wallet: movement.Holder
    customer: movement.Holder
    amount_minor: int
    currency: str
    commission: int
    transfers: list[NewTransfer]


def _plan_cash_in(
    unit: Unit,
    caller: Caller,
    customer_id: str,
    amount_minor: int,
    currency: str,
    agent_id: str | None,
) -> _CashIn:
    """The parties, the commission and the legs; the customer's per-transaction maximum."""
    caller.require("payments:write")
    agent_id = payer_of(caller, agent_id, "agent_id")
    amount_minor, currency = movement.amount(amount_minor, currency)
    float_wallet, agent_main, customer = _agent_and_customer(unit, agent_id, customer_id)
    payment_id = new_id("pay")
    commission = _commission(unit, amount_minor, currency)
    transfers = [
        NewTransfer(
            ledger_id(payment_id),
            float_wallet.account_id,
            customer.account_id,
            amount_minor,
            currency,
            TransferCode.CASH_IN,
            LINKED if commission else TransferFlags.NONE,
            metadata=movement.metadata(payment_id),
        )
    ]
    if commission:
        transfers.append(_commission_transfer(payment_id, agent_main, commission, currency))
    movement.precheck(customer, amount_minor, currency)
    return _CashIn(
        payment_id, float_wallet, customer, amount_minor, currency, commission, transfers
    )


def _record_cash_in(
    unit: Unit, c: _CashIn, status: PaymentStatus, transfer_ids: list[str]
) -> dict[str, Any]:
    return record(
        unit,
        c.payment_id,
        PaymentKind.CASH_IN,
        status,
        c.float_wallet,
        c.customer,
        c.amount_minor,
        c.currency,
        transfer_ids,
        commission_minor=c.commission,
    )


def cash_in(
    unit: Unit,
    caller: Caller,
    customer_id: str,
    amount_minor: int,
    currency: str,
    agent_id: str | None,
) -> PaymentView:
    """A cash-in on the SQL ledger: one transaction, done at once."""
    c = _plan_cash_in(unit, caller, customer_id, amount_minor, currency, agent_id)
    movement.limit_incoming(unit, c.customer, c.amount_minor, c.currency)
    row = _record_cash_in(unit, c, PaymentStatus.SUCCEEDED, [t.id for t in c.transfers])
    low_float = refused("insufficient_float", "the agent's float is too low", "amount_minor")
    applied = movement.book(unit, c.transfers, {"exceeds_credits": low_float})
    movement.check_balance(c.customer, applied, c.currency)
    # the event after booking, with ``under_review`` as the API's payment has it
    view = reviewed(unit, [payment_view(row)])[0]
    emit(unit, "cash_in.succeeded", view, (c.float_wallet.party_id, c.customer.party_id))
    return view


def cash_in_on_cluster(
    platform: Platform,
    caller: Caller,
    customer_id: str,
    amount_minor: int,
    currency: str,
    agent_id: str | None,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[PaymentView], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/cash_ins`` on a TigerBeetle ledger: the two-store order
    (``two_store.run``). A: the same checks and running totals as above, the customer's
    maximum balance against the cluster, the payment ``pending``; then the agent's float
    held for the amount (a low float: ``insufficient_float``, as on SQL), the hold posted
    with the commission leg in one chain, and ``cash_in.succeeded`` with the final state."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        c = _plan_cash_in(unit, caller, customer_id, amount_minor, currency, agent_id)
        movement.limit_incoming(unit, c.customer, c.amount_minor, c.currency)
        legs = two_store.judged(unit, c.transfers)
        two_store.check_balance(ledger, c.customer, c.amount_minor, c.currency)
        held = [t.id for t in two_store.holds(legs)]
        row = _record_cash_in(unit, c, PaymentStatus.PENDING, held)
        return two_store.view_of(unit, row, legs), legs

    return two_store.run(platform, scope, key, fingerprint, reserve, render, render_refusal)


def cash_out(
    unit: Unit,
    caller: Caller,
    agent_id: str,
    amount_minor: int,
    currency: str,
    customer_id: str | None,
) -> PaymentView:
    """The customer asks to take cash from an agent: hold the amount, wait for the agent."""
    c = _plan_cash_out(unit, caller, agent_id, amount_minor, currency, customer_id)
    movement.limit_outgoing(unit, c.customer, c.amount_minor, c.currency)
    movement.book(unit, [c.hold])
    row = _record_cash_out(unit, c)
    view = payment_view(row)
    emit(unit, "cash_out.pending", view, (c.float_wallet.party_id, c.customer.party_id))
    return view


def cash_out_locks(caller: Caller, agent_id: str, customer_id: str | None) -> groupcommit.Locks:
    """What ``cash_out`` will lock, for its group to lock first and in order
    (``services.platform.groupcommit``): the customer's and the agent's wallets (the hold
    goes from the one's main wallet to the other's float). Declaring more than it locks is
    harmless; an unknown party is found locking nothing, and refused as alone."""
    customer = customer_id if caller.operator else caller.party_id
    return groupcommit.Locks(tuple(p for p in (customer, agent_id) if p))


@dataclass(frozen=True, slots=True)
class _CashOut:
    payment_id: str
    hold: NewTransfer
    customer: movement.Holder
    float_wallet: movement.Holder
    amount_minor: int
    currency: str


def _plan_cash_out(
    unit: Unit,
    caller: Caller,
    agent_id: str,
    amount_minor: int,
    currency: str,
    customer_id: str | None,
) -> _CashOut:
    """The parties and the hold (the customer's wallet → the agent's float, pending)."""
    caller.require("payments:write")
    customer_id = payer_of(caller, customer_id, "customer_id")
    amount_minor, currency = movement.amount(amount_minor, currency)
    float_wallet, _agent_main, customer = _agent_and_customer(unit, agent_id, customer_id)
    payment_id = new_id("pay")
    hold = NewTransfer(
        ledger_id(payment_id),
        customer.account_id,
        float_wallet.account_id,
        amount_minor,
        currency,
        TransferCode.CASH_OUT,
        TransferFlags.PENDING,
        timeout_seconds=limits.CASH_OUT_HOLD_SECONDS,
        metadata=movement.metadata(payment_id),
    )
    movement.precheck(customer, amount_minor, currency)
    return _CashOut(payment_id, hold, customer, float_wallet, amount_minor, currency)


def _record_cash_out(unit: Unit, c: _CashOut) -> dict[str, Any]:
    return record(
        unit,
        c.payment_id,
        PaymentKind.CASH_OUT,
        PaymentStatus.PENDING,
        c.customer,
        c.float_wallet,
        c.amount_minor,
        c.currency,
        [c.hold.id],
        expires_at_ns=unit.now() + limits.CASH_OUT_CONFIRM_SECONDS * 10**9,
    )


def _pending_cash_out(unit: Unit, caller: Caller, payment_id: str) -> dict[str, Any]:
    row = payment_row(unit, caller, payment_id, lock=True)
    if row["kind"] != PaymentKind.CASH_OUT:
        raise not_found("cash-out", "id")
    if row["status"] != PaymentStatus.PENDING:
        raise conflict("cash_out_not_pending", f"the cash-out is {row['status']}", "id")
    return row


def confirm(unit: Unit, caller: Caller, payment_id: str) -> PaymentView:
    """The agent has handed over the cash: post the hold, pay the commission."""
    row, agent_main, commission = _confirmable(unit, caller, payment_id)
    post = NewTransfer(
        ledger_id(payment_id, "post"),
        pending_id=ledger_id(payment_id),
        flags=TransferFlags.POST_PENDING | (LINKED if commission else TransferFlags.NONE),
        metadata=movement.metadata(payment_id),
    )
    transfers = [post]
    if commission:
        transfers.append(_commission_transfer(payment_id, agent_main, commission, row["currency"]))
    expired = conflict("cash_out_expired", "the cash-out's hold has expired", "id")
    movement.book(unit, transfers, {"pending_transfer_expired": expired})
    ids = movement.decode_ids(row["transfer_ids"]) + [t.id for t in transfers]
    set_status(
        unit,
        payment_id,
        PaymentStatus.SUCCEEDED,
        commission_minor=commission,
        transfer_ids=movement.encode_ids(ids),
    )
    view = payment_view(payment_row(unit, caller, payment_id))
    emit(unit, "cash_out.succeeded", view, (row["payer_id"], row["payee_id"]))
    return view


def _confirmable(
    unit: Unit, caller: Caller, payment_id: str
) -> tuple[dict[str, Any], movement.Holder, int]:
    """The pending cash-out, confirmed by its agent in time: its row, the agent's main
    wallet and the commission."""
    caller.require("payments:write")
    row = _pending_cash_out(unit, caller, payment_id)
    if not caller.reaches(row["payee_id"]):
        message = "only the agent paying out the cash confirms it"
        raise RefusalError(Category.PERMISSION, "not_agent", message, "id")
    if row["expires_at_ns"] <= unit.now():
        raise conflict("cash_out_expired", "the cash-out expired before it was confirmed", "id")
    found = movement.holders(unit, (row["payee_id"],))
    agent_main = found[(row["payee_id"], WalletKind.MAIN)]
    movement.require_active(agent_main, "agent")
    return row, agent_main, _commission(unit, row["amount_minor"], row["currency"])


def cancel(unit: Unit, caller: Caller, payment_id: str) -> PaymentView:
    """Either side calls a cash-out off before the cash changes hands."""
    caller.require("payments:write")
    row = _pending_cash_out(unit, caller, payment_id)
    return _fail(unit, row, "canceled")


def _fail(unit: Unit, row: dict[str, Any], reason: str) -> PaymentView:
    payment_id = row["id"]
    void = NewTransfer(
        ledger_id(payment_id, "void"),
        pending_id=ledger_id(payment_id),
        flags=TransferFlags.VOID_PENDING,
        metadata=movement.metadata(payment_id, reason=reason),
    )
    ids = movement.decode_ids(row["transfer_ids"])
    applied = movement.apply_batch(unit, [void])
    failure = applied.first_failure
    if failure is None:
        ids.append(void.id)
    elif failure.result not in ("pending_transfer_expired", "pending_transfer_already_voided"):
        raise RuntimeError(f"the ledger refused {void.id}: {failure.result}")
    source = unit.conn.execute(
        select(wallets.c.party_id).where(wallets.c.id == row["source_wallet_id"])
    ).scalar_one()
    customer = movement.holders(unit, (source,))[(source, WalletKind.MAIN)]
    movement.release_outgoing(unit, customer, row["amount_minor"], row["created_at_ns"])
    set_status(unit, payment_id, PaymentStatus.FAILED, transfer_ids=movement.encode_ids(ids))
    view = payment_view(
        {
            **row,
            "status": PaymentStatus.FAILED.value,
            "transfer_ids": movement.encode_ids(ids),
            "updated_at_ns": unit.now(),
        }
    )
    emit(unit, "cash_out.failed", view, (row["payer_id"], row["payee_id"]))
    return view


def expire_cash_outs(platform: Platform) -> int:
    """Fail every pending cash-out past its confirmation time (the worker runs this); on a
    TigerBeetle ledger through the two-store order (``two_store.release``)."""
    now = platform.now()
    due = platform.run(
        lambda unit: list(
            unit.conn.execute(
                select(payments.c.id)
                .where(payments.c.status == PaymentStatus.PENDING.value)
                .where(payments.c.expires_at_ns <= now)
                .limit(limits.SWEEP_BATCH)
            ).scalars()
        ),
        write=False,
    )
    done = 0
    for payment_id in due:
        if two_store.applies(platform):
            done += _expire_on_cluster(platform, payment_id)
        else:
            done += platform.run(partial(_expire_one, payment_id=payment_id))
    return done


def _expire_one(unit: Unit, payment_id: str) -> int:
    query = select(payments).where(payments.c.id == payment_id)
    if not unit.db.is_sqlite:
        query = query.with_for_update()
    row = unit.conn.execute(query).mappings().first()
    if row is None or row["status"] != PaymentStatus.PENDING or row["expires_at_ns"] > unit.now():
        return 0
    _fail(unit, dict(row), "expired")
    return 1


# -- cash-outs on a TigerBeetle ledger --------------------------------------------------------

Respond = Callable[[PaymentView], idempotency.Response]
RespondRefusal = Callable[[RefusalError], idempotency.Response]


def cash_out_on_cluster(
    platform: Platform,
    caller: Caller,
    agent_id: str,
    amount_minor: int,
    currency: str,
    customer_id: str | None,
    scope: str,
    key: str,
    fingerprint: str,
    render: Respond,
    render_refusal: RespondRefusal,
) -> idempotency.Response:
    """``POST /v1/cash_outs`` on a TigerBeetle ledger: A (the SQL path's checks, the
    customer's day and month raised, the payment ``pending``), the hold in the cluster with
    the cash-out's own timeout, then B: ``held`` and ``cash_out.pending``. The answer is
    that ``pending`` payment, as on SQL; the rest waits for the agent."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        return reserve_cash_out(unit, caller, agent_id, amount_minor, currency, customer_id)

    return two_store.run(platform, scope, key, fingerprint, reserve, render, render_refusal)


def reserve_cash_out(
    unit: Unit,
    caller: Caller,
    agent_id: str,
    amount_minor: int,
    currency: str,
    customer_id: str | None,
) -> tuple[PaymentView, list[NewTransfer]]:
    """A cash-out request's part of A on a TigerBeetle ledger (the API's and the USSD
    menu's): the SQL path's checks, the customer's day and month raised, the risk rules, the
    payment ``pending``; the leg to hold."""
    c = _plan_cash_out(unit, caller, agent_id, amount_minor, currency, customer_id)
    movement.limit_outgoing(unit, c.customer, c.amount_minor, c.currency)
    two_store.require_no_risk_hold(unit, [c.hold])
    row = _record_cash_out(unit, c)
    return payment_view(row), [replace(c.hold, flags=TransferFlags.NONE)]


def _not_waiting() -> RefusalError:
    return conflict("cash_out_not_pending", "the cash-out is not waiting for its agent", "id")


def confirm_on_cluster(
    platform: Platform,
    caller: Caller,
    payment_id: str,
    scope: str,
    key: str,
    fingerprint: str,
    render: Respond,
    render_refusal: RespondRefusal,
) -> idempotency.Response:
    """The agent confirms on a TigerBeetle ledger: A (the SQL path's checks; ``held`` →
    ``reserved`` with the commission leg added), then the post chain (the hold posted, the
    commission) and C (``succeeded``, ``cash_out.succeeded``), as a payment's."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, None]:
        row, agent_main, commission = _confirmable(unit, caller, payment_id)
        legs = two_store.legs_of(unit, payment_id)
        if commission:
            legs.append(_commission_transfer(payment_id, agent_main, commission, row["currency"]))
        if not two_store.confirm(unit, payment_id, legs):
            raise _not_waiting()
        set_status(unit, payment_id, PaymentStatus.PENDING, commission_minor=commission)
        return payment_view(payment_row(unit, caller, payment_id)), None

    return two_store.run(platform, scope, key, fingerprint, reserve, render, render_refusal)


def cancel_on_cluster(
    platform: Platform,
    caller: Caller,
    payment_id: str,
    scope: str,
    key: str,
    fingerprint: str,
    render: Respond,
    render_refusal: RespondRefusal,
) -> idempotency.Response:
    """Either side cancels on a TigerBeetle ledger: A (``held`` → ``voiding``), then the hold
    voided in the cluster, then the cash-out ``failed``, its totals back, ``cash_out.failed``;
    answered with the failed payment, as on SQL."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, None]:
        caller.require("payments:write")
        row = _pending_cash_out(unit, caller, payment_id)
        if not two_store.release(unit, payment_id, "canceled"):
            raise _not_waiting()
        return payment_view(row), None

    return two_store.run(platform, scope, key, fingerprint, reserve, render, render_refusal)


def _expire_on_cluster(platform: Platform, payment_id: str) -> int:
    def start(unit: Unit) -> bool:
        row = unit.conn.execute(select(payments).where(payments.c.id == payment_id))
        found = row.mappings().first()
        if found is None or found["expires_at_ns"] > unit.now():
            return False
        return two_store.release(unit, payment_id, "expired")

    if not platform.run(start):
        return 0
    two_store.advance(platform, payment_id)
    return 1


@dataclass(frozen=True, slots=True)
class _Funding:
    payment_id: str
    holder: movement.Holder
    amount_minor: int
    currency: str
    transfer: NewTransfer


def _plan_funding(
    unit: Unit, caller: Caller, wallet_id: str, amount_minor: int, currency: str
) -> _Funding:
    """The operator's right, the wallet, the leg from ``op.bank``."""
    caller.require("payments:write")
    caller.require_operator()
    amount_minor, currency = movement.amount(amount_minor, currency, movement.WALLET_CURRENCIES)
    party_id = unit.conn.execute(
        select(wallets.c.party_id).where(wallets.c.id == wallet_id)
    ).scalar_one_or_none()
    if party_id is None:
        raise not_found("wallet", "wallet_id")
    holder = next(
        h for h in movement.holders(unit, (party_id,)).values() if h.wallet_id == wallet_id
    )
    movement.require_active(holder, "destination")
    payment_id = new_id("pay")
    transfer = NewTransfer(
        ledger_id(payment_id),
        bank_account(currency),
        holder.account_id,
        amount_minor,
        currency,
        TransferCode.FUNDING,
        metadata=movement.metadata(payment_id),
    )
    movement.require_currency(holder, currency)
    return _Funding(payment_id, holder, amount_minor, currency, transfer)


def _record_funding(
    unit: Unit, f: _Funding, status: PaymentStatus, reference: str | None, ids: list[str]
) -> dict[str, Any]:
    return record(
        unit,
        f.payment_id,
        PaymentKind.FUNDING,
        status,
        None,
        f.holder,
        f.amount_minor,
        f.currency,
        ids,
        reference=movement.optional_text(reference, "reference", limits.REFERENCE_MAX_LENGTH),
    )


def fund(
    unit: Unit,
    caller: Caller,
    wallet_id: str,
    amount_minor: int,
    currency: str,
    reference: str | None,
) -> PaymentView:
    """Operator: credit a wallet with money received in the operator's bank account."""
    f = _plan_funding(unit, caller, wallet_id, amount_minor, currency)

    def to_php(value: int) -> int:  # KYC limits are PHP figures (``services.payments.fx``)
        return fx.php_equivalent(unit, value, f.currency)

    movement.limit_incoming(unit, f.holder, to_php(f.amount_minor), "PHP")
    row = _record_funding(unit, f, PaymentStatus.SUCCEEDED, reference, [f.transfer.id])
    view = payment_view(row)
    emit(unit, "funding.succeeded", view, (f.holder.party_id,))
    applied = movement.book(unit, [f.transfer])
    movement.check_balance(f.holder, applied, f.currency, None if f.currency == "PHP" else to_php)
    return view


def fund_on_cluster(
    platform: Platform,
    caller: Caller,
    wallet_id: str,
    amount_minor: int,
    currency: str,
    reference: str | None,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[PaymentView], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/fundings`` on a TigerBeetle ledger: the two-store order, as a cash-in, with
    one leg (``op.bank.<CUR>`` → the wallet, held then posted) and ``funding.succeeded`` at C.

    A wallet held in another currency (USD, EUR, CNY) is funded on that currency's own
    ledger in the cluster (its ISO 4217 number: USD 840; ``op.bank.USD`` and the wallet are
    both there, and TigerBeetle refuses a transfer between accounts of two ledgers, so the
    currencies never mix). Its KYC figures are PHP ones at the day's mid rate, as on SQL
    (``fx.php_equivalent``); the PHP figure counted against the wallet's month is kept in the
    leg's metadata (``php_minor``, in the legs of its place in the order) so that a funding
    refused later (its reservation over, after a crash) gives back exactly what it counted,
    whatever the rate is by then (``two_store.counted_php``)."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        f = _plan_funding(unit, caller, wallet_id, amount_minor, currency)
        php = fx.php_equivalent(unit, f.amount_minor, f.currency)
        leg = f.transfer
        if f.currency != "PHP":
            leg = replace(leg, metadata={**leg.metadata, two_store.PHP_COUNTED: str(php)})

        def to_php(value: int) -> int:
            return fx.php_equivalent(unit, value, f.currency)

        movement.limit_incoming(unit, f.holder, php, "PHP")
        legs = two_store.judged(unit, [leg])
        two_store.check_balance(ledger, f.holder, f.amount_minor, f.currency, to_php)
        held = [t.id for t in two_store.holds(legs)]
        row = _record_funding(unit, f, PaymentStatus.PENDING, reference, held)
        return two_store.view_of(unit, row, legs), legs

    return two_store.run(platform, scope, key, fingerprint, reserve, render, render_refusal)
