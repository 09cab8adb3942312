"""Payouts: how much of a merchant's settlement wallet may leave it, and when the daily one runs.

Sales land in the settlement wallet; a payout moves them to the merchant's main wallet, where
they can be spent. Two claims come first, and a payout never takes what they need:

* **refunds** — a merchant payment is refunded from the settlement wallet (the merchant pays
  the amount less the fee share the operator returns, ``payments.fees.fee_returned``). For
  every sale of the last ``limits.PAYOUT_REFUND_WINDOW_DAYS`` days still refundable, what
  refunding the rest of it would take stays behind: ``refund_exposure``. Online orders need
  nothing here: their money waits in the order's own escrow account until it is released,
  and nothing is refunded after the release;
* **the loan** — an auto-deducting loan's reserve is its own ledger account, out of any
  payout's reach; what the reserve still lacks for the next installment
  (``lending.book.reserve_need``) stays in the settlement wallet too.

Money held for pending debits is not available either. ``Availability`` keeps each part, so
the merchant sees why the figure is what it is. All figures are integer centavos; nothing is
rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from tindahan.kernel.refusals import invalid, refused
from tindahan.payments.periods import local_time

MINUTES_PER_DAY = 24 * 60
_TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


@dataclass(frozen=True, slots=True)
class Availability:
    balance_minor: int  # the settlement wallet's posted balance
    pending_out_minor: int  # held for pending debits
    refund_hold_minor: int  # kept for the refunds of recent sales
    loan_hold_minor: int  # kept for the loan's next installment

    @property
    def free_minor(self) -> int:
        """The balance less pending debits: what the wallet could pay at all."""
        return self.balance_minor - self.pending_out_minor

    @property
    def available_minor(self) -> int:
        return max(0, self.free_minor - self.refund_hold_minor - self.loan_hold_minor)


def refund_exposure(
    amount_minor: int, refunded_minor: int, fee_minor: int, fee_returned_minor: int
) -> int:
    """What refunding the rest of one sale would take from the settlement wallet: the part
    not yet refunded, less the part of the merchant discount the operator has yet to give
    back (all refunds together return the whole fee)."""
    return (amount_minor - refunded_minor) - (fee_minor - fee_returned_minor)


def check_amount(amount_minor: int, availability: Availability) -> None:
    """A payout of ``amount_minor`` fits what is available, or is refused saying how much is."""
    available = availability.available_minor
    if amount_minor > available:
        message = (
            f"at most {available} centavos may be paid out now: the settlement wallet holds "
            f"{availability.free_minor}, and {availability.refund_hold_minor} stays for refunds "
            f"of recent sales and {availability.loan_hold_minor} for the loan"
        )
        raise refused("payout_exceeds_available", message, "amount_minor")


def automatic_amount(availability: Availability, keep_minor: int) -> int:
    """The daily payout: everything available, leaving at least ``keep_minor`` in the wallet
    (the holds count towards what is left); 0 when there is nothing to pay."""
    return max(0, min(availability.available_minor, availability.free_minor - keep_minor))


def parse_time_of_day(text: object) -> int:
    """``"21:00"`` → minutes after midnight (Manila). 24-hour ``HH:MM`` only."""
    found = _TIME.match(text) if isinstance(text, str) else None
    if found is None:
        raise invalid("time_invalid", "time_of_day is HH:MM, 24-hour, like 21:00", "time_of_day")
    return int(found[1]) * 60 + int(found[2])


def time_of_day(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def moment(at_ns: int) -> tuple[date, int]:
    """The Manila day ``at_ns`` falls on, and its minute of that day: a payout set for a
    minute is due on a day from that minute on."""
    local = local_time(at_ns)
    return local.date(), local.hour * 60 + local.minute
