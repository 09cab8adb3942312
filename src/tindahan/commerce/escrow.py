"""How escrow is split when it is released: the merchant's share and the marketplace fee.

Rounding, named: the marketplace fee is ``HALF_UP`` to the centavo on the amount released
(the rule a merchant checks by hand, as for the QR merchant discount). The fee is taken
only from what the merchant receives: a refund to the buyer is never charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from tindahan.kernel.refusals import invalid
from tindahan.money import Money, Rounding, apply_bps


@dataclass(frozen=True, slots=True)
class Release:
    merchant_minor: int
    fee_minor: int

    @property
    def total_minor(self) -> int:
        return self.merchant_minor + self.fee_minor


def release(amount_minor: int, currency: str, fee_bps: int) -> Release:
    fee = apply_bps(Money(amount_minor, currency), fee_bps, Rounding.HALF_UP).amount_minor
    return Release(amount_minor - fee, fee)


def split(held_minor: int, refund_minor: object) -> tuple[int, int]:
    """A dispute settled in parts: (to the buyer, to the merchant before the fee)."""
    if isinstance(refund_minor, bool) or not isinstance(refund_minor, int):
        message = "refund_minor is a whole number of centavos"
        raise invalid("split_invalid", message, "refund_minor")
    if not 0 < refund_minor < held_minor:
        message = f"a split refunds more than 0 and less than the {held_minor} held"
        raise invalid("split_invalid", message, "refund_minor")
    return refund_minor, held_minor - refund_minor
