"""What accepting a loan offer books, as plain data: the loan's opening figures and the
ledger legs of its disbursement. ``services.lending.offers`` stores the plan and books its
legs; the rules are tested here without a database.

* **Deducted fee**: the merchant receives principal − fee; the principal receivable pays
  both the wallet (the net proceeds) and ``op.loan.fees`` (the fee). Nothing of the fee is
  owed later: it was paid out of the principal.
* **Added fee**: the merchant receives the whole principal; the fee is owed with the
  installments, so it is booked at once on the fee receivable (``fee_booked``), which pays
  ``op.loan.fees``.

**Cancelled** (``cancellation``): an analyst returned the disbursement after a risk review,
so the merchant never had the money and owes nothing. The net proceeds went back to the
principal receivable with the return; the fee leg is reversed (``op.loan.fees`` → the
receivable it debited), and so is what the daily close booked meanwhile (interest and
penalties: income → receivable), so every receivable ends at zero and no income is kept from
a loan that never was; what sales set aside goes back to the merchant's settlement wallet.

A loan starts with nothing paid, accrued, set aside or written off; its first close is for
its first day, so it counts as closed through the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from tindahan.lending.book import Totals
from tindahan.lending.disclosure import Disclosure
from tindahan.lending.terms import FeeMode


class Party(StrEnum):
    """Who a disbursement leg (or its cancellation's) moves money between: one of the loan's
    receivables or its reserve, the merchant's main or settlement wallet, or the operator's
    loan income."""

    PRINCIPAL = "principal"
    FEE = "fee"
    INTEREST = "interest"
    PENALTY = "penalty"
    RESERVE = "reserve"
    WALLET = "wallet"
    SETTLEMENT = "settlement"
    OP_FEES = "op_fees"
    OP_INTEREST = "op_interest"
    OP_PENALTY = "op_penalty"


@dataclass(frozen=True)
class Leg:
    name: str  # the ledger id's suffix: ``loan.<id>.<name>``
    debit: Party
    credit: Party
    amount_minor: int


@dataclass(frozen=True)
class Disbursement:
    principal_minor: int
    fee_minor: int
    fee_added: bool
    net_proceeds_minor: int
    start_date: date
    legs: tuple[Leg, ...]

    @property
    def totals(self) -> Totals:
        """The loan's opening totals: only an added fee is booked (owed) from the start."""
        return Totals(fee_booked=self.fee_minor if self.fee_added else 0)

    @property
    def closed_through(self) -> date:
        return self.start_date - timedelta(days=1)


def plan(found: Disclosure, start: date) -> Disbursement:
    """The disbursement of the disclosed loan, accepted on ``start``."""
    added = found.fee_mode == FeeMode.ADDED
    net = found.net_proceeds_minor
    legs = [Leg("disburse", Party.PRINCIPAL, Party.WALLET, net)]
    if found.fee_minor:
        source = Party.FEE if added else Party.PRINCIPAL
        legs.append(Leg("fee", source, Party.OP_FEES, found.fee_minor))
    return Disbursement(found.principal_minor, found.fee_minor, added, net, start, tuple(legs))


def cancellation(
    fee_minor: int, fee_added: bool, interest_minor: int, penalty_minor: int, reserve_minor: int
) -> tuple[Leg, ...]:
    """A cancelled loan's legs (nothing of it was paid): its disbursement's fee leg reversed,
    the interest and penalties booked since reversed, and the reserve back to the merchant's
    settlement wallet — each named ``cancel.<part>`` (``loan.<id>.cancel.fee`` …), none
    for a part that is zero."""
    fee_source = Party.FEE if fee_added else Party.PRINCIPAL
    legs = (
        Leg("cancel.fee", Party.OP_FEES, fee_source, fee_minor),
        Leg("cancel.interest", Party.OP_INTEREST, Party.INTEREST, interest_minor),
        Leg("cancel.penalty", Party.OP_PENALTY, Party.PENALTY, penalty_minor),
        Leg("cancel.reserve", Party.RESERVE, Party.SETTLEMENT, reserve_minor),
    )
    return tuple(leg for leg in legs if leg.amount_minor)
