"""What the simulated clearing house answers, and when.

Rules applied to each pacs.008 transaction, in order: the creditor's bank must be a member
of the message's rail (else ``RJCT CNOR``); InstaPay carries at most ₱50,000 (else ``RJCT
AM02``); a UETR seen before is a duplicate (``RJCT AM05``, and nothing else happens to the
first one). Then the fault profile decides:

* ``none``: ``ACSC`` at once;
* ``rejected``: ``RJCT AC04`` (closed account);
* ``late``: ``ACSC`` only after ``LATE_NS`` (two seconds);
* ``duplicated``: ``ACSC`` twice;
* ``lost``: no answer; a pacs.028 about it gets ``ACSC``;
* ``returned``: ``ACSC``, then a pacs.004 returning the whole amount (``AC04``);
* ``recalled``: outbound as ``none``; a counterparty bank's transfer *to* a Tindahan wallet
  (``pay_in``, item 5) is followed, once credited, by its camt.056 recall;
  ``duplicated`` also delivers such a transfer twice.

Tindahan's answers to a recall (the pacs.004 returning the money, the camt.029) come to
``accept`` like its credit transfers; a pacs.004 debits Tindahan's settlement account.

A pacs.028 about any transfer it knows is answered with the status it decided (``lost``
included; ``ACSP``, settlement in process, while a PESONet one waits for its cut-off), and
about one it does not know with nothing. Answers wait in a queue until Tindahan collects
them.

**PESONet's cut-offs, on the house's side** (``pesonet_cutoffs``, on for ``tindahan rails
switch``): a PESONet transaction is settled in the session of the cut-off it arrived after
(within ``limits.PESONET_SESSION_WINDOW_SECONDS``), or waits for the next cut-off on a
banking day — weekends and the ``holidays`` the switch is given — and is booked and
answered then (``rails.batches.settles_at``). The schemes' rules (membership, a duplicate)
still answer at once. In-process houses (tests) settle PESONet at once unless told.
The counterparty banks' own PESONet transfers to Tindahan wallets (``hold_inbound``) leave
at the first cut-off on a banking day at or after they were asked for, and are delivered to
Tindahan then (``switch.app.deliver_due``); InstaPay ones are delivered at once.

**State**: with a ``journal`` (``switch.journal``, its own SQLite file, ``--db``) every
decision, queued answer, booked movement, notification and recall answer is written as it
happens and read back at start, so a restarted switch still knows every UETR (a resend is
still ``AM05``), still answers a pacs.028 about it, still delivers what was not collected
and still states the days before. Without one (tests) the state is in memory.

Every transfer the house settles (``ACSC``, whatever the fault profile does to the answer)
debits Tindahan's settlement account at that moment of the wall clock, and every return
credits it back (``switch.settlement``: the camt.054 notifications and the end-of-day
camt.053 statement Tindahan reconciles against).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tindahan import limits
from tindahan.rails import (
    ClearingSystem,
    Message,
    MessageType,
    Party,
    PaymentReturn,
    StatusAnswer,
    Transaction,
)
from tindahan.rails import xml as rails_xml
from tindahan.rails.batches import cutoff_after, settles_at
from tindahan.rails.directory import Participant
from tindahan.rails.identifiers import new_reference
from tindahan.switch.inbound import Payment
from tindahan.switch.journal import Journal, Saved
from tindahan.switch.settlement import Booked, SettlementAccount

PROFILES = ("none", "rejected", "late", "duplicated", "lost", "returned", "recalled")
LATE_NS = 2 * 10**9  # two seconds, in the monotonic clock's integer nanoseconds


@dataclass
class Decided:
    message_id: str
    uetr: str
    end_to_end_id: str
    amount_minor: int
    currency: str
    rail: ClearingSystem
    status: str
    reason: str | None
    debtor: Party | None = None
    creditor: Party | None = None

    def row(self, settle_at_ns: int | None) -> dict[str, Any]:
        return {
            "uetr": self.uetr,
            "message_id": self.message_id,
            "end_to_end_id": self.end_to_end_id,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "rail": self.rail.value,
            "status": self.status,
            "reason": self.reason,
            "debtor": self.debtor,
            "creditor": self.creditor,
            "settle_at_ns": settle_at_ns,
        }


@dataclass(frozen=True)
class Incoming:
    """A counterparty bank's PESONet transfer to a Tindahan wallet, waiting for its cut-off."""

    payment: Payment
    data: bytes
    due_ns: int  # wall clock

    def payment_text(self) -> str:
        return json.dumps({**dataclasses.asdict(self.payment), "rail": self.payment.rail.value})

    @classmethod
    def of(cls, due_ns: int, text: str, data: bytes) -> Incoming:
        fields = json.loads(text)
        fields["rail"] = ClearingSystem(fields["rail"])
        return cls(Payment(**fields), data, due_ns)


@dataclass
class ClearingHouse:
    participants: list[Participant]
    faults: str = "none"
    clock: Callable[[], int] = time.monotonic_ns
    #: When a movement is booked (its booking day): the wall clock, integer ns.
    wall: Callable[[], int] = time.time_ns
    settlement: SettlementAccount = field(default_factory=SettlementAccount)
    decided: dict[str, Decided] = field(default_factory=dict)
    #: (due on ``clock``, the message, its journal id or 0)
    queue: list[tuple[int, bytes, int]] = field(default_factory=list)
    resolutions: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    journal: Journal | None = None
    pesonet_cutoffs: bool = False
    holidays: frozenset[date] = frozenset()
    #: PESONet transactions waiting for their cut-off: UETR → when they settle (wall ns)
    waiting: dict[str, int] = field(default_factory=dict)
    #: The banks' PESONet transfers to Tindahan wallets waiting for their cut-off, by UETR
    inbound_waiting: dict[str, Incoming] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.faults not in PROFILES:
            raise ValueError(f"fault profile is one of {', '.join(PROFILES)}")
        if self.journal is not None:
            self.settlement.journal = self.journal
            self._restore(self.journal.load())

    def close(self) -> None:
        """Close its file (the process is stopping; a test opens the same file again)."""
        if self.journal is not None:
            self.journal.close()

    def _restore(self, saved: Saved) -> None:
        """Rebuild the house from its file (at start, before it serves anything)."""
        for row in saved.decided:
            settle_at = row.pop("settle_at_ns")
            row["rail"] = ClearingSystem(row["rail"])
            found = Decided(**row)
            self.decided[found.uetr] = found
            if settle_at is not None:
                self.waiting[found.uetr] = settle_at
        now, wall = self._now(), self.wall()
        for kept, due_ns, data in saved.answers:
            self.queue.append((now + max(0, due_ns - wall), data, kept))
        self.settlement.movements = [Booked(**row) for row in saved.movements]
        self.settlement.unsent = list(saved.notifications)
        self.resolutions = [rails_xml.read(data) for data in saved.resolutions]
        for due_ns, text, data in saved.inbound_waiting:
            held = Incoming.of(due_ns, text, data)
            self.inbound_waiting[held.payment.uetr] = held

    def _now(self) -> int:
        return self.clock()

    def accept(self, data: bytes) -> int:
        """Take a pacs.008 (or a recall's pacs.004 and camt.029); returns how many
        transactions it held."""
        message = rails_xml.read(data)
        if message.message_type in (MessageType.PACS_004, MessageType.CAMT_029):
            return self._recall_answer(message, data)
        if message.message_type is not MessageType.PACS_008:
            raise ValueError(f"the switch takes pacs.008 here, not {message.message_type}")
        rail = ClearingSystem(message.clearing_system or "INSTAPAY")
        with self.lock:
            for item in message.transactions:
                self._decide(message.message_id, rail, item)
        return len(message.transactions)

    def _decide(self, message_id: str, rail: ClearingSystem, item: Transaction) -> None:
        uetr, e2e = item.uetr or "", item.end_to_end_id or ""
        if uetr in self.decided:
            self._answer(message_id, uetr, e2e, "RJCT", "AM05", 0)
            return
        status, reason = self._rule(rail, item)
        decided = Decided(
            message_id,
            uetr,
            e2e,
            item.amount_minor or 0,
            item.currency or "PHP",
            rail,
            status,
            reason,
            item.debtor,
            item.creditor,
        )
        self.decided[uetr] = decided
        settle_at = None
        if status != "RJCT" and rail is ClearingSystem.PESONET and self.pesonet_cutoffs:
            arrived = self.wall()
            settle_at = settles_at(arrived, self.holidays)
            settle_at = None if settle_at <= arrived else settle_at
        if self.journal is not None:
            self.journal.decided(decided.row(settle_at))
        if settle_at is not None:
            self.waiting[uetr] = settle_at  # booked and answered at its cut-off (``_tick``)
            return
        self._outcome(decided, self.wall())

    def _outcome(self, decided: Decided, at_ns: int) -> None:
        """Settle (book) a decided transaction at ``at_ns`` and queue what the profile says."""
        message_id, uetr, e2e = decided.message_id, decided.uetr, decided.end_to_end_id
        status, reason = decided.status, decided.reason
        if status != "RJCT":
            self._book(decided, credit=False, at_ns=at_ns)
        if status == "RJCT" or self.faults in ("none", "rejected"):
            self._answer(message_id, uetr, e2e, status, reason, 0)
        elif self.faults == "late":
            self._answer(message_id, uetr, e2e, status, reason, LATE_NS)
        elif self.faults == "duplicated":
            self._answer(message_id, uetr, e2e, status, reason, 0)
            self._answer(message_id, uetr, e2e, status, reason, 0)
        elif self.faults == "returned":
            self._answer(message_id, uetr, e2e, status, reason, 0)
            self._return(decided, at_ns)

    def _tick(self) -> None:
        """Settle the PESONet transactions whose cut-off has come (callers hold the lock)."""
        now = self.wall()
        for uetr, at in sorted(self.waiting.items(), key=lambda pair: pair[1]):
            if at > now:
                continue
            del self.waiting[uetr]
            if self.journal is not None:
                self.journal.settled(uetr)
            self._outcome(self.decided[uetr], at)

    def _recall_answer(self, message: Message, data: bytes) -> int:
        """Tindahan answering a recall: a pacs.004 sends money back (a debit), a camt.029
        says what was decided; both are kept in ``resolutions``."""
        with self.lock:
            self.resolutions.append(message)
            if self.journal is not None:
                self.journal.resolution(data)
            if message.message_type is MessageType.PACS_004:
                for item in message.transactions:
                    self.settlement.book(
                        Booked(
                            new_reference("B"),
                            item.uetr or "",
                            item.end_to_end_id or "",
                            item.amount_minor or 0,
                            item.currency or "PHP",
                            False,
                            self.wall(),
                        )
                    )
        return len(message.transactions)

    def pay_in(self, payment: Payment, at_ns: int | None = None) -> None:
        """Book a counterparty bank's transfer Tindahan credited (``ACSC``): money in, at
        ``at_ns`` (a PESONet one's cut-off) or now."""
        with self.lock:
            self.settlement.book(
                Booked(
                    new_reference("B"),
                    payment.uetr,
                    payment.end_to_end_id,
                    payment.amount_minor,
                    payment.currency,
                    True,
                    self.wall() if at_ns is None else at_ns,
                )
            )

    # --- the banks' own transfers to Tindahan wallets: PESONet waits for its cut-off -------
    def hold_inbound(self, payment: Payment, data: bytes) -> int | None:
        """When a bank's transfer to a Tindahan wallet is delivered: None for at once
        (InstaPay, or PESONet without cut-offs or at a cut-off's very moment), else the
        first PESONet cut-off on a banking day after now (wall ns), and it is kept until
        then (``due_inbound``; in the journal, so the wait survives a restart)."""
        if payment.rail is not ClearingSystem.PESONET or not self.pesonet_cutoffs:
            return None
        with self.lock:
            now = self.wall()
            due = cutoff_after(now, self.holidays)
            if due <= now:
                return None
            held = Incoming(payment, data, due)
            if self.journal is not None:
                self.journal.inbound_held(payment.uetr, due, held.payment_text(), data)
            self.inbound_waiting[payment.uetr] = held
        return due

    def due_inbound(self) -> list[Incoming]:
        """The banks' held transfers whose cut-off has come, earliest first (still held
        until ``inbound_delivered``: one Tindahan did not answer is delivered again)."""
        with self.lock:
            now = self.wall()
            due = [held for held in self.inbound_waiting.values() if held.due_ns <= now]
        return sorted(due, key=lambda held: held.due_ns)

    def inbound_delivered(self, uetr: str) -> None:
        """Tindahan answered the held transfer ``uetr`` (credited or rejected): done."""
        with self.lock:
            if self.inbound_waiting.pop(uetr, None) is not None and self.journal is not None:
                self.journal.inbound_delivered(uetr)

    def _rule(self, rail: ClearingSystem, item: Transaction) -> tuple[str, str | None]:
        bic = (item.creditor_agent or "")[:8]
        member = next((p for p in self.participants if p.bic[:8] == bic and p.active), None)
        is_member = member is not None and (
            member.instapay if rail is ClearingSystem.INSTAPAY else member.pesonet
        )
        if not is_member:
            return "RJCT", "CNOR"
        if rail is ClearingSystem.INSTAPAY and (item.amount_minor or 0) > limits.INSTAPAY_MAX_MINOR:
            return "RJCT", "AM02"
        if self.faults == "rejected":
            return "RJCT", "AC04"
        return "ACSC", None

    def _answer(
        self, message_id: str, uetr: str, e2e: str, status: str, reason: str | None, delay: int
    ) -> None:
        answer = StatusAnswer(message_id, uetr, e2e, status, reason)
        data = rails_xml.pacs002(
            message_id=new_reference("S"), created_at=datetime.now(UTC), answers=[answer]
        )
        self._queue(data, delay)

    def _queue(self, data: bytes, delay: int) -> None:
        kept = 0 if self.journal is None else self.journal.answer(self.wall() + delay, data)
        self.queue.append((self._now() + delay, data, kept))

    def _book(self, decided: Decided, *, credit: bool, at_ns: int) -> None:
        self.settlement.book(
            Booked(
                new_reference("B"),
                decided.uetr,
                decided.end_to_end_id,
                decided.amount_minor,
                decided.currency,
                credit,
                at_ns,
                decided.debtor,
                decided.creditor,
            )
        )

    def _return(self, decided: Decided, at_ns: int) -> None:
        back = PaymentReturn(
            decided.message_id,
            decided.uetr,
            decided.end_to_end_id,
            decided.amount_minor,
            decided.currency,
            "AC04",
        )
        data = rails_xml.pacs004(
            message_id=new_reference("R"),
            created_at=datetime.now(UTC),
            settlement_date=datetime.now(UTC).date(),
            clearing_system=decided.rail,
            returns=[back],
        )
        self._queue(data, 0)
        self._book(decided, credit=True, at_ns=at_ns)

    def collect(self) -> list[bytes]:
        """The answers due now, in order; they leave the queue."""
        with self.lock:
            self._tick()
            now = self._now()
            due = [entry for entry in self.queue if entry[0] <= now]
            self.queue = [entry for entry in self.queue if entry[0] > now]
            if self.journal is not None:
                self.journal.collected([kept for _, _, kept in due])
        return [data for _, data, _ in due]

    def notifications(self) -> list[bytes]:
        """The camt.054 notifications of movements booked since the last call."""
        with self.lock:
            self._tick()
            return self.settlement.notifications()

    def statement(self, day: date) -> bytes:
        """The camt.053 of Tindahan's settlement account for ``day`` (a Manila day)."""
        with self.lock:
            self._tick()
            return self.settlement.statement(day, self.wall())

    def status(self, data: bytes) -> bytes | None:
        """Answer a pacs.028 with what was decided, or nothing for an unknown transfer."""
        message = rails_xml.read(data)
        if message.message_type is not MessageType.PACS_028:
            raise ValueError(f"a status request is a pacs.028, not {message.message_type}")
        answers = []
        with self.lock:
            self._tick()
            for item in message.transactions:
                found = self.decided.get(item.uetr or "")
                if found is not None:
                    waits = found.uetr in self.waiting  # PESONet before its cut-off
                    answers.append(
                        StatusAnswer(
                            found.message_id,
                            found.uetr,
                            found.end_to_end_id,
                            "ACSP" if waits else found.status,
                            None if waits else found.reason,
                        )
                    )
        if not answers:
            return None
        return rails_xml.pacs002(
            message_id=new_reference("S"), created_at=datetime.now(UTC), answers=answers
        )
