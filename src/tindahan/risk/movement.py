"""A money movement as the rules see it, and the decision they give it.

Units: ``at`` is whole seconds since the epoch, UTC (a rule's windows are whole seconds and
hours; nothing finer matters to them); ``amount_minor`` is an integer number of minor units
(centavos for PHP), never a float.

Who is who in each kind: ``p2p`` and ``merchant`` — the sender pays the receiver; ``cash_in``
— an agent (sender) turns the receiver's cash into wallet money; ``cash_out`` — the sender
turns wallet money into cash at an agent (receiver); ``bank_in`` — money arrives from a bank
account (sender) into a wallet; ``bank_out`` — a wallet sends to a bank account; ``refund``
— a merchant (sender) pays a buyer back. So for cash the customer is the receiver of a
cash-in and the sender of a cash-out (``cash_party``).

Origins (device, IP) count only for spending kinds (``aggregates.SPENDING``): that is the
party acting through the client; a cash-in is the agent's device, a bank credit the bank's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.StrEnum):
    P2P = "p2p"
    MERCHANT = "merchant"
    CASH_IN = "cash_in"
    CASH_OUT = "cash_out"
    BANK_IN = "bank_in"
    BANK_OUT = "bank_out"
    REFUND = "refund"


#: Cash across an agent's counter: what the covered-transaction rule adds up.
CASH_KINDS = frozenset({Kind.CASH_IN, Kind.CASH_OUT})
#: Money leaving the platform (the "fast out" of a mule).
OUTFLOW_KINDS = frozenset({Kind.CASH_OUT, Kind.BANK_OUT})


class Decision(enum.StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


#: The strictest decision of a movement's alerts wins.
SEVERITY = {Decision.ALLOW: 0, Decision.REVIEW: 1, Decision.BLOCK: 2}


@dataclass(frozen=True, slots=True)
class Movement:
    id: str
    at: int
    kind: Kind
    sender: str
    receiver: str
    amount_minor: int
    currency: str
    #: Where the movement was asked from, when known ('' when not): the client's device and
    #: IP address as keys, never the raw values on the live path (the gate keys them with
    #: the vault's index key, ``services.ledger.risk_gate``); ``risk evaluate`` takes the
    #: CSV's optional ``device`` and ``ip`` columns as they are.
    device: str = ""
    ip: str = ""

    @property
    def cash_party(self) -> str:
        """The customer whose cash this is (the wallet side of a cash-in or cash-out)."""
        return self.receiver if self.kind is Kind.CASH_IN else self.sender
