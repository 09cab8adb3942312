"""The port an SMS provider is reached through, and what one attempt came to.

Adapters: ``worker.sms.HttpProvider`` (an aggregator over HTTP) and
``worker.sms.LocalGateway`` (the demo's and the tests': it accepts every message, and the
outbox keeps what was sent, shown in the operator console as "Sent SMS").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outcome:
    ok: bool
    #: The provider's id for the message, when it gave one.
    provider_message_id: str | None = None
    error: str | None = None
    #: The provider refused the message itself (a malformed number, a blocked recipient):
    #: sending it again would fail again, so it is not retried.
    permanent: bool = False


class SmsProvider(Protocol):
    name: str

    def send(self, to: str, text: str, reference: str) -> Outcome:
        """Send ``text`` to ``to`` (E.164); ``reference`` is the outbox's id for the message,
        passed to the provider so a resend after a lost answer can be recognised."""
        ...
