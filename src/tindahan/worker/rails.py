"""Tindahan's side of the clearing switch: ``HttpRail``, a ``RailPort`` over signed HTTP,
and the round for outbound transfers (send what is due, collect answers, ask about
the silent ones, keep the camt.054 notifications of our settlement account). ``HttpRail``
also fetches a day's camt.053 statement for ``tindahan rails reconcile``.

The switch is reached at ``TINDAHAN_RAILS_SWITCH_URL`` with the shared secret
``TINDAHAN_RAILS_SECRET`` (both set, or the round does nothing). Requests are signed as the
switch expects (``switch.app``); a call times out after ``TIMEOUT_SECONDS``, and a failed
call leaves everything as it was, to be retried next round: a send is marked only
after the switch took it, and answers are applied idempotently.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import date
from functools import partial

import httpx

from tindahan.kernel.refusals import RefusalError
from tindahan.rails import MessageError
from tindahan.rails.port import RailPort
from tindahan.services.rails import notifications, recalls, transfers
from tindahan.services.unit import Platform
from tindahan.webhooks.signature import sign

log = logging.getLogger("tindahan.worker.rails")
URL_ENV = "TINDAHAN_RAILS_SWITCH_URL"
SECRET_ENV = "TINDAHAN_RAILS_SECRET"  # noqa: S105 (the variable's name, not a secret)
HEADER = "Tindahan-Signature"
TIMEOUT_SECONDS = 10.0


@dataclass
class HttpRail:
    base_url: str
    secret: str
    client: httpx.Client | None = None

    def _post(self, path: str, body: bytes) -> httpx.Response:
        headers = {
            HEADER: sign(self.secret, int(time.time()), body),
            "Content-Type": "application/xml",
        }
        url = self.base_url.rstrip("/") + path
        if self.client is not None:
            response = self.client.post(url, content=body, headers=headers)
        else:
            with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
                response = client.post(url, content=body, headers=headers)
        response.raise_for_status()
        return response

    def send(self, message: bytes) -> None:
        self._post("/messages", message)

    def request_status(self, message: bytes) -> bytes | None:
        response = self._post("/status", message)
        return None if response.status_code == 204 else response.content

    def answers(self) -> list[bytes]:
        found = self._post("/answers", b"").json()["messages"]
        return [text.encode() for text in found]

    def notifications(self) -> list[bytes]:
        """The camt.054 notifications since the last call."""
        found = self._post("/notifications", b"").json()["messages"]
        return [text.encode() for text in found]

    def statement(self, day: date) -> bytes:
        """The camt.053 statement of our settlement account for ``day`` (a Manila day)."""
        return self._post("/statement", json.dumps({"date": day.isoformat()}).encode()).content


def from_environment() -> HttpRail | None:
    url, secret = os.environ.get(URL_ENV), os.environ.get(SECRET_ENV)
    if not url or not secret:
        return None
    return HttpRail(url, secret)


def rails_round(platform: Platform, port: RailPort) -> int:
    """Send, collect, ask; returns how many transfers changed. A failed call is logged and
    retried next round (nothing is half-applied)."""
    changed = 0
    try:
        transfers.dispatch(platform, port)
        for message in port.answers():
            try:
                changed += len(transfers.receive(platform, message).applied)
            except MessageError as exc:
                log.warning("an answer from the switch was refused: %s", exc)
        changed += len(transfers.ask(platform, port).applied)
        changed += recalls.dispatch(platform, port)
        if isinstance(port, HttpRail):
            keep_notifications(platform, port)
    except httpx.HTTPError as exc:
        log.warning("the clearing switch did not answer: %s", exc)
    return changed


def keep_notifications(platform: Platform, port: HttpRail) -> int:
    """Store the switch's camt.054 notifications; returns how many entries were new."""
    kept = 0
    for message in port.notifications():
        try:
            kept += platform.run(partial(notifications.receive, data=message))
        except (MessageError, RefusalError) as exc:
            log.warning("a notification from the switch was refused: %s", exc)
    return kept
