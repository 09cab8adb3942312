"""Sending money to a mobile number: who may send to whom (issue 21, item 6).

A send moves money from the sender's main wallet to the main wallet of the party whose
*registered* mobile number was given (the number a party was onboarded with, E.164; see
``payments.parties.phone_number``). The rules, decided here once for every face (the web's
"Send money", ``POST /v1/mobile_transfers``, the USSD menu):

* **Anyone with a main wallet may send** — a customer, a merchant (its main wallet, not the
  settlement wallet its sales land in) or an agent (its main wallet, where commissions land;
  never the float, which is cash-in stock).
* **Only a customer receives.** A number that belongs to a merchant is refused with
  ``recipient_is_business``: a store is paid by its QR code or a payment request, so the
  sale carries the merchant discount and, for a merchant repaying a loan from sales, the
  set-aside (``services.payments.settlement``); a send would slip past both. An agent's
  number is refused the same way (an agent's float is topped up by funding, not by sends).
* **Not to oneself**: ``recipient_is_sender`` (the same wallet on both sides would book a
  transfer that changes nothing and still count against the day's limits).
* Limits are the KYC tier's, as for every movement: the sender's per-transaction, daily and
  monthly outgoing limits, the recipient's monthly incoming limit and maximum balance
  (``payments.tiers``, applied by ``services.ledger.movement``).

What the sender sees of the recipient before confirming is ``masked_name``: the first name
and the other names' initials ("Juana D. C."), enough to catch a mistyped number without
showing a stranger's full name to whoever types numbers at random.
"""

from __future__ import annotations

from dataclasses import dataclass

from tindahan.kernel.refusals import invalid, refused
from tindahan.payments.model import PartyKind

PARAM = "mobile"


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a send, as the rule needs it."""

    party_id: str
    kind: str


def check(sender: Side, recipient: Side) -> None:
    """Refuse a send the rules above forbid; return quietly when it may go ahead."""
    if sender.party_id == recipient.party_id:
        raise invalid("recipient_is_sender", "you cannot send money to your own number", PARAM)
    if recipient.kind != PartyKind.CUSTOMER:
        raise refused(
            "recipient_is_business",
            "this number belongs to a business: pay it by its QR code or a payment request",
            PARAM,
        )


def masked_name(name: str) -> str:
    """The first name whole, each other name as its initial: "Juana Dela Cruz" → "Juana D. C."."""
    words = name.split()
    if not words:
        return ""
    return " ".join([words[0], *(w[0].upper() + "." for w in words[1:])])
