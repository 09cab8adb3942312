"""The legal ceilings on small, short loans, and the check no offer can get past.

The figures and their sources are in ``tindahan.limits`` (``SMALL_LOAN_*``). In short: a
*covered* loan — at most ₱10,000, repaid within four months — may carry a nominal rate of
at most 6% a month, late-payment penalties of at most 5% a month on the scheduled amount
past due, an EIR of at most 15% a month (BSP Circular 1133, from 3 January 2022) and 12% a
month from 1 April 2026 (SEC Memorandum Circular 14, series of 2025), and a total cost —
interest, fees and penalties, however long it runs — of at most 100% of the principal.

Those circulars bind lending and financing companies; Tindahan applies them whoever the
operator is, because a cooperative or an e-money issuer lending to a sari-sari store serves
the same borrower. Loans outside the covered range have no ceiling in law (usury ceilings
are suspended since CB Circular 905, 1982); the product's own range bounds them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal

from tindahan import limits
from tindahan.lending.terms import months_between


@dataclass(frozen=True)
class Breach:
    cap: str
    message: str
    source: str


def covered(principal_minor: int, start: date, last_due: date) -> bool:
    """Whether the small-loan ceilings apply to this loan."""
    return principal_minor <= limits.SMALL_LOAN_MAX_PRINCIPAL_MINOR and months_between(
        start, last_due
    ) <= Decimal(limits.SMALL_LOAN_MAX_MONTHS)


def eir_ceiling(on: date) -> tuple[Decimal, str]:
    """The monthly EIR ceiling in force on a day, and its source."""
    found = limits.SMALL_LOAN_EIR_MONTHLY_MAX[0]
    for entry in limits.SMALL_LOAN_EIR_MONTHLY_MAX:
        if date.fromisoformat(entry[0]) <= on:
            found = entry
    return Decimal(found[1]), found[2]


#: Wide enough for any EIR a quote can produce (a 0.01-peso net over a year of days).
_WIDE = Context(prec=1000)


def percent(rate: Decimal) -> str:
    """A rate as a percentage with two decimals, ``HALF_EVEN``, however large."""
    return f"{_WIDE.multiply(rate, Decimal(100)).quantize(Decimal('0.01'), context=_WIDE):f}%"


def check_price(
    principal_minor: int,
    monthly_rate: Decimal,
    eir_monthly: Decimal,
    finance_charge_minor: int,
    penalty_monthly: Decimal,
    on: date,
) -> list[Breach]:
    """Every ceiling a covered loan's price breaks (empty when it may be offered)."""
    breaches = []
    nominal = Decimal(limits.SMALL_LOAN_NOMINAL_MONTHLY_MAX)
    if monthly_rate > nominal:
        breaches.append(
            Breach(
                "nominal_rate",
                f"a nominal rate of {percent(monthly_rate)} a month is above {percent(nominal)}",
                limits.SMALL_LOAN_SOURCE,
            )
        )
    ceiling, source = eir_ceiling(on)
    if eir_monthly > ceiling:
        breaches.append(
            Breach(
                "eir",
                f"an EIR of {percent(eir_monthly)} a month is above {percent(ceiling)}",
                source,
            )
        )
    penalty = Decimal(limits.SMALL_LOAN_PENALTY_MONTHLY_MAX)
    if penalty_monthly > penalty:
        breaches.append(
            Breach(
                "penalty_rate",
                f"a penalty of {percent(penalty_monthly)} a month is above {percent(penalty)}",
                limits.SMALL_LOAN_SOURCE,
            )
        )
    total_cap = total_cost_cap(principal_minor)
    if finance_charge_minor > total_cap:
        breaches.append(
            Breach(
                "total_cost",
                f"a finance charge of {finance_charge_minor} centavos is above the total-cost "
                f"ceiling of {total_cap} (100% of the principal)",
                limits.SMALL_LOAN_SOURCE,
            )
        )
    return breaches


def total_cost_cap(principal_minor: int) -> int:
    """Interest + fees + penalties a covered loan may ever cost (``DOWN``)."""
    share = Decimal(limits.SMALL_LOAN_TOTAL_COST_MAX_SHARE)
    return int(principal_minor * share)
