"""Payments, sends, cash-ins and fundings on a TigerBeetle ledger: the two-store order.

With ``TINDAHAN_LEDGER_URL`` set, a payment's legs live in the cluster while its payment
row, idempotency record, running totals and outbox event stay in the main database (a
cash-in or an operator's funding is a payment row of its kind, and goes the same way: ``run``
takes each movement's own part of A, ``Reserve``; the rest of the order is shared). No
transaction spans both, so the writes go in this order (README, "Two stores, one payment"):

1. **A** (database): the same checks as on the SQL ledger (``payments.plan``, the tier
   limits, the live risk rules), the running totals raised, the payment row (``pending``)
   with its idempotency record (answering ``pending``) and its ``two_store_payments`` row
   (``reserving``, the legs to book), and the names behind every number the cluster will
   hold for it (``store.ledger_names``: ids, accounts, metadata). Commit.
2. **holds** (cluster): the legs as *pending* transfers, linked, with a timeout
   (``RESERVATION_TIMEOUT_S``); their ids are the payment's ledger ids, hashed to 128 bits by
   the adapter, so a repeat answers ``exists``.
3. **B** (database): ``reserved``.
4. **posts** (cluster): each hold posted whole, linked; ids ``<leg>.post``.
5. **C** (database): the payment ``succeeded``, ``settled``, its event (``payment.succeeded``;
   ``cash_in.succeeded``, ``funding.succeeded``; a send to a mobile number's
   ``mobile_transfer.succeeded``, told by its leg's channel).
   Then the answer, which replaces the idempotency record's ``pending`` one.

A refusal by the cluster at step 2 (not enough money) or an expired hold at step 4 marks the
payment ``failed`` / ``refused`` and gives back its running totals in one transaction; the
client gets the same error as on the SQL ledger (``insufficient_funds``…). ``recover`` (a
worker round, and any retry with the payment's Idempotency-Key) finishes what a crash left:
it looks up every unfinished payment's derived ids in one batch and goes on from there.

``crash_hook`` lets the tests raise after any step (``STEPS``), as a crash would.

**Records.** The order's place (``two_store_payments``) belongs to a payment row, or to
another movement's own record (a payout, ``services.payouts.cluster``): its ``record``
names which, and ``RECORDS`` what C and a failure write to it, and how it is shown. A
capability above payments registers its ``Record`` when its module is imported (the worker,
which runs recovery, imports every one that books on the cluster).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import select, update

from tindahan.kernel.callers import Caller
from tindahan.kernel.refusals import Category, RefusalError, conflict, refused
from tindahan.ledger.model import (
    CreateTransferResult,
    NewTransfer,
    Transfer,
    TransferFlags,
)
from tindahan.ledger.port import LedgerPort
from tindahan.payments import tiers
from tindahan.payments.model import PaymentKind, PaymentStatus, WalletKind
from tindahan.services.ledger import movement, risk_gate

# Re-exported: the capabilities that book on the cluster name them through this module.
from tindahan.services.ledger.cluster_booking import book_within as book_within
from tindahan.services.ledger.cluster_booking import first_failure as first_failure
from tindahan.services.ledger.cluster_booking import open_accounts as _open_accounts
from tindahan.services.ledger.cluster_booking import unlinked as unlinked
from tindahan.services.ledger.verify import loan_violations_in_cluster
from tindahan.services.lending import set_aside_cluster
from tindahan.services.payments.payments import (
    NewPayment,
    payment_view,
    plan,
    record,
    reviewed,
)
from tindahan.services.payments.views import PaymentView
from tindahan.services.platform import idempotency
from tindahan.services.platform.events import emit
from tindahan.services.risk import holds as risk_holds
from tindahan.services.unit import Platform, Unit
from tindahan.store import ledger_names
from tindahan.store.database import Database
from tindahan.store.payment_tables import idempotency_keys, payments, two_store_payments
from tindahan.store.risk_tables import risk_alerts
from tindahan.tigerbeetle.ids import names_of

R = CreateTransferResult
#: How long the cluster keeps a payment's holds before voiding them by itself.
RESERVATION_TIMEOUT_S = 60
#: Recovery leaves alone what is younger: the request that wrote it is still at work.
RECOVER_AFTER_S = 5
RECOVERY_BATCH = 200
#: The crash points, in order (what ``crash_hook`` is called with after each): "inside A"
#: is before A commits, so a crash there rolls A back.
STEPS = ("inside A", "A", "holds", "B", "posts", "C")
#: A cash-out's: its request stops after B (``held``); its confirmation goes on from A to
#: the posts and C; its cancel (or expiry) from A to the void (``void``) and the failure.
CASH_OUT_STEPS = {
    "request": ("inside A", "A", "holds", "B"),
    "confirm": ("A", "posts", "C"),
    "cancel": ("A", "void"),
}
#: What recovery finishes (``voiding``: a cash-out canceled or expired, its hold being voided).
UNFINISHED = ("reserving", "reserved", "voiding")
#: What may still settle (a ``voiding`` cash-out never does).
_SETTLING = ("reserving", "reserved")
_REFUSAL_PARAMS = {
    "insufficient_funds": "amount_minor",
    "insufficient_float": "amount_minor",
    "cash_out_expired": "id",
}
#: Refusals answered as conflicts (409), as the SQL path answers them; the rest are 402.
_CONFLICTS = ("cash_out_expired",)
#: Kinds whose order stops after B at ``held``, waiting for someone (a cash-out: the agent
#: confirms, ``confirm``, or it is canceled or expires, ``release``; a bank transfer: the
#: clearing house's answer), with the event B writes (None: none). Their request's answer
#: is the ``pending`` one once held.
_WAITS: dict[str, str | None] = {
    PaymentKind.CASH_OUT.value: "cash_out.pending",
    "bank_transfer": None,
    "bank_payout": None,
}
#: Records whose holds never expire in the cluster (``timeout`` 0): a bank transfer's money
#: may leave at the clearing house at any moment after its pacs.008 is sent, however late
#: the answer comes, so only the answer (a rejection voids it) may release it. Recovery
#: never gives such a movement up at its deadline before its hold is booked: it books the
#: hold itself, which fixes that id's fate in the cluster (booked, or failed for ever:
#: ``id_already_failed``), so no late request can hold the money after a refusal.
NEVER_EXPIRE = ("bank_transfer", "bank_payout")
#: A leg's metadata key marking it booked *posted* at the head of the holds' chain (value
#: "1"), not held: a payout to a bank account's settlement → main leg, which funds the
#: transfer's holds from the main wallet in the same linked batch, so the cluster books the
#: payout and holds the transfer all or nothing (``services.payouts.bank_cluster``). Such
#: legs are stored after the others (the first leg stays the hold).
UPFRONT = "with_holds"
#: The event a failure after ``held`` writes (the SQL path's), per kind.
_FAILED_EVENTS = {PaymentKind.CASH_OUT.value: "cash_out.failed"}
#: How a waiting movement ended without settling (``release``): answered with its failed
#: view (200), as the SQL path's cancel is, not as a refusal.
ENDED = ("canceled", "expired", "rejected")
#: What the cluster's "not enough money" for the hold means, per kind of movement (the SQL
#: path's answer for it); a payment or send: ``insufficient_funds``.
_LOW_BALANCE = {
    PaymentKind.CASH_IN.value: ("insufficient_float", "the agent's float is too low"),
    "refund": ("insufficient_funds", "the merchant's settlement wallet is too low"),
}
#: The event C writes to the outbox, per kind (a payment or send: ``payment.succeeded``).
_EVENTS = {
    PaymentKind.CASH_IN.value: "cash_in.succeeded",
    PaymentKind.FUNDING.value: "funding.succeeded",
    PaymentKind.CASH_OUT.value: "cash_out.succeeded",
}
#: The event C writes for a movement whose first leg names its ``channel`` in its metadata,
#: where the kind alone does not tell it (a send to a mobile number is a ``p2p`` payment
#: like any other, announced ``mobile_transfer.succeeded`` as on the SQL path). The legs are
#: stored with the movement's place (``two_store_payments.legs``), so recovery finds the
#: channel without a column of its own; ``services.payments.sends`` uses this name too.
MOBILE_SEND_EVENT = "mobile_transfer.succeeded"
_CHANNEL_EVENTS = {"mobile": MOBILE_SEND_EVENT}
#: A post of a hold fails so only when the hold is gone: voided by its timeout, or by B's guard.
_HOLD_GONE = (
    R.PENDING_TRANSFER_EXPIRED,
    R.PENDING_TRANSFER_ALREADY_VOIDED,
    R.PENDING_TRANSFER_NOT_FOUND,
    R.ID_ALREADY_FAILED,
)


#: What an order's escrow movement answers while under way (``commerce.escrow_cluster``).
ORDER = "order_movement"

#: The first leg's metadata key for the PHP figure a movement in another currency counted
#: against the receiving wallet's running total (a funding of a USD wallet: at A's rate).
PHP_COUNTED = "php_minor"

V = TypeVar("V", bound=Mapping[str, Any])


@dataclass(frozen=True)
class Record:
    """What the order writes to a movement's own record: ``view`` (its API object, for the
    answer), ``settled`` (in C, with the transfer ids booked: its status, its event) and
    ``failed`` (in the failure's transaction, with the refusal, the transfer ids to add and
    the event to write instead of its own: its status, its running totals given back)."""

    view: Callable[[Unit, str], Any]
    settled: Callable[[Unit, str, list[str]], None]
    failed: Callable[[Unit, str, RefusalError, list[str], str | None], None]
    #: In B of a movement that waits (``held``), what its record writes then (a payout to a
    #: bank account: the payout ``succeeded``, its upfront leg being posted by then).
    held: Callable[[Unit, str], None] | None = None
    #: A failure answered with the record's view (200), not as a refusal: a recall whose
    #: send-back the cluster refused is a decided ``rejected`` recall, as on the SQL path.
    failure_answers_view: bool = False


#: Every record kind's ``Record`` (``payment`` below; others registered by their module).
RECORDS: dict[str, Record] = {}


@dataclass(frozen=True)
class Follower:
    """What a record tied to a payment does in the payment's C (``settled``) and in its
    failure's transaction (``failed``), given the payment's row: a payment request announces
    itself paid, or opens again (``services.payments.requests`` registers it on import)."""

    settled: Callable[[Unit, Mapping[str, Any]], None]
    failed: Callable[[Unit, Mapping[str, Any]], None]


#: The followers of every payment's record, called in order.
FOLLOWERS: list[Follower] = []


def _record(name: str) -> Record:
    try:
        return RECORDS[name]
    except KeyError:
        raise RuntimeError(f"no two-store record {name!r} registered (import its module)") from None


def _no_crash(step: str) -> None:
    """Production: nothing happens between the steps."""


#: Called with each step's name once it is done; the crash-point tests make it raise.
crash_hook: Callable[[str], None] = _no_crash


def _step(name: str) -> None:
    crash_hook(name)


def applies(platform: Platform) -> bool:
    """Do payments go through the two-store order here (a TigerBeetle ledger configured)?"""
    return platform.ledger is not None


def _ledger(platform: Platform) -> LedgerPort:
    if platform.ledger is None:
        raise RuntimeError("the two-store payment path needs a TigerBeetle ledger")
    return platform.ledger


# -- the request ------------------------------------------------------------------------


#: A movement's own part of transaction A: its checks and running totals, its payment row
#: (``pending``, its ``transfer_ids`` the hold's), returning the row's view and the legs to
#: book (``unlinked``); ``run`` adds its place in the order. Given the unit and the cluster.
#: No legs: the movement has its place already and A moved it on (a cash-out's confirmation
#: or cancel, ``confirm``/``release``).
Reserve = Callable[[Unit, LedgerPort], tuple[V, list[NewTransfer] | None]]


def pay(
    platform: Platform,
    caller: Caller,
    new: NewPayment,
    scope: str,
    key: str,
    fingerprint: str,
    render: Callable[[PaymentView], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """``POST /v1/payments`` on a TigerBeetle ledger (``run`` with the payment's A)."""

    def reserve(unit: Unit, ledger: LedgerPort) -> tuple[PaymentView, list[NewTransfer]]:
        return reserve_payment(unit, ledger, caller, new)

    return run(platform, scope, key, fingerprint, reserve, render, render_refusal)


def run(
    platform: Platform,
    scope: str,
    key: str,
    fingerprint: str,
    reserve: Reserve[V],
    render: Callable[[V], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
    record: str = "payment",
) -> idempotency.Response:
    """A movement through the two-store order: A (``reserve`` and the movement's place in
    the order) under the Idempotency-Key, then the rest; a retry of an unfinished one
    finishes it first. Merchant payments, P2P sends, cash-ins, fundings and payouts share it
    (``record``: whose record the view is, ``RECORDS``)."""
    ledger = _ledger(platform)

    def work(unit: Unit) -> V:
        view, legs = reserve(unit, ledger)
        if legs is not None:
            begin(unit, view["id"], legs, scope, key, record)
        return view

    first = idempotency.run(platform, scope, key, fingerprint, work, render, render_refusal)
    payment_id = _payment_of(first)
    if payment_id is None:  # refused in A (or its replay): nothing reached the cluster
        return first
    if not first.replayed:
        _step("A")
    advance(platform, payment_id)
    return _answer(platform, payment_id, scope, key, render, render_refusal, first.replayed)


def _payment_of(response: idempotency.Response) -> str | None:
    body = response.body
    if (
        body.get("object")
        in (
            "payment",
            "payout",
            "bank_transfer",
            "loan",
            "refund",
            "loan_repayment",
            ORDER,
            "inbound_recall",
        )
        and body.get("status") == "pending"
    ):
        return str(body["id"])
    return None


def reserve_payment(
    unit: Unit, ledger: LedgerPort, caller: Caller, new: NewPayment, request_id: str | None = None
) -> tuple[PaymentView, list[NewTransfer]]:
    """A merchant payment's or P2P send's part of A (``request_id``: the payment request it
    pays, recorded on the row as the SQL path records it). Raises the same refusals as the
    SQL path for everything decided here."""
    p = plan(unit, caller, new)
    movement.limit_outgoing(unit, p.source, p.amount_minor, p.currency)
    movement.limit_incoming(unit, p.destination, p.amount_minor, p.currency)
    # a loan set-aside leg (``plan`` through ``settlement.credit_sale``) rides the post
    # chain; its figure waits in ``loan_moves`` for C (``lending.set_aside_cluster``)
    legs = judged(unit, p.transfers)
    check_balance(ledger, p.destination, p.amount_minor, p.currency)
    row = record(
        unit,
        p.payment_id,
        p.kind,
        PaymentStatus.PENDING,
        p.source,
        p.destination,
        p.amount_minor,
        p.currency,
        [t.id for t in holds(legs)],
        fee_minor=p.fee_minor,
        request_id=request_id,
        reference=p.reference,
        description=p.description,
    )
    return view_of(unit, row, legs), legs


def view_of(unit: Unit, row: Any, legs: Sequence[NewTransfer] | None = None) -> PaymentView:
    """A payment's (send's, cash-in's, funding's) view on the cluster. Its ``under_review``
    needs the open alerts read (``payments.reviewed``, as on SQL) only for a movement the
    risk rules held: in A, one whose ``legs`` carry the review's hold (``REVIEW_HOLD``); once
    booked, one whose ``transfer_ids`` name that hold (C records every leg's id, the hold's
    among them; a failed one never names it). Every other payment is ``under_review`` False
    with no read: the hold's id is the only way its money can be held, so the look-up —
    three a payment, in A, C's event and the answer — would find nothing (the profile in
    the README). A held one is read, so an analyst's release or return shows at once."""
    view = payment_view(row)
    if legs is not None:
        return {**view, "under_review": any(REVIEW_HOLD in t.metadata for t in legs)}
    ids = view["transfer_ids"]
    if ids and risk_gate.hold_id(ids[0]) in ids:
        return reviewed(unit, [view])[0]
    return {**view, "under_review": False}


def judged(unit: Unit, transfers: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The live risk rules, as the SQL path's ``movement.book`` runs them (they may refuse,
    and store their alerts): the legs to book, unlinked, with the review's hold leg when they
    hold the movement for review (the receiver's wallet → ``op.risk.holds``, pending, no
    timeout, metadata ``REVIEW_HOLD``; its alert names it). The order books that leg in the
    post chain after the credit it holds (``_rest``), so the money lands held or not at all;
    the analyst's release voids it and a return posts it (``services.risk.holds``). For the
    movements whose record is a payment row (payments, sends, cash-ins, fundings) their
    views say ``under_review`` (``view_of``); a refund's reads its alerts as on SQL
    (``refunds.reviewed``); any failure closes the alert (``_close_reviews``)."""
    return unlinked(risk_gate.judge(unit, transfers))


def require_no_risk_hold(unit: Unit, transfers: Sequence[NewTransfer]) -> None:
    """The live risk rules, as the SQL path's ``movement.book`` runs them (they may refuse);
    a movement they would put on hold is refused: for the movements with their own records
    (orders' escrow), a risk hold is not on the cluster yet (``judged`` holds the payments',
    the refunds' and the loans' disbursements)."""
    judged = risk_gate.judge(unit, transfers)
    if len(judged) != len(transfers):
        raise conflict(
            "ledger_not_supported",
            "a risk hold on a payment is not supported on the TigerBeetle ledger yet",
        )


def begin(
    unit: Unit,
    payment_id: str,
    legs: Sequence[NewTransfer],
    scope: str | None,
    key: str | None,
    record: str = "payment",
) -> None:
    """The movement's place in the order (``reserving``, the legs to book, the key), in A.
    No key: a movement no request waits for (the daily payout); recovery finishes it."""
    now = unit.now()
    movement.insert_row(
        unit,
        two_store_payments,
        {
            "payment_id": payment_id,
            "state": "reserving",
            "record": record,
            "legs": encode_legs(legs),
            "scope": scope,
            "idem_key": key,
            "refusal_code": None,
            "refusal_message": None,
            "deadline_ns": now + RESERVATION_TIMEOUT_S * 10**9,
            "created_at_ns": now,
            "updated_at_ns": now,
        },
    )
    # the names behind the cluster's numbers, before any of them can be seen there
    ledger_names.record(unit.conn, names_of([*holds(legs), *posts(legs), *voids(legs)]))
    _step("inside A")


def check_balance(
    ledger: LedgerPort,
    holder: movement.Holder,
    amount: int,
    code: str,
    to_php: Callable[[int], int] | None = None,
) -> None:
    """The receiving main wallet's maximum balance, read from the cluster before booking
    (holds included); a wallet in another currency is counted in PHP by ``to_php`` (tier
    limits are PHP figures), as ``movement.check_balance`` does. Two payments racing to one
    wallet could pass it together: the SQL ledger checks it on the booked balance, under its
    row lock."""
    if holder.kind != WalletKind.MAIN:
        return
    account = ledger.lookup_accounts([holder.account_id]).get(holder.account_id)
    now = (
        0
        if account is None
        else account.credits_posted + account.credits_pending - account.debits_posted
    )
    balance = now + amount
    if to_php is not None:
        balance, code = to_php(balance), "PHP"
    tiers.check_balance(holder.tier, balance, code)


def debit_figures(unit: Unit, ledger: LedgerPort, account_id: str) -> tuple[int, int]:
    """An account's posted balance (credits − debits) and pending debits in the cluster, the
    pending ones with the holds on it whose movement's A committed but which may not be
    booked yet (places still ``reserving``, read in the caller's transaction): so a payout
    whose A waited on another's lock of the same wallet sees the first before its hold
    reaches the cluster. A hold booked but not yet past B counts twice for that moment: the
    figure may err low, never high."""
    account = ledger.lookup_accounts([account_id]).get(account_id)
    posted = 0 if account is None else account.credits_posted - account.debits_posted
    pending = 0 if account is None else account.debits_pending
    found = unit.conn.execute(
        select(two_store_payments.c.legs).where(
            two_store_payments.c.state == "reserving",
            two_store_payments.c.legs.contains(account_id, autoescape=True),
        )
    )
    for (legs,) in found:
        decoded = decode_legs(legs)
        for leg in [decoded[0], *upfront(decoded)]:
            if leg.debit_account_id == account_id:
                pending += leg.amount or 0
    return posted, pending


# -- the legs -----------------------------------------------------------------------------


def upfront(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The legs booked posted at the head of the holds' chain (``UPFRONT``)."""
    return [t for t in legs if t.metadata.get(UPFRONT)]


def _own(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    return [t for t in legs if not t.metadata.get(UPFRONT)]


#: The metadata key of a review's hold (``risk_gate``: the receiver's money held for an
#: analyst, a pending transfer with no timeout). Such a leg is not one of the order's holds:
#: it needs the credit it holds posted first (a pending credit cannot fund a pending debit),
#: so it is booked *in the post chain*, still pending, after the credit's post; the analyst's
#: release voids it and a return posts it (``services.risk.holds``).
REVIEW_HOLD = "risk_hold"


def _order_holds(t: NewTransfer) -> bool:
    return bool(t.flags & TransferFlags.PENDING) and REVIEW_HOLD not in t.metadata


def _held(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The legs held: the first, and any other the movement flags ``PENDING`` itself (a bank
    transfer's fee, which needs the payer's money too; not a review's hold)."""
    own = _own(legs)
    return [own[0], *(t for t in own[1:] if _order_holds(t))]


def _rest(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The legs booked with the post chain, as they are (a review's hold stays pending)."""
    return [t for t in _own(legs)[1:] if not _order_holds(t)]


def held_together(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """A conversion's legs (``unlinked``; the payer's first) with every leg after the first
    flagged ``PENDING``: the order then holds them in one linked chain with the first and
    posts (or voids) them together, so money crossing currencies moves on both ledgers or
    on neither (an order paid from or refunded to a wallet in another currency, a recalled
    credit from abroad sent back: the two legs through the FX liquidity)."""
    first, *rest = legs
    return [first, *(replace(t, flags=t.flags | TransferFlags.PENDING) for t in rest)]


def holds(legs: Sequence[NewTransfer], *, expires: bool = True) -> list[NewTransfer]:
    """The reservation: the payer's leg (the first) as a pending transfer with the timeout
    (``expires`` False: none, ``NEVER_EXPIRE``), linked with any other held leg. Only the
    payer's legs need the payer's money; the legs after it (the merchant discount out of the
    settlement wallet) are booked with the post, in its chain, once the credit they spend is
    posted — a pending credit cannot fund a debit in TigerBeetle (nor on the SQL ledger).
    The ``UPFRONT`` legs come first, posted (no timeout), in the same chain: what funds the
    holds (a payout to a bank account's settlement → main)."""
    timeout = (legs[0].timeout_seconds or RESERVATION_TIMEOUT_S) if expires else 0
    held = _held(legs)
    first = [replace(t, flags=TransferFlags(0), timeout_seconds=0) for t in upfront(legs)]
    return movement.linked(
        [*first, *(replace(t, flags=TransferFlags.PENDING, timeout_seconds=timeout) for t in held)]
    )


def posts(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """Each hold posted whole (``<leg>.post``), then the other legs, as one linked chain."""
    done = [
        NewTransfer(f"{t.id}.post", flags=TransferFlags.POST_PENDING, pending_id=t.id)
        for t in _held(legs)
    ]
    return movement.linked([*done, *_rest(legs)])


def voids(legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """Each hold voided (``<leg>.void``), linked."""
    return movement.linked(
        [
            NewTransfer(f"{t.id}.void", flags=TransferFlags.VOID_PENDING, pending_id=t.id)
            for t in _held(legs)
        ]
    )


def counted_php(legs: Sequence[NewTransfer], amount: int) -> int:
    """What A counted against the running totals: the amount, or for a movement in another
    currency the PHP figure it kept (``PHP_COUNTED``), so a failure gives back exactly that
    whatever today's rate is."""
    kept = legs[0].metadata.get(PHP_COUNTED) if legs else None
    return amount if kept is None else int(kept)


def encode_legs(legs: Sequence[NewTransfer]) -> str:
    return json.dumps(
        [
            {
                "id": t.id,
                "debit": t.debit_account_id,
                "credit": t.credit_account_id,
                "amount": t.amount,
                "ledger": t.ledger,
                "code": t.code,
                "flags": int(t.flags),
                "timeout": t.timeout_seconds,
                "metadata": dict(t.metadata),
            }
            for t in legs
        ]
    )


def decode_legs(text: str) -> list[NewTransfer]:
    return [
        NewTransfer(
            leg["id"],
            leg["debit"],
            leg["credit"],
            leg["amount"],
            leg["ledger"],
            leg["code"],
            TransferFlags(leg["flags"]),
            timeout_seconds=leg["timeout"],
            metadata=leg["metadata"],
        )
        for leg in json.loads(text)
    ]


# -- the order after A ----------------------------------------------------------------------


def advance(platform: Platform, payment_id: str, known: dict[str, Transfer] | None = None) -> None:
    """Take an unfinished payment through the rest of the order. ``known``: what recovery's
    look-up found of its derived ids (None: nothing looked up, book and see)."""
    ledger = _ledger(platform)
    row = platform.run(lambda unit: _place(unit, payment_id), write=False)
    if row is None or row["state"] not in UNFINISHED:
        return
    legs = decode_legs(row["legs"])
    if row["state"] == "voiding":
        _void(platform, ledger, payment_id, legs, row["refusal_code"])
        return
    posted = posts(legs)
    if known is not None and all(t.id in known for t in posted):
        _settle(platform, payment_id, legs)  # posted before a crash: only C is missing
        _step("C")
        return
    expires = row["record"] not in NEVER_EXPIRE
    held = holds(legs, expires=expires)
    booked = known is not None and all(t.id in known for t in held)
    if row["state"] == "reserving" and not booked:
        if expires and known is not None and platform.now() > row["deadline_ns"]:
            # nothing reached the cluster, and the reservation's time is over: give up
            _refuse(platform, payment_id, _expired())
            return
        _open_accounts(platform, ledger, legs)
        failure = first_failure(ledger.create_transfers(held))
        if failure is not None:
            _refuse(platform, payment_id, _refusal_for(failure.result, row["kind"]))
            return
        _step("holds")
    if row["state"] == "reserving":
        waits = row["kind"] in _WAITS
        event = _WAITS.get(row["kind"])
        if not _mark(platform, payment_id, "held" if waits else "reserved", event):
            # refused meanwhile (recovery at its deadline): release the holds; moved on by
            # another request or round that booked the same holds: it finishes the order
            if state_of_place(platform, payment_id) == "refused":
                ledger.create_transfers(voids(legs))
            return
        _step("B")
        if waits:
            return  # held: the rest waits for the agent (``confirm``) or ``release``
    failure = first_failure(ledger.create_transfers(posted))
    if failure is not None:
        if failure.index != 0 or failure.result not in _HOLD_GONE:
            raise RuntimeError(f"the TigerBeetle ledger refused {failure.id}: {failure.result}")
        # the hold expired (or was voided)
        late = _late(row["kind"])
        _refuse(platform, payment_id, late, _FAILED_EVENTS.get(row["kind"]))
        return
    _step("posts")
    _settle(platform, payment_id, legs)
    _step("C")


def _refusal_for(result: CreateTransferResult, kind: str) -> RefusalError:
    if result == R.EXCEEDS_CREDITS:
        code, message = _LOW_BALANCE.get(
            kind, ("insufficient_funds", "the paying wallet's balance is too low")
        )
        return refused(code, message, "amount_minor")
    if result == R.ID_ALREADY_FAILED:  # an earlier attempt was refused; its reason is lost
        return refused("ledger_refused", "the ledger refused this payment")
    raise RuntimeError(f"the TigerBeetle ledger refused a payment's legs: {result}")


def _expired() -> RefusalError:
    return refused("reservation_expired", "the payment did not complete in time; no money moved")


def _late(kind: str) -> RefusalError:
    """A post refused because the hold is gone: a cash-out's, as the SQL path's confirm says."""
    if kind == PaymentKind.CASH_OUT:
        return conflict("cash_out_expired", "the cash-out's hold has expired", "id")
    return _expired()


def state_of_place(platform: Platform, payment_id: str) -> str | None:
    place = platform.run(lambda unit: _place(unit, payment_id), write=False)
    return None if place is None else str(place["state"])


def place_of(unit: Unit, payment_id: str) -> dict[str, Any] | None:
    """The movement's place in the order (its ``state``, ``created_at_ns``…), or None."""
    return _place(unit, payment_id)


def _place(unit: Unit, payment_id: str) -> dict[str, Any] | None:
    """The movement's place in the order, with its kind (a payment's kind, else its record's
    name: ``payout``)."""
    row = (
        unit.conn.execute(
            select(two_store_payments, payments.c.kind)
            .outerjoin(payments, payments.c.id == two_store_payments.c.payment_id)
            .where(two_store_payments.c.payment_id == payment_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    place = dict(row)
    place["kind"] = place["kind"] or place["record"]
    return place


def _mark(platform: Platform, payment_id: str, state: str, event: str | None = None) -> bool:
    """Transaction B: ``reserving`` → ``reserved`` (or ``held``, writing ``event``); False if
    the payment left ``reserving``."""

    def work(unit: Unit) -> bool:
        done = unit.conn.execute(
            update(two_store_payments)
            .where(
                two_store_payments.c.payment_id == payment_id,
                two_store_payments.c.state == "reserving",
            )
            .values(state=state, updated_at_ns=unit.now())
        )
        if done.rowcount and event is not None:
            _announce(unit, payment_id, event)
        if done.rowcount and state == "held":
            on_hold = _record(_record_of(unit, payment_id)).held
            if on_hold is not None:
                on_hold(unit, payment_id)
        return bool(done.rowcount)

    return platform.run(work)


def _settle(platform: Platform, payment_id: str, legs: Sequence[NewTransfer]) -> None:
    """Transaction C: the payment succeeded, its event in the outbox (once: the state moves
    from unfinished to ``settled`` in the same statement that decides it)."""

    def work(unit: Unit) -> None:
        now = unit.now()
        done = unit.conn.execute(
            update(two_store_payments)
            .where(
                two_store_payments.c.payment_id == payment_id,
                two_store_payments.c.state.in_(_SETTLING),
            )
            .values(state="settled", updated_at_ns=now)
        )
        if not done.rowcount:
            return
        ids = [t.id for t in holds(legs)] + [t.id for t in posts(legs)]
        _record(_record_of(unit, payment_id)).settled(unit, payment_id, ids)
        set_aside_cluster.settled(unit, legs)  # a sale's loan set-aside, if it has one

    platform.run(work)


def _record_of(unit: Unit, payment_id: str) -> str:
    found = unit.conn.execute(
        select(two_store_payments.c.record).where(two_store_payments.c.payment_id == payment_id)
    ).scalar_one()
    return str(found)


def _payment_settled(unit: Unit, payment_id: str, ids: list[str]) -> None:
    """A payment's C: ``succeeded`` with every id booked, its kind's event."""
    unit.conn.execute(
        update(payments)
        .where(payments.c.id == payment_id)
        .values(
            status=PaymentStatus.SUCCEEDED.value,
            transfer_ids=movement.encode_ids(ids),
            updated_at_ns=unit.now(),
        )
    )
    _announce(unit, payment_id)
    row = unit.conn.execute(select(payments).where(payments.c.id == payment_id)).mappings()
    payment = row.one()
    for follower in FOLLOWERS:
        follower.settled(unit, dict(payment))


def _announce(unit: Unit, payment_id: str, event: str | None = None) -> None:
    """The payment's event (by default its kind's at C) to its payer and payee."""
    row = unit.conn.execute(select(payments).where(payments.c.id == payment_id)).mappings()
    payment = row.one()
    view = view_of(unit, payment)
    event = event or _event_at_c(unit, payment["kind"], payment_id)
    emit(unit, event, view, [p for p in (view["payer_id"], view["payee_id"]) if p])


def _event_at_c(unit: Unit, kind: str, payment_id: str) -> str:
    """A payment's event at C: its kind's, else its channel's (``_CHANNEL_EVENTS``), else
    ``payment.succeeded``."""
    if kind in _EVENTS:
        return _EVENTS[kind]
    legs = legs_of(unit, payment_id)
    channel = legs[0].metadata.get("channel") if legs else None
    return _CHANNEL_EVENTS.get(str(channel), "payment.succeeded")


def _refuse(
    platform: Platform,
    payment_id: str,
    refusal: RefusalError,
    event: str | None = None,
    more_ids: Sequence[str] = (),
) -> None:
    """The payment failed: ``refused`` with the reason, its running totals given back, one
    transaction (nothing moved in the cluster, or its holds were voided by their timeout or
    by ``_void``, whose id is in ``more_ids``); ``event`` when its pending was announced."""

    def work(unit: Unit) -> None:
        now = unit.now()
        done = unit.conn.execute(
            update(two_store_payments)
            .where(
                two_store_payments.c.payment_id == payment_id,
                two_store_payments.c.state.in_(UNFINISHED),
            )
            .values(
                state="refused",
                refusal_code=refusal.code,
                refusal_message=refusal.message[:200],
                updated_at_ns=now,
            )
        )
        if not done.rowcount:
            return
        record = _record(_record_of(unit, payment_id))
        record.failed(unit, payment_id, refusal, list(more_ids), event)
        _close_reviews(unit, payment_id)
        set_aside_cluster.failed(unit, legs_of(unit, payment_id))

    platform.run(work)


def _close_reviews(unit: Unit, payment_id: str) -> None:
    """A review's alert stored in A holds nothing once its movement failed (its hold is a
    leg of the post chain, never booked): closed, with no hold to release or return, as a
    refused movement's kept alert is."""
    review = [t.id for t in legs_of(unit, payment_id) if REVIEW_HOLD in t.metadata]
    if review:
        unit.conn.execute(
            update(risk_alerts)
            .where(risk_alerts.c.hold_id.in_(review), risk_alerts.c.status == "open")
            .values(status="closed", hold_id=None, decided_at_ns=unit.now())
        )


def _payment_failed(
    unit: Unit, payment_id: str, refusal: RefusalError, more_ids: list[str], event: str | None
) -> None:
    """A payment's failure: ``failed`` (the void's id added), its running totals given back,
    ``event`` when its pending was announced."""
    row = unit.conn.execute(select(payments).where(payments.c.id == payment_id)).mappings()
    payment = row.one()
    ids = movement.decode_ids(payment["transfer_ids"]) + more_ids
    unit.conn.execute(
        update(payments)
        .where(payments.c.id == payment_id)
        .values(
            status=PaymentStatus.FAILED.value,
            transfer_ids=movement.encode_ids(ids),
            updated_at_ns=unit.now(),
        )
    )
    source = movement.holder_of(unit, payment["source_wallet_id"])
    destination = movement.holder_of(unit, payment["destination_wallet_id"])
    amount, created = payment["amount_minor"], payment["created_at_ns"]
    if source is not None:
        movement.release_outgoing(unit, source, amount, created)
    if destination is not None:
        counted = counted_php(legs_of(unit, payment_id), amount)
        movement.release_incoming(unit, destination, counted, created)
    if event is not None:
        _announce(unit, payment_id, event)
    for follower in FOLLOWERS:
        follower.failed(unit, dict(payment))


def _payment_view(unit: Unit, payment_id: str) -> PaymentView:
    row = unit.conn.execute(select(payments).where(payments.c.id == payment_id))
    return view_of(unit, row.mappings().one())


RECORDS["payment"] = Record(_payment_view, _payment_settled, _payment_failed)


# -- a movement that waits (a cash-out) --------------------------------------------------------


def confirm(unit: Unit, payment_id: str, legs: Sequence[NewTransfer]) -> bool:
    """In the confirmation's A: ``held`` → ``reserved`` with the legs to post (the hold's
    and what the confirmation adds, the commission); False if it was not ``held``."""
    done = unit.conn.execute(
        update(two_store_payments)
        .where(
            two_store_payments.c.payment_id == payment_id,
            two_store_payments.c.state == "held",
        )
        .values(state="reserved", legs=encode_legs(legs), updated_at_ns=unit.now())
    )
    if done.rowcount:  # the names of what the confirmation adds (the commission leg)
        ledger_names.record(unit.conn, names_of(posts(legs)))
    return bool(done.rowcount)


def release(unit: Unit, payment_id: str, reason: str) -> bool:
    """In a cancel's (or the expiry sweep's) A: ``held`` → ``voiding``, ``reason`` one of
    ``ENDED``; False if it was not ``held``. ``advance`` then voids the hold."""
    done = unit.conn.execute(
        update(two_store_payments)
        .where(
            two_store_payments.c.payment_id == payment_id,
            two_store_payments.c.state == "held",
        )
        .values(state="voiding", refusal_code=reason, updated_at_ns=unit.now())
    )
    return bool(done.rowcount)


def legs_of(unit: Unit, payment_id: str) -> list[NewTransfer]:
    place = _place(unit, payment_id)
    return [] if place is None else decode_legs(place["legs"])


def state_of(unit: Unit, payment_id: str) -> str | None:
    place = _place(unit, payment_id)
    return None if place is None else str(place["state"])


def _void(
    platform: Platform,
    ledger: LedgerPort,
    payment_id: str,
    legs: Sequence[NewTransfer],
    reason: str,
) -> None:
    """A ``voiding`` movement: its hold voided (``<hold>.void``; a repeat answers ``exists``,
    a hold already gone by its timeout is fine), then failed with ``reason``, its totals back
    and its failure announced."""
    outcomes = ledger.create_transfers(voids(legs))
    failure = first_failure(outcomes)
    if failure is not None and failure.result not in _HOLD_GONE:
        raise RuntimeError(f"the TigerBeetle ledger refused {failure.id}: {failure.result}")
    _step("void")
    kind = platform.run(lambda unit: _place(unit, payment_id), write=False)
    ended = RefusalError(Category.REFUSED, reason, f"it was {reason}")
    more = [o.id for o in outcomes] if failure is None else []
    _refuse(platform, payment_id, ended, _FAILED_EVENTS.get(kind["kind"] if kind else ""), more)


def step(name: str) -> None:
    """A step of the order done outside this module (a rail's answer committed)."""
    _step(name)


# -- the answer -------------------------------------------------------------------------------


def _answer(
    platform: Platform,
    payment_id: str,
    scope: str,
    key: str,
    render: Callable[[V], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
    replayed: bool,
) -> idempotency.Response:
    """The final answer once the payment is settled or refused (stored under the key in place
    of the ``pending`` one, so every retry gets it); ``pending`` while it is unfinished."""

    def work(unit: Unit) -> idempotency.Response:
        place = _place(unit, payment_id)
        stored = (
            unit.conn.execute(
                select(idempotency_keys).where(
                    idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
                )
            )
            .mappings()
            .one()
        )
        body = json.loads(stored["response_body"])
        if place is not None and _changed_at_hold(place, body, scope, key):
            response = render(_record(place["record"]).view(unit, payment_id))
        elif (
            place is None
            or place["state"] in (*UNFINISHED, "held")
            or body.get("status") != "pending"
            or _answered_at_hold(place, scope, key)
        ):
            return idempotency.Response(stored["status_code"], body, replayed=replayed)
        else:
            response = _final(unit, place, payment_id, render, render_refusal)
        unit.conn.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
            .values(status_code=response.status_code, response_body=response.stored_body())
        )
        return replace(response, replayed=replayed)

    return platform.run(work)


def _final(
    unit: Unit,
    place: dict[str, Any],
    payment_id: str,
    render: Callable[[V], idempotency.Response],
    render_refusal: Callable[[RefusalError], idempotency.Response],
) -> idempotency.Response:
    """The answer of a movement that ended: its view, or its refusal."""
    code = place["refusal_code"]
    viewed = _record(place["record"]).failure_answers_view
    if place["state"] == "settled" or code in ENDED or viewed:
        return render(_record(place["record"]).view(unit, payment_id))
    category = Category.CONFLICT if code in _CONFLICTS else Category.REFUSED
    return render_refusal(
        RefusalError(category, code, place["refusal_message"], _REFUSAL_PARAMS.get(code))
    )


def _changed_at_hold(place: dict[str, Any], body: Mapping[str, Any], scope: str, key: str) -> bool:
    """A waiting movement whose B writes to its own record (``Record.held``: a payout to a
    bank account, its payout ``succeeded`` at B) answers its own request, once past B, with
    its view as it is then, not as A stored it (the payout ``pending``): the first answer
    after B (or the first resend after a crash) stores it, and a resend while the transfer
    is still ``pending`` answers the current state again, as every other movement's resend
    does until it ends."""
    if _record(place["record"]).held is None:
        return False
    past_b = place["state"] in ("held", "settled") or place["refusal_code"] in ENDED
    own = (place["scope"], place["idem_key"]) == (scope, key)
    return past_b and own and body.get("status") == "pending"


def _answered_at_hold(place: dict[str, Any], scope: str, key: str) -> bool:
    """A waiting movement's own request (its key is the one in its place) was answered once
    its hold was booked (``pending``): what follows the wait (the agent's confirmation, a
    cancel, expiry) answers those requests, not this one. A refusal before the hold still
    answers it."""
    if place["kind"] not in _WAITS or (place["scope"], place["idem_key"]) != (scope, key):
        return False
    return place["state"] == "settled" or place["refusal_code"] in (*ENDED, *_CONFLICTS)


# -- recovery -------------------------------------------------------------------------------


def recover(platform: Platform, older_than_s: int = RECOVER_AFTER_S) -> int:
    """A worker round: every payment left in ``reserving``/``reserved`` for longer than
    ``older_than_s``, its derived ids looked up in one batch, completed or refused as the
    README's table says. Returns how many it finished."""
    if platform.ledger is None:
        return 0
    ledger = platform.ledger
    cutoff = platform.now() - older_than_s * 10**9

    def read(unit: Unit) -> list[dict[str, Any]]:
        query = (
            select(two_store_payments.c.payment_id, two_store_payments.c.legs)
            .where(
                two_store_payments.c.state.in_(UNFINISHED),
                two_store_payments.c.created_at_ns <= cutoff,
            )
            .order_by(two_store_payments.c.created_at_ns)
            .limit(RECOVERY_BATCH)
        )
        return [dict(r) for r in unit.conn.execute(query).mappings()]

    rows = platform.run(read, write=False)
    if not rows:
        return 0
    wanted: list[str] = []
    for row in rows:
        legs = decode_legs(row["legs"])
        wanted += [t.id for t in holds(legs)] + [t.id for t in posts(legs)]
    known = ledger.lookup_transfers(wanted)
    for row in rows:
        advance(platform, row["payment_id"], known)
    return len(rows)


def unfinished(platform: Platform) -> int:
    def count(unit: Unit) -> int:
        found = unit.conn.execute(
            select(two_store_payments.c.payment_id).where(
                two_store_payments.c.state.in_(UNFINISHED)
            )
        )
        return len(found.all())

    return platform.run(count, write=False)


# -- verify ---------------------------------------------------------------------------------


def _returned_reviews(conn: Any) -> set[str]:
    """The posts of the review holds an analyst returned (``services.risk.holds``): posted
    holds that belong to no payment's order, but to the alert's decision."""
    query = select(risk_alerts.c.hold_id).where(
        risk_alerts.c.status == "returned", risk_alerts.c.hold_id.is_not(None)
    )
    return {f"{hold}.post"[:80] for hold in conn.execute(query).scalars()}


#: What the cluster holds of a review's hold, per its alert's status: (voided, posted).
_REVIEWED = {"open": (False, False), "released": (True, False), "returned": (False, True)}


def _review_violations(
    conn: Any, reviews: Mapping[str, str], found: Mapping[str, Transfer]
) -> list[str]:
    """Each settled movement's review hold (``reviews``: hold → movement) as its alert says:
    still pending while the alert is open, voided once released, posted once returned."""
    if not reviews:
        return []
    query = select(risk_alerts.c.hold_id, risk_alerts.c.status).where(
        risk_alerts.c.hold_id.in_(sorted(reviews))
    )
    statuses = {str(hold): str(status) for hold, status in conn.execute(query)}
    problems = []
    for hold, payment_id in reviews.items():
        status = statuses.get(hold)
        if status not in _REVIEWED:
            problems.append(f"payment {payment_id}: its review hold {hold} has no alert")
            continue
        void, post = risk_holds.decision_ids(hold)
        if (void in found, post in found) != _REVIEWED[status]:
            problems.append(
                f"payment {payment_id}: its review hold {hold} is {status}, not so in the cluster"
            )
    return problems


def verify(db: Database, ledger: LedgerPort) -> list[str]:
    """``ledger verify`` on a TigerBeetle deployment, the payments' part: every settled
    payment has exactly its holds and their posts in the cluster, between its accounts, with
    its amounts; a refused one has no post; no posted hold in the cluster lacks a settled
    payment; a sale's loan set-aside has its loan entry (a refused one none); and each
    loan's accounts there hold what its row says (the daily close books
    on them; a loan still being disbursed is left to its place's check). (The cluster's own
    checks are ``tigerbeetle.verify``.) Reads only: no vault."""
    from tindahan.tigerbeetle.ids import id128
    from tindahan.tigerbeetle.ledger import TigerBeetleLedger

    def _same(found: str | None, expected: str | None) -> bool:
        """A client that never saw a name shows its id as ``tb:<hex>``."""
        return found == expected or (expected is not None and found == f"tb:{id128(expected):032x}")

    query = select(
        two_store_payments.c.payment_id,
        two_store_payments.c.state,
        two_store_payments.c.legs,
        two_store_payments.c.refusal_code,
    )
    rows = db.transact(lambda conn: [dict(r) for r in conn.execute(query).mappings()], write=False)
    problems: list[str] = []
    expected_posts: set[str] = set()
    plans = [(r["payment_id"], r["state"], decode_legs(r["legs"])) for r in rows]
    ended = {r["payment_id"] for r in rows if r["refusal_code"] in ENDED}
    reviews = {
        t.id: payment_id
        for payment_id, state, legs in plans
        if state == "settled"
        for t in legs
        if REVIEW_HOLD in t.metadata
    }
    wanted = [t.id for _, _, legs in plans for t in [*holds(legs), *posts(legs)]]
    wanted += [i for hold in reviews for i in risk_holds.decision_ids(hold)]
    found: dict[str, Transfer] = {}
    for start in range(0, len(wanted), 8000):
        found.update(ledger.lookup_transfers(wanted[start : start + 8000]))

    def compare(payment_id: str, leg: NewTransfer, done_id: str) -> None:
        there = found.get(done_id)
        if there is None:
            problems.append(f"payment {payment_id}: {done_id} is missing")
            return
        if not (
            _same(there.debit_account_id, leg.debit_account_id)
            and _same(there.credit_account_id, leg.credit_account_id)
        ):
            problems.append(f"payment {payment_id}: {done_id} has other accounts")
        if there.amount != leg.amount:
            problems.append(
                f"payment {payment_id}: {done_id} moved {there.amount}, not {leg.amount}"
            )
        if leg.ledger is not None and there.ledger != leg.ledger:
            problems.append(
                f"payment {payment_id}: {done_id} is on the {there.ledger} ledger, not {leg.ledger}"
            )

    for payment_id, state, legs in plans:
        posted = posts(legs)
        # an upfront leg is booked with the holds: there from ``held`` on, even when the
        # movement then ended (a rejected transfer), and never after a refusal of the holds
        booked = state in ("held", "reserved", "settled", "voiding") or payment_id in ended
        for leg in upfront(legs):
            if booked:
                compare(payment_id, leg, leg.id)
            elif state == "refused" and leg.id in found:
                problems.append(f"payment {payment_id} was refused but {leg.id} is booked")
        if state == "settled":
            expected_posts.update(t.id for t in posted)
            hold = found.get(_held(legs)[0].id)
            if hold is None:
                problems.append(f"payment {payment_id}: its hold {_held(legs)[0].id} is missing")
            # the post moves the hold's amount between the hold's accounts; the rest as booked
            for leg, done in zip([*_held(legs), *_rest(legs)], posted, strict=True):
                compare(payment_id, leg, done.id)
        elif state == "refused":
            problems += [
                f"payment {payment_id} was refused but {t.id} is posted"
                for t in posted
                if t.id in found
            ]
    problems += db.transact(lambda conn: _review_violations(conn, reviews, found), write=False)
    settled_legs = [t for _, state, legs in plans if state == "settled" for t in legs]
    refused_legs = [t for _, state, legs in plans if state == "refused" for t in legs]
    problems += db.transact(
        lambda conn: set_aside_cluster.violations(conn, settled_legs, refused_legs), write=False
    )
    unfinished_loans = {p for p, state, _ in plans if state != "settled"}
    problems += db.transact(
        lambda conn: loan_violations_in_cluster(conn, ledger, unfinished_loans), write=False
    )
    if isinstance(ledger, TigerBeetleLedger):
        expected_posts |= db.transact(_returned_reviews, write=False)
        known = expected_posts | {f"tb:{id128(i):032x}" for i in expected_posts}
        # one pass over the cluster's transfers, each met once (each account's statement
        # cost a request per account and met every transfer twice)
        problems += [
            f"posted transfer {t.id} belongs to no settled payment"
            for t in ledger.all_transfers()
            if t.flags & TransferFlags.POST_PENDING and t.id not in known
        ]
    return problems
