"""Send money to a mobile number (issue 21, item 6): one use case for every face.

``send_to_mobile(unit, caller, MobileSend(mobile, amount_minor))`` is the whole of it, inside
the caller's transaction: the recipient is found by the *registered* mobile number (E.164,
any way it is typed: ``0917 123 4567`` is ``+639171234567``; by the vault's blind index,
never by a stored number). "Registered" is the number on the party's profile
(``parties.phone_index``) or, for a party without one, the number its web sign-in uses
(``logins.phone_index``): both are numbers the person gave Tindahan as theirs; the profile's
wins if the two tables name different parties (each table holds a number once). Then the
domain's rule says whether this sender may send to them (``tindahan.payments.sends``:
customers receive, not to oneself), the KYC tiers' limits are applied on both sides, and
**one ledger transfer** moves the money, main wallet to main wallet (code ``P2P``, no fee),
through ``movement.book`` — so the live risk gate judges it exactly as it judges a payment:
allowed, held for review (the recipient sees the money but cannot spend it; the view says
``under_review``), or blocked (nothing moves).

The send is stored as a payment of kind ``p2p`` (``GET /v1/payments/{id}`` and both parties'
payment lists show it; both wallets' statements show the ledger transfer) and announced as
``mobile_transfer.succeeded`` to both parties, written in the same transaction.

On a TigerBeetle ledger (issue 22) the routes name ``reserve_mobile`` as their part of
transaction A of the two-store order (``two_store.run``): the same checks, the payment
``pending``, the legs booked in the cluster after it, ``mobile_transfer.succeeded`` at C.

Idempotency: ``send_once(platform, caller, key, send)`` runs it once per ``(caller, key)``
(``services.platform.idempotency``, the API's table and rules): a retry with the same key and
the same send answers the first result (or the first refusal) and moves nothing more; the
same key with another send is refused ``idempotency_key_reused``. A face that already runs
its own idempotency (the API, the web's forms) calls ``send_to_mobile`` inside it.

Signature for other faces (the USSD menu of issue 24)::

    view = send_once(platform, caller, key, MobileSend(mobile="09171234567",
                                                       amount_minor=50_000, note="baon"))
    # view["id"], view["short_ref"], view["amount_minor"], view["under_review"], ...
    # refusals: RefusalError with .code, e.g. recipient_not_found, recipient_is_sender,
    # recipient_is_business, limit_exceeded, insufficient_funds, risk_blocked, phone_invalid

``recipient(unit, caller, mobile)`` shows whom a number reaches (masked name) before the
PIN is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict, cast

from sqlalchemy import select

from tindahan import limits
from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, invalid, not_found
from tindahan.ledger.model import NewTransfer
from tindahan.ledger.port import LedgerPort
from tindahan.payments import parties as party_rules
from tindahan.payments import sends as rules
from tindahan.payments.model import PaymentKind, PaymentStatus, TransferCode, WalletKind
from tindahan.services.ledger import movement
from tindahan.services.payments import two_store
from tindahan.services.payments.payments import payer_of, payment_view, record, reviewed
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import idempotency
from tindahan.services.platform.events import emit
from tindahan.services.unit import Platform, Unit, ledger_id, new_id
from tindahan.store.payment_tables import parties
from tindahan.store.web_tables import logins

EVENT = two_store.MOBILE_SEND_EVENT
#: The idempotency keys of ``send_once`` live beside the API's, under their own prefix.
KEY_PREFIX = "send:"


@dataclass(frozen=True)
class MobileSend:
    """A send: to whom (a Philippine mobile number, as typed), how much, and a note."""

    mobile: str
    amount_minor: int
    currency: str = "PHP"
    note: str | None = None
    #: Who sends: a party sends as itself; an operator key must name the sender.
    sender_id: str | None = None


class RecipientView(TypedDict):
    object: str
    mobile: str
    name: str


def _recipient_row(unit: Unit, mobile: str) -> tuple[str, rules.Side, str]:
    try:
        number = party_rules.phone_number(mobile)
    except RefusalError as refusal:  # the rule's param is a party's "phone"; here it is "mobile"
        raise invalid(refusal.code, refusal.message, rules.PARAM) from None
    index = unit.vault.index(number)
    columns = (parties.c.id, parties.c.kind, parties.c.name)
    found = unit.conn.execute(select(*columns).where(parties.c.phone_index == index)).first()
    if found is None:  # no party has it on its profile: the number its sign-in uses
        signs_in = parties.join(logins, logins.c.party_id == parties.c.id)
        found = unit.conn.execute(
            select(*columns).select_from(signs_in).where(logins.c.phone_index == index)
        ).first()
    if found is None:
        raise RefusalError(
            Category.NOT_FOUND,
            "recipient_not_found",
            "no wallet is registered to this mobile number",
            rules.PARAM,
        )
    return number, rules.Side(found[0], found[1]), found[2]


def recipient(
    unit: Unit, caller: Caller, mobile: str, sender_id: str | None = None
) -> RecipientView:
    """Whom ``mobile`` reaches, if this caller may send to it (the same refusals as a send)."""
    caller.require("payments:write")
    sender_party = payer_of(caller, sender_id, "sender_id")
    number, side, name = _recipient_row(unit, mobile)
    sender = _sender_side(unit, sender_party)
    rules.check(sender, side)
    return {"object": "recipient", "mobile": number, "name": rules.masked_name(name)}


def _sender_side(unit: Unit, party_id: str) -> rules.Side:
    kind = unit.conn.execute(select(parties.c.kind).where(parties.c.id == party_id)).scalar()
    if kind is None:
        raise not_found("party", "sender_id")
    return rules.Side(party_id, kind)


@dataclass(frozen=True)
class _Planned:
    """A send checked and ready to book: its id, both wallets and its one transfer."""

    payment_id: str
    source: movement.Holder
    destination: movement.Holder
    amount_minor: int
    currency: str
    transfer: NewTransfer
    note: str | None


def _plan(unit: Unit, caller: Caller, new: MobileSend) -> _Planned:
    """Every check both ledgers share, the running totals raised (in ``unit``'s
    transaction): the recipient, the domain's rule, active wallets, the tiers' limits."""
    caller.require("payments:write")
    amount_minor, currency = movement.amount(new.amount_minor, new.currency)
    sender_party = payer_of(caller, new.sender_id, "sender_id")
    _number, recipient_side, _name = _recipient_row(unit, new.mobile)
    rules.check(_sender_side(unit, sender_party), recipient_side)
    note = movement.optional_text(new.note, "note", limits.DESCRIPTION_MAX_LENGTH)
    found = movement.holders(unit, (sender_party, recipient_side.party_id))
    source = found.get((sender_party, WalletKind.MAIN))
    if source is None:
        raise not_found("party", "sender_id")
    destination = found.get((recipient_side.party_id, WalletKind.MAIN))
    if destination is None:
        raise RefusalError(
            Category.NOT_FOUND,
            "recipient_not_found",
            "no wallet is registered to this mobile number",
            rules.PARAM,
        )
    movement.require_active(source, "sender")
    movement.require_active(destination, "recipient")
    payment_id = new_id("pay")
    transfer = NewTransfer(
        ledger_id(payment_id),
        source.account_id,
        destination.account_id,
        amount_minor,
        currency,
        TransferCode.P2P,
        metadata=movement.metadata(payment_id, channel="mobile"),
    )
    movement.precheck(source, amount_minor, currency)
    movement.precheck(destination, amount_minor, currency)
    movement.limit_outgoing(unit, source, amount_minor, currency)
    movement.limit_incoming(unit, destination, amount_minor, currency)
    return _Planned(payment_id, source, destination, amount_minor, currency, transfer, note)


def _record(unit: Unit, p: _Planned, status: PaymentStatus, ids: list[str]) -> Any:
    """The send's payment row (kind ``p2p``); its view is read once the risk gate judged."""
    return record(
        unit,
        p.payment_id,
        PaymentKind.P2P,
        status,
        p.source,
        p.destination,
        p.amount_minor,
        p.currency,
        ids,
        description=p.note,
    )


def send_to_mobile(unit: Unit, caller: Caller, new: MobileSend) -> PaymentView:
    """Send ``new.amount_minor`` to the wallet registered to ``new.mobile`` (in ``unit``'s
    transaction; the caller commits). Returns the payment (kind ``p2p``)."""
    p = _plan(unit, caller, new)
    row = _record(unit, p, PaymentStatus.SUCCEEDED, [p.transfer.id])
    applied = movement.book(unit, [p.transfer])  # the risk gate judges it here
    movement.check_balance(p.destination, applied, p.currency)
    view = reviewed(unit, [payment_view(row)])[0]
    emit(unit, EVENT, view, (p.source.party_id, p.destination.party_id))
    return view


def reserve_mobile(
    unit: Unit, ledger: LedgerPort, caller: Caller, new: MobileSend
) -> tuple[PaymentView, list[NewTransfer]]:
    """A send's part of transaction A on a TigerBeetle ledger (``two_store.run``): the same
    checks and refusals as ``send_to_mobile``, the receiving wallet's maximum balance read
    from the cluster, the payment ``pending``. C announces it ``mobile_transfer.succeeded``
    (``two_store`` tells it by its leg's ``channel``). A send the risk rules would hold for
    review is held as a payment is there (``two_store.judged``: the review's hold booked with
    the post chain; the view says ``under_review``)."""
    p = _plan(unit, caller, new)
    legs = two_store.judged(unit, [p.transfer])
    two_store.check_balance(ledger, p.destination, p.amount_minor, p.currency)
    row = _record(unit, p, PaymentStatus.PENDING, [t.id for t in two_store.holds(legs)])
    return two_store.view_of(unit, row, legs), legs


def send_once(platform: Platform, caller: Caller, key: str, new: MobileSend) -> PaymentView:
    """``send_to_mobile`` once per ``(caller, key)``, in its own transaction; a refusal is
    raised (the first time and on every retry with that key)."""
    fingerprint = idempotency.request_hash(
        "SEND",
        "mobile_transfer",
        {
            "mobile": new.mobile,
            "amount_minor": new.amount_minor,
            "currency": new.currency,
            "note": new.note,
            "sender_id": new.sender_id,
        },
    )
    response = idempotency.run(
        platform,
        caller.scope,
        KEY_PREFIX + idempotency.check_key(key),
        fingerprint,
        lambda unit: send_to_mobile(unit, caller, new),
        lambda view: idempotency.Response(200, dict(view)),
        _stored_refusal,
    )
    if response.status_code != 200:
        error = response.body["error"]
        raise RefusalError(Category(error["type"]), error["code"], error["message"], error["param"])
    return cast(PaymentView, response.body)


def _stored_refusal(refusal: RefusalError) -> idempotency.Response:
    error = {
        "type": refusal.category.value,
        "code": refusal.code,
        "message": refusal.message,
        "param": refusal.param,
    }
    return idempotency.Response(400, {"error": error})
