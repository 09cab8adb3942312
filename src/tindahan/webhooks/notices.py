"""Which events a person is told of on the pages (issue 21, item 4), and what the notice
keeps: a rule over the event's own data, with no database.

Each event that concerns someone at a phone becomes one *notice* for one party, written in
the same transaction as the event (``services.platform.notifications``), so a notice exists
exactly when its event does. The rule, per event type:

* ``order.paid`` → the **merchant**: a new paid order to pack; and, for an order sent by
  a courier the buyer chose, the **buyer** (``order.confirmed``): paid, and the day it
  should arrive by (the end of its delivery window, issue 25);
* ``order.shipped`` and every ``shipment.updated`` → the **buyer**: where the parcel is (the
  shipped notice with the day it should arrive by, when the order has a window);
* ``order.late`` → the **merchant and the buyer**: a courier order past its window, not
  delivered (``facts.role`` says which of them a notice is for);
* ``order.refunded`` → the buyer; ``order.disputed`` → the merchant;
* ``mobile_transfer.succeeded`` → the **recipient** (the sender saw the receipt);
* ``cash_in.succeeded`` → the customer (the agent saw it at the counter);
* ``payout.succeeded`` / ``payout.failed`` → the merchant; ``bank_transfer.succeeded`` /
  ``failed`` / ``returned`` → the party that sent it.

Everything else (an order created, a loan's daily close, the rails' inner steps) is either
seen where it happens or is an integrator's concern, and stays a webhook only.

A notice keeps the *facts* to say it in any language (amounts in minor units, a short
reference, a status, a masked name) — never a sentence, so the pages say it in the reader's
language when they show it, and never personal data beyond a first name and initials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Fact = str | int | None

#: The notice kinds, each the event type it comes from (``mobile_transfer.received`` is the
#: recipient's side of ``mobile_transfer.succeeded``).
KINDS = (
    "order.paid",
    "order.confirmed",
    "order.shipped",
    "order.late",
    "order.refunded",
    "shipment.updated",
    "order.disputed",
    "mobile_transfer.received",
    "cash_in.succeeded",
    "payout.succeeded",
    "payout.failed",
    "bank_transfer.succeeded",
    "bank_transfer.failed",
    "bank_transfer.returned",
)


@dataclass(frozen=True, slots=True)
class Notice:
    party_id: str
    kind: str
    subject_id: str
    facts: dict[str, Fact] = field(default_factory=dict)


def _money(data: Mapping[str, Any], key: str = "amount_minor") -> dict[str, Fact]:
    return {"amount_minor": data.get(key), "currency": data.get("currency")}


def _arrives_by(data: Mapping[str, Any]) -> dict[str, Fact]:
    """The end of a courier order's window (ISO time), when it has one."""
    delivery = data.get("delivery")
    if not isinstance(delivery, Mapping) or not delivery.get("promised_at"):
        return {}
    return {"arrives_by": delivery["promised_at"], "courier": delivery.get("name")}


def notices_of(
    event_type: str, data: Mapping[str, Any], context: Mapping[str, Fact]
) -> list[Notice]:
    """The notices an event makes. ``context`` holds what the event's data lacks and the
    caller read for it: a shipment's ``buyer_id`` and order ``short_ref``, a send's
    ``sender_name`` (masked). Unknown types make none."""
    facts: dict[str, Fact]
    if event_type in ("order.paid", "order.disputed"):
        facts = {"short_ref": data.get("short_ref"), **_money(data, "total_minor")}
        told = [Notice(data["merchant_id"], event_type, data["id"], facts)]
        window = _arrives_by(data)
        if event_type == "order.paid" and window:
            told.append(Notice(data["buyer_id"], "order.confirmed", data["id"], facts | window))
        return told
    if event_type in ("order.shipped", "order.refunded"):
        facts = {"short_ref": data.get("short_ref"), **_money(data, "total_minor")}
        if event_type == "order.shipped":
            facts |= _arrives_by(data)
        return [Notice(data["buyer_id"], event_type, data["id"], facts)]
    if event_type == "order.late":
        facts = {"short_ref": data.get("short_ref"), **_arrives_by(data)}
        return [
            Notice(data["merchant_id"], event_type, data["id"], facts | {"role": "merchant"}),
            Notice(data["buyer_id"], event_type, data["id"], facts | {"role": "buyer"}),
        ]
    if event_type == "shipment.updated":
        buyer = context.get("buyer_id")
        if not isinstance(buyer, str):
            return []
        facts = {
            "status": data.get("status"),
            "courier": data.get("courier"),
            "short_ref": context.get("short_ref"),
        }
        return [Notice(buyer, event_type, data["order_id"], facts)]
    if event_type == "mobile_transfer.succeeded":
        facts = {
            **_money(data),
            "name": context.get("sender_name"),
            "short_ref": data.get("short_ref"),
        }
        return [Notice(data["payee_id"], "mobile_transfer.received", data["id"], facts)]
    if event_type == "cash_in.succeeded":
        facts = {**_money(data), "short_ref": data.get("short_ref")}
        return [Notice(data["payee_id"], event_type, data["id"], facts)]
    if event_type in ("payout.succeeded", "payout.failed"):
        return [Notice(data["merchant_id"], event_type, data["id"], _money(data))]
    if event_type.startswith("bank_transfer."):
        return [Notice(data["party_id"], event_type, data["id"], _money(data))]
    return []
