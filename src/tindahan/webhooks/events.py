"""The events Tindahan announces. An endpoint subscribes to some of them, or to ``*``."""

from __future__ import annotations

EVENT_TYPES = (
    "payment.succeeded",
    "payment.refunded",
    "payment.partially_refunded",
    "refund.succeeded",
    "payment_request.paid",
    "cash_in.succeeded",
    "cash_out.pending",
    "cash_out.succeeded",
    "cash_out.failed",
    "funding.succeeded",
    "mobile_transfer.succeeded",
    "order.created",
    "order.paid",
    "order.shipped",
    "order.delivered",
    "order.completed",
    "order.cancelled",
    "order.refunded",
    "order.partially_refunded",
    "order.disputed",
    "order.late",
    "shipment.updated",
    "dispute.opened",
    "dispute.resolved",
    "loan_offer.created",
    "loan.disbursed",
    "loan.repaid",
    "loan.closed",
    "loan.payment_due",
    "loan.overdue",
    "loan.restructured",
    "loan.written_off",
    "loan.recovered",
    "loan.cancelled",
    "payout.succeeded",
    "payout.failed",
    "bank_transfer.succeeded",
    "bank_transfer.failed",
    "bank_transfer.returned",
    "inbound_transfer.received",
    "inbound_transfer.recall_received",
    "inbound_transfer.returned",
    "inbound_transfer.recall_rejected",
    "review.released",
    "review.returned",
)
ALL = "*"


def matches(subscribed: list[str], event_type: str) -> bool:
    return ALL in subscribed or event_type in subscribed
