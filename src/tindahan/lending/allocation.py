"""Which part of a loan a payment settles.

Installments are paid oldest first; within one, the components in the product's order —
by default penalty → fee → interest → principal, the order Fineract calls "penalties, fees,
interest, principal" and the one that keeps the interest-bearing principal longest, which
the borrower's side may contest and an operator may change (any order of the four). The
allocation is horizontal: the oldest installment is settled in full before the next one
gets a centavo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tindahan.kernel.refusals import invalid

COMPONENTS = ("penalty", "fee", "interest", "principal")
DEFAULT_ORDER = COMPONENTS


@dataclass(frozen=True)
class Owed:
    """What is still unpaid on one installment, by component."""

    seq: int
    penalty: int = 0
    fee: int = 0
    interest: int = 0
    principal: int = 0

    @property
    def total(self) -> int:
        return self.penalty + self.fee + self.interest + self.principal


@dataclass(frozen=True)
class Part:
    seq: int
    component: str
    amount_minor: int


def parse_order(text: str) -> tuple[str, ...]:
    """``"penalty,fee,interest,principal"`` → the order, each component exactly once."""
    order = tuple(p.strip() for p in text.split(",") if p.strip())
    if sorted(order) != sorted(COMPONENTS):
        raise invalid(
            "allocation_order_invalid",
            f"the order names each of {', '.join(COMPONENTS)} exactly once",
            "allocation_order",
        )
    return order


def allocate(
    amount_minor: int, owed: Sequence[Owed], order: Sequence[str] = DEFAULT_ORDER
) -> tuple[list[Part], int]:
    """The parts ``amount_minor`` pays, and what is left over."""
    parts, left = [], amount_minor
    for item in sorted(owed, key=lambda o: o.seq):  # oldest first, whatever the caller's order
        for component in order:
            take = min(left, getattr(item, component))
            if take > 0:
                parts.append(Part(item.seq, component, take))
                left -= take
        if left == 0:
            break
    return parts, left


def totals(parts: Sequence[Part]) -> dict[str, int]:
    """The parts summed by component (every component present)."""
    summed = dict.fromkeys(COMPONENTS, 0)
    for part in parts:
        summed[part.component] += part.amount_minor
    return summed
