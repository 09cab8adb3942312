"""Which events become which SMS, for whom (the rule; the outbox stores and sends them).

=========================== ============================ ===================================
event                       message                      to
=========================== ============================ ===================================
``payment.succeeded``       ``payment_sent``             the payer
                            ``payment_received``         the payee
``cash_in.succeeded``       ``cash_in``                  the customer (not the agent, who
                                                         stands at the counter)
``loan.payment_due``        ``loan_due``                 the borrower, *only without an app*
``loan.overdue``            ``loan_overdue``             the borrower, *only without an app*
``order.paid``              ``order_paid``               the merchant (an order to pack)
``order.shipped``           ``order_shipped``            the buyer (``order_shipped_by``,
                                                         with the day it should arrive by,
                                                         for a courier order)
``order.late``              ``order_late``               the buyer
                            ``order_late_shop``          the merchant
``shipment.updated``        ``parcel_<status>``          the buyer, for ``out_for_delivery``,
                                                         ``delivered``, ``failed_attempt``
                                                         and ``returned`` only
=========================== ============================ ===================================

Of a parcel's statuses, only those the buyer acts on are texted: be reachable (out for
delivery, a failed attempt), dispute before escrow releases (delivered), and know the money
is safe (returned). "Picked up" and "in transit" follow the "shipped" text and would be two
more messages saying nothing new; they are on the buyer's page and in the webhooks.

A send to a mobile number (``mobile_transfer.succeeded``, ``services.payments.sends``) is a
payment between two people and is texted as ``payment.succeeded`` is.

Payments are confirmed by SMS to everyone with a phone number, as mobile money does: the SMS
is the receipt a basic phone keeps, and the alarm when money leaves without its owner. The
lending reminders were made for the operator's messaging as webhooks; they become SMS only
for a person with no app (``REMINDER_KINDS``): a person who has no web login and no webhook
endpoint of their own has nothing else that would tell them. Someone with an app already
sees the reminder there, and two reminders a day for the same payment read as pressure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from tindahan import limits

PH_TIME = timezone(timedelta(hours=limits.BUSINESS_UTC_OFFSET_HOURS))

#: Sent only to a person without an app (no web login, no webhook endpoint of their own).
REMINDER_KINDS = frozenset({"loan_due", "loan_overdue"})


@dataclass(frozen=True)
class Notice:
    party_id: str
    kind: str
    #: Raw values (ids, minor units, ISO dates): rendered when the message is sent, in the
    #: person's language at that time.
    data: dict[str, Any]


#: The values each event must carry to become a text; an event without them (a test's
#: made-up event, an older shape) becomes none rather than failing its transaction.
_NEEDS = {
    "payment.succeeded": ("amount_minor", "currency"),
    "mobile_transfer.succeeded": ("amount_minor", "currency"),
    "cash_in.succeeded": ("amount_minor", "currency"),
    "loan.payment_due": ("amount_minor", "due_date"),
    "loan.overdue": ("days_past_due",),
    "order.paid": ("total_minor", "currency", "merchant_id"),
    "order.shipped": ("buyer_id", "merchant_id"),
    "order.late": ("buyer_id", "merchant_id"),
    # The shipment's view names no buyer: ``services.platform.sms`` adds the order's.
    "shipment.updated": ("status", "buyer_id"),
}
#: The parcel statuses texted to the buyer (see the module's table).
PARCEL_TEXTED = frozenset({"out_for_delivery", "delivered", "failed_attempt", "returned"})


def _due(data: Mapping[str, Any]) -> str | None:
    """A courier order's promised day (Philippine time, ISO), or None."""
    delivery = data.get("delivery")
    if not isinstance(delivery, Mapping) or not delivery.get("promised_at"):
        return None
    moment = datetime.fromisoformat(str(delivery["promised_at"]).replace("Z", "+00:00"))
    return moment.astimezone(PH_TIME).date().isoformat()


def for_event(event_type: str, data: Mapping[str, Any], party_ids: Iterable[str]) -> list[Notice]:
    needs = _NEEDS.get(event_type)
    if needs is None or any(data.get(key) is None for key in needs):
        return []
    concerned = list(party_ids)
    if event_type in ("payment.succeeded", "mobile_transfer.succeeded"):  # a send is a payment
        money = {
            "amount_minor": data["amount_minor"],
            "currency": data["currency"],
            "ref": data.get("short_ref") or "",
        }
        found = []
        if data.get("payer_id"):
            found.append(
                Notice(data["payer_id"], "payment_sent", {**money, "other": data.get("payee_id")})
            )
        if data.get("payee_id") and data.get("payee_id") != data.get("payer_id"):
            found.append(
                Notice(
                    data["payee_id"], "payment_received", {**money, "other": data.get("payer_id")}
                )
            )
        return found
    if event_type == "cash_in.succeeded" and data.get("payee_id"):
        return [
            Notice(
                data["payee_id"],
                "cash_in",
                {
                    "amount_minor": data["amount_minor"],
                    "currency": data["currency"],
                    "ref": data.get("short_ref") or "",
                    "other": data.get("payer_id"),
                },
            )
        ]
    if event_type == "order.paid":
        paid = {
            "amount_minor": data["total_minor"],
            "currency": data["currency"],
            "ref": data.get("short_ref") or "",
            "other": data.get("buyer_id"),
        }
        return [Notice(data["merchant_id"], "order_paid", paid)]
    if event_type == "order.shipped":
        shipped = {"ref": data.get("short_ref") or "", "other": data["merchant_id"]}
        promised = _due(data)
        if promised is not None:
            return [Notice(data["buyer_id"], "order_shipped_by", {**shipped, "due": promised})]
        return [Notice(data["buyer_id"], "order_shipped", shipped)]
    if event_type == "order.late":
        promised = _due(data)
        if promised is None:
            return []
        late = {"ref": data.get("short_ref") or "", "due": promised}
        return [
            Notice(data["buyer_id"], "order_late", late),
            Notice(data["merchant_id"], "order_late_shop", late),
        ]
    if event_type == "shipment.updated":
        if data["status"] not in PARCEL_TEXTED:
            return []
        parcel = {"ref": data.get("short_ref") or ""}
        return [Notice(data["buyer_id"], f"parcel_{data['status']}", parcel)]
    if event_type == "loan.payment_due":
        due = {"amount_minor": data["amount_minor"], "currency": "PHP", "due": data["due_date"]}
        return [Notice(p, "loan_due", due) for p in concerned]
    if event_type == "loan.overdue":
        return [Notice(p, "loan_overdue", {"days": data["days_past_due"]}) for p in concerned]
    return []
