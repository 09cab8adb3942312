"""The SMS providers the outbox sends through (``sms.port.SmsProvider``).

``HttpProvider`` speaks the common shape of Philippine and international SMS aggregators
(Semaphore, Movider, Infobip's simple API and others differ in names, not in kind): one
``POST`` of a JSON body ``{"to": "+639…", "from": "<sender name>", "message": "…",
"reference": "<outbox id>"}`` to ``TINDAHAN_SMS_URL`` with the API key in an
``X-API-Key`` header; a 2xx is accepted (its JSON ``id``, or ``message_id``, is kept), a
4xx other than 408 and 429 refuses the message itself (not retried), anything else (5xx,
429, a timeout, no answer) is a transient failure, retried by the outbox with backoff. The
sender name is ``TINDAHAN_SMS_FROM`` (default ``Tindahan``), the key ``TINDAHAN_SMS_API_KEY``.

``LocalGateway`` is the demo's and the tests': it accepts every message at once and sends
nothing; the outbox records what went out, and the operator console shows it as "Sent SMS".
It is used when no URL is set and the database is a test environment. A live database with
no URL keeps its messages pending (with a warning each round) rather than pretending.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import httpx

from tindahan import limits
from tindahan.sms.local import LocalGateway
from tindahan.sms.port import Outcome, SmsProvider

__all__ = ["HttpProvider", "LocalGateway", "from_environment"]

log = logging.getLogger("tindahan.worker.sms")
URL_ENV = "TINDAHAN_SMS_URL"
KEY_ENV = "TINDAHAN_SMS_API_KEY"
FROM_ENV = "TINDAHAN_SMS_FROM"
KEY_HEADER = "X-API-Key"


@dataclass
class HttpProvider:
    url: str
    api_key: str
    sender: str = "Tindahan"
    client: httpx.Client | None = None
    name: str = "http"

    def send(self, to: str, text: str, reference: str) -> Outcome:
        body = {"to": to, "from": self.sender, "message": text, "reference": reference}
        headers = {KEY_HEADER: self.api_key, "User-Agent": "Tindahan-SMS/1"}
        try:
            if self.client is not None:
                response = self.client.post(self.url, json=body, headers=headers)
            else:
                with _client() as client:
                    response = client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(True, provider_message_id=_message_id(response))
        permanent = 400 <= code < 500 and code not in (408, 429)
        return Outcome(False, error=f"HTTP {code}: {response.text[:200]}", permanent=permanent)


def _message_id(response: httpx.Response) -> str | None:
    try:
        found = response.json()
    except ValueError:
        return None
    if isinstance(found, dict):
        value = found.get("id") or found.get("message_id")
        return str(value) if value is not None else None
    return None


def _client() -> httpx.Client:
    timeout = httpx.Timeout(limits.SMS_TIMEOUT_S, connect=limits.SMS_CONNECT_TIMEOUT_S)
    return httpx.Client(timeout=timeout, follow_redirects=False)


def from_environment(environment: str) -> SmsProvider | None:
    """The aggregator when ``TINDAHAN_SMS_URL`` is set; else the local gateway in a test
    environment; else none (a live database's messages wait for a provider)."""
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return HttpProvider(
            url, os.environ.get(KEY_ENV, ""), os.environ.get(FROM_ENV, "Tindahan") or "Tindahan"
        )
    if environment != "live":
        return LocalGateway()
    log.warning("%s is not set: SMS wait in the outbox until a provider is configured", URL_ENV)
    return None
