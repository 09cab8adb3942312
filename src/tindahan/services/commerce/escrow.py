"""Escrow on the ledger: paying an order, releasing it to the merchant, refunding the buyer.

Decision: a **dedicated escrow account per order** (``ord.<id>.escrow``, PHP, flagged so its
debits never exceed its credits), not a two-phase pending transfer. A pending transfer can
be posted or voided once, but an order's money leaves escrow in parts: partial refunds
before shipping, a dispute split between buyer and merchant, then the release. With an
account per order each of those is an ordinary transfer, the ledger itself refuses to
release more than was paid in, and "what escrow holds for this order" is one balance,
which ``verify`` compares with the order's ``held_minor``. The order row keeps the figures
(``paid_in = held + released + refunded``, a CHECK) so the API never has to ask the ledger.

Each step is one linked batch, booked last in the order's transaction (see
``services.ledger.movement``):
* pay (PHP wallet): buyer → escrow;
* pay (buyer abroad): buyer → ``op.fx.USD`` (USD ledger) and ``op.fx.PHP`` → escrow (PHP
  ledger), at the locked quote (``commerce.fx``);
* release: escrow → merchant settlement (held less the marketplace fee) and escrow →
  ``op.fees.NN`` (the fee, ``commerce.escrow``), then, for a merchant repaying a loan from
  sales, settlement → the loan's reserve (``services.payments.settlement``: an online sale
  repays a loan like any sale);
* refund: escrow → buyer; or for a buyer abroad escrow → ``op.fx.PHP`` and ``op.fx.USD`` →
  buyer, the cumulative-floor share of what they paid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update

from tindahan.commerce import escrow as split_rules
from tindahan.commerce import fx as fx_rules
from tindahan.commerce.orders import Action, OrderStatus, next_status
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import conflict, invalid, refused
from tindahan.ledger.model import AccountCode, AccountFlags, NewAccount, NewTransfer, TransferFlags
from tindahan.payments.model import PartyStatus, TransferCode, WalletKind
from tindahan.services.commerce import catalog, orders, shipments
from tindahan.services.commerce.orders import Actor
from tindahan.services.commerce.views import OrderView
from tindahan.services.ledger import movement
from tindahan.services.ledger.transfers import open_accounts_in_transaction
from tindahan.services.payments import fx, settlement
from tindahan.services.platform import groupcommit
from tindahan.services.platform.chart import CURRENCY, fee_account, fx_account
from tindahan.services.platform.fees import fee_settings
from tindahan.services.unit import Unit, ledger_id, new_id
from tindahan.store.commerce_tables import order_lines

LINKED = TransferFlags.LINKED


@dataclass(frozen=True)
class LineCancel:
    line_no: int
    quantity: int


def _leg(
    tid: str, debit: str, credit: str, amount: int, ledger: str, code: int, order_id: str
) -> NewTransfer:
    return NewTransfer(tid, debit, credit, amount, ledger, code, metadata={"order": order_id})


def _append_ids(order: dict[str, Any], legs: Sequence[NewTransfer]) -> str:
    return movement.encode_ids(movement.decode_ids(order["transfer_ids"]) + [t.id for t in legs])


# --- pay -------------------------------------------------------------------------------------
def payable(
    unit: Unit, caller: Caller, order_id: str
) -> tuple[dict[str, Any], Actor, movement.Holder]:
    """The checks before paying, on either ledger: the order (locked), the buyer's role and
    main wallet (active), the payment window, the shop open."""
    order, actor = orders.acting(unit, caller, order_id)
    next_status(order["status"], Action.PAY, actor.role)
    if order["expires_at_ns"] is not None and unit.now() >= order["expires_at_ns"]:
        raise conflict("order_expired", "the order's payment window has closed", "id")
    buyer = movement.holders(unit, (order["buyer_id"],))[(order["buyer_id"], WalletKind.MAIN)]
    movement.require_active(buyer, "buyer")
    orders.require_open_shop(unit, order["merchant_id"])
    return order, actor, buyer


def escrow_account(order_id: str) -> NewAccount:
    """The order's own escrow account (PHP; its debits never above its credits)."""
    return NewAccount(
        ledger_id(order_id, "escrow"),
        CURRENCY,
        AccountCode.ESCROW,
        order_id,
        AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS,
    )


def pay(unit: Unit, caller: Caller, order_id: str, quote_id: str | None) -> OrderView:
    """The buyer pays the order's total into its escrow account, exactly once."""
    order, actor, buyer = payable(unit, caller, order_id)
    php = order["total_minor"]
    escrow_id = ledger_id(order_id, "escrow")
    if buyer.currency == CURRENCY:
        if quote_id is not None:
            message = "the wallet holds PHP: no FX quote is needed"
            raise invalid("fx_quote_not_needed", message, "quote_id")
        paid, legs = (
            php,
            [
                _leg(
                    ledger_id(order_id, "pay"),
                    buyer.account_id,
                    escrow_id,
                    php,
                    CURRENCY,
                    TransferCode.ESCROW_IN,
                    order_id,
                )
            ],
        )
    else:
        if quote_id is None:
            message = f"the wallet holds {buyer.currency}: ask for an FX quote and pay with it"
            raise invalid("fx_quote_required", message, "quote_id")
        quote = fx.locked_quote(unit, quote_id, order, buyer.currency)
        paid = quote["buyer_minor"]
        legs = movement.linked(
            [
                _leg(
                    ledger_id(order_id, "pay", "fx"),
                    buyer.account_id,
                    fx_account(buyer.currency),
                    paid,
                    buyer.currency,
                    TransferCode.FX_IN,
                    order_id,
                ),
                _leg(
                    ledger_id(order_id, "pay"),
                    fx_account(CURRENCY),
                    escrow_id,
                    php,
                    CURRENCY,
                    TransferCode.ESCROW_IN,
                    order_id,
                ),
            ]
        )
    movement.limit_outgoing(unit, buyer, php, CURRENCY)  # KYC limits count the PHP value
    opened = open_accounts_in_transaction(unit.db, unit.conn, [escrow_account(order_id)])
    assert opened[0].result == "ok", opened
    now = unit.now()
    status = orders.transition(
        unit,
        order,
        Action.PAY,
        actor,
        amount_minor=php,
        escrow_account_id=escrow_id,
        paid_in_minor=php,
        held_minor=php,
        buyer_paid_minor=paid,
        quote_id=quote_id,
        paid_at_ns=now,
        expires_at_ns=None,
        transfer_ids=_append_ids(order, legs),
    )
    movement.book(unit, legs)  # see ``services.ledger.movement``
    # announced after booking: the risk gate has decided whether the money is held, and the
    # order's view and event say so (``under_review``)
    view = orders.announce(unit, order_id, status, actor)
    return view


def pay_locks(order_id: str, quote_id: str | None) -> groupcommit.Locks:
    """What ``pay`` will lock, for its group to lock first and in order
    (``services.platform.groupcommit``): the order's row (and so its buyer's wallets, read
    from it under that lock) and, paying at an FX quote, the PHP side's FX account. The
    order's escrow account is opened by the payment, so there is nothing of it to lock yet;
    the buyer's currency's FX account is locked when reached (README, group commit)."""
    accounts = (fx_account(CURRENCY),) if quote_id is not None else ()
    return groupcommit.Locks(accounts=accounts, orders=(order_id,))


# --- release ---------------------------------------------------------------------------------
def release_legs(
    unit: Unit, order: dict[str, Any], amount_minor: int, base: str | None = None
) -> tuple[list[NewTransfer], split_rules.Release]:
    """Escrow to the merchant's settlement wallet less the marketplace fee, and the fee;
    ``base``: the object the transfer ids are derived from (the order's, or on a TigerBeetle
    ledger the release's own place, ``escrow_cluster``)."""
    merchant = movement.holders(unit, (order["merchant_id"],))[
        (order["merchant_id"], WalletKind.SETTLEMENT)
    ]
    movement.require_active(merchant, "merchant")
    bps = fee_settings(unit)["marketplace_fee_bps"]
    parts = split_rules.release(amount_minor, CURRENCY, bps)
    oid = order["id"]
    base = base or oid
    legs = []
    if parts.merchant_minor:
        legs.append(
            _leg(
                ledger_id(base, "release"),
                order["escrow_account_id"],
                merchant.account_id,
                parts.merchant_minor,
                CURRENCY,
                TransferCode.ESCROW_RELEASE,
                oid,
            )
        )
    if parts.fee_minor:
        legs.append(
            _leg(
                ledger_id(base, "release", "fee"),
                order["escrow_account_id"],
                fee_account(oid),
                parts.fee_minor,
                CURRENCY,
                TransferCode.MARKETPLACE_FEE,
                oid,
            )
        )
    # The merchant's sale lands in its settlement wallet: the one step every sale goes
    # through adds the loan set-aside (``services.payments.settlement``).
    sale = settlement.Sale(
        order["merchant_id"],
        merchant.account_id,
        amount_minor,
        parts.merchant_minor,
        ledger_id(base, "release"),
        order_id=oid,
    )
    return settlement.credit_sale(unit, sale, movement.linked(legs)), parts


def complete(
    unit: Unit,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    note: str | None = None,
    refund: tuple[int, list[NewTransfer]] | None = None,
) -> OrderView:
    """Release everything escrow still holds (after an optional refund part, for a split)."""
    refunded, refund_legs = refund or (0, [])
    held = order["held_minor"] - refunded
    legs, parts = release_legs(unit, order, held) if held else ([], split_rules.Release(0, 0))
    all_legs = movement.linked([*refund_legs, *legs])
    status = orders.transition(
        unit,
        order,
        action,
        actor,
        amount_minor=held,
        note=note,
        held_minor=0,
        released_minor=order["released_minor"] + held,
        fee_minor=order["fee_minor"] + parts.fee_minor,
        refunded_minor=order["refunded_minor"] + refunded,
        buyer_refunded_minor=order["buyer_refunded_minor"] + _buyer_share(order, refunded),
        completed_at_ns=unit.now(),
        release_at_ns=None,
        transfer_ids=_append_ids(order, all_legs),
    )
    view = orders.announce(unit, order["id"], status, actor)
    if all_legs:
        movement.book(unit, all_legs)
    return view


def confirm(unit: Unit, caller: Caller, order_id: str) -> OrderView:
    """The buyer confirms receipt: escrow goes to the merchant now."""
    order, actor = orders.acting(unit, caller, order_id)
    next_status(order["status"], Action.CONFIRM, actor.role)
    return complete(unit, order, Action.CONFIRM, actor)


def auto_release(unit: Unit, *, order_id: str) -> bool:
    order = orders.order_row(unit, order_id, lock=True)
    if order["status"] != OrderStatus.DELIVERED or order["release_at_ns"] > unit.now():
        return False
    complete(unit, order, Action.AUTO_RELEASE, orders.WORKER)
    return True


# --- refunds ---------------------------------------------------------------------------------
def _buyer_share(order: dict[str, Any], refunding: int) -> int:
    if not refunding:
        return 0
    if order["buyer_currency"] == CURRENCY:
        return refunding
    return fx_rules.refund_share(
        order["buyer_paid_minor"], order["paid_in_minor"], order["refunded_minor"], refunding
    )


def refund_legs(unit: Unit, order: dict[str, Any], amount_minor: int) -> list[NewTransfer]:
    """Escrow back to the buyer (through FX liquidity for a buyer abroad), unlinked-ended."""
    found = movement.holders(unit, (order["buyer_id"],))
    buyer = found[(order["buyer_id"], WalletKind.MAIN)]
    if buyer.party_status == PartyStatus.CLOSED:
        raise refused("wallet_closed", "the buyer's wallet is closed", "order_id")
    oid, rid = order["id"], new_id("orf")
    escrow_id = order["escrow_account_id"]
    if buyer.currency == CURRENCY:
        return [
            _leg(
                ledger_id(rid),
                escrow_id,
                buyer.account_id,
                amount_minor,
                CURRENCY,
                TransferCode.ESCROW_REFUND,
                oid,
            )
        ]
    legs = [
        _leg(
            ledger_id(rid),
            escrow_id,
            fx_account(CURRENCY),
            amount_minor,
            CURRENCY,
            TransferCode.ESCROW_REFUND,
            oid,
        )
    ]
    back = _buyer_share(order, amount_minor)
    if back:
        legs.append(
            _leg(
                ledger_id(rid, "fx"),
                fx_account(buyer.currency),
                buyer.account_id,
                back,
                buyer.currency,
                TransferCode.FX_OUT,
                oid,
            )
        )
    return legs


def _refund(
    unit: Unit,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    amount_minor: int,
    note: str | None,
    restock: bool = False,
    **values: Any,
) -> OrderView:
    legs = movement.linked(refund_legs(unit, order, amount_minor))
    if restock:
        orders.restock_unshipped(unit, order["id"])
    status = orders.transition(
        unit,
        order,
        action,
        actor,
        amount_minor=amount_minor,
        note=note,
        held_minor=order["held_minor"] - amount_minor,
        refunded_minor=order["refunded_minor"] + amount_minor,
        buyer_refunded_minor=order["buyer_refunded_minor"] + _buyer_share(order, amount_minor),
        transfer_ids=_append_ids(order, legs),
        **values,
    )
    movement.book(unit, legs)
    return orders.announce(unit, order["id"], status, actor)  # after: ``under_review``


def refund_all(
    unit: Unit, order: dict[str, Any], action: Action, actor: Actor, note: str | None
) -> OrderView:
    """Everything escrow holds back to the buyer (a dispute resolved for the buyer); what
    was never shipped goes back on the shelf."""
    return _refund(unit, order, action, actor, order["held_minor"], note, restock=True)


def refund(
    unit: Unit,
    caller: Caller,
    order_id: str,
    amount_minor: int | None,
    lines: Sequence[LineCancel],
    reason: str | None,
) -> OrderView:
    """The merchant gives money back from escrow: an amount, or lines it will not ship
    (their stock returns, their price is the default amount). All of what is left: the
    order is ``refunded``."""
    order, actor = orders.acting(unit, caller, order_id)
    note = orders.note_text(reason, "reason")
    held = order["held_minor"]
    cancel_value = _cancel_lines(unit, order, lines)
    amount = cancel_value if amount_minor is None else amount_minor
    if amount_minor is not None:
        movement.amount(amount_minor, CURRENCY)
    if not amount:
        raise invalid("parameter_missing", "give amount_minor or lines to refund", "amount_minor")
    action = Action.REFUND_FULL if amount == held else Action.REFUND_PARTIAL
    next_status(order["status"], action, actor.role)
    if amount > held:
        message = f"at most {held} is left in escrow to refund"
        raise invalid("refund_exceeds_escrow", message, "amount_minor")
    view = _refund(unit, order, action, actor, amount, note, restock=action is Action.REFUND_FULL)
    shipped = action is Action.REFUND_PARTIAL and order["status"] == OrderStatus.SHIPPED
    if shipped and shipments.maybe_delivered(unit, order, actor):
        view = orders.order_view(unit, orders.order_row(unit, order_id), actor.role)
    return view


def _cancel_lines(unit: Unit, order: dict[str, Any], lines: Sequence[LineCancel]) -> int:
    """Mark unshipped quantities cancelled and restock them; returns their price."""
    if not lines:
        return 0
    value = lines_value(unit, order, lines)
    cancel_lines(unit, order["id"], lines)
    return value


def lines_value(unit: Unit, order: dict[str, Any], lines: Sequence[LineCancel]) -> int:
    """The lines to cancel checked against what is neither shipped nor cancelled (a line
    named twice counts both), changing nothing; returns their price. On a TigerBeetle
    ledger the refund's A checks them so and its C cancels them (``escrow_cluster``)."""
    current = {line["line_no"]: line for line in orders.lines_of(unit, order["id"])}
    value = 0
    for i, wanted in enumerate(lines):
        line = current.get(wanted.line_no)
        if line is None:
            raise invalid(
                "line_invalid", f"the order has no line {wanted.line_no}", f"lines.{i}.line_no"
            )
        left = line["quantity"] - line["shipped_quantity"] - line["cancelled_quantity"]
        if not 0 < wanted.quantity <= left:
            message = f"line {wanted.line_no} has {left} not shipped or cancelled"
            raise invalid("quantity_invalid", message, f"lines.{i}.quantity")
        line["cancelled_quantity"] += wanted.quantity
        value += line["unit_price_minor"] * wanted.quantity
    return value


def cancel_lines(unit: Unit, order_id: str, lines: Sequence[LineCancel]) -> None:
    """Cancel the lines' quantities (checked by ``lines_value``) and put their stock back."""
    current = {line["line_no"]: line for line in orders.lines_of(unit, order_id)}
    for wanted in lines:
        line = current[wanted.line_no]
        line["cancelled_quantity"] += wanted.quantity
        unit.conn.execute(
            update(order_lines)
            .where(order_lines.c.order_id == order_id)
            .where(order_lines.c.line_no == wanted.line_no)
            .values(cancelled_quantity=line["cancelled_quantity"])
        )
        catalog.return_stock(unit, line["variant_id"], wanted.quantity)


def cancel(unit: Unit, caller: Caller, order_id: str, reason: str | None) -> OrderView:
    """Before shipping: an unpaid order just returns its stock; a paid one also its money."""
    order, actor = orders.acting(unit, caller, order_id)
    note = orders.note_text(reason, "reason")
    next_status(order["status"], Action.CANCEL, actor.role)
    if order["status"] == OrderStatus.PENDING_PAYMENT:
        return cancel_unpaid(unit, order, actor, note)
    return _refund(unit, order, Action.CANCEL, actor, order["held_minor"], note, restock=True)


def cancel_unpaid(unit: Unit, order: dict[str, Any], actor: Actor, note: str | None) -> OrderView:
    """An unpaid order cancelled: its stock back, no money to move (either ledger)."""
    orders.restock_unshipped(unit, order["id"])
    status = orders.transition(unit, order, Action.CANCEL, actor, note=note, expires_at_ns=None)
    return orders.announce(unit, order["id"], status, actor)


# --- quotes ----------------------------------------------------------------------------------
def quote(unit: Unit, caller: Caller, order_id: str, currency: str | None) -> dict[str, Any]:
    """The buyer's FX quote for paying this order from a foreign-currency wallet."""
    order, actor = orders.acting(unit, caller, order_id)
    next_status(order["status"], Action.PAY, actor.role)
    wallet_currency = order["buyer_currency"]
    code = currency or wallet_currency
    fx_rules.supported(code)
    if code != wallet_currency:
        message = f"the buyer's wallet holds {wallet_currency}"
        raise invalid("fx_quote_mismatch", message, "currency")
    return fx.create_quote(unit, order, order["buyer_id"], code)
