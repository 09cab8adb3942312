"""The one step that credits a merchant's settlement wallet for a sale, whatever the channel.

A sale reaches a merchant's settlement wallet in two ways: a merchant payment (direct, by a
scanned QR code, or paying a payment request: all ``services.payments.payments.pay``) and an
online order's release from escrow (the buyer confirms, the worker auto-releases, or a
dispute is resolved for the merchant or split: all ``services.commerce.escrow.complete``).
Both hand the sale's own transfers to ``credit_sale``, which appends the loan set-aside
(``services.lending.loans.set_aside``) when the merchant repays a loan from sales, so "a
share of each sale" holds for every sale and no channel can forget it.

Decisions:

* **The share is of the gross sale**: the payment's amount, or what escrow releases to the
  merchant before the marketplace fee (for a split, the merchant's part only) — the figure
  a merchant calls the sale, and the one the credit model counts.
* **Never more than the sale brings in**: the set-aside is capped at what the sale leaves in
  the settlement wallet after its fee, so a sale's batch never takes earlier money.
* **Same batch**: the set-aside is the last transfer of the sale's linked batch, after the
  credit to the settlement wallet; the sale and its set-aside are booked together or not at
  all. Its ledger id is the sale's with ``.loan`` added (``pay.x.loan``,
  ``ord.x.release.loan``), so a retry cannot book it twice.
* **On a TigerBeetle ledger** the set-aside's figure is decided in the sale's A and its
  loan rows written at its C (``services.lending.set_aside_cluster``); the leg rides the
  sale's post chain.

Layers: payments may use lending (the named edge in ``pyproject.toml``); commerce sits above
payments and calls this, so no import goes up or round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tindahan.ledger.model import NewTransfer
from tindahan.services.ledger import movement
from tindahan.services.lending import loans, set_aside_cluster
from tindahan.services.unit import Unit, ledger_id


@dataclass(frozen=True)
class Sale:
    """One sale credited to a merchant's settlement wallet.

    ``gross_minor`` is the sale (the share is of it), ``net_minor`` what it leaves in the
    settlement wallet after its fee; ``transfer_id`` is the ledger id of the sale's credit.
    Exactly one of ``payment_id`` and ``order_id`` names where it came from."""

    merchant_id: str
    settlement_account: str
    gross_minor: int
    net_minor: int
    transfer_id: str
    payment_id: str | None = None
    order_id: str | None = None
    #: False when the merchant's settlement wallet, read earlier in this transaction
    #: (``movement.Holder.sets_aside``), showed no active loan repaid from sales: then the
    #: loan's look-up is skipped (a round trip on every merchant payment). As good as
    #: looking: a loan that turns active between that read and this step committed after
    #: the read, as it could as well have committed after this step's own read — the sale
    #: is then simply one made before the loan began, as it would be either way.
    may_set_aside: bool = True

    def __post_init__(self) -> None:
        if (self.payment_id is None) == (self.order_id is None):
            raise ValueError("a sale comes from a payment or from an order, one of them")
        if not 0 <= self.net_minor <= self.gross_minor:
            raise ValueError("a sale leaves at most its gross in the settlement wallet")


def credit_sale(unit: Unit, sale: Sale, legs: Sequence[NewTransfer]) -> list[NewTransfer]:
    """The sale's own transfers (the credit to the settlement wallet first, its fee after),
    then the loan set-aside if the merchant repays from sales, as one linked batch."""
    if not sale.may_set_aside:
        return list(legs)
    # on a TigerBeetle deployment the set-aside goes through the two-store order with the
    # sale: its figure kept from A to C, the loan held by sales meanwhile
    on_cluster = unit.platform.ledger is not None
    aside = (set_aside_cluster.reserve if on_cluster else loans.set_aside)(
        unit,
        sale.merchant_id,
        sale.settlement_account,
        sale.gross_minor,
        most_minor=sale.net_minor,
        transfer_id=ledger_id(sale.transfer_id, "loan"),
        payment_id=sale.payment_id,
        order_id=sale.order_id,
    )
    return movement.linked([*legs, *aside]) if aside else list(legs)
