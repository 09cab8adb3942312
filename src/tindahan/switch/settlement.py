"""Tindahan's settlement account at the switch: every settled movement, its statement and
notifications (issue 19, item 7).

The clearing house settles between its members' accounts; Tindahan's is debited when one of
its transfers settles (``ACSC``: the money left) and credited when money comes back (a
pacs.004 return) or in (a credit transfer to a Tindahan wallet). Each movement is booked
once, with the wall-clock moment the switch settled it, and:

* announced at once as a camt.054 debit/credit notification, queued until Tindahan collects
  it (``POST /notifications``);
* listed on the end-of-day camt.053 statement of its booking day (``POST /statement``).

The booking day is the Asia/Manila calendar day of that moment (UTC+8, no daylight saving:
a day runs from 16:00 UTC the evening before to 16:00 UTC), the day Tindahan's
reconciliation cuts by too (``rails.reconciliation``). With a journal (``switch.journal``,
the switch's own SQLite file) every movement and its notification are written as they are
booked and read back at start, so the balances and statements survive a restart; without
one (the tests' in-process houses) they start at zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from tindahan.rails import Entry, Party
from tindahan.rails import xml as rails_xml
from tindahan.rails.identifiers import new_reference
from tindahan.rails.reconciliation import manila_day
from tindahan.switch.journal import Journal

#: Tindahan's account at the switch, as the statement names it, unless the house is told
#: another (``tindahan rails switch`` uses ``TINDAHAN_RAILS_BIC``, our BIC).
DEFAULT_ACCOUNT = "TNDHPHM1XXX"


@dataclass(frozen=True, slots=True)
class Booked:
    """One settled movement: ``credit`` when money came into Tindahan's account."""

    reference: str
    uetr: str
    end_to_end_id: str
    amount_minor: int
    currency: str
    credit: bool
    at_ns: int  # wall clock, ns since the epoch
    debtor: Party | None = None
    creditor: Party | None = None

    @property
    def day(self) -> date:
        return manila_day(self.at_ns)

    def row(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "uetr": self.uetr,
            "end_to_end_id": self.end_to_end_id,
            "amount_minor": self.amount_minor,
            "currency": self.currency,
            "credit": self.credit,
            "at_ns": self.at_ns,
            "debtor": self.debtor,
            "creditor": self.creditor,
        }

    def entry(self) -> Entry:
        return Entry(
            amount_minor=self.amount_minor,
            currency=self.currency,
            credit=self.credit,
            booking_date=self.day,
            uetr=self.uetr,
            end_to_end_id=self.end_to_end_id,
            debtor=self.debtor,
            creditor=self.creditor,
            reference=self.reference,
        )


@dataclass
class SettlementAccount:
    """The movements in booking order, and the notifications not yet collected."""

    account: str = DEFAULT_ACCOUNT
    currency: str = "PHP"
    movements: list[Booked] = field(default_factory=list)
    #: (the journal's id or 0, the camt.054) not yet collected
    unsent: list[tuple[int, bytes]] = field(default_factory=list)
    journal: Journal | None = None

    def book(self, moved: Booked) -> None:
        """Book one movement and queue its camt.054 (callers hold the house's lock)."""
        notification = rails_xml.camt054(
            message_id=new_reference("N"),
            created_at=datetime.fromtimestamp(moved.at_ns // 10**9, UTC),
            account=self.account,
            notification_id=moved.reference,
            entries=[moved.entry()],
        )
        kept = 0 if self.journal is None else self.journal.movement(moved.row(), notification)
        self.movements.append(moved)
        self.unsent.append((kept, notification))

    def notifications(self) -> list[bytes]:
        """The camt.054 messages since the last call; they leave the queue."""
        sent, self.unsent = self.unsent, []
        if self.journal is not None:
            self.journal.notified([kept for kept, _ in sent])
        return [data for _, data in sent]

    def statement(self, day: date, now_ns: int) -> bytes:
        """The camt.053 of ``day``: its opening and closing booked balances and its entries."""
        opening = sum(_signed(m) for m in self.movements if m.day < day)
        entries = [m for m in self.movements if m.day == day]
        closing = opening + sum(_signed(m) for m in entries)
        return rails_xml.camt053(
            message_id=new_reference("STMT"),
            created_at=datetime.fromtimestamp(now_ns // 10**9, UTC),
            account=self.account,
            statement_id=f"{self.account}-{day.isoformat()}",
            opening_minor=opening,
            closing_minor=closing,
            currency=self.currency,
            statement_date=day,
            entries=[m.entry() for m in entries],
        )


def _signed(moved: Booked) -> int:
    return moved.amount_minor if moved.credit else -moved.amount_minor
