"""Notifications (issue 21, item 4): what a party was told, and marking it read. A party's
key reaches its own; an operator key names ``party_id``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tindahan import limits
from tindahan.api import schemas as s
from tindahan.api.deps import (
    CallerDep,
    Cursor,
    IdempotencyKey,
    Limit,
    PartyFilter,
    idempotent,
    read,
)
from tindahan.services.platform import notifications

router = APIRouter(prefix="/v1")


@router.get("/notifications", response_model=s.Page[s.Notification], tags=["notifications"])
def list_notifications(
    request: Request,
    who: CallerDep,
    limit: Limit = limits.DEFAULT_PAGE_SIZE,
    starting_after: Cursor = None,
    unread: bool = False,
    party_id: PartyFilter = None,
) -> Any:
    """Newest first: a new paid order (merchants), each shipment event (buyers), money
    received by a send or a cash-in, a payout's or bank transfer's outcome. ``unread=true``
    lists only those not yet marked read."""
    return read(
        request,
        lambda u: notifications.list_notifications(
            u, who, limit, starting_after, unread=unread, party_id=party_id
        ),
    )


@router.post("/notifications/read", response_model=s.NotificationReadResult, tags=["notifications"])
def mark_read(
    request: Request, who: CallerDep, key: IdempotencyKey, payload: s.NotificationsRead
) -> JSONResponse:
    """Mark the given notifications read (all unread ones without ``ids``); an id that is
    not the party's is 404 and nothing is marked. Answers how many were marked and how many
    are left unread."""
    return idempotent(
        request,
        who,
        key,
        payload,
        lambda u: notifications.mark_read(u, who, payload.ids, payload.party_id),
    )
