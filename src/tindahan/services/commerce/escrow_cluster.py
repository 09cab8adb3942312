"""Orders' escrow on a TigerBeetle ledger (issue 22): paying in, the release, refunds,
disputes' decisions.

On the SQL ledger an order's step and its transfers are one transaction (``escrow``). With
the ledger in a cluster they go through the two-store order (``payments.two_store``) with
their own record (``order``; the place's id is the movement's, kept in ``order_places`` with
who asked for it), and the order's step itself is made **only at C**:

* **A**: the SQL path's checks under the order's row lock (``escrow.payable``; the release's
  status rule; a refund's lines, ``escrow.lines_value``; a dispute's decision,
  ``disputes.decide``), no other movement of the order under way (``orders.acting``,
  ``orders.require_still``: ``409 order_movement_pending``), the legs the SQL path books
  with ids derived from the place (a refused or expired attempt's ids are spent in the
  cluster, so the next attempt needs its own), and for a payment the buyer's day and month
  raised and the escrow account opened in the main database (the cluster's is opened from
  it before the hold). The order is left as it was: the answer while under way is the
  place (``object`` ``order_movement``, ``status`` ``pending``).
* **hold, B, post**: the payments' steps: the first leg held (the buyer's wallet → escrow;
  escrow → the merchant's settlement; escrow → the buyer, a decision's buyer's share
  included), the post chain its post and the rest (the marketplace fee out of escrow; a
  decision's release to the merchant and its fee).
* **C**: the order's transition as the SQL path writes it (``paid`` with its escrow
  figures; ``completed`` with what was released and the fee; a refund's figures, the stock
  back for a cancel, a full refund or a decision for the buyer, the reason kept with the
  place; a refund by lines' lines cancelled and their stock back; a decision's dispute
  resolved, ``dispute.resolved``), read from the legs booked, and its event; the answer is
  the order's view (a decision's: the dispute's, as on SQL).
* **a refusal** (the buyer's wallet too low: ``402 insufficient_funds``; a hold expired
  after a crash: ``402 reservation_expired``): the order untouched, a payment's running
  totals given back, a decision's dispute (still open) counted against its merchant again.

Decisions: the order waits in its state while its money moves (a cancel, a shipment, a
dispute, another decision or another payment in that time is refused ``409
order_movement_pending``; the worker's expiry and automatic release skip it), so C finds
the order A checked.

**A buyer abroad** (a wallet in another currency) pays and is refunded through the FX
liquidity, with the SQL path's legs, held in one linked chain and posted together
(``two_store.held_together``): paying, the buyer's wallet → ``op.fx.<its currency>`` (the
hold, first) and ``op.fx.PHP`` → escrow; a refund, escrow → ``op.fx.PHP`` (the hold) and
``op.fx.<its currency>`` → the buyer, its share of what it paid (``commerce.fx``'s
cumulative floor, worked out in A from the order's figures, which stay still while the
money moves). Each currency is its own ledger in the cluster, so each leg balances on its
own. The quote is checked and its rate fixed in A (``fx.locked_quote``): the figures go
into the legs kept with the place, and the first leg names the quote (``QUOTE``), so
recovery books A's figures even after the quote has expired, and C writes the order's
``buyer_paid_minor`` and ``quote_id`` from the legs booked. The running totals count the
PHP value, as on SQL, and a refusal gives back that figure.

**A refund by lines** is checked in A (the lines against what is neither shipped nor
cancelled, a line named twice counted twice) and its lines are kept with the place
(``order_places.lines``); they are cancelled and their stock returned only at C, with the
refund's figures: until then the stock stays reserved to the order, and a refusal has
nothing to undo (returning the stock in A, as the SQL path's one transaction does, would
let another buyer take it before a refusal had to take it back). **A dispute's decision**
takes the dispute off its merchant's open ones in A (before the risk rules judge its
refund, as on SQL) and resolves it at C; the dispute of an order is found by the order (an
order has one at most).

**A merchant that repays a loan from sales**: the release, and a decision's release (for
the merchant, or a split's rest), carry the set-aside leg the SQL path's
``escrow.release_legs`` adds (``settlement.credit_sale``), last in the post chain: its
figure decided in A from the sale's gross and kept in ``loan_moves``, the loan held by
sales until the movement's C (``two_store`` calls ``lending.set_aside_cluster``'s
``settled`` / ``failed`` for every record, this one's too). C and verify read escrow's
legs only (the set-aside leaves the settlement wallet, not escrow; ``_parts`` counts the
release and the fee by their codes), so the order's and the dispute's figures are those
of a merchant without a loan.
Importing this module registers the ``Record`` (the worker, which runs recovery, imports it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from tindahan.commerce.orders import Action, OrderStatus, Role, next_status
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import RefusalError, invalid
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments.model import TransferCode, WalletKind
from tindahan.services.commerce import disputes, escrow, orders, shipments
from tindahan.services.commerce.orders import Actor
from tindahan.services.ledger import movement
from tindahan.services.ledger.transfers import open_accounts_in_transaction
from tindahan.services.payments import fx, two_store
from tindahan.services.platform.chart import CURRENCY, fx_account
from tindahan.services.unit import Platform, Unit, ledger_id, new_id
from tindahan.store.commerce_tables import disputes as dispute_rows
from tindahan.store.commerce_tables import order_places
from tindahan.store.commerce_tables import orders as orders_table
from tindahan.store.database import Database
from tindahan.store.payment_tables import two_store_payments

#: An order's escrow movement's place in the two-store order (``two_store_payments.record``).
RECORD = "order"
#: What the answer says while the movement is under way (``two_store.run`` finds its place).
PENDING_OBJECT = two_store.ORDER
#: The metadata key naming the FX quote a buyer abroad paid at (its first leg's), for C.
QUOTE = "quote"

View = dict[str, Any]


# -- paying into escrow -------------------------------------------------------------------------


def reserve_pay(
    unit: Unit, caller: Caller, order_id: str, quote_id: str | None
) -> tuple[View, list[NewTransfer]]:
    """The payment's A: the SQL path's checks, the buyer's running totals, the escrow account
    in the main database, the order's place; the order itself left ``pending_payment``."""
    order, actor, buyer = escrow.payable(unit, caller, order_id)
    php = order["total_minor"]
    place_id = new_id("orm")
    account = escrow.escrow_account(order_id)
    if buyer.currency != CURRENCY:
        legs = _abroad_pay_legs(unit, order, buyer, quote_id, place_id, account.id)
    else:
        if quote_id is not None:
            message = "the wallet holds PHP: no FX quote is needed"
            raise invalid("fx_quote_not_needed", message, "quote_id")
        legs = [
            NewTransfer(
                ledger_id(place_id),
                buyer.account_id,
                account.id,
                php,
                CURRENCY,
                TransferCode.ESCROW_IN,
                metadata={"order": order_id},
            )
        ]
    movement.limit_outgoing(unit, buyer, php, CURRENCY)  # KYC limits count the PHP value
    opened = open_accounts_in_transaction(unit.db, unit.conn, [account])
    # "exists": an earlier attempt opened it (then refused by the cluster, or expired)
    assert opened[0].result in ("ok", "exists"), opened
    two_store.require_no_risk_hold(unit, legs)
    return _place(unit, place_id, order, Action.PAY, actor), legs


def _abroad_pay_legs(
    unit: Unit,
    order: dict[str, Any],
    buyer: movement.Holder,
    quote_id: str | None,
    place_id: str,
    escrow_id: str,
) -> list[NewTransfer]:
    """A buyer abroad's payment, the SQL path's two legs at the quote locked in A (its
    checks: ``fx.locked_quote``): the buyer's wallet → the FX liquidity in its currency (on
    that ledger; first: the payer's hold, its metadata naming the quote for C), then the
    PHP liquidity → escrow, held with it (``two_store.held_together``). The figures are the
    quote's, kept in the legs with the place, so recovery books what A decided whatever the
    rate or the quote's expiry does meanwhile."""
    if quote_id is None:
        message = f"the wallet holds {buyer.currency}: ask for an FX quote and pay with it"
        raise invalid("fx_quote_required", message, "quote_id")
    quote = fx.locked_quote(unit, quote_id, order, buyer.currency)
    names = {"order": order["id"]}
    legs = [
        NewTransfer(
            ledger_id(place_id, "fx"),
            buyer.account_id,
            fx_account(buyer.currency),
            quote["buyer_minor"],
            buyer.currency,
            TransferCode.FX_IN,
            metadata={**names, QUOTE: quote_id},
        ),
        NewTransfer(
            ledger_id(place_id),
            fx_account(CURRENCY),
            escrow_id,
            order["total_minor"],
            CURRENCY,
            TransferCode.ESCROW_IN,
            metadata=names,
        ),
    ]
    return two_store.held_together(legs)


# -- the release --------------------------------------------------------------------------------


def reserve_confirm(
    unit: Unit, caller: Caller, order_id: str
) -> tuple[View, list[NewTransfer] | None]:
    """The buyer's confirmation of receipt, its A: escrow is released to the merchant."""
    order, actor = orders.acting(unit, caller, order_id)
    next_status(order["status"], Action.CONFIRM, actor.role)
    return reserve_release(unit, order, Action.CONFIRM, actor)


def reserve_release(
    unit: Unit, order: dict[str, Any], action: Action, actor: Actor
) -> tuple[View, list[NewTransfer] | None]:
    """The release's A (the order locked and its step checked by the caller): the SQL path's
    legs with ids from the place. Nothing left in escrow: the order completes at once, as
    on SQL (no legs, no place: the answer is the order)."""
    held = order["held_minor"]
    if not held:
        return dict(escrow.complete(unit, order, action, actor)), None
    place_id = new_id("orm")
    # a merchant repaying a loan from sales: its set-aside leg last, in the post chain
    # (``lending.set_aside_cluster``: its figure kept from A to C)
    legs, _ = escrow.release_legs(unit, order, held, base=place_id)
    legs = two_store.unlinked(legs)
    two_store.require_no_risk_hold(unit, legs)
    return _place(unit, place_id, order, action, actor), legs


def auto_release(platform: Platform, *, order_id: str) -> bool:
    """The worker's release of a delivered order past its day (``commerce.jobs``) on a
    TigerBeetle ledger: A in one transaction (re-checked under the order's lock; an order
    whose movement is under way is left alone), then the rest of the order at once; a
    crash leaves it to recovery. True when the order completed."""

    def reserve(unit: Unit) -> str | None:
        order = orders.order_row(unit, order_id, lock=True)
        if order["status"] != OrderStatus.DELIVERED or order["release_at_ns"] > unit.now():
            return None
        if orders.moving(unit, order_id):
            return None
        view, legs = reserve_release(unit, order, Action.AUTO_RELEASE, orders.WORKER)
        if legs is None:
            return order_id  # nothing was held: completed in this transaction
        two_store.begin(unit, view["id"], legs, None, None, RECORD)
        return str(view["id"])

    place_id = platform.run(reserve)
    if place_id is None:
        return False
    if place_id != order_id:
        two_store.step("A")
        two_store.advance(platform, place_id)
    done = platform.run(lambda u: orders.order_row(u, order_id)["status"], write=False)
    return bool(done == OrderStatus.COMPLETED)


# -- refunds out of escrow ------------------------------------------------------------------------

#: The refunds' actions whose order step puts back what was not shipped (as on SQL; a
#: dispute decided for the buyer too, ``_resolved``).
_RESTOCKS = (Action.CANCEL, Action.REFUND_FULL, Action.RESOLVE_REFUND)
_REFUNDS = (Action.CANCEL, Action.REFUND_FULL, Action.REFUND_PARTIAL)


def reserve_cancel(
    unit: Unit, caller: Caller, order_id: str, reason: str | None
) -> tuple[View, list[NewTransfer] | None]:
    """``POST /v1/orders/{id}/cancel``'s A: an unpaid order is cancelled at once (no money
    moves: the answer is the order); a paid one gives everything escrow holds back to the
    buyer through the two-store order, its stock back at C."""
    order, actor = orders.acting(unit, caller, order_id)
    note = orders.note_text(reason, "reason")
    next_status(order["status"], Action.CANCEL, actor.role)
    if order["status"] == OrderStatus.PENDING_PAYMENT:
        return dict(escrow.cancel_unpaid(unit, order, actor, note)), None
    return _reserve_refund(unit, order, Action.CANCEL, actor, order["held_minor"], note)


def reserve_refund(
    unit: Unit,
    caller: Caller,
    order_id: str,
    amount_minor: int | None,
    lines: Sequence[escrow.LineCancel],
    reason: str | None,
) -> tuple[View, list[NewTransfer] | None]:
    """``POST /v1/orders/{id}/refunds``'s A: the SQL path's checks in its order (the lines
    against what is neither shipped nor cancelled, the amount, the merchant's step, at most
    what escrow holds), then the refund's place; all of it: ``refunded`` at C. By lines:
    their price is the default amount, and the lines are kept with the place, cancelled and
    their stock returned at C (``escrow.lines_value`` here, ``escrow.cancel_lines`` there),
    so a refusal by the cluster has nothing to undo."""
    order, actor = orders.acting(unit, caller, order_id)
    note = orders.note_text(reason, "reason")
    held = order["held_minor"]
    value = escrow.lines_value(unit, order, lines) if lines else 0
    amount = value if amount_minor is None else amount_minor
    if amount_minor is not None:
        movement.amount(amount_minor, CURRENCY)
    if not amount:
        raise invalid("parameter_missing", "give amount_minor or lines to refund", "amount_minor")
    action = Action.REFUND_FULL if amount == held else Action.REFUND_PARTIAL
    next_status(order["status"], action, actor.role)
    if amount > held:
        message = f"at most {held} is left in escrow to refund"
        raise invalid("refund_exceeds_escrow", message, "amount_minor")
    return _reserve_refund(unit, order, action, actor, amount, note, lines)


def _reserve_refund(
    unit: Unit,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    amount: int,
    note: str | None,
    lines: Sequence[escrow.LineCancel] = (),
) -> tuple[View, list[NewTransfer]]:
    """Escrow → the buyer's wallet (the SQL path's leg: a closed wallet refused), its place."""
    # a buyer abroad: escrow → the PHP liquidity first (escrow pays: the hold), then the
    # buyer's share of what it paid out of its currency's liquidity, held with it
    legs = two_store.held_together(two_store.unlinked(escrow.refund_legs(unit, order, amount)))
    two_store.require_no_risk_hold(unit, legs)
    return _place(unit, new_id("orm"), order, action, actor, note, lines), legs


# -- the disputes' decisions ----------------------------------------------------------------

#: The operator's decisions on a dispute (``disputes.RESOLUTIONS``): their C resolves it.
_RESOLVES = tuple(disputes.RESOLUTIONS.values())


def reserve_resolve(
    unit: Unit,
    caller: Caller,
    dispute_id: str,
    resolution: str,
    refund_minor: int | None,
    note: str | None,
) -> tuple[View, list[NewTransfer] | None]:
    """``POST /v1/disputes/{id}/resolve``'s A (and the console's form): ``disputes.decide``'s
    checks (the dispute taken off its merchant's open ones), the order held still (``409
    order_movement_pending`` while another decision of it is under way), then the legs the
    SQL path books with ids from the place: the buyer's share escrow → the buyer (the hold),
    the rest escrow → the merchant's settlement wallet and the fee (in the post chain), and
    a loan's set-aside from the rest after them (a merchant repaying from sales). The
    dispute stays open and the order ``disputed`` until C resolves both."""
    d = disputes.decide(unit, caller, dispute_id, resolution, refund_minor, note)
    order = d.order
    orders.require_still(unit, order["id"])
    place_id = new_id("orm")
    legs = _decision_legs(unit, order, d.to_buyer, place_id)
    if not legs:  # nothing held (as on SQL: nothing to book): resolved in A
        escrow.complete(unit, order, d.action, d.actor, d.note)
        return disputes.close(unit, d, 0), None
    two_store.require_no_risk_hold(unit, legs)
    return _place(unit, place_id, order, d.action, d.actor, d.note), legs


def _decision_legs(
    unit: Unit, order: dict[str, Any], to_buyer: int, place_id: str
) -> list[NewTransfer]:
    """The buyer's share (``escrow.refund_legs``: a buyer abroad's two legs through the FX
    liquidity held together, as a refund's), then the rest released as the SQL path's
    ``escrow.complete`` does (``escrow.release_legs``, in the post chain: the merchant's
    part, the fee, and a loan's set-aside from the rest if the merchant repays from
    sales), unlinked."""
    legs: list[NewTransfer] = []
    if to_buyer:
        refund = two_store.unlinked(escrow.refund_legs(unit, order, to_buyer))
        legs += two_store.held_together(refund)
    rest = order["held_minor"] - to_buyer
    if rest:
        # a merchant repaying a loan from sales: the set-aside of the rest last, as the
        # release's (``lending.set_aside_cluster``: its figure kept from A to C)
        released, _ = escrow.release_legs(unit, order, rest, base=place_id)
        legs += two_store.unlinked(released)
    return legs


def _resolved(
    unit: Unit,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    note: str | None,
    legs: list[NewTransfer],
    ids: str,
) -> None:
    """A decision's C, as the SQL path's ``disputes.resolve`` writes it, from the legs
    booked: for the buyer, the refund's step (``_refunded``: the stock back,
    ``order.refunded``); else ``escrow.complete``'s (the buyer's share refunded, the rest
    released less the fee, ``order.completed``); then the dispute resolved with those
    figures and ``dispute.resolved``."""
    held = order["held_minor"]
    to_buyer, released = _parts(legs)
    decided = disputes.Decision(
        disputes.of_order(unit, order["id"]), order, action, actor, note, to_buyer
    )
    if action is Action.RESOLVE_REFUND:
        _refunded(unit, order, action, actor, note, legs, ids)
    else:
        fee = sum(t.amount or 0 for t in legs if t.code == TransferCode.MARKETPLACE_FEE)
        back = to_buyer  # a buyer abroad: its currency's leg (none when its share rounds to 0)
        if order["buyer_currency"] != CURRENCY:
            back = sum(t.amount or 0 for t in legs if t.code == TransferCode.FX_OUT)
        status = orders.transition(
            unit,
            order,
            action,
            actor,
            amount_minor=released,
            note=note,
            held_minor=held - to_buyer - released,
            released_minor=order["released_minor"] + released,
            fee_minor=order["fee_minor"] + fee,
            refunded_minor=order["refunded_minor"] + to_buyer,
            buyer_refunded_minor=order["buyer_refunded_minor"] + back,
            completed_at_ns=unit.now(),
            release_at_ns=None,
            transfer_ids=ids,
        )
        orders.announce(unit, order["id"], status, actor)
    disputes.close(unit, decided, held - to_buyer)


def _parts(legs: list[NewTransfer]) -> tuple[int, int]:
    """A decision's legs' figures in PHP: out of escrow to the buyer (the refund leg), and
    to the merchant (the release and the fee)."""
    to_buyer = sum(t.amount or 0 for t in legs if t.code == TransferCode.ESCROW_REFUND)
    codes = (TransferCode.ESCROW_RELEASE, TransferCode.MARKETPLACE_FEE)
    return to_buyer, sum(t.amount or 0 for t in legs if t.code in codes)


# -- the record ---------------------------------------------------------------------------------


def _place(
    unit: Unit,
    place_id: str,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    note: str | None = None,
    lines: Sequence[escrow.LineCancel] = (),
) -> View:
    """The movement's row (who asked for what; a refund's lines to cancel at C), and the
    answer while it is under way."""
    movement.insert_row(
        unit,
        order_places,
        {
            "id": place_id,
            "order_id": order["id"],
            "action": action.value,
            "actor_role": actor.role.value,
            "actor_id": actor.actor_id,
            "created_at_ns": unit.now(),
            "note": note,
            "lines": json.dumps([[x.line_no, x.quantity] for x in lines]) if lines else None,
        },
    )
    return {
        "object": PENDING_OBJECT,
        "id": place_id,
        "status": "pending",
        "order_id": order["id"],
        "action": action.value,
    }


def _row(unit: Unit, place_id: str) -> dict[str, Any]:
    found = unit.conn.execute(select(order_places).where(order_places.c.id == place_id))
    return dict(found.mappings().one())


def _actor(place: dict[str, Any]) -> Actor:
    return Actor(Role(place["actor_role"]), place["actor_id"])


def _view(unit: Unit, place_id: str) -> View:
    """The order's view for whoever asked (the final answer)."""
    place = _row(unit, place_id)
    if Action(place["action"]) in _RESOLVES:  # a decision answers with its dispute
        return disputes.dispute_view(disputes.of_order(unit, place["order_id"]))
    order = orders.order_row(unit, place["order_id"])
    return dict(orders.order_view(unit, order, _actor(place).role))


def _settled(unit: Unit, place_id: str, transfer_ids: list[str]) -> None:
    """C: the order's step as the SQL path writes it, from the legs booked, and its event."""
    place = _row(unit, place_id)
    order = orders.order_row(unit, place["order_id"], lock=True)
    actor, action = _actor(place), Action(place["action"])
    legs = two_store.legs_of(unit, place_id)
    ids = movement.encode_ids(movement.decode_ids(order["transfer_ids"]) + transfer_ids)
    now = unit.now()
    if action in _RESOLVES:
        _resolved(unit, order, action, actor, place["note"], legs, ids)
        return
    if action in _REFUNDS:
        if place["lines"]:  # a refund by lines: cancelled, their stock back, only now
            kept = [escrow.LineCancel(n, q) for n, q in json.loads(place["lines"])]
            escrow.cancel_lines(unit, order["id"], kept)
        _refunded(unit, order, action, actor, place["note"], legs, ids)
        return
    if action is Action.PAY:
        into = _escrow_in(legs)
        php = into.amount or 0
        status = orders.transition(
            unit,
            order,
            action,
            actor,
            amount_minor=php,
            escrow_account_id=into.credit_account_id,
            paid_in_minor=php,
            held_minor=php,
            buyer_paid_minor=legs[0].amount or 0,  # a buyer abroad's: in its currency
            quote_id=legs[0].metadata.get(QUOTE),
            paid_at_ns=now,
            expires_at_ns=None,
            transfer_ids=ids,
        )
    else:
        # escrow's legs (the set-aside is out of the settlement wallet, not escrow)
        out = [t for t in legs if t.debit_account_id == order["escrow_account_id"]]
        released = sum(t.amount or 0 for t in out)
        fee = sum(t.amount or 0 for t in out if t.code == TransferCode.MARKETPLACE_FEE)
        status = orders.transition(
            unit,
            order,
            action,
            actor,
            amount_minor=released,
            held_minor=order["held_minor"] - released,
            released_minor=order["released_minor"] + released,
            fee_minor=order["fee_minor"] + fee,
            completed_at_ns=now,
            release_at_ns=None,
            transfer_ids=ids,
        )
    orders.announce(unit, order["id"], status, actor)


def _refunded(
    unit: Unit,
    order: dict[str, Any],
    action: Action,
    actor: Actor,
    note: str | None,
    legs: list[NewTransfer],
    ids: str,
) -> None:
    """A refund's C, as the SQL path's ``escrow._refund`` and ``escrow.refund`` write it:
    what was not shipped back on the shelf (a cancel, a full refund), the order's figures,
    its event, and a partial refund of a shipped order that leaves nothing to deliver
    makes it delivered."""
    amount = legs[0].amount or 0
    shipped = order["status"] == OrderStatus.SHIPPED
    back = amount  # a buyer abroad: its currency's leg (none when its share rounds to 0)
    if order["buyer_currency"] != CURRENCY:
        back = sum(t.amount or 0 for t in legs[1:] if t.code == TransferCode.FX_OUT)
    if action in _RESTOCKS:
        orders.restock_unshipped(unit, order["id"])
    status = orders.transition(
        unit,
        order,
        action,
        actor,
        amount_minor=amount,
        note=note,
        held_minor=order["held_minor"] - amount,
        refunded_minor=order["refunded_minor"] + amount,
        buyer_refunded_minor=order["buyer_refunded_minor"] + back,
        transfer_ids=ids,
    )
    orders.announce(unit, order["id"], status, actor)
    if action is Action.REFUND_PARTIAL and shipped:
        shipments.maybe_delivered(unit, order, actor)


def _failed(
    unit: Unit, place_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """Refused by the cluster, or its hold gone: the order was left as it was; a payment's
    running totals (the buyer's day and month) are given back, a dispute left open by its
    decision counts against its merchant again."""
    place = _row(unit, place_id)
    if Action(place["action"]) in _RESOLVES:
        disputes.reopened(unit, orders.order_row(unit, place["order_id"]))
        return
    if place["action"] != Action.PAY.value:
        return
    legs = two_store.legs_of(unit, place_id)
    order = orders.order_row(unit, place["order_id"])
    buyer = movement.holders(unit, (order["buyer_id"],))[(order["buyer_id"], WalletKind.MAIN)]
    php = _escrow_in(legs).amount or 0  # what A counted (in PHP, a buyer abroad's too)
    movement.release_outgoing(unit, buyer, php, place["created_at_ns"])


def _escrow_in(legs: list[NewTransfer]) -> NewTransfer:
    """A payment's leg into escrow (its first; a buyer abroad's second, from the PHP
    liquidity): the order's figure in PHP."""
    return next(t for t in legs if t.code == TransferCode.ESCROW_IN)


two_store.RECORDS[RECORD] = two_store.Record(_view, _settled, _failed)


# -- verify -------------------------------------------------------------------------------------


def verify(db: Database, ledger: LedgerPort) -> list[str]:
    """``ledger verify`` on a TigerBeetle deployment, the orders' part (each movement's
    transfers against its legs are ``two_store.verify``'s, as every place's): what each
    order's escrow account holds in the cluster is the order's ``held_minor``, nothing
    pending on it, and every transfer id the order names booked since the switch (its
    places') is in the cluster. An order whose movement is under way is left out. Reads
    only."""

    def read(conn: Any) -> tuple[list[dict[str, Any]], dict[str, list[str]], set[str]]:
        found = conn.execute(
            select(orders_table.c.id, orders_table.c.escrow_account_id, orders_table.c.held_minor)
            .where(orders_table.c.escrow_account_id.is_not(None))
            .order_by(orders_table.c.id)
        )
        places = conn.execute(
            select(
                order_places.c.order_id, two_store_payments.c.state, two_store_payments.c.legs
            ).join(two_store_payments, two_store_payments.c.payment_id == order_places.c.id)
        )
        booked: dict[str, list[str]] = {}
        busy: set[str] = set()
        for order_id, state, legs in places:
            if state in two_store.UNFINISHED:
                busy.add(order_id)
            elif state == "settled":
                done = two_store.decode_legs(legs)
                ids = [t.id for t in [*two_store.holds(done), *two_store.posts(done)]]
                booked.setdefault(order_id, []).extend(ids)
        return [dict(r) for r in found.mappings()], booked, busy

    rows, booked, busy = db.transact(read, write=False)
    rows = [r for r in rows if r["id"] not in busy]
    problems: list[str] = []
    accounts = ledger.lookup_accounts([r["escrow_account_id"] for r in rows])
    for row in rows:
        account = accounts.get(row["escrow_account_id"])
        held = 0 if account is None else account.credits_posted - account.debits_posted
        if held != row["held_minor"]:
            problems.append(
                f"order {row['id']}: escrow holds {held} in the cluster, the order "
                f"{row['held_minor']}"
            )
        if account is not None and (account.debits_pending or account.credits_pending):
            problems.append(f"order {row['id']}: escrow has pending transfers")
    for order_id, ids in booked.items():
        found = ledger.lookup_transfers(ids)
        problems += [f"order {order_id}: {i} is not in the cluster" for i in ids if i not in found]
    named = db.transact(
        lambda conn: {
            r["id"]: movement.decode_ids(r["transfer_ids"])
            for r in conn.execute(
                select(orders_table.c.id, orders_table.c.transfer_ids).where(
                    orders_table.c.id.in_(list(booked))
                )
            ).mappings()
        },
        write=False,
    )
    for order_id, ids in booked.items():
        missing = sorted(set(ids) - set(named.get(order_id, [])))
        problems += [
            f"order {order_id}: {i} is booked but the order does not name it" for i in missing
        ]
    return problems + db.transact(_decisions, write=False)


def _decisions(conn: Any) -> list[str]:
    """Every settled decision's dispute is resolved with what the decision booked: its
    buyer's part the legs' refund to the buyer, the rest the legs to the merchant and the
    fee (each leg against the cluster is ``two_store.verify``'s)."""
    query = (
        select(
            dispute_rows.c.id,
            dispute_rows.c.status,
            dispute_rows.c.refund_minor,
            dispute_rows.c.release_minor,
            two_store_payments.c.legs,
        )
        .join(order_places, order_places.c.order_id == dispute_rows.c.order_id)
        .join(two_store_payments, two_store_payments.c.payment_id == order_places.c.id)
        .where(
            order_places.c.action.in_([a.value for a in _RESOLVES]),
            two_store_payments.c.state == "settled",
        )
    )
    problems = []
    for row in conn.execute(query).mappings():
        to_buyer, rest = _parts(two_store.decode_legs(row["legs"]))
        said = (row["status"], row["refund_minor"], row["release_minor"])
        if said != ("resolved", to_buyer, rest):
            problems.append(
                f"dispute {row['id']}: {said[0]}, {said[1]} to the buyer and {said[2]} to the "
                f"merchant, but its decision booked {to_buyer} and {rest}"
            )
    return problems
