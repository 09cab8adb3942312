"""The Truth-in-Lending disclosure: what a merchant must see before accepting a loan.

RA 3765 and BSP Circular 730 ask for the amount financed, the finance charge, the total of
payments, the schedule and the effective interest rate. Here:

* **net proceeds** (= amount financed): what reaches the wallet, the principal less a fee
  deducted up front;
* **finance charge**: all interest plus every fee, deducted or added (penalties are not a
  finance charge: they are only owed if the merchant pays late);
* **total of payments**: the sum of the installments;
* so ``amount financed + finance charge = total of payments`` exactly, a test holds it;
* **EIR** per period, per month and per year (``eir``), from net proceeds and installments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tindahan.lending import eir
from tindahan.lending.schedule import Installment, build
from tindahan.lending.terms import PERIODS_PER_YEAR, FeeMode, Frequency, Method, due_dates


@dataclass(frozen=True)
class Disclosure:
    principal_minor: int
    fee_minor: int
    fee_mode: FeeMode
    frequency: Frequency
    rate_per_period: Decimal
    schedule: tuple[Installment, ...]
    eir_per_period: Decimal

    @property
    def net_proceeds_minor(self) -> int:
        deducted = self.fee_minor if self.fee_mode == FeeMode.DEDUCTED else 0
        return self.principal_minor - deducted

    @property
    def interest_minor(self) -> int:
        return sum(i.interest_minor for i in self.schedule)

    @property
    def finance_charge_minor(self) -> int:
        return self.interest_minor + self.fee_minor

    @property
    def total_of_payments_minor(self) -> int:
        return sum(i.total_minor for i in self.schedule)

    @property
    def eir_annual(self) -> Decimal:
        return eir.compound(self.eir_per_period, PERIODS_PER_YEAR[self.frequency])

    @property
    def eir_monthly(self) -> Decimal:
        if self.frequency == Frequency.MONTHLY:
            return self.eir_per_period
        return eir.compound(self.eir_per_period, Decimal(PERIODS_PER_YEAR[self.frequency]) / 12)

    @property
    def first_due(self) -> date:
        return self.schedule[0].due_date

    @property
    def last_due(self) -> date:
        return self.schedule[-1].due_date

    def as_dict(self) -> dict[str, object]:
        return {
            "principal_minor": self.principal_minor,
            "fee_minor": self.fee_minor,
            "fee_mode": self.fee_mode.value,
            "frequency": self.frequency.value,
            "rate_per_period": eir.text(self.rate_per_period),
            "net_proceeds_minor": self.net_proceeds_minor,
            "amount_financed_minor": self.net_proceeds_minor,
            "interest_minor": self.interest_minor,
            "finance_charge_minor": self.finance_charge_minor,
            "total_of_payments_minor": self.total_of_payments_minor,
            "eir_per_period": eir.text(self.eir_per_period),
            "eir_monthly": eir.text(self.eir_monthly),
            "eir_annual": eir.text(self.eir_annual),
            "schedule": [i.as_dict() for i in self.schedule],
        }


def disclose(
    principal_minor: int,
    rate: Decimal,
    frequency: Frequency,
    method: Method,
    start: date,
    *,
    term: int | None = None,
    dates: Sequence[date] | None = None,
    fee_minor: int = 0,
    fee_mode: FeeMode = FeeMode.DEDUCTED,
    factors: Sequence[Decimal] | None = None,
) -> Disclosure:
    """The schedule and the disclosure of a loan; ``dates`` (holiday-shifted) or ``term``."""
    if dates is None:
        if term is None:
            raise ValueError("give the term or the due dates")
        dates = due_dates(start, frequency, term)
    added = fee_minor if fee_mode == FeeMode.ADDED else 0
    schedule = build(principal_minor, rate, method, start, dates, fee_minor=added, factors=factors)
    net = principal_minor - (fee_minor if fee_mode == FeeMode.DEDUCTED else 0)
    rate_eir = eir.per_period(net, [i.total_minor for i in schedule])
    return Disclosure(
        principal_minor, fee_minor, fee_mode, frequency, rate, tuple(schedule), rate_eir
    )
