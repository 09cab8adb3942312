"""Notifications on the pages (issue 21, item 4): the header's badge with the unread count
(``render.page`` reads it for every signed-in party) and the list at ``/notifications``,
which marks what it shows as read — the way a phone's inbox does: opening the list is
reading it. Each notice is said here, in the reader's language, from the facts it keeps
(``webhooks.notices``), with a link to what it is about.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tindahan import limits
from tindahan.services.platform import notifications, shortrefs
from tindahan.services.platform.logins import Viewer
from tindahan.services.unit import Unit
from tindahan.web import i18n, render, session
from tindahan.web.i18n import _
from tindahan.web.router import router as make_router
from tindahan.web.session import SignedIn, WrongRoleError

router = make_router()


def _shipment_text(status: object, ref: str) -> str:
    texts = {
        "picked_up": _("The courier picked up your order {ref}."),
        "in_transit": _("Your order {ref} is on its way."),
        "out_for_delivery": _("Your order {ref} is out for delivery today."),
        "delivered": _("Your order {ref} was delivered."),
        "failed_attempt": _("The courier could not deliver your order {ref}. They will try again."),
        "returned": _("Your order {ref} is being sent back to the shop."),
    }
    return texts.get(str(status), _("Your order {ref} has news from the courier.")).format(ref=ref)


def sentence(item: dict[str, Any]) -> str:
    """What a notice says, in the request's language."""
    facts = item["facts"]
    kind = item["kind"]
    ref = shortrefs.shown(str(facts.get("short_ref") or "")) if facts.get("short_ref") else ""
    amount = i18n.money(facts.get("amount_minor"), str(facts.get("currency") or "PHP"))
    texts = {
        "order.paid": _("New paid order {ref}: {amount}. Pack it and ship it."),
        "order.disputed": _("The buyer opened a dispute on order {ref}."),
        "order.shipped": _("Your order {ref} was shipped."),
        "order.refunded": _("Your order {ref} was refunded: {amount}."),
        "mobile_transfer.received": _("You received {amount} from {name}."),
        "cash_in.succeeded": _("Cash in: {amount} is in your wallet."),
        "payout.succeeded": _("Your payout of {amount} is done."),
        "payout.failed": _("Your payout of {amount} failed. The money stayed in your wallet."),
        "bank_transfer.succeeded": _("Your bank transfer of {amount} was sent."),
        "bank_transfer.failed": _(
            "Your bank transfer of {amount} failed. The money is back in your wallet."
        ),
        "bank_transfer.returned": _(
            "The bank returned your transfer of {amount}. The money is back in your wallet."
        ),
    }
    if kind == "shipment.updated":
        return _shipment_text(facts.get("status"), ref)
    by = facts.get("arrives_by")
    if kind in ("order.confirmed", "order.shipped", "order.late") and by:
        return _window_text(kind, facts, ref, amount, i18n.day(str(by)))
    text = texts.get(kind)
    if text is None:
        return str(kind)
    return text.format(
        ref=ref, amount=amount, name=str(facts.get("name") or _("someone")).rstrip(".")
    )


def _window_text(kind: str, facts: dict[str, Any], ref: str, amount: str, day: str) -> str:
    """A courier order's notice with the day it should arrive by (its window's end)."""
    if kind == "order.confirmed":
        text = _("Your order {ref} is paid: {amount}. It should arrive by {day}.")
    elif kind == "order.shipped":
        text = _("Your order {ref} was shipped. It should arrive by {day}.")
    elif facts.get("role") == "merchant":
        text = _(
            "Order {ref} is past its delivery window: it was due by {day}. Check with the courier."
        )
    else:
        text = _(
            "Your order {ref} is past its delivery window: it was due by {day}. The shop has"
            " been told."
        )
    return text.format(ref=ref, amount=amount, day=day)


def link(item: dict[str, Any], viewer: Viewer) -> str | None:
    kind, subject = item["kind"], item["subject_id"]
    if kind == "order.late" and item["facts"].get("role") == "merchant":
        return f"/m/orders/{subject}"
    if kind in ("order.paid", "order.disputed"):
        return f"/m/orders/{subject}"
    if kind.startswith(("order.", "shipment.")):
        return f"/b/orders/{subject}"
    if kind.startswith("payout."):
        return "/m/wallet"
    if kind.startswith("bank_transfer."):
        return "/m/wallet" if viewer.kind == "merchant" else "/b/banks"
    return "/m/wallet" if viewer.kind == "merchant" else "/b"


@router.get("/notifications")
async def notification_list(request: Request, viewer: SignedIn, after: str = "") -> Response:
    if viewer.operator:
        raise WrongRoleError("customer")

    def work(unit: Unit) -> dict[str, Any]:
        found = notifications.list_notifications(
            unit, viewer.caller, limits.NOTIFICATIONS_PAGE, after or None
        )
        fresh = [n["id"] for n in found["data"] if not n["read"]]
        if fresh:  # shown now: read (the list shows them as new this once)
            notifications.mark_read(unit, viewer.caller, fresh)
        return found

    found = await run_in_threadpool(session.platform(request).run, work)
    items = [{**n, "text": sentence(n), "href": link(n, viewer)} for n in found["data"]]
    more = found["data"][-1]["id"] if found["has_more"] else None
    return render.page(request, "notifications.html", items=items, more=more, unread_count=0)
