"""Shipment tracking: the statuses a courier or merchant reports, and what each one means.

A shipment's timeline is the list of its events in the order they were reported. Only
``delivered`` moves the order (once every item is sent and every shipment delivered); the
rest tell the buyer where the parcel is. ``returned`` ends a shipment without delivery:
the parcel is back with the merchant, its items count as not shipped again, and the merchant
ships them again or refunds them; a dispute stays open to the buyer meanwhile.
"""

from __future__ import annotations

import enum

from tindahan.kernel.refusals import conflict, invalid


class ShipmentStatus(enum.StrEnum):
    LABEL_CREATED = "label_created"  # the first status, when the merchant creates it
    PICKED_UP = "picked_up"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    FAILED_ATTEMPT = "failed_attempt"
    RETURNED = "returned"


#: What may be reported (the events of the issue); ``label_created`` is never reported.
REPORTABLE = tuple(s for s in ShipmentStatus if s is not ShipmentStatus.LABEL_CREATED)
FINAL = frozenset({ShipmentStatus.DELIVERED, ShipmentStatus.RETURNED})


def report(current: str, reported: str) -> ShipmentStatus:
    """The shipment's status after an event; a delivered or returned parcel takes no more."""
    try:
        new = ShipmentStatus(reported)
    except ValueError:
        known = ", ".join(REPORTABLE)
        raise invalid("shipment_status_invalid", f"status is one of {known}", "status") from None
    if new is ShipmentStatus.LABEL_CREATED:
        raise invalid("shipment_status_invalid", "label_created is not reported", "status")
    if ShipmentStatus(current) in FINAL:
        message = f"the shipment is already {current}"
        raise conflict("shipment_closed", message, "status")
    return new
